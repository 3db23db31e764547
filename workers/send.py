"""The send job: one reminder, at most once, re-reading everything before it goes."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import redis
from rq import get_current_job

from bot import config
from bot.dev import simclock
from bot.masking import mask
from bot.outbound import appointments, scheduling, texts, twilio_codes
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.texts import (
    SENDING,
    Reminder,
    advance,
    claim,
    mark_sent,
    release,
    sweep_stuck,
    unclaim,
)
from bot.outbound.transport import SendError, Transport, transport_for
from bot.store import keys, stats
from bot.store.batch import Batch
from bot.store.client import connect
from bot.store.ratelimit import wait_for_slot
from bot.store.scripts import script
from flows.reminders import PlanError, after_quiet, default_content, in_quiet
from workers import call

log = logging.getLogger(__name__)

EARLY_TOLERANCE = timedelta(minutes=5)
AWAITING_GRACE = timedelta(hours=12)
SWEEP_EVERY_SECONDS = 60.0
CLINIC_TZ = config.clinic_tz({})  # deliver()'s default: the settings' default zone
DEFAULT_PER_SECOND = 10.0


class NotReady(Exception):
    """The reminder's campaign is still being imported; try again shortly."""


class RetryLater(Exception):
    """The API asked us to try again later (429, 5xx, or it could not be reached)."""


@dataclass
class _Facts:
    """Everything that decides whether a reminder may go, read in one round trip."""

    opted_out: bool
    invalid: str
    campaign_status: str
    appointment: Appointment | None
    channel: str = ""  # the patient's: "call" for a landline or on request


# The reminder and everything that decides whether it may go, read in one round trip (the
# keys after the reminder's own depend on its fields, so a pipeline would need two), and
# the reminder claimed in the same script when those facts let it go now: a send is then
# one round trip fewer. The script claims on exactly the grounds `_stop` lets a reminder
# go by, and leaves anything else as it was (a record whose times are not epoch seconds,
# written before they were, too), for `_stop` to judge and `claim` to take. KEYS: the
# reminder, the set of sends under way. ARGV: the opt-out hash, the patient, campaign and
# appointment key prefixes (bot/store/keys); the reminder's campaign and appointment
# fields, short name then long; its send_at and expires_at fields; then the job's version,
# now and the early tolerance in seconds, "1" when it is quiet hours, the reminder's id.
_READ_AND_CLAIM = """
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return {} end
local f = {}
for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
local to = f['to'] or ''
local campaign = f[ARGV[5]] or f[ARGV[6]] or ''
local appointment = f[ARGV[7]] or f[ARGV[8]] or ''
local opted = redis.call('HEXISTS', ARGV[1], to)
local patient = redis.call('HMGET', ARGV[2] .. to, 'invalid', 'channel')
local invalid, channel = patient[1] or '', patient[2] or ''
local status = ''
if campaign ~= '' then status = redis.call('HGET', ARGV[3] .. campaign, 'status') or '' end
local appt, booked = {}, appointment == ''
if not booked then
  appt = redis.call('HGETALL', ARGV[4] .. appointment)
  booked = #appt > 0
  for i = 1, #appt, 2 do
    if appt[i] == 'status' and appt[i + 1] == 'cancelled' then booked = false end
  end
end
local now, early = tonumber(ARGV[12]), tonumber(ARGV[13])
local send_at, expires = tonumber(f[ARGV[9]] or ''), tonumber(f[ARGV[10]] or '')
local go = f['status'] == 'scheduled' and (f['version'] or '1') == ARGV[11]
  and opted == 0 and invalid == '' and status ~= 'importing' and status ~= 'cancelled'
  and booked and send_at ~= nil and expires ~= nil and now < expires
  and now >= send_at - early
  and not (channel == 'call' and #appt > 0) and not (ARGV[14] == '1' and appointment ~= '')
if go then
  redis.call('HSET', KEYS[1], 'status', 'sending', 'attempts', (tonumber(f['attempts']) or 0) + 1)
  redis.call('ZADD', KEYS[2], ARGV[12], ARGV[15])
end
return {flat, opted, invalid, channel, status, appt, go and 1 or 0}
"""
_READ_ARGS = (
    keys.OPTOUTS, Patient.key_for(""), keys.campaign(""), Appointment.key_for(""),
    Reminder.field("campaign"), "campaign", Reminder.field("appointment"), "appointment",
    Reminder.field("send_at"), Reminder.field("expires_at"),
)


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def read_and_claim(
    r: redis.Redis, reminder_id: str, version: int, now: datetime, quiet_now: bool = False
) -> tuple[Reminder, _Facts, bool] | None:
    """The reminder as it was, its facts and whether this read claimed it (they let it go
    now); None if it is gone."""
    found = script(r, _READ_AND_CLAIM)(
        keys=[Reminder.key_for(reminder_id), SENDING],
        args=[*_READ_ARGS, version, repr(now.timestamp()),
              EARLY_TOLERANCE.total_seconds(), int(quiet_now), reminder_id],
    )
    if not found:
        return None
    flat, opted_out, invalid, channel, campaign_status, appt, claimed = found
    rem = Reminder.from_hash(_pairs(flat), reminder_id)
    return rem, _Facts(
        bool(opted_out),
        str(invalid),
        str(campaign_status),
        Appointment.from_hash(_pairs(appt), rem.appointment) if appt else None,
        str(channel),
    ), bool(claimed)


