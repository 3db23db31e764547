"""A messages-per-second limit per sender, shared by every worker through Redis."""

from __future__ import annotations

import time

import redis

from bot.store import keys
from bot.store.scripts import script

# Hands out send slots 1/rate seconds apart: returns how many microseconds to wait for
# the slot just taken. The key expires once the sender has been idle a while.
_TAKE = """
local now = tonumber(ARGV[1])
local gap = tonumber(ARGV[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
redis.call('SET', KEYS[1], slot + gap, 'PX', 60000)
return slot - now
"""

def take_slot(r: redis.Redis, sender: str, per_second: float) -> float:
    """Reserve the next sending slot for `sender`; returns seconds to wait before sending."""
    if per_second <= 0:
        return 0.0
    now_us = int(time.time() * 1_000_000)
    wait_us = script(r, _TAKE)(
        keys=[keys.rate_limit(sender)], args=[now_us, int(1_000_000 / per_second)]
    )
    return int(wait_us) / 1_000_000


def wait_for_slot(r: redis.Redis, sender: str, per_second: float) -> float:
    """Block until this sender may send again; returns the seconds waited."""
    wait = take_slot(r, sender, per_second)
    if wait > 0:
        time.sleep(wait)
    return wait
