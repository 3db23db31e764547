"""Tests of Twilio's webhooks (bot/web), the phone line among them, and of Redis faults on them."""
