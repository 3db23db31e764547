"""Reminder calls: a reminder's status as its call is placed, answered, retried or given up.

A reminder call is claimed like a text (`texts.claim`: status "sending", attempts + 1, in
reminders:sending) before it is placed. Every later change names the attempt it is
about, and is made only while the reminder is still on that attempt and not yet past
"sent": so a late or repeated status callback, or one for an earlier attempt, changes
nothing, and a status never moves back except to ring again after no answer, which
starts the next attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from bot import config
from bot.outbound import planning, scheduling
from bot.outbound.texts import SENDING, Reminder
from bot.store import keys, records
from bot.store.scripts import script
from flows.reminders import after_quiet, in_quiet

RECORD_TTL_SECONDS = 90 * 24 * 3600  # as long as the message history
# Twilio's CallStatus, as what became of one attempt.
RANG_OUT = {"no-answer": "no answer", "busy": "busy", "failed": "call failed"}

# The API took the call: "sent", with its CallSid, if this attempt is still the one.
_PLACED = """
local found = redis.call('HMGET', KEYS[1], 'status', 'attempts')
if not found[1] then return 'missing' end
if found[1] ~= 'sending' or (found[2] or '0') ~= ARGV[1] then return found[1] end
redis.call('HSET', KEYS[1], 'status', 'sent', 'sid', ARGV[2], ARGV[5], ARGV[3],
           'channel', 'call', 'outcome', 'ringing')
redis.call('HDEL', KEYS[1], 'error')
redis.call('ZREM', KEYS[2], ARGV[4])
return 'sent'
"""

# What became of an attempt: a final status, or "scheduled" again (with its new send_at)
# to ring once more. Only while that attempt is the current one and not yet answered.
_OUTCOME = """
local found = redis.call('HMGET', KEYS[1], 'status', 'attempts')
if not found[1] then return 'missing' end
if (found[2] or '0') ~= ARGV[1] then return found[1] end
if found[1] ~= 'sending' and found[1] ~= 'sent' then return found[1] end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'outcome', ARGV[3], 'channel', 'call')
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], ARGV[7], ARGV[4]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[6]) end
redis.call('ZREM', KEYS[2], ARGV[5])
return ARGV[2]
"""


def _text(result: Any) -> str:
    return str(result.decode() if isinstance(result, bytes) else result)


def placed(r: redis.Redis, rem: Reminder, attempt: int, sid: str, at: datetime,
           words: str = "") -> str:
    """Record that the API accepted attempt `attempt` as call `sid`; returns the status."""
    status = _text(script(r, _PLACED)(
        keys=[rem.key, SENDING],
        args=[attempt, sid, Reminder.stored_value("sent_at", at.isoformat()), rem.id,
              Reminder.field("sent_at")],
    ))
    p = r.pipeline(transaction=False)
    p.hset(keys.reminder_call(sid), mapping={"reminder": rem.id, "attempt": attempt,
                                             "to": rem.to, "placed_at": at.isoformat()})
    p.expire(keys.reminder_call(sid), RECORD_TTL_SECONDS)
    records.log_message(p, rem.to, {
        "at": at.isoformat(), "direction": "out", "channel": "voice", "sid": sid,
        "kind": rem.kind, "text": words or "(reminder call)",
        "event": f"reminder call placed (attempt {attempt})",
    }, pipeline=p)
    p.execute()
    return status


def outcome(r: redis.Redis, reminder_id: str, attempt: int, status: str, words: str,
            send_at: datetime | None = None, error: str = "") -> str:
    """Move attempt `attempt` to `status` ("answered", "voicemail", "unanswered",
    "failed", or "scheduled" to ring again at `send_at`); returns the status it has."""
    return _text(script(r, _OUTCOME)(
        keys=[Reminder.key_for(reminder_id), SENDING],
        args=[attempt, status, words,
              Reminder.stored_value("send_at", send_at.isoformat()) if send_at else "",
              reminder_id, error, Reminder.field("send_at")],
    ))


@dataclass(frozen=True)
class Rules:
    """When reminder calls may ring and how often: CALL_HOURS, CALL_ATTEMPTS, CALL_RETRY_MINUTES."""

    hours: tuple[time, time]
    attempts: int
    retry: timedelta
    tz: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Rules:
        """The deployment's rules."""
        return cls(config.calling(settings).hours, config.call_attempts(settings),
                   timedelta(minutes=config.call_retry(settings)), config.clinic_tz(settings))

    @property
    def closed(self) -> tuple[time, time]:
        """The hours a call may not ring, as quiet hours (from the end to the start)."""
        return self.hours[1], self.hours[0]

    def may_ring(self, at: datetime) -> bool:
        """True within calling hours."""
        return not in_quiet(at, self.tz, self.closed)

    def next_open(self, at: datetime) -> datetime:
        """`at` itself within calling hours, else when they next begin."""
        return at if self.may_ring(at) else after_quiet(at, self.tz, self.closed)

    def next_try(self, now: datetime, attempts: int, expires: datetime) -> datetime | None:
        """When to ring again after attempt `attempts` went unanswered, or None: no more."""
        if attempts >= self.attempts:
            return None
        at = self.next_open(now + self.retry)
        return at if at < expires else None


