"""Counters for the nurses' charts: messages, topics, alerts and delivery outcomes.

Counts are kept per UTC hour (one small Redis hash per hour) so that writers need no time
zone and readers can add them up into days of any zone, clock changes included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from bot.store import keys

BUCKET_TTL_SECONDS = 400 * 24 * 3600  # a year and a bit: enough to compare with last year
MAX_DAYS = 366


def _aware(at: datetime | str) -> datetime:
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    if when.tzinfo is None:
        raise ValueError("stats need an aware datetime (UTC is stored)")
    return when.astimezone(UTC)


def bucket(at: datetime | str) -> str:
    """The Redis key holding the counts for the UTC hour containing `at`."""
    return keys.stats_hour(f"{_aware(at):%Y%m%d%H}")


def count(
    r: Any, at: datetime | str, *names: str, by: int = 1, pipeline: Any = None
) -> None:
    """Add `by` to each named counter for the hour of `at`, into a client, pipeline or batch."""
    if not names or by == 0:
        return
    p = pipeline or r
    key = bucket(at)
    for name in names:
        p.hincrby(key, name, by)
    p.expire(key, BUCKET_TTL_SECONDS)


def add(r: Any, at: datetime | str, counts: dict[str, int], pipeline: Any = None) -> None:
    """Add several counters at once for the hour of `at` (zero counts are left out)."""
    p = pipeline or r
    key = bucket(at)
    wrote = False
    for name, by in counts.items():
        if by:
            p.hincrby(key, name, by)
            wrote = True
    if wrote:
        p.expire(key, BUCKET_TTL_SECONDS)


def message(
    r: Any, at: datetime | str, direction: str, channel: str, n: int = 1, pipeline: Any = None
) -> None:
    """Count `n` messages: direction "in" or "out", channel "sms" or "voice".

    For calls, count one "in" per call answered (the console charts it as "Calls answered").
    """
    count(r, at, f"{direction}:{channel}", by=n, pipeline=pipeline)


def topic(r: Any, at: datetime | str, topic_id: str, pipeline: Any = None) -> None:
    """Count one question about a topic (a topic id such as "ct_scan")."""
    count(r, at, f"topic:{topic_id}", pipeline=pipeline)


def alert(r: Any, at: datetime | str, level: str, pipeline: Any = None) -> None:
    """Count one red-flag alert at a triage level."""
    count(r, at, f"alert:{level}", pipeline=pipeline)


def delivery(r: Any, at: datetime | str, status: str, pipeline: Any = None) -> None:
    """Count one final delivery outcome of an outbound text (delivered, undelivered, failed)."""
    count(r, at, f"delivery:{status}", pipeline=pipeline)


def _hours(start: date, end: date, tz: ZoneInfo) -> Iterable[tuple[date, datetime]]:
    """Each UTC hour from the start of `start` to the end of `end` in `tz`, with its local day."""
    first = datetime.combine(start, time(0), tz).astimezone(UTC)
    last = datetime.combine(end + timedelta(days=1), time(0), tz).astimezone(UTC)
    hour = first
    while hour < last:
        yield hour.astimezone(tz).date(), hour
        hour += timedelta(hours=1)


def daily(r: redis.Redis, start: date, end: date, tz: ZoneInfo) -> dict[date, Counter[str]]:
    """Every counter per local day in `tz`, from `start` to `end` inclusive (one round trip)."""
    if end < start:
        raise ValueError("the period ends before it starts")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValueError(f"a period can be at most {MAX_DAYS} days")
    days: dict[date, Counter[str]] = {}
    d = start
    while d <= end:
        days[d] = Counter()
        d += timedelta(days=1)
    hours = list(_hours(start, end, tz))
    p = r.pipeline(transaction=False)
    for _, hour in hours:
        p.hgetall(bucket(hour))
    for (day, _), raw in zip(hours, p.execute(), strict=True):
        for name, value in raw.items():
            days[day][str(name)] += int(value)
    return days


def total(days: dict[date, Counter[str]]) -> Counter[str]:
    """All the days' counters added together."""
    out: Counter[str] = Counter()
    for counts in days.values():
        out.update(counts)
    return out


def with_prefix(counts: Counter[str], prefix: str) -> dict[str, int]:
    """The counters whose names start with "<prefix>:", keyed by the rest of the name."""
    head = prefix + ":"
    return {k[len(head):]: v for k, v in counts.items() if k.startswith(head)}
