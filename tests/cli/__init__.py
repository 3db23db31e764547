"""Tests of the `supportline` command (bot/cli)."""
