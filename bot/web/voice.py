"""The phone line's webhooks: POST /voice answers a call; the menus, dialling and voicemail
report back to /voice/input, /voice/dialled and /voice/recorded; Twilio's call and
recording status callbacks go to /voice/status and /voice/recording. All are signed.

Whatever goes wrong, a caller never hears Twilio's "application error": without Redis (or
on any fault) they hear the urgent numbers and are put through to the nurse line if open.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

import phonenumbers
import redis
from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from bot import phones
from bot.lines import textline
from bot.masking import mask
from bot.outbound import queue
from bot.outbound.appointments import set_channel
from bot.store import calls, conversations, records, stats
from bot.store.batch import Batch
from bot.store.client import breaker, webhook_redis
from bot.web.clock import now as _now
from bot.web.signatures import twilio_signed
from flows import calls as flow
from flows.directory import Directory, NotDialable
from flows.engine import Context

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__)

VOICE = "Polly.Amy-Neural"  # a British English neural voice
LANGUAGE = "en-GB"
GATHER_SECONDS = 6  # silence before a menu counts as no answer
RING_SECONDS = 20  # how long a line rings before the next one is tried
CALL_LIMIT_SECONDS = 3600  # the longest a call put through can last
RECORD_SILENCE_SECONDS = 5
_SID = re.compile(r"[A-Za-z0-9]{1,64}")
# Landlines and the like cannot receive texts; mobiles and numbers we cannot place can try.
_NO_TEXT_TYPES = frozenset(
    [
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOICEMAIL,
    ]
)


def _xml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")


def base_url() -> str:
    """The address Twilio reaches us on: PUBLIC_BASE_URL (what it signs) or this request's."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return str(base).rstrip("/")


# Twilio's stand-in numbers for callers who hide theirs: ANONYMOUS, RESTRICTED, BLOCKED,
# UNKNOWN and UNAVAILABLE spelt on a keypad.
HIDDEN_NUMBERS = frozenset(
    ["+266696687", "+7378742833", "+2562533", "+8656696", "+8656696687", "+86282452253"]
)


def caller(form: Mapping[str, str]) -> tuple[str, bool, bool]:
    """The caller's number as a records key, whether it can get texts, and whether it is hidden."""
    return _caller((form.get("From") or "").strip())


@lru_cache(maxsize=10_000)
def _caller(raw: str) -> tuple[str, bool, bool]:
    number = phones.key(raw) if raw else ""
    if not number.startswith("+") or not number[1:].isdigit() or number in HIDDEN_NUMBERS:
        return "withheld", False, True
    if phones.is_drama_landline(number):  # phonenumbers calls it invalid, not a landline
        return number, False, False
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return number, False, False
    return number, kind not in _NO_TEXT_TYPES, False


def _call_sid(form: Mapping[str, str]) -> str:
    sid = form.get("CallSid") or ""
    return sid if _SID.fullmatch(sid) else "unknown-" + uuid.uuid4().hex


def _heard(event: str, form: Mapping[str, str]) -> flow.Heard:
    seconds = (form.get("RecordingDuration") or "").strip()
    return flow.Heard(
        event,
        digits=(form.get("Digits") or "")[:20],
        speech=(form.get("SpeechResult") or "")[:500],
        dial_status=(form.get("DialCallStatus") or "")[:32],
        recording_url=(form.get("RecordingUrl") or "").strip()[:500],
        recording_seconds=int(seconds) if seconds.isdigit() else None,
        confidence=_confidence(form.get("Confidence")),
    )


def _confidence(raw: str | None) -> float | None:
    """Twilio's Confidence for a SpeechResult (0 to 1), or None when absent or odd."""
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


# --- Rendering ---------------------------------------------------------------------------


def _say(node: Any, text: str) -> None:
    node.say(flow.speakable(text), voice=VOICE, language=LANGUAGE)


def dial(response: VoiceResponse, directory: Directory, line_id: str, caller_id: str,
         action: str | None) -> None:
    """Add a <Dial> to one directory line; NotDialable for anything not in the directory."""
    number = directory.check_dialable(directory.dial_number(line_id))
    d = response.dial(
        caller_id=caller_id or None,
        timeout=RING_SECONDS,
        time_limit=CALL_LIMIT_SECONDS,
        action=action,
        method="POST" if action else None,
        answer_on_bridge=True,
    )
    d.number(number)


_TURN_MARK = "@TURN@"  # stands for the turn number in a cached document's action URLs


def render(turn: flow.CallTurn, directory: Directory, caller_id: str) -> str:
    """The TwiML for a turn; its action URLs carry the call's turn number."""
    nxt, say, base = turn.next, tuple(turn.say), base_url()
    hints = nxt.hints if isinstance(nxt, flow.Listen) else ()
    if isinstance(nxt, flow.Connect) or any(_TURN_MARK in text for text in (*say, *hints, base)):
        return _render(say, nxt, base, str(turn.call.turn), directory, caller_id)
    # Prompts come from the content, so the same documents recur but for the turn number.
    return _render_cached(say, nxt, base).replace(_TURN_MARK, str(turn.call.turn))


