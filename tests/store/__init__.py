"""Tests of what the store keeps and purges (bot/store)."""
