"""Tests of the nurses' console (bot/console)."""