@lru_cache(maxsize=1024)
def _render_cached(say: tuple[str, ...], nxt: flow.Next, base: str) -> str:
    return _render(say, nxt, base, _TURN_MARK, None, "")


def _render(say: tuple[str, ...], nxt: flow.Next, base: str, t: str,
            directory: Directory | None, caller_id: str) -> str:
    response = VoiceResponse()
    if isinstance(nxt, flow.Listen):
        action = f"{base}/voice/input?t={t}"
        gather = response.gather(
            input="dtmf speech",
            language=LANGUAGE,
            hints=", ".join(nxt.hints) or None,
            action=action,
            method="POST",
            num_digits=1,
            timeout=GATHER_SECONDS,
            speech_timeout="auto",
            finish_on_key="",
        )
        for text in say:
            _say(gather, text)
        # Silence: Twilio carries on to the next verb, which reports the empty turn.
        response.redirect(action, method="POST")
        return str(response)
    for text in say:
        _say(response, text)
    if isinstance(nxt, flow.Connect):
        assert directory is not None
        dial(response, directory, nxt.line, caller_id, f"{base}/voice/dialled?t={t}")
    elif isinstance(nxt, flow.Record):
        action = f"{base}/voice/recorded?t={t}"
        response.record(
            action=action,
            method="POST",
            max_length=nxt.max_seconds,
            timeout=RECORD_SILENCE_SECONDS,
            play_beep=True,
            trim="trim-silence",
            recording_status_callback=f"{base}/voice/recording",
            recording_status_callback_method="POST",
            recording_status_callback_event="completed absent",
        )
        # Twilio skips the action when nothing was recorded and carries on here.
        response.redirect(action, method="POST")
    else:
        response.hangup()
    return str(response)


def fallback_twiml(ctx: Context, caller_id: str, form: Mapping[str, str]) -> str:
    """With no state at all: the urgent numbers, then the nurse line if it is open."""
    response = VoiceResponse()
    if (form.get("DialCallStatus") or "").lower() in flow.HANGUP_STATUSES:
        response.hangup()  # the caller has just finished talking to someone
        return str(response)
    fb = flow.fallback(ctx)
    for text in fb.say:
        _say(response, text)
    if fb.line:
        try:
            # No action: when the call ends or nobody answers, Twilio goes on to the goodbye.
            dial(response, ctx.directory, fb.line, caller_id, None)
        except NotDialable:
            log.error("the nurse line in the directory cannot be dialled")
        _say(response, flow.default_prompts().text("goodbye_unwell"))
    response.hangup()
    return str(response)


LAST_RESORT = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    f'<Say language="{LANGUAGE}" voice="{VOICE}">Sorry, this line has a problem right now. '
    "If you are very unwell, hang up and call 9 9 9. For urgent problems, call the 24-hour "
    "number your hospital gave you, or NHS 1 1 1.</Say><Hangup/></Response>"
)


# --- Handling ----------------------------------------------------------------------------


def _caller_id(form: Mapping[str, str]) -> str:
    return str(current_app.config.get("TWILIO_FROM_NUMBER") or form.get("To") or "")


def _serve(event: str) -> Response:
    form = request.form
    sid = _call_sid(form)
    try:
        ctx = textline.context(current_app.config, _now())
    except Exception:
        log.exception("voice: could not build the context; last-resort message")
        return _xml(LAST_RESORT)
    guard = breaker()
    try:
        if not guard.allow():
            return _xml(fallback_twiml(ctx, _caller_id(form), form))
        xml = _xml(_handle(webhook_redis(), event, sid, form, ctx))
        guard.succeeded()
        return xml
    except (redis.RedisError, OSError):
        guard.failed()
        log.exception("voice: Redis unreachable on call %s; static fallback", sid[-6:])
    except Exception:
        # A caller would hear "an application error has occurred" and be cut off.
        log.exception("voice: fault on call %s; static fallback", sid[-6:])
    try:
        return _xml(fallback_twiml(ctx, _caller_id(form), form))
    except Exception:
        log.exception("voice: the fallback failed too; last-resort message")
        return _xml(LAST_RESORT)


def _handle(r: redis.Redis, event: str, sid: str, form: Mapping[str, str], ctx: Context) -> str:
    number, can_text, hidden = caller(form)
    t_arg = request.args.get("t", "")
    this_turn = int(t_arg) if t_arg.isdigit() else (0 if event == "call" else -1)
    if event == "call":
        raw_call, raw_conv = r.mget(calls.key(sid), conversations.key(number))
        call = calls.parse(raw_call)
        if call is not None and call.answered == 0 and call.reply:
            return call.reply  # Twilio asked twice about the same ring
        worries = conversations.parse(raw_conv).recent_worries(ctx.now)
        call = flow.Call.new(ctx.now, can_text=can_text, hidden=hidden, worries=worries)
    else:
        call = calls.parse(r.get(calls.key(sid)))
        if call is not None and this_turn >= 0 and this_turn == call.answered and call.reply:
            return call.reply  # a repeated request: the same answer, nothing done twice
        if call is None:
            log.info("voice: no state for call %s (%s); starting afresh", sid[-6:], event)
            call = flow.Call.new(ctx.now, can_text=can_text, hidden=hidden)
    turn = flow.step(call, _heard(event, form), ctx)
    if turn.text is not None:
        turn = _send_text(r, number, turn, ctx.now)
    caller_id = _caller_id(form)
    try:
        xml = render(turn, ctx.directory, caller_id)
    except NotDialable:
        log.error("voice: refused to dial a line outside the directory on call %s", sid[-6:])
        turn = flow.step(turn.call, flow.Heard("dialled", dial_status="failed"), ctx)
        xml = render(turn, ctx.directory, caller_id)
    turn.call.answered, turn.call.reply = this_turn, xml
    _commit(r, event, sid, number, form, turn, ctx.now)
    return xml


