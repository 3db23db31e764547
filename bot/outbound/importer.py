"""Campaign CSV files: every row checked and planned before anything is scheduled."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot import config, phones
from bot.outbound.campaigns import Row
from flows import reminder_call
from flows.engine import Context
from flows.reminders import TESTS, PlanError, plan

REQUIRED = ("phone", "test", "appointment")
OPTIONAL = ("location", "name")
MAX_ROWS = 200_000
# Nurses write tests the way people say them.
ALIASES = {
    "ct": "ct_scan", "cat_scan": "ct_scan", "ct_scan": "ct_scan",
    "pet": "pet_ct_scan", "pet_ct": "pet_ct_scan", "petct": "pet_ct_scan",
    "pet_scan": "pet_ct_scan",
    "mri": "mri_scan", "mri_scan": "mri_scan",
    "bloods": "blood_tests", "blood": "blood_tests", "blood_test": "blood_tests",
    "x_ray": "xray", "xray": "xray", "chest_xray": "xray", "chest_x_ray": "xray",
    "ultrasound": "liver_ultrasound", "liver_scan": "liver_ultrasound",
    "bone": "bone_scan", "bone_scan": "bone_scan", "biopsy": "biopsy",
}


@dataclass
class Checked:
    """The outcome of checking a whole file: good rows, or errors by line number."""

    rows: list[Row] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row passed and there was at least one."""
        return bool(self.rows) and not self.errors


def test_id(raw: str) -> str | None:
    """The test id for what a nurse typed ("CT", "PET-CT", "bone scan"), or None."""
    k = "_".join(raw.strip().lower().replace("-", " ").replace("/", " ").split())
    if k in TESTS:
        return k
    return ALIASES.get(k)


# What a UK spreadsheet exports: day first, "02/12/2026 09:30" (or 2-digit years, seconds).
_UK = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_when(raw: str, tz: ZoneInfo) -> datetime:
    """'YYYY-MM-DD HH:MM' or UK day-first 'DD/MM/YYYY HH:MM' in the clinic's zone, or ISO
    8601 with an offset; aware. Never month-first: 12/02 is the 12th of February."""
    text = raw.strip()
    uk = _UK.fullmatch(text)
    try:
        if uk:
            day, month, year, hour, minute, _ = uk.groups()
            full_year = int(year) + (2000 if len(year) == 2 else 0)
            when = datetime(full_year, int(month), int(day), int(hour), int(minute))
        else:
            when = datetime.fromisoformat(text)
    except ValueError:
        if uk and int(uk.group(2)) > 12:
            raise ValueError(
                f"{text!r} is not a date: dates are read day first (DD/MM/YYYY), and there "
                "is no month " + uk.group(2) + ". Was the file saved with US dates?"
            ) from None
        raise ValueError(
            f"{text!r} is not a date and time; write it as DD/MM/YYYY HH:MM or "
            "YYYY-MM-DD HH:MM"
        ) from None
    if when.tzinfo is not None:
        return when
    local = when.replace(tzinfo=tz)
    # A wall-clock time that does not exist (clocks go forward) or happens twice (back).
    there_and_back = local.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)
    if there_and_back != when:
        raise ValueError(f"{text} does not exist in {tz.key} time (the clocks go forward then)")
    if when.replace(tzinfo=tz, fold=1).utcoffset() != local.utcoffset():
        raise ValueError(
            f"{text} happens twice (the clocks go back); add the offset, e.g. {text}+01:00"
        )
    return local


