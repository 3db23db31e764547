"""Locking an account after repeated failed sign-ins, on the app's clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
# Redis keeps the keys a little longer than they can matter, then forgets them.
KEY_TTL_SECONDS = int((WINDOW + LOCK).total_seconds()) + 3600


@dataclass(frozen=True)
class Failure:
    """What one more failed sign-in means: how many tries are left, and any lock."""

    tries_left: int
    locked_until: datetime | None


def _failures(email: str) -> str:
    return f"console:failures:{email}"


def _lock(email: str) -> str:
    return f"console:locked:{email}"


def locked_until(r: redis.Redis, email: str, now: datetime) -> datetime | None:
    """When the account's lock ends, or None if it is not locked."""
    raw = r.get(_lock(email))
    if not raw:
        return None
    until = datetime.fromisoformat(str(raw))
    return until if until > now else None


def record_failure(r: redis.Redis, email: str, now: datetime) -> Failure:
    """Count a failed sign-in; the MAX_FAILURES-th within WINDOW locks the account for LOCK."""
    k = _failures(email)
    p = r.pipeline()
    p.zadd(k, {uuid.uuid4().hex: now.timestamp()})
    p.zremrangebyscore(k, "-inf", (now - WINDOW).timestamp())
    p.zcard(k)
    p.expire(k, KEY_TTL_SECONDS)
    count = int(p.execute()[2])
    if count < MAX_FAILURES:
        return Failure(MAX_FAILURES - count, None)
    until = now + LOCK
    p = r.pipeline()
    p.set(_lock(email), until.isoformat(), ex=KEY_TTL_SECONDS)
    p.delete(k)  # a fresh count after the lock ends
    p.execute()
    return Failure(0, until)


def clear(r: redis.Redis, email: str) -> None:
    """Forget failures and any lock: after a good sign-in or a password reset."""
    r.delete(_failures(email), _lock(email))
