"""A reminder call's webhooks: POST /reminders/call when it is answered (Twilio's answering
machine detection says by whom), /reminders/call/input for each key, and
/reminders/call/status, Twilio's status callback. All are signed; each URL names the
reminder and the attempt it is about (Twilio signs the query too).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import redis
from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from bot import config
from bot.lines import textline
from bot.masking import mask
from bot.outbound import calls
from bot.outbound.appointments import Appointment
from bot.outbound.texts import Reminder
from bot.store import keys, records
from bot.store.batch import Batch
from bot.store.client import webhook_redis
from bot.web.clock import now as _now
from bot.web.signatures import twilio_signed
from bot.web.voice import LANGUAGE, LAST_RESORT, VOICE
from flows import reminder_call as flow
from flows.engine import Context

log = logging.getLogger(__name__)
bp = Blueprint("reminder_call", __name__)

GATHER_SECONDS = 8  # an older person may need a moment to find the key


def _xml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")


def _asked() -> tuple[str, int]:
    """The reminder id and attempt the URL names."""
    attempt = request.args.get("a", "")
    return request.args.get("r", "")[:64], int(attempt) if attempt.isdigit() else -1


def _load(r: redis.Redis, reminder_id: str) -> tuple[Reminder, Appointment] | None:
    rem = Reminder.fetch(r, reminder_id) if reminder_id else None
    appt = Appointment.fetch(r, rem.appointment) if rem and rem.appointment else None
    return (rem, appt) if rem is not None and appt is not None else None


def _about(rem: Reminder, appt: Appointment, ctx: Context) -> flow.Reminder:
    return flow.Reminder(appointment=appt.id, test=appt.test, at=appt.at_dt,
                         location=appt.location, kind=rem.kind, name=appt.name,
                         number=ctx.directory["nurse"].number or "")


def render(step: flow.Step, input_url: str) -> str:
    """The TwiML for one step: the words, then a one-key <Gather> or a hang-up."""
    response = VoiceResponse()
    words = flow.said(step.say)
    if step.listen:
        gather = response.gather(input="dtmf", num_digits=1, action=input_url, method="POST",
                                 timeout=GATHER_SECONDS, finish_on_key="")
        for text in words:
            gather.say(text, voice=VOICE, language=LANGUAGE)
        response.redirect(input_url, method="POST")  # silence: report the empty turn
    else:
        for text in words:
            response.say(text, voice=VOICE, language=LANGUAGE)
        response.hangup()
    return str(response)


def _input_url(reminder_id: str, attempt: int, turn: int) -> str:
    base = str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return f"{base}/reminders/call/input?r={reminder_id}&a={attempt}&t={turn}"


def _hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def _context() -> Context:
    return textline.context(current_app.config, _now())


@bp.post("/reminders/call")
@twilio_signed
def answered() -> Response:
    """The call was answered: the machine's message, or the greeting and the check."""
    try:
        return _xml(_answered(webhook_redis(), request.form, _context()))
    except (redis.RedisError, OSError):
        log.exception("reminder call: Redis unreachable; last-resort message")
        return _xml(LAST_RESORT)


def _answered(r: redis.Redis, form: Mapping[str, str], ctx: Context) -> str:
    reminder_id, attempt = _asked()
    sid = (form.get("CallSid") or "")[:64]
    kept = calls.call_of(r, sid) if sid else {}
    if kept.get("turn") == "0" and kept.get("reply"):
        return kept["reply"]  # Twilio asked twice about the same answer
    found = _load(r, reminder_id)
    if found is None or not sid:
        return _hang_up()
    rem, appt = found
    about = _about(rem, appt, ctx)
    answered_by = (form.get("AnsweredBy") or "").strip().lower()[:32]
    step = flow.answer(about, answered_by, ctx)
    xml = render(step, _input_url(rem.id, attempt, 1))
    machine = flow.is_machine(answered_by)
    calls.outcome(r, rem.id, attempt, "voicemail" if machine else "answered", step.outcome)
    _save(r, sid, rem, attempt, step, 0, xml, ctx.now, heard="",
          extra={"answered_by": answered_by or "unknown"})
    log.info("reminder call %s to %s answered (%s)", sid[-6:], mask(rem.to),
             answered_by or "unknown")
    return xml


@bp.post("/reminders/call/input")
@twilio_signed
def pressed() -> Response:
    """A key (or silence) on a reminder call."""
    try:
        return _xml(_pressed(webhook_redis(), request.form, _context()))
    except (redis.RedisError, OSError):
        log.exception("reminder call: Redis unreachable; last-resort message")
        return _xml(LAST_RESORT)


