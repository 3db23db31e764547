"""Twilio's webhooks as thin blueprints (texts, calls, delivery reports), signatures, health."""