def _send_text(r: redis.Redis, number: str, turn: flow.CallTurn, now: datetime) -> flow.CallTurn:
    request_ = turn.text
    assert request_ is not None
    try:
        queued = queue.queue_texts(r, number, request_.pages, kind="topic", now=now,
                                      settings=current_app.config)
    except (redis.RedisError, OSError):
        raise
    except Exception:
        # All the pages go in one transaction, so none of them was queued.
        log.exception("voice: could not queue a text for %s", mask(number))
        return flow.after_text(turn, "failed")
    if queued is None:
        return flow.after_text(turn, "opted_out")
    return flow.after_text(turn, "sent", len(queued))


def _commit(r: redis.Redis, event: str, sid: str, number: str, form: Mapping[str, str],
            turn: flow.CallTurn, now: datetime) -> None:
    at = now.isoformat()
    for action in turn.actions:
        if action.kind == "callback":
            calls.save_voicemail(r, sid, number, action.data["reason"],
                                 action.data.get("recording_url", ""), now,
                                 (form.get("RecordingSid") or "")[:64])
    p = Batch()
    calls.save(p, sid, turn.call)
    history: list[dict[str, Any]] = []
    if event == "call":
        calls.start_record(p, sid, number, (form.get("To") or "")[:32], now)
        stats.message(p, now, "in", "voice", pipeline=p)
        history.append({"at": at, "direction": "in", "channel": "voice", "text": "(phone call)",
                        "sid": sid})
    for action in turn.actions:
        if action.kind == "channel" and number != "withheld":
            set_channel(p, number, action.data["channel"])
        elif action.kind == "alert":
            records.Alert(
                number=number, level=action.data["level"], reason=action.data["reason"],
                text=action.data["text"], rule=action.data.get("rule", ""), channel="voice",
                created_at=at,
            ).save(p)
            stats.alert(p, now, action.data["level"], pipeline=p)
            log.warning("%s alert from %s on the phone line: %s", action.data["level"],
                        mask(number), action.data["reason"])
    if turn.texts_sent:
        stats.message(p, now, "out", "voice", n=turn.texts_sent, pipeline=p)
    elif turn.heard and turn.topic:
        stats.topic(p, now, turn.topic, pipeline=p)
    if turn.heard:
        history.append({"at": at, "direction": "in", "channel": "voice", "text": turn.heard,
                        "sid": sid, "topic": turn.topic, "triage": turn.triage.level})
    said = " ".join(turn.say)
    if said or turn.event:
        history.append({"at": at, "direction": "out", "channel": "voice", "text": said,
                        "sid": sid, "event": turn.event})
    records.log_message(p, number, *history, pipeline=p)
    if turn.event:
        calls.note(p, sid, last_event=turn.event)
    p.apply(r)


# --- Routes ------------------------------------------------------------------------------


@bp.post("/voice")
@twilio_signed
def incoming() -> Response:
    """Answer a call: the welcome, the 999 warning and the main menu."""
    return _serve("call")


@bp.post("/voice/input")
@twilio_signed
def menu_input() -> Response:
    """A key, words or silence at a menu."""
    return _serve("input")


@bp.post("/voice/dialled")
@twilio_signed
def dialled() -> Response:
    """A call put through has ended, or nobody answered: the next line, or voicemail."""
    return _serve("dialled")


@bp.post("/voice/recorded")
@twilio_signed
def recorded() -> Response:
    """A voicemail was left (or nothing was said)."""
    return _serve("recorded")


@bp.post("/voice/status")
@twilio_signed
def call_status() -> Response:
    """Twilio's call status callback: kept with the call's record."""
    try:
        calls.record_status(webhook_redis(), request.form, _now())
    except (redis.RedisError, OSError):
        log.exception("voice: could not keep the status of call %s",
                      (request.form.get("CallSid") or "")[-6:])
    return Response(status=204)


@bp.post("/voice/recording")
@twilio_signed
def recording_status() -> Response:
    """Twilio's recording status callback: a finished voicemail reaches the nurses' queue."""
    try:
        calls.record_recording(webhook_redis(), request.form, _now())
    except (redis.RedisError, OSError):
        # Logged with the recording (not the caller's number) so it can be recovered.
        log.exception("voice: could not keep recording %s (%s) of call %s",
                      request.form.get("RecordingSid", ""), request.form.get("RecordingUrl", ""),
                      (request.form.get("CallSid") or "")[-6:])
    return Response(status=204)
