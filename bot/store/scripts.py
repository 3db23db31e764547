"""Lua scripts, registered once per Redis client and then run by their SHA."""

from __future__ import annotations

from typing import Any

from redis.commands.core import Script

_REGISTERED: dict[tuple[int, str], Script] = {}


def script(r: Any, source: str) -> Script:
    """The script `source` registered with client `r` (made on first use, then reused)."""
    key = (id(r), source)
    if key not in _REGISTERED:
        _REGISTERED[key] = r.register_script(source)
    return _REGISTERED[key]
