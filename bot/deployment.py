"""The engine's context for this deployment: its directory, time zone and content.

No Redis and no Flask here, so the CLI's `ask` starts without either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import CLINIC_TZ
from flows.directory import Directory
from flows.engine import Context, default_directory


def directory_for(settings: dict[str, Any]) -> Directory:
    """The shipped directory with this deployment's settings applied."""
    return _directory(
        settings.get("ACUTE_ONCOLOGY_NUMBER"),
        settings.get("BANK_HOLIDAY_REGION"),
        settings.get("NURSE_HOURS"),
    )


@lru_cache(maxsize=8)
def _directory(acute: str | None, region: str | None, nurse_hours: str | None = None) -> Directory:
    return (
        default_directory()
        .with_number("acute_oncology", acute)
        .with_region(region)
        .with_hours("nurse", nurse_hours)
    )


def context(settings: dict[str, Any], now: datetime | None = None) -> Context:
    """The engine context for this deployment at `now`."""
    base = _base_context(
        settings.get("CLINIC_TZ") or CLINIC_TZ,
        settings.get("ACUTE_ONCOLOGY_NUMBER"),
        settings.get("BANK_HOLIDAY_REGION"),
        settings.get("NURSE_HOURS"),
    )
    return Context(
        now or datetime.now(UTC),
        base.directory,
        base.tz,
        base.knowledge,
        base.rulebook,
        base.matcher,
    )


@lru_cache(maxsize=8)
def _base_context(
    tz: str, acute: str | None, region: str | None, nurse_hours: str | None = None
) -> Context:
    # Everything but the time is the same for every message of a deployment.
    return Context.default(datetime.now(UTC), ZoneInfo(tz), _directory(acute, region, nurse_hours))