def retry_job_id(rem: Reminder, attempt: int) -> str:
    """The RQ job id of attempt `attempt` (2 or more) of a reminder call.

    Every attempt has its own job: a status callback can arrive while the job that placed
    the attempt before is still finishing, and RQ deletes a finished job (result_ttl 0)
    under its id, which would take a retry scheduled under the same id with it.
    """
    return f"reminder-{rem.id}-v{rem.version}-call{attempt}"


def ring_again(r: redis.Redis, rem: Reminder, attempt: int, words: str, at: datetime) -> str:
    """Schedule attempt `attempt` + 1 at `at`, as its own job, if attempt `attempt` is still
    the current one and not yet answered; returns the status the reminder has.

    The reminder's new status and its job are written in one transaction (WATCH on the
    reminder): both or neither, and a repeated callback finds the retry already there.
    """
    key = Reminder.key_for(rem.id)
    with scheduling.rq_connection(r).pipeline() as p:
        while True:
            try:
                p.watch(key)  # type: ignore[no-untyped-call]
                status, attempts = (_text(x) if x is not None else None
                                    for x in p.hmget(key, "status", "attempts"))
                if status is None:
                    return "missing"
                if (attempts or "0") != str(attempt) or status not in ("sending", "sent"):
                    return status
                again = replace(rem, send_at=at.isoformat(),
                                job=retry_job_id(rem, attempt + 1))
                p.multi()
                p.hset(key, mapping={
                    "status": "scheduled", "outcome": words, "channel": "call",
                    Reminder.field("send_at"): Reminder.stored_value("send_at", again.send_at),
                    Reminder.field("job"): again.job})
                p.zrem(SENDING, rem.id)
                scheduling.schedule(r, [again], pipeline=p)
                p.execute()
                return "scheduled"
            except redis.WatchError:
                continue  # the reminder changed meanwhile: decide again on what it is now


FIT_WAIT = 5.0  # seconds a status callback waits for the sending minutes at most


def retry_or_give_up(
    r: redis.Redis, rem: Reminder, attempt: int, why: str, now: datetime, rules: Rules,
    per_second: float = 0.0,
) -> tuple[str, datetime | None]:
    """Attempt `attempt` rang out (no answer, busy, failed): ring again later within the
    calling hours (scheduled here, as its own job, in a minute with room within the
    sending capacity `per_second`), or mark it unanswered for the nurses.
    Returns (status, when again)."""
    again = rules.next_try(now, attempt, rem.expires_at_dt)
    if again is None:
        tried = f"{attempt} attempt{'s' if attempt != 1 else ''}"
        return outcome(r, rem.id, attempt, "unanswered", f"{why}; unanswered after {tried}",
                       error=f"Nobody answered the reminder call ({tried}, last: {why})"), None
    with planning.slots_lock(r, wait=FIT_WAIT):
        [retry] = planning.fit(r, [replace(rem, send_at=again.isoformat())], per_second,
                               rules.tz, rules.closed)
        again = retry.send_at_dt
        status = ring_again(r, rem, attempt, f"{why}; ringing again", again)
    return status, again if status == "scheduled" else None


def call_of(r: redis.Redis, sid: str) -> dict[str, str]:
    """What is kept of a reminder call (its reminder, attempt, who answered, stage)."""
    return {str(k): str(v) for k, v in r.hgetall(keys.reminder_call(sid)).items()}
