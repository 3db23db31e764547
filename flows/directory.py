"""The directory of lines the bot may give out or dial, with their opening hours."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flows.knowledge import load_yaml

DIRECTORY_FILE = Path(__file__).parent / "content" / "directory.yaml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# England and Wales share their bank holidays; Scotland and Northern Ireland have their own.
REGIONS = ("ENG", "WLS", "SCT", "NIR")
DEFAULT_REGION = "ENG"
# Far enough ahead to get past Christmas and New Year when both fall near a weekend.
LOOKAHEAD_DAYS = 21


class DirectoryError(ValueError):
    """The directory file is malformed."""


class NotDialable(ValueError):
    """A number that is not in the directory, or cannot be dialled: it is never called."""


@lru_cache(maxsize=64)
def _bank_holidays(region: str, year: int) -> dict[date, str]:
    # Imported here: holidays (and the package metadata it reads) costs 0.1 s of every
    # start, and most texts never ask whether a line is open.
    import holidays

    return dict(holidays.country_holidays("GB", subdiv=region, years=year).items())


def bank_holiday(day: date, region: str = DEFAULT_REGION) -> str | None:
    """The name of the bank holiday on `day` in this UK region, or None."""
    return _bank_holidays(region, day.year).get(day)


@lru_cache(maxsize=256)
def dial_form(number: str) -> str | None:
    """The E.164 form Twilio dials for a directory number; None for short codes like 999."""
    import phonenumbers  # here, as holidays above: only when a number is dialled

    try:
        parsed = phonenumbers.parse(number, "GB")
    except phonenumbers.NumberParseException:
        return None
    # Possible rather than valid: Ofcom's drama range is reserved, so never "valid", yet
    # a test deployment must be able to route to it. Short codes (999, 111, 116 123) are
    # refused: Twilio cannot dial them, and callers are told to dial 999 themselves.
    if not phonenumbers.is_possible_number(parsed) or len(str(parsed.national_number)) < 9:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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
    open_on_bank_holidays: bool = False
    region: str = DEFAULT_REGION
    placeholder_hours: bool = False  # the shipped hours, not yet confirmed by the team

    @property
    def hours_known(self) -> bool:
        """True when the directory says when this line is open."""
        return self.always or bool(self.sessions)

    def is_open(self, now: datetime, tz: ZoneInfo) -> bool:
        """True when the line is open at the aware moment `now`."""
        if self.always:
            return True
        local = now.astimezone(tz)
        if self._holiday(local.date()):
            return False
        return any(
            local.weekday() in s.days and s.open <= local.time() < s.close for s in self.sessions
        )

    def _holiday(self, day: date) -> str | None:
        if self.always or self.open_on_bank_holidays:
            return None
        return bank_holiday(day, self.region)

    def closed_for_holiday(self, now: datetime, tz: ZoneInfo) -> str | None:
        """The bank holiday that closes this line today (local date), if one does."""
        return self._holiday(now.astimezone(tz).date())

    def closes_at(self, now: datetime, tz: ZoneInfo) -> time | None:
        """When the session open at `now` ends (local time); None if closed or always open."""
        if self.always or not self.is_open(now, tz):
            return None
        local = now.astimezone(tz)
        return max(
            s.close
            for s in self.sessions
            if local.weekday() in s.days and s.open <= local.time() < s.close
        )

    def next_open(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """The next aware moment the line opens after `now` (None if always or unknown)."""
        if self.always or not self.sessions:
            return None
        local = now.astimezone(tz)
        for offset in range(0, LOOKAHEAD_DAYS):
            day = local.date() + timedelta(days=offset)
            if self._holiday(day):
                continue
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

    def with_hours(self, kind: str, spec: str | None) -> Directory:
        """A copy with every line of one kind open at these hours ("mon-fri 09:00-17:00;
        sat 10:00-12:00"): the deployment's own, replacing a placeholder."""
        if not spec:
            return self
        sessions = parse_hours(spec)
        lines = {
            k: replace(v, sessions=sessions, placeholder_hours=False) if v.kind == kind else v
            for k, v in self.lines.items()
        }
        return Directory(lines)

    def placeholders(self) -> list[Line]:
        """Lines whose hours are the shipped placeholder, told to patients until replaced."""
        return [line for line in self.lines.values() if line.placeholder_hours]

    def with_region(self, region: str | None) -> Directory:
        """A copy whose lines follow this UK region's bank holidays (ENG, WLS, SCT or NIR)."""
        if not region:
            return self
        region = region.strip().upper()
        if region not in REGIONS:
            raise DirectoryError(f"unknown bank holiday region {region!r}; use one of {REGIONS}")
        return Directory({k: replace(v, region=region) for k, v in self.lines.items()})

    def dialable(self) -> frozenset[str]:
        """Every number in the directory: the only numbers that may ever be dialled."""
        return frozenset(line.number for line in self.lines.values() if line.number)

    def dial_number(self, line_id: str) -> str:
        """The E.164 number to dial for one line; NotDialable if it has none that can be."""
        line = self.lines.get(line_id)
        number = dial_form(line.number) if line and line.number else None
        if number is None:
            raise NotDialable(f"line {line_id!r} has no number that can be dialled")
        return number

    def check_dialable(self, number: str) -> str:
        """`number` itself if it is a directory line's number in E.164; else NotDialable."""
        allowed = {dial_form(n) for n in self.dialable()}
        if not number or number not in allowed:
            raise NotDialable("refusing to dial a number that is not in the directory")
        return number

    def next_open_line(
        self,
        chain: Sequence[str],
        now: datetime,
        tz: ZoneInfo,
        skip: Collection[str] = (),
    ) -> Line | None:
        """The first line of `chain` not in `skip` that is open now and can be dialled."""
        for line_id in chain:
            line = self.lines.get(line_id)
            if (
                line is not None
                and line_id not in skip
                and line.number
                and dial_form(line.number)
                and line.is_open(now, tz)
            ):
                return line
        return None


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
        open_on_bank_holidays=_bank_holiday_rule(raw.get("bank_holidays", "closed")),
        placeholder_hours=bool(raw.get("placeholder_hours", False)),
    )