def _stop(
    rem: Reminder, facts: _Facts, version: int, now: datetime, quiet_now: bool
) -> tuple[str, str] | None:
    """What keeps this reminder from being sent now, as (what, detail); None: it may go.

    `what` is "stale", "done" (dealt with already; detail: its status), "importing", a
    status to give it with the reason ("opted_out", "failed", "cancelled", "expired"),
    "early", "call" or "quiet". _READ_AND_CLAIM claims on these grounds too.
    """
    if rem.version != version:
        return "stale", ""
    if rem.status != "scheduled":
        return "done", rem.status  # a duplicate or late run sends nothing
    if facts.opted_out:
        return "opted_out", "the patient opted out"
    if facts.invalid:
        return "failed", facts.invalid
    if rem.campaign:
        if facts.campaign_status == "importing":
            return "importing", f"campaign {rem.campaign} is still importing"
        if facts.campaign_status == "cancelled":
            return "cancelled", "the campaign was cancelled"
    if rem.appointment and (facts.appointment is None or facts.appointment.status == "cancelled"):
        return "cancelled", "the appointment was cancelled"
    if now >= rem.expires_at_dt:
        return "expired", "its moment had passed"
    if now < rem.send_at_dt - EARLY_TOLERANCE:
        return "early", ""  # run early by hand or by a skewed clock
    if facts.channel == "call" and facts.appointment is not None:
        return "call", ""  # workers/call: its own hours
    if quiet_now and rem.appointment:
        return "quiet", ""
    return None


def _awaiting(p: Any, to: str, appt: Appointment, now: datetime) -> None:
    """Remember the appointment, so that a reply of C or R is understood."""
    ttl = int((appt.at_dt + AWAITING_GRACE - now).total_seconds())
    if ttl > 0:
        p.set(
            keys.awaiting(to),
            json.dumps({"id": appt.id, "test": appt.test, "at": appt.at}),
            ex=ttl,
        )


