"""Outbound texts, appointment reminders among them: the record and its status changes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import redis

from bot.store import keys, records
from bot.store.hashes import HashRecord
from bot.store.scripts import script

STATUSES = (
    "scheduled", "sending", "sent", "delivered", "undelivered", "failed", "expired",
    "cancelled", "opted_out", "answered", "voicemail", "unanswered",
)
PENDING = frozenset(["scheduled", "sending"])
# A status never moves to a lower rank: a late "sent" callback cannot undo "delivered".
RANK = {
    "scheduled": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3,
    "expired": 3, "cancelled": 3, "opted_out": 3,
    # A reminder call's ends: a person answered, a message was left on a machine, or it
    # rang CALL_ATTEMPTS times unanswered (see outbound/calls).
    "answered": 3, "voicemail": 3, "unanswered": 3,
}
SENDING = keys.SENDING
SID_TTL_SECONDS = 30 * 24 * 3600
REPORT_ARG = "r"  # the reminder's id in its delivery report address
TEXT_LIFETIME = timedelta(hours=24)  # a text asked for on a call is useless a day later


def new_id() -> str:
    """A short random id."""
    return uuid.uuid4().hex[:16]


@dataclass
class Reminder(HashRecord):
    """One text to send once: an appointment reminder, a nurse's message or a topic text."""

    PREFIX: ClassVar[str] = keys.REMINDER
    # Shorter names and epoch times: a million reminders waiting hold a million of each.
    STORED: ClassVar[dict[str, str]] = {
        "body": "b", "kind": "k", "send_at": "s", "expires_at": "x", "appointment": "a",
        "campaign": "c", "created_at": "m", "sent_at": "t", "job": "j",
    }
    TIMES: ClassVar[frozenset[str]] = frozenset(["send_at", "expires_at", "created_at", "sent_at"])
    WHOLE_SECONDS: ClassVar[frozenset[str]] = frozenset(["created_at", "sent_at"])
    ID_IN_KEY: ClassVar[bool] = True

    id: str
    to: str
    body: str
    kind: str
    send_at: str
    expires_at: str
    status: str = "scheduled"
    sid: str = ""
    attempts: int = 0
    appointment: str = ""
    campaign: str = ""
    version: int = 1
    error: str = ""
    created_at: str = ""
    sent_at: str = ""
    channel: str = ""  # "call" once it went as a phone call; empty: a text
    outcome: str = ""  # a call's last outcome in words ("no answer", "answering machine")
    job: str = ""  # the send job's id when not the first: a reminder call's retry has its own

    def to_hash(self) -> dict[str, Any]:
        """The stored fields, less a first version and no attempts yet (the defaults, as
        every reader takes them): a little less memory per reminder waiting."""
        mapping = super().to_hash()
        if self.version == 1:
            del mapping["version"]
        if self.attempts == 0:
            del mapping["attempts"]
        return mapping

    @property
    def job_id(self) -> str:
        """The RQ job id: the same reminder and version always get the same job, and each
        retry of a reminder call its own (see outbound/calls.retry_job_id)."""
        return self.job or f"reminder-{self.id}-v{self.version}"

    @property
    def send_at_dt(self) -> datetime:
        """When it should go, as an aware datetime."""
        return datetime.fromisoformat(self.send_at)

    @property
    def expires_at_dt(self) -> datetime:
        """After this moment the text is no use and must not go."""
        return datetime.fromisoformat(self.expires_at)


# Claims a scheduled reminder for sending, atomically: only one worker ever gets it.
_CLAIM = """
local found = redis.call('HMGET', KEYS[1], 'status', 'version', 'attempts')
local status, version, attempts = found[1], found[2], found[3]
if not status then return 'missing' end
if status ~= 'scheduled' then return status end
if (version or '1') ~= ARGV[1] then return 'stale' end
redis.call('HSET', KEYS[1], 'status', 'sending', 'attempts', (tonumber(attempts) or 0) + 1)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 'claimed'
"""

# Undoes a claim no text followed: back to scheduled with its count of attempts as before
# (none: the field goes, as a reminder never tried stores none), off the sends under way.
_UNCLAIM = """
if redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'scheduled')
if ARGV[1] == '0' then
  redis.call('HDEL', KEYS[1], 'attempts')
else
  redis.call('HSET', KEYS[1], 'attempts', ARGV[1])
end
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""

# Moves a reminder to a new status unless that would go backwards (or it is gone).
_ADVANCE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
local rank = cjson.decode(ARGV[3])
if (rank[ARGV[1]] or 0) <= (rank[status] or 0) then return status end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[2]) end
redis.call('ZREM', KEYS[2], ARGV[4])
return ARGV[1]
"""



