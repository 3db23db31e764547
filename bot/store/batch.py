"""Writes collected as data and applied atomically, only if nothing changed underneath."""

from __future__ import annotations

from typing import Any

import redis

from bot.store.scripts import script


# The writes arrive flat in ARGV from position `first`, each as its length then its words:
# no JSON to build here or decode in Redis.
def _apply_from(first: int) -> str:
    return f"""
local i = {first}
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
"""


# Applies a batch of writes in one round trip, atomically, unless the reply for this
# MessageSid already exists (a Twilio retry) or the conversation moved on since it was
# read (another message from the same number got there first).
_COMMIT = (
    """
local existing = redis.call('GET', KEYS[1])
if existing then return {1, existing} end
local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[1] then return {2, ''} end
"""
    + _apply_from(2)
    + "return {0, ''}"
)

# The same writes, always: one round trip and atomic, where a MULTI/EXEC pipeline costs a
# reply to parse per command.
_APPLY = _apply_from(1) + "return 0"

# The same writes, then the value of KEYS[1] as it is after them.
_APPLY_THEN_GET = _apply_from(1) + "return redis.call('GET', KEYS[1])"

# The writes, unless KEYS[1] exists: then its value, and nothing written (a claim made once).
_APPLY_UNLESS = (
    """
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
"""
    + _apply_from(1)
    + "return false"
)

COMMITTED, ALREADY_ANSWERED, CONFLICT = 0, 1, 2


class Batch:
    """Quacks like the subset of a redis-py pipeline that the record modules use."""

    def __init__(self) -> None:
        self.commands: list[list[Any]] = []
        self._expiring: set[tuple[str, int]] = set()

    def set(self, name: str, value: str, ex: int | None = None) -> None:
        self.commands.append(["SET", name, value] + (["EX", ex] if ex else []))

    def zadd(self, name: str, mapping: dict[str, float]) -> None:
        for member, score in mapping.items():
            self.commands.append(["ZADD", name, repr(float(score)), member])

    def rpush(self, name: str, *values: str) -> None:
        self.commands.append(["RPUSH", name, *values])

    def ltrim(self, name: str, start: int, end: int) -> None:
        self.commands.append(["LTRIM", name, start, end])

    def expire(self, name: str, seconds: int) -> None:
        # Record modules each renew the keys they touch; once per key is enough.
        if (name, seconds) not in self._expiring:
            self._expiring.add((name, seconds))
            self.commands.append(["EXPIRE", name, seconds])

    def hset(
        self,
        name: str,
        key: str | None = None,
        value: Any = None,
        mapping: dict[str, Any] | None = None,
    ) -> None:
        pairs = ([key, value] if key is not None else []) + [
            item for pair in (mapping or {}).items() for item in pair
        ]
        if pairs:
            self.commands.append(["HSET", name, *pairs])

    def zrem(self, name: str, *members: str) -> None:
        self.commands.append(["ZREM", name, *members])

    def zremrangebyrank(self, name: str, start: int, end: int) -> None:
        self.commands.append(["ZREMRANGEBYRANK", name, start, end])

    def hincrby(self, name: str, key: str, amount: int = 1) -> None:
        self.commands.append(["HINCRBY", name, key, amount])

    def hdel(self, name: str, key: str) -> None:
        self.commands.append(["HDEL", name, key])

    def commit_if(
        self, r: redis.Redis, reply_key: str, conv_key: str, read: str | bytes | None
    ) -> tuple[int, str]:
        """Apply the batch unless the reply exists or the conversation is no longer `read`."""
        status, existing = script(r, _COMMIT)(
            keys=[reply_key, conv_key], args=[read or "", *self._flat()]
        )
        return int(status), str(existing or "")

    def apply(self, r: redis.Redis) -> None:
        """Apply the batch atomically in one round trip."""
        if self.commands:
            script(r, _APPLY)(args=self._flat())

    def apply_then_get(self, r: redis.Redis, key: str) -> str | None:
        """Apply the batch atomically in one round trip; then `key`'s value (None if unset)."""
        found = script(r, _APPLY_THEN_GET)(keys=[key], args=self._flat())
        return None if found is None else str(found)

    def apply_unless(self, r: redis.Redis, key: str) -> str | None:
        """Apply the batch atomically unless `key` exists; None if applied, else its value."""
        existing = script(r, _APPLY_UNLESS)(keys=[key], args=self._flat())
        return None if existing is None else str(existing)

    def _flat(self) -> list[Any]:
        """Each command as its length then its words, as the scripts read ARGV."""
        args: list[Any] = []
        for command in self.commands:
            args.append(len(command))
            args.extend(command)
        return args
