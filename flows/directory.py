"""The directory of lines the bot may give out or dial, with their opening hours."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

DIRECTORY_FILE = Path(__file__).parent / "content" / "directory.yaml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class DirectoryError(ValueError):
    """The directory file is malformed."""


def _parse_days(spec: str) -> frozenset[int]:
    spec = spec.strip().lower()
    if spec in ("every day", "daily", "mon-sun"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            a, b = (DAYS.index(x.strip()) for x in part.split("-"))
            days.update(range(a, b + 1))
        else:
            days.add(DAYS.index(part))
    return frozenset(days)


@dataclass(frozen=True)
class Session:
    """One opening period: these weekdays, from `open` to `close` local time."""

    days: frozenset[int]
    open: time
    close: time

    def describe(self) -> str:
        """Plain words for SMS and speech: 'Monday to Friday, 9am to 5pm'."""
        d = sorted(self.days)
        if d == list(range(d[0], d[-1] + 1)) and len(d) > 1:
            days = f"{DAY_NAMES[d[0]]} to {DAY_NAMES[d[-1]]}"
        else:
            days = ", ".join(DAY_NAMES[i] for i in d)
        return f"{days}, {clock(self.open)} to {clock(self.close)}"


def clock(t: time) -> str:
    """9am, 5.30pm: how a time is written in a text."""
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    if t.hour == 12 and t.minute == 0:
        return "12 noon"
    return f"{hour}{suffix}" if not t.minute else f"{hour}.{t.minute:02d}{suffix}"


@dataclass(frozen=True)
class Line:
    """A phone line in the directory."""

    id: str
    name: str
    kind: str
    number: str | None
    always: bool = False
    free: bool = False
    sessions: tuple[Session, ...] = ()

    @property
    def hours_known(self) -> bool:
        """True when the directory says when this line is open."""
        return self.always or bool(self.sessions)

    def is_open(self, now: datetime, tz: ZoneInfo) -> bool:
        """True when the line is open at the aware moment `now`."""
        if self.always:
            return True
        local = now.astimezone(tz)
        return any(
            local.weekday() in s.days and s.open <= local.time() < s.close for s in self.sessions
        )

    def next_open(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """The next aware moment the line opens after `now` (None if always or unknown)."""
        if self.always or not self.sessions:
            return None
        local = now.astimezone(tz)
        for offset in range(0, 8):
            day = local.date() + timedelta(days=offset)
            starts = sorted(
                datetime.combine(day, s.open, tz) for s in self.sessions if day.weekday() in s.days
            )
            for start in starts:
                if start > local:
                    return start
        return None

    def describe_hours(self) -> str:
        """Opening hours in plain words."""
        if self.always:
            return "24 hours a day, every day"
        if not self.sessions:
            return "ring to check opening times"
        return "; ".join(s.describe() for s in self.sessions)


@dataclass(frozen=True)
class Directory:
    """All lines, looked up by id."""

    lines: dict[str, Line]

    def __getitem__(self, line_id: str) -> Line:
        return self.lines[line_id]

    def with_number(self, line_id: str, number: str | None) -> Directory:
        """A copy with one line's number set (deployment settings such as acute oncology)."""
        if not number:
            return self
        lines = dict(self.lines)
        lines[line_id] = replace(lines[line_id], number=number)
        return Directory(lines)

    def dialable(self) -> frozenset[str]:
        """Every number in the directory: the only numbers that may ever be dialled."""
        return frozenset(line.number for line in self.lines.values() if line.number)


def _line(raw: dict[str, Any]) -> Line:
    sessions = tuple(
        Session(
            _parse_days(str(h["days"])),
            time.fromisoformat(str(h["open"])),
            time.fromisoformat(str(h["close"])),
        )
        for h in raw.get("hours") or ()
    )
    number = raw.get("number")
    return Line(
        id=str(raw["id"]),
        name=str(raw["name"]),
        kind=str(raw["kind"]),
        number=str(number) if number else None,
        always=bool(raw.get("always", False)),
        free=bool(raw.get("free", False)),
        sessions=sessions,
    )


def load_directory(path: Path = DIRECTORY_FILE) -> Directory:
    """Read the directory YAML."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        lines = {line.id: line for line in (_line(r) for r in raw["lines"])}
    except (KeyError, ValueError, TypeError) as exc:
        raise DirectoryError(f"{path.name}: {exc}") from exc
    for required in ("nurse", "acute_oncology", "macmillan", "samaritans", "emergency"):
        if required not in lines:
            raise DirectoryError(f"{path.name}: no line with id {required!r}")
    return Directory(lines)
