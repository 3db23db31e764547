"""Tests of the development tools (bot/dev): simulator, clock, embedded Redis, runner."""