def claim(r: redis.Redis, reminder: Reminder, now: datetime) -> str:
    """Take the reminder for sending: "claimed", or why not (its status, "stale", "missing")."""
    result = script(r, _CLAIM)(
        keys=[reminder.key, SENDING], args=[reminder.version, now.timestamp(), reminder.id]
    )
    return str(result.decode() if isinstance(result, bytes) else result)


def unclaim(r: redis.Redis, reminder: Reminder) -> None:
    """Put back a claim made but not used, `reminder` as read before it: nothing was sent."""
    script(r, _UNCLAIM)(keys=[reminder.key, SENDING], args=[reminder.attempts, reminder.id])


def advance(r: redis.Redis, reminder_id: str, status: str, error: str = "") -> str:
    """Move to `status` if that is forward; returns the status it now has."""
    result = script(r, _ADVANCE)(
        keys=[Reminder.key_for(reminder_id), SENDING],
        args=[status, error, json.dumps(RANK), reminder_id],
    )
    return str(result.decode() if isinstance(result, bytes) else result)


# A send is claimed just before the API is called, and the API answers within its timeout
# (10 s by default); a claim this old means the worker died mid-send. We cannot know
# whether the text went, so it is never retried: a nurse sees it marked within two minutes.
STUCK_AFTER = timedelta(seconds=90)
INTERRUPTED = (
    "The worker stopped while sending. It was not retried in case it went out: please "
    "check with the patient."
)


def sweep_stuck(r: redis.Redis, now: datetime, after: timedelta = STUCK_AFTER) -> list[str]:
    """Mark reminders whose worker died mid-send as failed, for a nurse to check."""
    cutoff = (now - after).timestamp()
    stuck = [x.decode() if isinstance(x, bytes) else str(x)
             for x in r.zrangebyscore(SENDING, "-inf", cutoff)]
    for reminder_id in stuck:
        advance(r, reminder_id, "failed", INTERRUPTED)
    return stuck


def release(r: redis.Redis, reminder_id: str, error: str) -> None:
    """Hand a claimed reminder back for another try (the API said try again later)."""
    p = r.pipeline()
    p.hset(Reminder.key_for(reminder_id), mapping={"status": "scheduled", "error": error})
    p.zrem(SENDING, reminder_id)
    p.execute()


def callback_for(status_callback: str, reminder_id: str) -> str:
    """The delivery report address for one text: it names the reminder, so a report finds
    it with no index of MessageSids (Twilio signs the address with its query)."""
    return f"{status_callback}{'&' if '?' in status_callback else '?'}{REPORT_ARG}={reminder_id}"


def mark_sent(
    r: redis.Redis, reminder: Reminder, sid: str, at: datetime, pipeline: Any = None,
    *, index_sid: bool = True,
) -> None:
    """Record that the API accepted it, with its MessageSid (into `pipeline` if given).

    `index_sid` False: its delivery reports name the reminder (callback_for), so no
    sid:<MessageSid> key is kept for them.
    """
    p = pipeline if pipeline is not None else r.pipeline()
    p.hset(reminder.key, mapping={"status": "sent", "sid": sid,
                                  Reminder.field("sent_at"): Reminder.stored_value(
                                      "sent_at", at.isoformat())})
    if reminder.error:  # only an earlier try that was told to try again leaves one
        p.hdel(reminder.key, "error")
    p.zrem(SENDING, reminder.id)
    if index_sid:
        p.set(keys.sid(sid), reminder.id, ex=SID_TTL_SECONDS)
    records.log_message(
        r, reminder.to,
        # No sid: the reminder's own record holds it.
        {"at": at.isoformat(), "direction": "out", "channel": "sms", "text": reminder.body,
         "kind": reminder.kind},
        pipeline=p,
    )
    if pipeline is None:
        p.execute()


def by_sid(r: redis.Redis, sid: str) -> str | None:
    """The id of the reminder sent as this MessageSid."""
    found = r.get(keys.sid(sid))
    return str(found) if found else None
