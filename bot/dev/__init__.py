"""Development tools: the phone simulator, its clock, a local phone, embedded Redis, the runner."""