def _failed(r: redis.Redis, rem: Reminder, exc: SendError, now: datetime, final: bool) -> str:
    if exc.code == twilio_codes.OPTED_OUT:
        # This reminder first, so that its error names the code; then every other one.
        status = advance(r, rem.id, "opted_out", "the patient opted out (Twilio error 21610)")
        appointments.opt_out(r, rem.to, now)
        return status
    if exc.code in twilio_codes.UNREACHABLE:
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
    tz: ZoneInfo = CLINIC_TZ,
    quiet: tuple[clock_time, clock_time] | None = None,
    caller: call.Caller | None = None,
) -> str:
    """Send one reminder if it is still wanted; returns what became of it.

    An appointment reminder is planned outside `quiet` (local hours); one that comes due
    inside them anyway (a worker backlog, an outage) waits for them to end, or expires.
    With `quiet` None they are not checked; the RQ entry point passes the deployment's.
    """
    _sweep_now_and_then(r, now)
    quiet_now = quiet is not None and in_quiet(now, tz, quiet)
    read = read_and_claim(r, reminder_id, version, now, quiet_now)
    if read is None:
        return "missing"
    rem, facts, claimed = read
    stop = _stop(rem, facts, version, now, quiet_now)
    if stop is not None and claimed:  # the script judged otherwise, as it never should
        log.error("reminder %s: claimed as it was read, but %s", rem.id, stop[0])
        unclaim(r, rem)  # as it was, for what follows to deal with
    if stop is not None:
        what, detail = stop
        if what == "stale":
            return "stale"
        if what == "done":
            return detail
        if what == "importing":
            raise NotReady(detail)
        if what == "early":
            scheduling.schedule(r, [rem])  # put it back for its moment
            scheduling.rescheduled_itself(rem)
            return "early"
        if what == "call":
            assert facts.appointment is not None  # _stop's "call" is for an appointment
            caller = caller or call.Caller.from_settings(config.load(), r)
            return call.deliver_call(r, rem, facts.appointment, now, caller, sender=sender,
                                     per_second=per_second, final_attempt=final_attempt)
        if what == "quiet":
            assert quiet is not None  # quiet_now needs them
            return _hold(r, rem, after_quiet(now, tz, quiet))
        return advance(r, rem.id, what, detail)
    if not claimed and claim(r, rem, now) != "claimed":  # a record the script left to us
        return str(r.hget(rem.key, "status") or "missing")  # another worker has it
    try:
        rem.body = appointments.words(rem, facts.appointment, tz)
    except PlanError as exc:  # the content changed and no longer fits this appointment
        return advance(r, rem.id, "failed", f"could not write the reminder: {exc}")
    if not rem.body:
        return advance(r, rem.id, "failed", "the reminder has no text")
    wait_for_slot(r, sender, per_second)
    callback = texts.callback_for(status_callback, rem.id) if status_callback else None
    try:
        sent = transport.send(rem.to, rem.body, callback)
    except SendError as exc:
        log.warning("reminder %s to %s not sent: %s", rem.id, mask(rem.to), exc)
        return _failed(r, rem, exc, now, final_attempt)
    # Every record of the send in one atomic script: a MULTI/EXEC pipeline costs two more
    # commands and a reply to parse for each write.
    batch = Batch()
    mark_sent(r, rem, sent.sid, now, pipeline=batch, index_sid=callback is None)
    stats.message(batch, now, "out", "sms", pipeline=batch)
    stats.delivery(batch, now, "sent", pipeline=batch)
    if facts.appointment is not None:
        _awaiting(batch, rem.to, facts.appointment, now)
    early = batch.apply_then_get(r, keys.early_status(sent.sid))
    if early:
        advance(r, rem.id, str(early))  # Twilio's report beat us to it
    log.info("reminder %s sent to %s as %s", rem.id, mask(rem.to), sent.sid)
    return "sent"


def _hold(r: redis.Redis, rem: Reminder, until: datetime) -> str:
    """Put a reminder that came due in quiet hours back on the scheduler for their end."""
    expired = scheduling.hold(r, rem, until, "its moment passed during the quiet hours")
    if expired is not None:
        return expired
    log.info("reminder %s came due in quiet hours: held until %s", rem.id, rem.send_at)
    return "held"


_last_sweep = [0.0]


def _sweep_now_and_then(r: redis.Redis, now: datetime) -> None:
    """Sweep for stuck sends at most once a minute per process."""
    if time.monotonic() - _last_sweep[0] >= SWEEP_EVERY_SECONDS:
        _last_sweep[0] = time.monotonic()
        sweep_stuck(r, now)