def _pressed(r: redis.Redis, form: Mapping[str, str], ctx: Context) -> str:
    reminder_id, attempt = _asked()
    turn_arg = request.args.get("t", "")
    turn = int(turn_arg) if turn_arg.isdigit() else -1
    sid = (form.get("CallSid") or "")[:64]
    kept = calls.call_of(r, sid) if sid else {}
    if kept.get("turn") == str(turn) and kept.get("reply"):
        return kept["reply"]  # a repeated request: the same answer, nothing done twice
    found = _load(r, reminder_id)
    if found is None or not kept or kept.get("reminder") != reminder_id:
        return _hang_up()
    rem, appt = found
    state = flow.State(kept.get("stage") or "identity", int(kept.get("misses") or 0))
    digits = "".join(ch for ch in (form.get("Digits") or "") if ch in "0123456789*#")[:1]
    step = flow.press(state, digits, _about(rem, appt, ctx), ctx)
    xml = render(step, _input_url(rem.id, attempt, turn + 1))
    _save(r, sid, rem, attempt, step, turn, xml, ctx.now,
          heard=f"pressed {digits}" if digits else "(no key)")
    return xml


def _save(r: redis.Redis, sid: str, rem: Reminder, attempt: int, step: flow.Step, turn: int,
          xml: str, at: datetime, heard: str, extra: Mapping[str, str] | None = None) -> None:
    """The call's state, the patient's choice and the history, in one atomic write."""
    when = at.isoformat()
    fields: dict[str, Any] = {"reminder": rem.id, "attempt": attempt, "to": rem.to,
                              "stage": step.state.stage, "misses": step.state.misses,
                              "turn": turn, "reply": xml, **(extra or {})}
    if step.outcome:
        fields["outcome"] = step.outcome
    batch = Batch()
    batch.hset(keys.reminder_call(sid), mapping=fields)
    batch.expire(keys.reminder_call(sid), calls.RECORD_TTL_SECONDS)
    if step.outcome in ("confirmed", "rearrange", "no key pressed", "heard the reminder"):
        batch.hset(rem.key, "outcome", step.outcome)
    for action in step.actions:
        if action.kind in ("confirm", "rearrange"):
            key = Appointment.key_for(action.data["appointment"])
            batch.hset(key, mapping={
                Appointment.field("status"): "confirmed" if action.kind == "confirm"
                else "rearrange",
                Appointment.field("replied_at"): Appointment.stored_value("replied_at", when)})
        elif action.kind == "callback":
            records.CallbackRequest(number=rem.to, reason=action.data["reason"],
                                    channel="voice", created_at=when).save(batch)
    history = []
    if heard:
        history.append({"at": when, "direction": "in", "channel": "voice", "text": heard,
                        "sid": sid})
    history.append({"at": when, "direction": "out", "channel": "voice", "sid": sid,
                    "text": " ".join(step.say), "kind": rem.kind,
                    "event": f"reminder call: {step.outcome}" if step.outcome else ""})
    records.log_message(batch, rem.to, *history, pipeline=batch)
    batch.apply(r)


@bp.post("/reminders/call/status")
@twilio_signed
def status() -> Response:
    """Twilio's status callback: an answered call is done; one that rang out rings again
    later within calling hours, or is marked unanswered for the nurses."""
    try:
        after = _status(webhook_redis(), request.form, _now())
    except (redis.RedisError, OSError):
        log.exception("reminder call: could not record a status")
        return Response("", status=503)  # Twilio's debugger shows it; a 204 would hide it
    log.info("reminder call %s: %s", (request.form.get("CallSid") or "")[-6:], after)
    return Response("", status=204)


def _status(r: redis.Redis, form: Mapping[str, str], now: datetime) -> str:
    reminder_id, attempt = _asked()
    call_status = (form.get("CallStatus") or "").strip().lower()
    rem = Reminder.fetch(r, reminder_id) if reminder_id else None
    if rem is None or attempt < 1:
        return "unknown"
    sid = (form.get("CallSid") or "")[:64]
    if sid:
        seconds = (form.get("CallDuration") or "").strip()
        p = r.pipeline(transaction=False)
        p.hset(keys.reminder_call(sid),
               mapping={"status": call_status[:16], "status_at": now.isoformat()})
        if seconds.isdigit():
            p.hset(keys.reminder_call(sid), "duration", seconds)
        p.expire(keys.reminder_call(sid), calls.RECORD_TTL_SECONDS)
        p.execute()
    if call_status == "completed":
        machine = flow.is_machine(form.get("AnsweredBy") or "")
        return calls.outcome(r, rem.id, attempt, "voicemail" if machine else "answered",
                             "answering machine" if machine else "answered by a person")
    if call_status in calls.RANG_OUT:
        status, _again = calls.retry_or_give_up(
            r, rem, attempt, calls.RANG_OUT[call_status], now,
            calls.Rules.from_settings(current_app.config),
            per_second=config.send_capacity(current_app.config))
        return status
    if call_status == "canceled":
        return calls.outcome(r, rem.id, attempt, "failed", "call cancelled",
                             error="The reminder call was cancelled before it was answered")
    return str(rem.status)  # queued, ringing, in-progress: nothing to decide yet
