"""Signed-in sessions kept in Redis: the cookie holds only a random token.

Keeping them on the server means signing out, or a timeout, ends the session for good;
a copied cookie is no use afterwards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from bot.store import keys

IDLE = timedelta(minutes=30)  # a ward PC left alone signs out after this
MAX_AGE = timedelta(hours=12)  # a shift; then sign in again whatever happened
KEY_TTL_SECONDS = int(MAX_AGE.total_seconds()) + 3600
REVEAL_FOR = timedelta(minutes=10)  # a revealed number stays shown this long
_REVEALED = "reveal:"


@dataclass(frozen=True)
class LoginSession:
    """A nurse's signed-in session."""

    token: str
    email: str
    created_at: datetime
    last_seen: datetime


def key(token: str) -> str:
    """The Redis key of a session."""
    return keys.console_session(token)


def start(r: redis.Redis, email: str, now: datetime) -> str:
    """A new session for `email`; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    stamp = now.isoformat()
    r.hset(key(token), mapping={"email": email, "created_at": stamp, "last_seen": stamp})
    r.expire(key(token), KEY_TTL_SECONDS)
    return token


def load(r: redis.Redis, token: str) -> LoginSession | None:
    """The session for `token`, or None (signed out, or never signed in)."""
    if not token:
        return None
    raw: dict[str, str] = r.hgetall(key(token))  # type: ignore[assignment]
    if not raw or "email" not in raw:
        return None
    return LoginSession(
        token,
        raw["email"],
        datetime.fromisoformat(raw["created_at"]),
        datetime.fromisoformat(raw["last_seen"]),
    )


def expired(found: LoginSession, now: datetime, idle: timedelta = IDLE) -> bool:
    """True when the session has been idle too long, or has lasted longer than MAX_AGE."""
    return now - found.last_seen > idle or now - found.created_at > MAX_AGE


def touch(r: redis.Redis, token: str, now: datetime) -> None:
    """Count this moment as activity in the session."""
    p = r.pipeline()
    p.hset(key(token), "last_seen", now.isoformat())
    p.expire(key(token), KEY_TTL_SECONDS)
    p.execute()


def end(r: redis.Redis, token: str) -> None:
    """End the session."""
    r.delete(key(token))


def reveal(r: redis.Redis, token: str, ref: str, now: datetime) -> None:
    """Remember that this session revealed the number of record `ref` ("alerts/<id>")."""
    r.hset(key(token), _REVEALED + ref, now.isoformat())


def revealed(r: redis.Redis, token: str, now: datetime) -> set[str]:
    """Records whose numbers this session revealed within REVEAL_FOR."""
    raw: dict[str, str] = r.hgetall(key(token))  # type: ignore[assignment]
    return {
        name[len(_REVEALED):]
        for name, at in raw.items()
        if name.startswith(_REVEALED) and now - datetime.fromisoformat(at) <= REVEAL_FOR
    }
