"""Nurse accounts in Redis: email, password hash (werkzeug), administrator or not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from werkzeug.security import check_password_hash, generate_password_hash

from bot.store import keys

INDEX = keys.NURSES
MIN_PASSWORD = 12
MAX_PASSWORD = 200
MAX_EMAIL = 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Checked when no account matches, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password, only there to spend time")


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class Nurse:
    """One person who can sign in to the console."""

    email: str
    password_hash: str
    admin: bool = False
    created_at: str = ""
    created_by: str = ""

    @property
    def display(self) -> str:
        """How the console names the nurse: the part of the email before the @."""
        return self.email.split("@", 1)[0]


def key(email: str) -> str:
    """The Redis key of an account."""
    return keys.nurse(email)


def normalise_email(raw: str | None) -> str | None:
    """The email in lower case without spaces, or None if it does not look like one."""
    email = (raw or "").strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        return None
    return email


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None if it is."""
    if len(password) < MIN_PASSWORD:
        return f"The password must be at least {MIN_PASSWORD} characters long."
    if len(password) > MAX_PASSWORD:
        return f"The password can be at most {MAX_PASSWORD} characters long."
    if not password.strip():
        return "The password cannot be only spaces."
    return None


def _from_hash(raw: dict[str, Any]) -> Nurse:
    return Nurse(
        email=str(raw["email"]),
        password_hash=str(raw["password_hash"]),
        admin=raw.get("admin") == "1",
        created_at=str(raw.get("created_at", "")),
        created_by=str(raw.get("created_by", "")),
    )


def get(r: redis.Redis, email: str) -> Nurse | None:
    """The account with this (normalised) email, or None."""
    raw: dict[str, Any] = r.hgetall(key(email))  # type: ignore[assignment]
    return _from_hash(raw) if raw else None


def everyone(r: redis.Redis) -> list[Nurse]:
    """Every account, by email."""
    emails = sorted(str(e) for e in r.smembers(INDEX))
    p = r.pipeline(transaction=False)
    for email in emails:
        p.hgetall(key(email))
    return [_from_hash(raw) for raw in p.execute() if raw]


def add(
    r: redis.Redis, email: str, password: str, *, admin: bool, at: datetime, by: str = ""
) -> Nurse:
    """Create an account; AccountError if the email or password is unusable or taken."""
    normal = normalise_email(email)
    if normal is None:
        raise AccountError("That is not an email address.")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    nurse = Nurse(
        email=normal,
        password_hash=generate_password_hash(password),
        admin=admin,
        created_at=at.isoformat(),
        created_by=by,
    )
    # HSETNX on the email field makes creation atomic: two admins adding the same
    # address at once cannot overwrite each other.
    if not r.hsetnx(key(normal), "email", normal):
        raise AccountError(f"There is already an account for {normal}.")
    p = r.pipeline()
    p.hset(
        key(normal),
        mapping={
            "email": nurse.email,
            "password_hash": nurse.password_hash,
            "admin": "1" if admin else "0",
            "created_at": nurse.created_at,
            "created_by": by,
        },
    )
    p.sadd(INDEX, normal)
    p.execute()
    return nurse


def set_password(r: redis.Redis, email: str, password: str) -> None:
    """Change an existing account's password; AccountError if unusable or no such account."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    if not r.exists(key(email)):
        raise AccountError(f"There is no account for {email}.")
    r.hset(key(email), "password_hash", generate_password_hash(password))


def verify(r: redis.Redis, email: str | None, password: str) -> Nurse | None:
    """The account if the password is right; the same work is done when there is none."""
    nurse = get(r, email) if email else None
    if nurse is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return nurse if check_password_hash(nurse.password_hash, password) else None
