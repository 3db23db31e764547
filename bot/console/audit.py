"""The audit trail: who did what in the console, and when."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from bot.store import keys

KEY = keys.AUDIT
LIMIT = 100_000  # about a year of a busy team's actions; older entries drop off

# Every action the console records, in words: one list, whichever module records it.
LABELS = {
    "login": "Signed in",
    "logout": "Signed out",
    "login_failed": "Failed sign-in",
    "login_locked": "Sign-in refused: account locked",
    "account_locked": "Account locked after repeated failed sign-ins",
    "session_timeout": "Signed out after inactivity",
    "acknowledge": "Acknowledged",
    "resolve": "Resolved",
    "reveal_number": "Revealed a phone number",
    "view_patient": "Looked at a patient's messages",
    "nurse_added": "Added a nurse account",
    "campaign_upload": "Uploaded a campaign file",
    "campaign_discard": "Discarded a campaign file",
    "campaign_created": "Scheduled a campaign",
    "campaign_cancelled": "Cancelled a campaign",
    "campaign_message": "Texted everyone in a campaign",
    "appointment_rescheduled": "Moved an appointment",
    "appointment_cancelled": "Cancelled an appointment",
    "feed_replayed": "Tried a hospital feed message again",
    "reminder_channel": "Changed how a patient gets reminders",
}


@dataclass(frozen=True)
class Entry:
    """One line of the trail."""

    at: str
    who: str
    action: str
    target: str = ""
    detail: str = ""
    ip: str = ""

    @property
    def label(self) -> str:
        """The action in words."""
        return LABELS.get(self.action, self.action)


def record(
    r: Any,
    at: datetime,
    who: str,
    action: str,
    target: str = "",
    detail: str = "",
    ip: str = "",
    pipeline: Any = None,
) -> None:
    """Add one entry (newest first) into a client or pipeline."""
    p = pipeline or r
    entry = {"at": at.isoformat(), "who": who, "action": action, "target": target,
             "detail": detail, "ip": ip}
    p.lpush(KEY, json.dumps(entry))
    p.ltrim(KEY, 0, LIMIT - 1)


def entries(r: redis.Redis, offset: int = 0, limit: int = 100) -> list[Entry]:
    """Entries newest first, `limit` of them after skipping `offset`."""
    raw = r.lrange(KEY, offset, offset + limit - 1)
    return [Entry(**json.loads(str(x))) for x in raw]


def size(r: redis.Redis) -> int:
    """How many entries the trail holds."""
    return int(r.llen(KEY))
