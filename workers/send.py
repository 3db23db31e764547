"""The send job: one reminder, at most once, re-reading everything before it goes."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from rq import get_current_job

from bot import appointments, config, records, scheduling
from bot.appointments import Appointment, Patient
from bot.masking import mask
from bot.ratelimit import wait_for_slot
from bot.reminders import SENDING, Reminder, advance, claim, mark_sent, release
from bot.transport import SendError, Transport, transport_for

log = logging.getLogger(__name__)

OPTED_OUT = 21610  # Twilio: the recipient replied STOP
INVALID = frozenset([21211, 21614])  # not a valid number; not a mobile number
# A send is claimed, then the API answers within its timeout; a claim this old means the
# worker died mid-send. We cannot know whether the text went, so it is never retried.
STUCK_AFTER = timedelta(minutes=10)
EARLY_TOLERANCE = timedelta(minutes=5)
AWAITING_GRACE = timedelta(hours=12)


class NotReady(Exception):
    """The reminder's campaign is still being imported; try again shortly."""


class RetryLater(Exception):
    """The API asked us to try again later (429, 5xx, or it could not be reached)."""


def sweep_stuck(r: redis.Redis, now: datetime) -> list[str]:
    """Mark reminders whose worker died mid-send as failed, for a nurse to check."""
    cutoff = (now - STUCK_AFTER).timestamp()
    stuck = [str(x) for x in r.zrangebyscore(SENDING, "-inf", cutoff)]
    for reminder_id in stuck:
        advance(
            r,
            reminder_id,
            "failed",
            "The worker stopped while sending. It was not retried in case it went out.",
        )
    return stuck


def _skip(r: redis.Redis, rem: Reminder, now: datetime) -> tuple[str, str] | None:
    """Why this reminder must not go now, as (status, reason), or None."""
    if records.is_opted_out(r, rem.to):
        return "opted_out", "the patient opted out"
    invalid = r.hget(Patient.key_for(rem.to), "invalid")
    if invalid:
        return "failed", str(invalid)
    if rem.campaign:
        status = r.hget(f"campaign:{rem.campaign}", "status")
        if status == "importing":
            raise NotReady(f"campaign {rem.campaign} is still importing")
        if status == "cancelled":
            return "cancelled", "the campaign was cancelled"
    if rem.appointment:
        appt_status = r.hget(Appointment.key_for(rem.appointment), "status")
        if appt_status in (None, "cancelled"):
            return "cancelled", "the appointment was cancelled"
    if now >= rem.expires_at_dt:
        return "expired", "its moment had passed"
    return None


def _awaiting(r: redis.Redis, rem: Reminder, now: datetime) -> None:
    """Remember the appointment, so that a reply of C or R is understood."""
    appt = Appointment.fetch(r, rem.appointment)
    if appt is None:
        return
    ttl = int((appt.at_dt + AWAITING_GRACE - now).total_seconds())
    if ttl > 0:
        r.set(
            f"awaiting:{rem.to}",
            json.dumps({"id": appt.id, "test": appt.test, "at": appt.at}),
            ex=ttl,
        )


def _failed(r: redis.Redis, rem: Reminder, exc: SendError, now: datetime, final: bool) -> str:
    if exc.code == OPTED_OUT:
        appointments.opt_out(r, rem.to, now)
        return advance(r, rem.id, "opted_out", "the patient opted out (Twilio error 21610)")
    if exc.code in INVALID:
        reason = f"Twilio cannot text this number (error {exc.code})"
        appointments.mark_invalid(r, rem.to, reason)
        return advance(r, rem.id, "failed", reason)
    if exc.retryable and not final:
        release(r, rem.id, str(exc))
        raise RetryLater(str(exc)) from exc
    return advance(r, rem.id, "failed", str(exc))


def deliver(
    r: redis.Redis,
    reminder_id: str,
    version: int,
    transport: Transport,
    now: datetime,
    *,
    status_callback: str | None = None,
    sender: str = "default",
    per_second: float = 0.0,
    final_attempt: bool = True,
) -> str:
    """Send one reminder if it is still wanted; returns what became of it."""
    sweep_stuck(r, now)
    rem = Reminder.fetch(r, reminder_id)
    if rem is None:
        return "missing"
    if rem.version != version:
        return "stale"
    if rem.status != "scheduled":
        return rem.status  # already dealt with: a duplicate run sends nothing
    skip = _skip(r, rem, now)
    if skip is not None:
        return advance(r, rem.id, *skip)
    if now < rem.send_at_dt - EARLY_TOLERANCE:
        scheduling.schedule(r, [rem])  # run early by hand or by a skewed clock: put it back
        return "early"
    if claim(r, rem, now) != "claimed":
        return str(r.hget(rem.key, "status") or "missing")
    wait_for_slot(r, sender, per_second)
    try:
        sent = transport.send(rem.to, rem.body, status_callback)
    except SendError as exc:
        log.warning("reminder %s to %s not sent: %s", rem.id, mask(rem.to), exc)
        return _failed(r, rem, exc, now, final_attempt)
    mark_sent(r, rem, sent.sid, now)
    early = r.get(f"smsstatus:{sent.sid}")
    if early:
        advance(r, rem.id, str(early))
    if rem.appointment:
        _awaiting(r, rem, now)
    log.info("reminder %s sent to %s as %s", rem.id, mask(rem.to), sent.sid)
    return "sent"


def _decoding(conn: redis.Redis) -> redis.Redis:
    kwargs = dict(conn.connection_pool.connection_kwargs)
    kwargs["decode_responses"] = True
    return redis.Redis(
        connection_pool=redis.ConnectionPool(
            connection_class=conn.connection_pool.connection_class, **kwargs
        )
    )


_CLIENTS: dict[int, redis.Redis] = {}
_TRANSPORTS: dict[tuple[Any, ...], Transport] = {}


def _client(settings: Mapping[str, Any]) -> redis.Redis:
    job = get_current_job()
    if job is not None:
        key = id(job.connection.connection_pool)
        if key not in _CLIENTS:
            _CLIENTS[key] = _decoding(job.connection)
        return _CLIENTS[key]
    from bot.store import connect

    return connect(str(settings["REDIS_URL"]))


def _transport(settings: Mapping[str, Any], r: redis.Redis) -> Transport:
    key = (id(r),) + tuple(settings.get(k) for k in config.KEYS if k.startswith("TWILIO"))
    if key not in _TRANSPORTS:
        _TRANSPORTS[key] = transport_for(settings, r)
    return _TRANSPORTS[key]


def status_callback_url(settings: Mapping[str, Any]) -> str | None:
    """Where Twilio should report delivery: only a public https address can be reached."""
    base = str(settings.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/sms/status" if base.startswith("https://") else None


def send_reminder(reminder_id: str, version: int) -> str:
    """RQ entry point: send one reminder with the deployment's settings."""
    settings = config.load()
    r = _client(settings)
    job = get_current_job()
    return deliver(
        r,
        reminder_id,
        version,
        _transport(settings, r),
        datetime.now(UTC),
        status_callback=status_callback_url(settings),
        sender=str(
            settings.get("TWILIO_MESSAGING_SERVICE_SID")
            or settings.get("TWILIO_FROM_NUMBER")
            or "outbox"
        ),
        per_second=float(settings.get("SMS_PER_SECOND") or 10),
        final_attempt=job is None or not job.retries_left,
    )
