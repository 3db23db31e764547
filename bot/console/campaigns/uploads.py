"""A campaign file between upload and confirm: kept in Redis, checked, previewed, imported.

The file itself stays on the server under a random token (never in the cookie) for a
short while; confirming checks it again from scratch, so what is scheduled is exactly
what a fresh check of the file says, and nothing is scheduled if that check finds a
problem or a different plan from the one the nurse was shown.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import redis

from bot import config
from bot.outbound import campaigns, importer
from bot.store import keys
from bot.store.hashes import HashRecord

TTL_SECONDS = 30 * 60  # as long as a signed-in nurse may sit idle on the preview
MAX_BYTES = 20 * 1024 * 1024  # far beyond the importer's row limit at a line a row
ERRORS_KEPT = 1000  # more than anyone reads; the count says how many there were
ROW_PAGE = 500  # preview rows written per round trip

Progress = Callable[[int, int], None]

# Moves an upload from one state to another only if it is still in the first: two clicks
# on "Schedule" (or two tabs) import the file once.
_MOVE = """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
"""


@dataclass
class Upload(HashRecord):
    """An uploaded file (or one patient's form) and what checking it found."""

    PREFIX: ClassVar[str] = keys.UPLOAD

    id: str  # a random token: the only way to it
    by: str  # the nurse who uploaded it: nobody else sees it
    name: str  # the campaign's name
    created_at: str
    source: str = "file"  # file | single
    filename: str = ""
    note: str = ""  # anything the nurse should know about how the file was read
    state: str = "new"  # new | checking | checked | importing | imported
    checked_at: str = ""
    lines: int = 0  # data lines in the file
    patients: int = 0
    appointments: int = 0
    reminders: int = 0
    segments: int = 0
    skipped: int = 0
    first_send: str = ""
    last_send: str = ""
    error_count: int = 0
    errors: str = ""  # JSON [{line, error}], the first ERRORS_KEPT
    moved: int = 0  # texts a minute or more later than usual, to share the sending capacity
    over_capacity: int = 0  # texts with no room in the capacity before they stop being useful
    capacity: str = ""  # JSON: the spread (campaigns.Capacity.to_json)
    changed: str = ""  # why the preview was made again at confirm, if it was
    campaign: str = ""  # the campaign made from it
    task: str = ""  # the background task checking or importing it, if any

    @staticmethod
    def csv_key(token: str) -> str:
        """Where the file's text is kept."""
        return keys.upload_csv(token)

    @staticmethod
    def rows_key(token: str) -> str:
        """Where each checked row's plan is kept for the preview, one JSON item per row."""
        return keys.upload_rows(token)

    @property
    def error_list(self) -> list[dict[str, Any]]:
        """The problems found, by line number."""
        return list(json.loads(self.errors)) if self.errors else []

    @property
    def spread(self) -> dict[str, Any]:
        """How the texts were spread within the sending capacity (empty if not checked)."""
        return dict(json.loads(self.capacity)) if self.capacity else {}

    @property
    def ok(self) -> bool:
        """Checked, with no problems and something to schedule."""
        return self.state == "checked" and not self.error_count and self.appointments > 0


def decode(data: bytes) -> tuple[str, str]:
    """The file's text, and a note when it was not UTF-8.

    Excel on Windows saves "CSV" in its own code page; reading that as Windows-1252
    keeps a "Queen's" or a "£" rather than refusing the whole file.
    """
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        return (data.decode("cp1252", errors="replace"),
                "The file was not saved as UTF-8, so it was read as Windows text. "
                "Check that names and places below look right.")


def count_lines(text: str) -> int:
    """Data lines in a CSV text (not the header), roughly: to choose how to run the work."""
    return max(0, len(text.splitlines()) - 1)


def save(r: redis.Redis, upload: Upload, text: str) -> None:
    """Keep a new upload and its file's text for TTL_SECONDS."""
    upload.lines = count_lines(text)
    p = r.pipeline()
    upload.save(p)
    p.set(Upload.csv_key(upload.id), text, ex=TTL_SECONDS)
    p.expire(upload.key, TTL_SECONDS)
    p.execute()


def new(by: str, name: str, now: datetime, source: str = "file", filename: str = "",
        note: str = "") -> Upload:
    """An upload record with a fresh token (not yet saved)."""
    return Upload(id=secrets.token_urlsafe(16), by=by, name=name, created_at=now.isoformat(),
                  source=source, filename=filename, note=note)


def find(r: redis.Redis, token: str, by: str) -> Upload | None:
    """The upload, if it is still kept and was made by the nurse `by`."""
    upload = Upload.fetch(r, token)
    return upload if upload is not None and upload.by == by else None


def move(r: redis.Redis, token: str, old: str, new_state: str) -> bool:
    """Change the state from `old` to `new_state`; False if it was not `old`."""
    return bool(r.eval(_MOVE, 1, Upload.key_for(token), old, new_state))


def text_of(r: redis.Redis, token: str) -> str | None:
    """The file's text, or None once it has expired or been imported."""
    found = r.get(Upload.csv_key(token))
    return str(found) if found is not None else None


def discard(r: redis.Redis, token: str) -> None:
    """Forget an upload and its file."""
    r.delete(Upload.key_for(token), Upload.csv_key(token), Upload.rows_key(token))


def _row_json(row: campaigns.Row) -> str:
    return json.dumps({
        "line": row.line, "phone": row.phone, "test": row.test, "at": row.at.isoformat(),
        "location": row.location, "name": row.name, "channel": row.channel,
        "reminders": [{"kind": p.kind, "send_at": p.send_at.isoformat(),
                       "segments": p.segments, "encoding": p.encoding, "note": p.note}
                      for p in row.plan.reminders],
        "skipped": [{"kind": k, "reason": why} for k, why in row.plan.skipped],
    }, separators=(",", ":"))


def _summary(checked: importer.Checked, capacity: campaigns.Capacity | None,
             tz: ZoneInfo) -> dict[str, Any]:
    sends = [p.send_at for row in checked.rows for p in row.plan.reminders]
    spread = capacity.to_json(tz) if capacity is not None and checked.ok else None
    if spread is not None:
        spread["over_capacity"] = spread["over_capacity"][:ERRORS_KEPT]
    return {
        "patients": len({row.phone for row in checked.rows}),
        "appointments": len(checked.rows),
        "reminders": len(sends),
        "segments": sum(p.segments for row in checked.rows for p in row.plan.reminders
                        if row.channel == "sms"),  # as the campaign counts them
        "skipped": sum(len(row.plan.skipped) for row in checked.rows),
        "first_send": min(sends).isoformat() if sends else "",
        "last_send": max(sends).isoformat() if sends else "",
        "error_count": len(checked.errors),
        "errors": json.dumps(checked.errors[:ERRORS_KEPT]),
        "moved": capacity.moved if capacity is not None else 0,
        "over_capacity": len(capacity.over) if capacity is not None else 0,
        "capacity": json.dumps(spread) if spread is not None else "",
    }


def record_check(r: redis.Redis, upload: Upload, checked: importer.Checked, now: datetime,
                 tz: ZoneInfo, capacity: campaigns.Capacity | None = None,
                 progress: Progress | None = None) -> None:
    """Store what a check found: the summary, and each row's plan when all rows passed.

    A file with bad rows keeps only its problems: the file itself is dropped at once,
    since nothing from it can be scheduled.
    """
    summary = _summary(checked, capacity, tz)
    for k, v in summary.items():
        setattr(upload, k, v)
    upload.state, upload.checked_at = "checked", now.isoformat()
    r.delete(Upload.rows_key(upload.id))
    if checked.ok:
        rows = checked.rows
        for start in range(0, len(rows), ROW_PAGE):
            chunk = rows[start:start + ROW_PAGE]
            r.rpush(Upload.rows_key(upload.id), *(_row_json(x) for x in chunk))
            if progress:
                progress(min(start + ROW_PAGE, len(rows)), len(rows))
        r.expire(Upload.rows_key(upload.id), TTL_SECONDS)
    else:
        r.delete(Upload.csv_key(upload.id))
    p = r.pipeline()
    p.hset(upload.key, mapping={**{k: str(v) for k, v in summary.items()},
                                "state": upload.state, "checked_at": upload.checked_at})
    p.expire(upload.key, TTL_SECONDS)
    p.execute()


def _plan(r: redis.Redis, text: str, tz: ZoneInfo, now: datetime, quiet: tuple[time, time],
          per_second: float, progress: Progress | None, calling: config.Calling,
          ) -> tuple[importer.Checked, campaigns.Capacity | None]:
    """Check every row, then spread the texts within the capacity left by other campaigns."""
    checked = importer.check(text, tz, now, quiet, progress, calling=calling)
    if not checked.ok:
        return checked, None
    checked.rows, capacity = campaigns.spread(r, checked.rows, per_second, tz, quiet,
                                              call_hours=calling.hours)
    return checked, capacity


def check(r: redis.Redis, upload: Upload, tz: ZoneInfo, now: datetime,
          quiet: tuple[time, time], per_second: float, progress: Progress | None = None,
          store_progress: Progress | None = None, *,
          calling: config.Calling) -> importer.Checked:
    """Check and plan every row of the kept file (a landline's within the deployment's
    calling hours), and record what was found."""
    text = text_of(r, upload.id)
    if text is None:
        raise LookupError("the file is no longer kept")
    checked, capacity = _plan(r, text, tz, now, quiet, per_second, progress, calling)
    record_check(r, upload, checked, now, tz, capacity, store_progress)
    return checked


def rows(r: redis.Redis, token: str, start: int, count: int) -> list[dict[str, Any]]:
    """Checked rows start..start+count, for one page of the preview."""
    return [json.loads(x) for x in r.lrange(Upload.rows_key(token), start, start + count - 1)]


@dataclass(frozen=True)
class Imported:
    """The outcome of confirming: a campaign, or why the nurse must look again."""

    campaign: campaigns.Campaign | None = None
    problem: str = ""


def import_checked(
    r: redis.Redis,
    upload: Upload,
    tz: ZoneInfo,
    now: datetime,
    quiet: tuple[time, time],
    per_second: float,
    check_progress: Progress | None = None,
    import_progress: Progress | None = None,
    wait: float = 900.0,
    *,
    calling: config.Calling,
) -> Imported:
    """Check the kept file again and, if the plan is the one previewed, make the campaign.

    The upload must already be in state "importing" (see `move`). Anything else sends
    it back to "checked" with a fresh preview and a sentence saying why. `wait` is how
    long to wait for another import to finish scheduling.
    """
    text = text_of(r, upload.id)
    if text is None:
        discard(r, upload.id)
        return Imported(problem="This upload has expired. Upload the file again.")
    # Planned and scheduled under the lock: the capacity left is what it was planned with.
    try:
        with campaigns.planning_lock(r, wait=wait):
            return _import_locked(r, upload, text, tz, now, quiet, per_second,
                                  check_progress, import_progress, calling)
    except campaigns.PlanningBusy:
        move(r, upload.id, "importing", "checked")
        problem = ("Another campaign is being scheduled right now, so nothing was scheduled. "
                   "Press Schedule again in a minute.")
        r.hset(upload.key, "changed", problem)
        return Imported(problem=problem)


def _import_locked(
    r: redis.Redis, upload: Upload, text: str, tz: ZoneInfo, now: datetime,
    quiet: tuple[time, time], per_second: float, check_progress: Progress | None,
    import_progress: Progress | None, calling: config.Calling,
) -> Imported:
    checked, capacity = _plan(r, text, tz, now, quiet, per_second, check_progress, calling)
    again = _summary(checked, capacity, tz)
    same = (checked.ok and again["appointments"] == upload.appointments
            and again["reminders"] == upload.reminders
            and again["segments"] == upload.segments
            and again["over_capacity"] <= upload.over_capacity)
    if not same:
        record_check(r, upload, checked, now, tz, capacity)
        problem = ("Time has moved on since you checked this file and the plan has changed. "
                   "Check the new plan below before you schedule it."
                   if checked.ok else
                   "Checking the file again found problems, so nothing was scheduled.")
        r.hset(upload.key, "changed", problem)
        return Imported(problem=problem)
    made = campaigns.create(r, upload.name, checked.rows, now, upload.by,
                            import_progress or _nothing)
    p = r.pipeline()
    p.hset(made.key, "source", upload.source)  # a file, or one patient typed in
    p.hset(upload.key, mapping={"state": "imported", "campaign": made.id})
    p.delete(Upload.csv_key(upload.id), Upload.rows_key(upload.id))
    p.expire(upload.key, TTL_SECONDS)
    p.execute()
    return Imported(campaign=made)


def _nothing(done: int, total: int) -> None:
    pass