def decoding(conn: redis.Redis) -> redis.Redis:
    """A client on the same server as `conn` that returns strings (RQ's returns bytes)."""
    kwargs = dict(conn.connection_pool.connection_kwargs)
    kwargs["decode_responses"] = True
    return redis.Redis(
        connection_pool=redis.ConnectionPool(
            connection_class=conn.connection_pool.connection_class, **kwargs
        )
    )


_CLIENTS: dict[int, redis.Redis] = {}
_TRANSPORTS: dict[tuple[Any, ...], Transport] = {}
_CALLERS: dict[tuple[Any, ...], call.Caller] = {}


def _client(settings: Mapping[str, Any]) -> redis.Redis:
    job = get_current_job()
    if job is not None:
        key = id(job.connection.connection_pool)
        if key not in _CLIENTS:
            _CLIENTS[key] = decoding(job.connection)
        return _CLIENTS[key]

    return connect(str(settings["REDIS_URL"]))


def _transport(settings: Mapping[str, Any], r: redis.Redis) -> Transport:
    key = (id(r),) + tuple(settings.get(k) for k in config.KEYS if k.startswith("TWILIO"))
    if key not in _TRANSPORTS:
        _TRANSPORTS[key] = transport_for(settings, r)
    return _TRANSPORTS[key]


def _caller(settings: Mapping[str, Any], r: redis.Redis) -> call.Caller:
    named = ("TWILIO", "CALL", "PUBLIC", "CLINIC")
    key = (id(r),) + tuple(settings.get(k) for k in config.KEYS if k.startswith(named))
    if key not in _CALLERS:
        _CALLERS[key] = call.Caller.from_settings(settings, r)
    return _CALLERS[key]


def status_callback_url(settings: Mapping[str, Any]) -> str | None:
    """Where Twilio should report delivery: only a public https address can be reached."""
    base = str(settings.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/sms/status" if base.startswith("https://") else None


def preload() -> None:
    """Import and read everything a send needs, so forked jobs start warm."""
    default_content()


def per_second(settings: Mapping[str, Any]) -> float:
    """The sender's limit: SMS_PER_SECOND (default 10) times SMS_SENDERS, the numbers in a
    Messaging Service's pool, as the campaign planner counts it; 0 is no limit."""
    return config.send_capacity(settings)


@dataclass(frozen=True)
class _Setup:
    """What every send job derives from the settings, made once per process and settings."""

    settings: Mapping[str, Any]
    status_callback: str | None
    sender: str
    per_second: float
    tz: ZoneInfo
    quiet: tuple[clock_time, clock_time]


_SETUPS: dict[tuple[str | None, ...], _Setup] = {}


def _setup() -> _Setup:
    # Keyed on the environment config.load reads: reading the settings afresh and
    # parsing them took about a tenth of a send's CPU.
    key = (os.getcwd(), *(os.environ.get(k) for k in config.KEYS))
    if key not in _SETUPS:
        settings = config.load()
        _SETUPS[key] = _Setup(
            settings,
            status_callback_url(settings),
            str(settings.get("TWILIO_MESSAGING_SERVICE_SID")
                or settings.get("TWILIO_FROM_NUMBER") or "outbox"),
            per_second(settings),
            config.clinic_tz(settings),
            appointments.quiet_hours(settings),
        )
    return _SETUPS[key]


def send(reminder_id: str, version: int) -> str:
    """RQ entry point: send one reminder with the deployment's settings."""
    setup = _setup()
    settings = setup.settings
    r = _client(settings)
    job = get_current_job()
    return deliver(
        r,
        reminder_id,
        version,
        _transport(settings, r),
        simclock.now(settings),  # the real time, unless the local simulator moved it
        status_callback=setup.status_callback,
        sender=setup.sender,
        per_second=setup.per_second,
        tz=setup.tz,
        quiet=setup.quiet,
        final_attempt=job is None or not job.retries_left,
        caller=_caller(settings, r),
    )
