"""Tests of everything the line sends (bot/outbound and workers/)."""
