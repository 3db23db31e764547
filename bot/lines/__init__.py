"""The two patient channels: an inbound text or phone turn to its reply and its records."""
