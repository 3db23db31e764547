"""Conversation logic with no Flask and no Redis: pure functions over plain data."""
