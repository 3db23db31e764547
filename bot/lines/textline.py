"""The text line: one inbound SMS to one reply, exactly once per MessageSid."""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from functools import lru_cache

import redis
from twilio.twiml.messaging_response import MessagingResponse

from bot.deployment import context as context
from bot.deployment import directory_for as directory_for
from bot.masking import mask
from bot.outbound.appointments import Appointment, restore, stop_all_for
from bot.store import conversations, keys, records, stats
from bot.store.batch import ALREADY_ANSWERED, COMMITTED, CONFLICT, Batch
from flows.conversation import Conversation
from flows.directory import Directory
from flows.engine import Awaiting, Context, Turn, step, urgent_line
from flows.knowledge import default_knowledge
from flows.reminders import DEFAULT_QUIET

log = logging.getLogger(__name__)

REPLY_TTL_SECONDS = 48 * 3600  # Twilio retries within minutes; keep replies for two days.
# Each attempt that loses a race means another message from the same number was just
# answered; a phone cannot send many more than this at the same moment.
MAX_ATTEMPTS = 30
# Counted for the Numbers page: commits that lost such a race and were made again (in the
# winning commit, so free), and texts given up on after MAX_ATTEMPTS.
RETRIES = "commit:retry:sms"
GAVE_UP = "commit:gave_up:sms"


@dataclass(frozen=True)
class Inbound:
    """The parts of Twilio's webhook body the text line uses."""

    number: str
    body: str
    sid: str
    media: int = 0


MAX_STORED = 1600  # what is kept of a text: Twilio's own limit for one message


def stored(text: str) -> str:
    """What is kept of a patient's text: all of it that Twilio could send, marked if cut."""
    return text if len(text) <= MAX_STORED else text[: MAX_STORED - 6] + " [...]"


def twiml(messages: list[str]) -> str:
    """A TwiML document that sends `messages` (none: an empty <Response/>)."""
    return _twiml(tuple(messages))


# Replies are drawn from the knowledge base, so most documents are made many times over.
@lru_cache(maxsize=1024)
def _twiml(messages: tuple[str, ...]) -> str:
    response = MessagingResponse()
    for text in messages:
        response.message(text)
    return str(response)


def handle(
    r: redis.Redis, msg: Inbound, ctx: Context, quiet: tuple[clock_time, clock_time] | None = None,
    per_second: float = 0.0, call_hours: tuple[clock_time, clock_time] | None = None,
) -> str:
    """Reply to one inbound message, applying its actions atomically; retries get the same reply.

    Two round trips to Redis: read the cached reply and the conversation, then commit the
    new state, records and reply together only if neither changed meanwhile (else re-read).
    """
    reply_key = keys.sms_reply(msg.sid or uuid.uuid4().hex)
    conv_key = conversations.key(msg.number)
    for attempt in range(MAX_ATTEMPTS):
        cached, raw, waiting = r.mget(reply_key, conv_key, keys.awaiting(msg.number))
        if cached:
            log.info("retry of %s from %s: same reply", msg.sid, mask(msg.number))
            return str(cached)
        conv = conversations.parse(raw)
        turn = step(conv, msg.body, ctx, media=msg.media, awaiting=_awaiting(waiting))
        xml = twiml(turn.messages)
        batch = Batch()
        conversations.save(r, msg.number, turn.conversation, pipeline=batch)
        _record(msg, turn, ctx.now, batch, retries=attempt)
        batch.set(reply_key, xml, ex=REPLY_TTL_SECONDS)
        status, existing = batch.commit_if(r, reply_key, conv_key, raw)
        if status == ALREADY_ANSWERED:
            return existing
        if status == CONFLICT:
            time.sleep(random.uniform(0, 0.002))  # let the winner's write land, then re-read
            continue
        if status == COMMITTED:
            # Routine, so DEBUG, and guarded: even masking the number costs 2% of a worker.
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "sms from %s: triage=%s topic=%s state=%s",
                    mask(msg.number),
                    turn.triage.level,
                    turn.topic,
                    turn.conversation.state,
                )
            if any(a.kind == "opt_out" for a in turn.actions):
                _stop_reminders(r, msg.number)
            if any(a.kind == "opt_in" for a in turn.actions):
                _restore_reminders(r, msg.number, ctx, quiet, per_second, call_hours)
            return xml
    stats.count(r, ctx.now, GAVE_UP)
    raise redis.RedisError(f"conversation kept changing; gave up after {MAX_ATTEMPTS} attempts")