_SESSION = re.compile(r"([a-z,\- ]+?)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})")


def parse_hours(spec: str) -> tuple[Session, ...]:
    """'mon-fri 09:00-17:00; sat 10:00-12:00' as sessions; ValueError says what is wrong."""
    out = []
    for part in (p.strip() for p in spec.lower().split(";")):
        if not part:
            continue
        m = _SESSION.fullmatch(part)
        if not m:
            raise ValueError(
                f"{part!r} is not opening hours: write days and times, e.g. 'mon-fri 09:00-17:00'"
            )
        days, start, end = m.groups()
        try:
            session = Session(
                _parse_days(days.strip()),
                time.fromisoformat(start.zfill(5)),
                time.fromisoformat(end.zfill(5)),
            )
        except ValueError:
            raise ValueError(
                f"{part!r}: days are mon, tue, wed, thu, fri, sat, sun (or ranges such as "
                "mon-fri) and times are 24-hour, e.g. 08:30"
            ) from None
        if session.close <= session.open:
            raise ValueError(f"{part!r}: the line must close after it opens")
        out.append(session)
    if not out:
        raise ValueError("no opening hours given")
    return tuple(out)


def _bank_holiday_rule(value: Any) -> bool:
    """`bank_holidays: open` keeps a line to its usual hours on bank holidays (default closed)."""
    rule = str(value).strip().lower()
    if rule not in ("open", "closed"):
        raise ValueError(f"bank_holidays must be open or closed, not {value!r}")
    return rule == "open"


def load_directory(path: Path = DIRECTORY_FILE) -> Directory:
    """Read the directory YAML."""
    raw = load_yaml(path)
    try:
        lines = {line.id: line for line in (_line(r) for r in raw["lines"])}
    except (KeyError, ValueError, TypeError) as exc:
        raise DirectoryError(f"{path.name}: {exc}") from exc
    for required in ("nurse", "acute_oncology", "macmillan", "samaritans", "emergency"):
        if required not in lines:
            raise DirectoryError(f"{path.name}: no line with id {required!r}")
    return Directory(lines)
