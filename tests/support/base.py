"""What the tests share: the test token and numbers, a settable clock, the dev token file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot import config

T = TypeVar("T")

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://support.example.org"
PATIENT = "+447700900123"  # Ofcom drama range: never a real person
# A Monday in November, 10:00 in London (GMT): the nurse line is open.
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Clock:
    """A settable clock the app reads instead of the system time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def use_dev_token(instance: Path) -> None:
    """Make TOKEN the instance's development token: with no Twilio credentials (as in a
    local run) the app validates with it, and tests sign as the local tools do."""
    instance.mkdir(parents=True, exist_ok=True)
    (instance / config.DEV_TOKEN_FILE).write_text(TOKEN)


def must(value: T | None) -> T:
    """`value`, failing the test here if it is None (a record or match that must exist)."""
    assert value is not None
    return value
