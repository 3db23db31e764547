"""The test suite: pytest against a real Redis, signed webhooks and a local Twilio stand-in."""
