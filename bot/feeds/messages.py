"""Every message the feed receives, kept with what became of it, before it is answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import redis

from bot.outbound.texts import new_id
from bot.store import keys
from bot.store.hashes import HashRecord
from bot.store.scripts import script

INDEX = keys.FEED_MESSAGES
PROBLEMS = keys.FEED_PROBLEMS
COUNTS = keys.FEED_COUNTS
UNMAPPED = keys.FEED_UNMAPPED
RECEIVED, APPLIED, IGNORED, FAILED = "received", "applied", "ignored", "failed"
STATUSES = (RECEIVED, APPLIED, IGNORED, FAILED)


@dataclass
class FeedMessage(HashRecord):
    """One message from the hospital's system: its text, and what the line did with it."""

    PREFIX: ClassVar[str] = keys.FEED_MESSAGE

    id: str
    source: str  # "hl7" or "fhir"
    raw: str
    received_at: str
    sender: str = ""
    control_id: str = ""  # MSH-10, or a FHIR resource's id and version
    label: str = ""  # e.g. "SIU^S12 (new booking)"
    appointment_id: str = ""  # the hospital's id for the appointment
    message_time: str = ""
    status: str = RECEIVED
    ack: str = ""  # AA, AE or AR (an HTTP status for FHIR)
    note: str = ""  # what was done, or why nothing was
    error: str = ""  # why it failed, for a person
    appointment: str = ""  # our appointment it made or changed
    attempts: int = 1
    unmapped: str = ""  # the codes that had no test, when that is why it was ignored

    @property
    def replayable(self) -> bool:
        """A failure, a booking ignored for want of a mapping, or one whose applying was cut
        short (still "received"), can be tried again."""
        return self.status in (FAILED, RECEIVED) or bool(self.unmapped)


def _dedupe_key(source: str, sender: str, control_id: str) -> str:
    return keys.feed_seen(source, sender, control_id)


def receive(
    r: redis.Redis, source: str, raw: str, now: datetime, sender: str = "", control_id: str = ""
) -> tuple[FeedMessage, bool]:
    """Keep a message as it arrived; (the record, True) if it is new, or (the first
    record, False) for a resend of one already applied or ignored.

    A resend of a message that failed is a new attempt on the same record.
    """
    msg = FeedMessage(id=new_id(), source=source, raw=raw, received_at=now.isoformat(),
                      sender=sender, control_id=control_id)
    if not control_id:
        p = r.pipeline(transaction=True)
        msg.save(p)
        p.zadd(INDEX, {msg.id: now.timestamp()})
        p.execute()
        return msg, True
    fields = [x for k, v in msg.to_dict().items() if v not in ("", None) for x in (k, v)]
    # One round trip: claim the control id and keep the message, or name the first copy.
    first_id = str(script(r, _RECEIVE)(keys=[_dedupe_key(source, sender, control_id), msg.key,
                                          INDEX], args=[msg.id, now.timestamp(), *fields]) or "")
    if not first_id:
        return msg, True
    first = FeedMessage.fetch(r, first_id)
    if first is None:  # its record was removed: keep this copy in its place
        r.delete(_dedupe_key(source, sender, control_id))
        return receive(r, source, raw, now, sender, control_id)
    if first.status in (APPLIED, IGNORED):
        r.hincrby(COUNTS, "duplicate")
        return first, False
    first.attempts = int(r.hincrby(first.key, "attempts"))
    first.raw = raw  # this copy is the one tried
    r.hset(first.key, "raw", raw)
    return first, True


_RECEIVE = """
local first = redis.call('GET', KEYS[1])
if first then return first end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return false
"""


def finish(r: redis.Redis, msg: FeedMessage, status: str, pipeline: Any = None,
           **fields: Any) -> FeedMessage:
    """Record what became of a message (before its answer goes back); into `pipeline` when
    given, so the outcome is written with the change it describes."""
    msg.status = status
    for name, value in fields.items():
        setattr(msg, name, value)
    p = pipeline if pipeline is not None else r.pipeline(transaction=True)
    # Fields left over from an earlier attempt go, so the record says this attempt's outcome.
    p.hdel(msg.key, "error", "note", "unmapped", "ack")
    msg.save(p)
    p.hincrby(COUNTS, status)
    if msg.replayable:
        p.zadd(PROBLEMS, {msg.id: datetime.fromisoformat(msg.received_at).timestamp()})
    else:
        p.zrem(PROBLEMS, msg.id)
    if msg.unmapped:
        p.hincrby(UNMAPPED, msg.unmapped)
    if pipeline is None:
        p.execute()
    return msg


def find(r: redis.Redis, msg_id: str) -> FeedMessage | None:
    """One message by our id."""
    return FeedMessage.fetch(r, msg_id)


def recent(r: redis.Redis, limit: int = 100, problems: bool = False) -> list[FeedMessage]:
    """Messages newest first: all of them, or only those a person should look at."""
    ids = [str(x) for x in r.zrevrange(PROBLEMS if problems else INDEX, 0, limit - 1)]
    return FeedMessage.fetch_many(r, ids)


def counts(r: redis.Redis) -> dict[str, int]:
    """Messages by outcome, duplicates among them."""
    return {str(k): int(v) for k, v in r.hgetall(COUNTS).items()}


def unmapped(r: redis.Redis) -> list[tuple[str, int]]:
    """Codes that came with no test in the codes file, most frequent first."""
    return sorted(((str(k), int(v)) for k, v in r.hgetall(UNMAPPED).items()),
                  key=lambda kv: -kv[1])
