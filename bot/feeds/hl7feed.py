"""One HL7 message in, one ACK out: kept first, then read, applied and answered.

AA only once the message and its outcome are stored; AE (a field is wrong) and AR (it
cannot be processed) carry a reason a person can read, and the message is kept for the
console, where it can be tried again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import hl7
import redis

from bot.feeds import bookings, messages
from bot.feeds.bookings import Feed
from bot.feeds.messages import FAILED, FeedMessage
from flows import siu
from flows.feed import FieldError

log = logging.getLogger(__name__)


def handle(r: redis.Redis, feed: Feed, text: str, now: datetime) -> str:
    """The ACK for one message as it came off the wire (any Redis error propagates)."""
    try:
        msg = siu.parse(text)
    except siu.Rejected as exc:
        kept, _ = messages.receive(r, "hl7", text, now)
        messages.finish(r, kept, FAILED, ack="AR", error=str(exc))
        return siu.bare_ack("AR", str(exc))
    kept, new = messages.receive(r, "hl7", text, now, siu.sender(msg), siu.control_id(msg))
    if not new:
        return str(siu.ack(msg, "AA", "Already received and applied once: "
                                       + (kept.note or kept.status)))
    return str(process(r, feed, kept, msg, now))


def process(r: redis.Redis, feed: Feed, kept: FeedMessage, msg: hl7.Message,
            now: datetime) -> hl7.Message:
    """Read, apply and record one kept message; its ACK."""
    kept.label = siu.trigger(msg)
    try:
        booking = siu.booking(msg, feed.tz)
    except siu.Rejected as exc:
        messages.finish(r, kept, FAILED, ack="AR", error=str(exc))
        return siu.ack(msg, "AR", str(exc), exc.code)
    except FieldError as exc:
        messages.finish(r, kept, FAILED, ack="AE", error=str(exc))
        return siu.ack(msg, "AE", str(exc),
                       siu.REQUIRED_MISSING if exc.missing else siu.DATA_TYPE_ERROR)
    kept.label = booking.label
    kept.appointment_id = booking.appointment_id
    kept.message_time = booking.message_time.isoformat()

    def record(pipeline: Any, outcome: bookings.Outcome) -> None:
        code = "AE" if outcome.status == "failed" else "AA"
        messages.finish(r, kept, outcome.status, pipeline, ack=code, note=outcome.note,
                        error=outcome.error, appointment=outcome.appointment,
                        unmapped=outcome.unmapped)

    try:
        outcome = bookings.apply(r, feed, booking, kept.id, now, record)
    except redis.RedisError:
        raise  # nothing can be recorded: the listener answers AR and the engine resends
    except Exception as exc:
        log.exception("feed message %s could not be applied", kept.id)
        why = f"It could not be applied ({type(exc).__name__}); try it again from the console."
        messages.finish(r, kept, FAILED, ack="AR", error=why)
        return siu.ack(msg, "AR", why, siu.INTERNAL_ERROR)
    if outcome.status == "failed":
        return siu.ack(msg, "AE", outcome.error, siu.DATA_TYPE_ERROR)
    return siu.ack(msg, "AA", outcome.note)


def replay(r: redis.Redis, feed: Feed, kept: FeedMessage, now: datetime) -> FeedMessage:
    """Try a kept message again (after the codes file or the PAS data was fixed)."""
    kept.attempts = int(r.hincrby(kept.key, "attempts"))
    try:
        msg = siu.parse(kept.raw)
    except siu.Rejected as exc:
        return messages.finish(r, kept, FAILED, ack="AR", error=str(exc))
    process(r, feed, kept, msg, now)
    found = messages.find(r, kept.id)
    assert found is not None
    return found