def check(
    data: str | bytes,
    tz: ZoneInfo,
    now: datetime,
    quiet: tuple[time, time],
    progress: Callable[[int, int], None] | None = None,
    *,
    calling: config.Calling,
) -> Checked:
    """Check and plan every row; report each bad one with its line number. A landline's
    reminders are planned as calls, within the deployment's calling hours."""
    hours = calling.hours
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    out = Checked()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        out.errors.append({"line": 1, "error": "the file is empty"})
        return out
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        out.errors.append({
            "line": 1,
            "error": f"the first line must name the columns {', '.join(REQUIRED)} "
                     f"(and optionally {', '.join(OPTIONAL)}); missing: {', '.join(missing)}",
        })
        return out
    lines = list(reader)
    if len(lines) > MAX_ROWS:
        out.errors.append({"line": 1, "error": f"more than {MAX_ROWS} rows; split the file"})
        return out
    seen: dict[tuple[str, str, str], int] = {}
    for n, values in enumerate(lines, 2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(names) and any(v.strip() for v in values[len(names):]):
            out.errors.append({"line": n, "error": (
                f"this line has {len(values)} values but the first line names {len(names)} "
                "columns. A comma inside a place or a name moves everything after it: put "
                'that value in double quotes, e.g. "Queen Elizabeth Hospital, Gateshead".'
            )})
            continue
        row = dict(zip(names, (v.strip() for v in values), strict=False))
        try:
            checked = _row(n, row, tz, now, quiet, hours)
        except (ValueError, PlanError) as exc:
            out.errors.append({"line": n, "error": str(exc)})
            continue
        dup = (checked.phone, checked.test, checked.at.isoformat())
        if dup in seen:
            out.errors.append({"line": n, "error": f"the same appointment as line {seen[dup]}"})
            continue
        seen[dup] = n
        out.rows.append(checked)
        if progress and n % 500 == 0:
            progress(n - 1, len(lines))
    if progress:
        progress(len(lines), len(lines))
    if not out.rows and not out.errors:
        out.errors.append({"line": 1, "error": "the file has no appointments"})
    return out


def _row(n: int, row: dict[str, str], tz: ZoneInfo, now: datetime,
         quiet: tuple[time, time], call_hours: tuple[time, time]) -> Row:
    for column in REQUIRED:
        if not row.get(column):
            raise ValueError(f"the {column} is missing")
    number, channel, why = phones.reachable(row["phone"])
    if number is None:
        raise ValueError(why)
    test = test_id(row["test"])
    if test is None:
        raise ValueError(f"{row['test']!r} is not a test we send reminders for "
                         f"(one of: {', '.join(TESTS)})")
    at = parse_when(row["appointment"], tz)
    if at <= now:
        raise ValueError(f"the appointment {row['appointment']} is in the past")
    location = row.get("location", "")  # empty: the content says "the place on your letter"
    name = row.get("name", "")
    if channel == "call":
        # Planned inside calling hours (outside them is "quiet"), one call at a time.
        closed = (call_hours[1], call_hours[0])
        planned = reminder_call.spaced(
            plan(test, at, location, tz, name=name or None, quiet=closed, now=now))
    else:
        planned = plan(test, at, location, tz, name=name or None, quiet=quiet, now=now)
    return Row(n, number, test, at, location, name, planned, channel)


def check_one(
    row: dict[str, str], tz: ZoneInfo, now: datetime, quiet: tuple[time, time],
    calling: config.Calling,
) -> Row:
    """One appointment from any other source (the hospital's feed) checked and planned
    exactly as a file's row is; ValueError or PlanError says what is wrong."""
    return _row(0, row, tz, now, quiet, calling.hours)


def spoken(row: Row, kind: str, tz: ZoneInfo, now: datetime) -> list[str]:
    """What a person who answers a reminder call for this row hears, if they confirm."""
    ctx = Context.default(now, tz)
    about = reminder_call.Reminder(
        appointment="", test=row.test, at=row.at, location=row.location, kind=kind,
        name=row.name, number=ctx.directory["nurse"].number or "")
    return reminder_call.script(about, ctx)


def _reminder(row: Row, p: Any, tz: ZoneInfo, price: float) -> dict[str, Any]:
    out = {"send_at": p.send_at.astimezone(tz).isoformat(), "channel": row.channel,
           "text": p.text, "segments": p.segments, "encoding": p.encoding, "note": p.note}
    if row.channel == "call":
        words = spoken(row, p.kind, tz, p.send_at)
        billed, cost = reminder_call.estimate(words, price)
        out.update(text="", segments=0, spoken=" ".join(words), call_minutes=billed,
                   call_cost_estimate=cost)
    return out


def to_json(checked: Checked, tz: ZoneInfo, capacity: Any = None, *,
            calling: config.Calling) -> dict[str, Any]:
    """The import report: each patient's reminders with send times, channel, texts and
    segments (or a call's spoken words and estimated cost), and how they were spread
    within the sending capacity (a campaigns.Capacity)."""
    price = calling.price_per_minute
    patients: list[dict[str, Any]] = [
        {
            "line": row.line,
            "phone": row.phone,
            "test": row.test,
            "appointment": row.at.astimezone(tz).isoformat(),
            "channel": row.channel,
            "reminders": [_reminder(row, p, tz, price) for p in row.plan.reminders],
            "skipped": [{"kind": k, "reason": why} for k, why in row.plan.skipped],
        }
        for row in checked.rows
    ]
    calls = [x for p in patients for x in p["reminders"] if x["channel"] == "call"]
    return {
        "patients": patients,
        "errors": checked.errors,
        "segments_total": sum(p.segments for row in checked.rows for p in row.plan.reminders
                              if row.channel == "sms"),
        "calls_total": len(calls),
        "call_cost_estimate": {
            "total": round(sum(x["call_cost_estimate"] for x in calls), 2),
            "price_per_minute": price,
            "price_is_placeholder": not calling.price_set,
            "note": "An estimate: each call counted as answered once, billed by the whole "
                    "minute at CALL_PRICE_PER_MINUTE; retries and unanswered calls differ."
                    + ("" if calling.price_set else " CALL_PRICE_PER_MINUTE is not set, so "
                       "the price is a placeholder, not your account's rate."),
        },
        "capacity": capacity.to_json(tz) if capacity is not None else None,
    }
