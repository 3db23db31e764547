"""Slowing down password guessing without handing attackers a lockout switch.

Two limits, both on the app's clock:

- an account and the address trying it: MAX_FAILURES wrong passwords within WINDOW stop
  that address trying that account for LOCK. Another address (the nurse at her desk)
  can still sign in, so nobody can lock a nurse out by guessing wrong on purpose;
- one address, whatever accounts it tries: MAX_CLIENT_FAILURES within WINDOW stop it
  signing in at all for LOCK (password spraying).

A good sign-in clears the account's failures from that address; a password reset clears
them from every address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from bot.store import keys

MAX_FAILURES = 5
MAX_CLIENT_FAILURES = 20
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
# Redis keeps the keys a little longer than they can matter, then forgets them.
KEY_TTL_SECONDS = int((WINDOW + LOCK).total_seconds()) + 3600


@dataclass(frozen=True)
class Failure:
    """What one more failed sign-in means: how many tries are left, and any lock."""

    tries_left: int
    locked_until: datetime | None


def _failures(email: str, client: str) -> str:
    return keys.login_failures(email, client)


def _lock(email: str, client: str) -> str:
    return keys.login_locked(email, client)


def _client_failures(client: str) -> str:
    return keys.client_failures(client)


def _client_lock(client: str) -> str:
    return keys.client_locked(client)


def locked_until(r: redis.Redis, email: str, now: datetime, client: str = "") -> datetime | None:
    """When this address may next try this account, or None if it may now."""
    return _until(r.get(_lock(email, client)), now)


def client_blocked_until(r: redis.Redis, client: str, now: datetime) -> datetime | None:
    """When this address may next try to sign in at all, or None if it may now."""
    return _until(r.get(_client_lock(client)), now)


def _until(raw: object, now: datetime) -> datetime | None:
    if not raw:
        return None
    until = datetime.fromisoformat(str(raw))
    return until if until > now else None


def record_failure(r: redis.Redis, email: str, now: datetime, client: str = "") -> Failure:
    """Count a failed sign-in against the account from this address, and against the address."""
    if _count(r, _client_failures(client), now) >= MAX_CLIENT_FAILURES:
        r.set(_client_lock(client), (now + LOCK).isoformat(), ex=KEY_TTL_SECONDS)
        r.delete(_client_failures(client))
    k = _failures(email, client)
    count = _count(r, k, now)
    if count < MAX_FAILURES:
        return Failure(MAX_FAILURES - count, None)
    until = now + LOCK
    p = r.pipeline()
    p.set(_lock(email, client), until.isoformat(), ex=KEY_TTL_SECONDS)
    p.delete(k)  # a fresh count after the lock ends
    p.execute()
    return Failure(0, until)


def _count(r: redis.Redis, key: str, now: datetime) -> int:
    """Add one failure now to a sliding window and return how many it holds."""
    p = r.pipeline()
    p.zadd(key, {uuid.uuid4().hex: now.timestamp()})
    p.zremrangebyscore(key, "-inf", (now - WINDOW).timestamp())
    p.zcard(key)
    p.expire(key, KEY_TTL_SECONDS)
    return int(p.execute()[2])


def clear(r: redis.Redis, email: str, client: str | None = None) -> None:
    """Forget an account's failures and locks: from one address, or (None) from all."""
    if client is not None:
        r.delete(_failures(email, client), _lock(email, client))
        return
    pattern = _glob_escape(email)
    found = [
        *r.scan_iter(match=f"{keys.LOGIN_FAILURES}{pattern}|*", count=500),
        *r.scan_iter(match=f"{keys.LOGIN_LOCKED}{pattern}|*", count=500),
    ]
    if found:
        r.delete(*found)


def _glob_escape(text: str) -> str:
    """`text` as a literal inside a Redis SCAN pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