def _stop_reminders(r: redis.Redis, number: str) -> None:
    """Take an opted-out patient's pending reminders off the scheduler, so lists say so."""
    try:
        stop_all_for(r, number, "opted_out", "the patient opted out")
    except redis.RedisError:
        # The opt-out itself is recorded; each reminder is skipped when its job runs.
        log.exception("could not stop the reminders of %s after STOP", mask(number))


def _restore_reminders(
    r: redis.Redis, number: str, ctx: Context, quiet: tuple[clock_time, clock_time] | None,
    per_second: float, call_hours: tuple[clock_time, clock_time] | None = None,
) -> None:
    """START: the reminders STOP stopped are planned again for what is still to come,
    within the sending capacity `per_second` (calls within `call_hours`)."""
    try:
        again = restore(
            r, number, ctx.tz, quiet or DEFAULT_QUIET, ctx.now, per_second, call_hours
        )
    except redis.RedisError:
        log.exception("could not restore the reminders of %s after START", mask(number))
        return
    if again:
        log.info("restored %d reminders for %s after START", len(again), mask(number))


def _awaiting(raw: str | bytes | None) -> Awaiting | None:
    """The appointment a reminder was sent about, as the send job stored it."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Awaiting(str(data["id"]), str(data["test"]), datetime.fromisoformat(data["at"]))
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable awaiting-reply record: ignored")
        return None


def _record(msg: Inbound, turn: Turn, now: datetime, batch: Batch, retries: int = 0) -> None:
    at = now.isoformat()
    _apply(msg, turn, at, batch)
    counts = {"in:sms": 1, "out:sms": len(turn.messages), RETRIES: retries}
    if turn.topic:
        counts[f"topic:{turn.topic}"] = 1
    stats.add(batch, now, counts, pipeline=batch)
    records.log_message(
        batch,
        msg.number,
        {
            "at": at,
            "direction": "in",
            "channel": "sms",
            "text": stored(msg.body),
            "sid": msg.sid,
            "topic": turn.topic,
            "triage": turn.triage.level,
        },
        *({"at": at, "direction": "out", "channel": "sms", "text": t} for t in turn.messages),
        pipeline=batch,
    )


def _apply(msg: Inbound, turn: Turn, at: str, pipe: Batch) -> None:
    for action in turn.actions:
        if action.kind == "alert":
            records.Alert(
                number=msg.number,
                level=action.data["level"],
                reason=action.data["reason"],
                text=stored(action.data["text"]),
                rule=action.data.get("rule", ""),
                created_at=at,
            ).save(pipe)
            stats.alert(pipe, at, action.data["level"], pipeline=pipe)
            log.warning(
                "%s alert from %s: %s",
                action.data["level"],
                mask(msg.number),
                action.data["reason"],
            )
        elif action.kind == "callback":
            records.CallbackRequest(
                number=msg.number, reason=action.data["reason"], created_at=at
            ).save(pipe)
        elif action.kind in ("confirm", "rearrange"):
            key = keys.appointment(action.data["appointment"])
            pipe.hset(key, "status", "confirmed" if action.kind == "confirm" else "rearrange")
            replied = Appointment.field("replied_at")
            pipe.hset(key, replied, Appointment.stored_value("replied_at", at))
        elif action.kind in ("opt_out", "opt_in"):
            records.set_opted_out(msg.number, action.kind == "opt_out", at, pipeline=pipe)


def fallback(msg: Inbound, ctx: Context) -> str:
    """The reply when Redis cannot be reached: triage still runs; otherwise safe numbers."""
    turn = step(Conversation(), msg.body, ctx, media=msg.media)
    if turn.triage.worrying:
        log.error(
            "could not record %s alert from %s: Redis unreachable",
            turn.triage.level,
            mask(msg.number),
        )
        return twiml(turn.messages)
    if any(a.kind in ("opt_out", "opt_in") for a in turn.actions):
        log.error("could not record opt-out change from %s: Redis unreachable", mask(msg.number))
        return twiml([])
    return twiml([static_reply(ctx.directory)])


def static_reply(directory: Directory) -> str:
    """Urgent help, the nurse line and Macmillan: safe to send with no state at all."""
    _, urgent = urgent_line(directory)
    text = default_knowledge().message(
        "fallback",
        urgent=urgent,
        nurse=directory["nurse"].number or "",
        macmillan=directory["macmillan"].number or "",
    )
    return text.sms
