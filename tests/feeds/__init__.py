"""Tests of the hospital feed (bot/feeds)."""
