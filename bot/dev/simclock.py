"""The local stack's simulated clock: the real time moved ahead by an offset the simulator sets.

Only the local stack has one (no Twilio account, the simulator served): a deployment that
texts real patients always runs on the real time. The offset lives in a small file in the
instance folder, so the web app's processes and the worker share it without a Redis round
trip on every request (and keep telling the time while Redis is down).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry

FILE = "simulated-clock"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNITS = {"min": 60, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_JUMP = re.compile(r"\+\s*(\d{1,3})\s*(min|minute|hour|day|week)s?")
_AT = re.compile(r"(today|tomorrow|" + "|".join(DAYS) + r"|mon|tue|wed|thu|fri|sat|sun)"
                 r"\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?")
_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})[ t](\d{1,2}:\d{2})")


class ClockError(ValueError):
    """A time the simulated clock cannot be set to, in words for the person setting it."""


def enabled(settings: Mapping[str, Any]) -> bool:
    """Whether this stack may simulate time: only with no Twilio credentials at all."""
    return not settings.get("TWILIO_ACCOUNT_SID") and not settings.get("TWILIO_AUTH_TOKEN")


def _path(settings: Mapping[str, Any]) -> Path:
    return Path(str(settings["INSTANCE_PATH"])) / FILE


@dataclass
class _Cached:
    mtime: float = -1.0
    offset: timedelta = timedelta(0)


_CACHE: dict[Path, _Cached] = {}


def offset(settings: Mapping[str, Any]) -> timedelta:
    """How far the simulated clock is ahead of the real one (zero when not simulating)."""
    if not enabled(settings):
        return timedelta(0)
    path = _path(settings)
    try:
        mtime = os.stat(path).st_mtime_ns / 1e9
    except FileNotFoundError:
        return timedelta(0)
    cached = _CACHE.setdefault(path, _Cached())
    if cached.mtime != mtime:
        try:
            cached.offset = timedelta(seconds=float(path.read_text().strip() or 0))
        except (OSError, ValueError):
            cached.offset = timedelta(0)
        cached.mtime = mtime
    return cached.offset


def now(settings: Mapping[str, Any], base: Callable[[], datetime] | None = None) -> datetime:
    """The time as the line sees it: `base` (the real time) plus the simulated offset."""
    real = base() if base is not None else datetime.now(UTC)
    return real + offset(settings)


class Clock:
    """An app's clock that follows the simulated offset on top of its own base clock."""

    def __init__(self, settings: Mapping[str, Any], base: Callable[[], datetime]) -> None:
        self.settings = settings
        self.base = base

    def __call__(self) -> datetime:
        return now(self.settings, self.base)


def set_offset(settings: Mapping[str, Any], ahead: timedelta) -> None:
    """Move the simulated clock to `ahead` of the real time (zero: back to the real time)."""
    if not enabled(settings):
        raise ClockError("The clock can only be moved on the local stack, never with Twilio.")
    path = _path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{ahead.total_seconds():.3f}\n")
    os.replace(tmp, path)  # other processes never read a half-written file


def target(text: str, current: datetime, tz: ZoneInfo) -> datetime | None:
    """When `text` asks the clock to go ("+1 day", "Monday 11:00", "2026-12-02 14:00",
    "now" for the real time: None). ClockError says what it can read."""
    words = " ".join(text.strip().lower().split())
    if words in ("now", "real", "real time", "reset"):
        return None
    if m := _JUMP.fullmatch(words):
        return current + timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])
    local = current.astimezone(tz)
    if m := _AT.fullmatch(words):
        day = _day(m.group(1), local.date())
        at = _time(int(m.group(2)), int(m.group(3) or 0), m.group(4))
        when = datetime.combine(day, at, tz)
        if m.group(1) not in ("today", "tomorrow") and when <= current:
            when += timedelta(days=7)  # "Monday 11:00" is the next one to come
        return when.astimezone(UTC)
    if m := _ISO.fullmatch(words):
        try:
            parsed = datetime.fromisoformat(f"{m.group(1)}T{m.group(2).zfill(5)}")
        except ValueError:
            raise ClockError(f"{text!r} is not a date and time.") from None
        return parsed.replace(tzinfo=tz).astimezone(UTC)
    raise ClockError(
        "Write a jump such as +1 hour, +2 days or +1 week; a day and time such as "
        "Monday 11:00 or tomorrow 9am; a date such as 2026-12-02 14:00; or now."
    )


def _day(word: str, today: date) -> date:
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    wanted = next(i for i, d in enumerate(DAYS) if d.startswith(word))
    return today + timedelta(days=(wanted - today.weekday()) % 7)


def _time(hour: int, minute: int, half: str | None) -> time:
    if half:
        if not 1 <= hour <= 12:
            raise ClockError("With am or pm, the hour is 1 to 12.")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ClockError("Times are 00:00 to 23:59.")
    return time(hour, minute)


def catch_up(queue: Any, at: datetime) -> int:
    """Queue every scheduled job due by `at` (the simulated time): what RQ's scheduler,
    which keeps the real time, would have queued had the time really passed."""
    registry = ScheduledJobRegistry(queue=queue)  # type: ignore[no-untyped-call]
    ids = registry.get_jobs_to_schedule(int(at.timestamp()))
    count = 0
    for job_id in ids:
        try:
            job = Job.fetch(job_id, connection=queue.connection)
        except NoSuchJobError:  # gone since it was listed: nothing to run
            registry.remove(job_id)
            continue
        # Queued before it leaves the registry: a crash in between may queue it twice,
        # which the send job's claim makes harmless, but never loses it.
        queue.enqueue_job(job)
        registry.remove(job)
        count += 1
    return count
