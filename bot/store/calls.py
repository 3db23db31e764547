"""Phone calls in Redis: each call's menu state (JSON, expiring) and the call's own record.

The record of a call (`callrec:<CallSid>`, a hash) keeps what Twilio's status callbacks
report and any voicemail, so the nurses can see calls next to texts. Voicemails become
call-back requests exactly once per call, whichever of Twilio's two reports comes first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import redis

from bot.masking import mask
from bot.store import keys, records
from bot.store.batch import Batch
from flows.calls import Call

log = logging.getLogger(__name__)

STATE_TTL_SECONDS = 4 * 3600  # longer than any call: an hour put through plus the menus
RECORD_TTL_SECONDS = 90 * 24 * 3600  # as long as the message history
RECENT_LIMIT = 1000
RECENT_KEY = keys.RECENT_CALLS

CALL_STATUSES = frozenset(
    ["queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed",
     "no-answer", "canceled"]
)
RECORDING_STATUSES = frozenset(["in-progress", "completed", "absent", "failed"])


def key(sid: str) -> str:
    """The Redis key for one call's menu state."""
    return keys.call_state(sid)


def record_key(sid: str) -> str:
    """The Redis key for one call's record."""
    return keys.call_record(sid)


def voicemail_key(sid: str) -> str:
    """Which call-back request a call's voicemail became."""
    return keys.call_callback(sid)


def parse(raw: str | bytes | None) -> Call | None:
    """A stored call, or None when there is none (or it cannot be read)."""
    if not raw:
        return None
    try:
        return Call.from_dict(json.loads(raw))
    except ValueError:
        return None


def save(pipe: Any, sid: str, call: Call) -> None:
    """Store the call's state (in a pipeline), restarting its expiry."""
    pipe.set(key(sid), json.dumps(call.to_dict()), ex=STATE_TTL_SECONDS)


def start_record(pipe: Any, sid: str, number: str, to: str, at: datetime) -> None:
    """Open the call's record (in a pipeline) and list it among recent calls."""
    k = record_key(sid)
    pipe.hset(k, mapping={"sid": sid, "number": number, "to": to,
                          "started_at": at.isoformat(), "status": "in-progress"})
    pipe.expire(k, RECORD_TTL_SECONDS)
    pipe.zadd(RECENT_KEY, {sid: at.timestamp()})
    pipe.zremrangebyrank(RECENT_KEY, 0, -RECENT_LIMIT - 1)


def note(pipe: Any, sid: str, **fields: str) -> None:
    """Add fields to a call's record (in a pipeline)."""
    if fields:
        pipe.hset(record_key(sid), mapping=fields)
        pipe.expire(record_key(sid), RECORD_TTL_SECONDS)


def call_record(r: redis.Redis, sid: str) -> dict[str, str]:
    """A call's record: number, times, status, duration, recording."""
    return {str(k): str(v) for k, v in r.hgetall(record_key(sid)).items()}


def recent_calls(r: redis.Redis, limit: int = 50) -> list[dict[str, str]]:
    """The most recent calls, newest first."""
    sids = r.zrevrange(RECENT_KEY, 0, limit - 1)
    with r.pipeline(transaction=False) as p:
        for sid in sids:
            p.hgetall(record_key(str(sid)))
        found = p.execute()
    return [{str(k): str(v) for k, v in f.items()} for f in found if f]


def record_status(r: redis.Redis, form: Mapping[str, str], at: datetime) -> None:
    """Keep what a call status callback reports (unknown statuses are kept as 'unknown')."""
    sid = (form.get("CallSid") or "")[:64]
    if not sid:
        return
    status = (form.get("CallStatus") or "").strip().lower()
    fields = {"status": status if status in CALL_STATUSES else "unknown",
              "status_at": at.isoformat()}
    duration = (form.get("CallDuration") or "").strip()
    if duration.isdigit():
        fields["duration"] = duration
    if status in ("completed", "busy", "failed", "no-answer", "canceled"):
        fields["ended_at"] = at.isoformat()
    with r.pipeline() as p:
        if not r.exists(record_key(sid)):
            # A status for a call the menus never saw (Redis was down when it rang).
            number = form.get("From") or ""
            start_record(p, sid, number, form.get("To") or "", at)
        note(p, sid, **fields)
        p.execute()
    log.info("call %s from %s: %s", sid[-6:], mask(form.get("From")), fields["status"])


def save_voicemail(
    r: redis.Redis, sid: str, number: str, reason: str, recording_url: str, at: datetime,
    recording_sid: str = "",
) -> records.CallbackRequest:
    """The call's voicemail as a call-back request: made once, its recording filled in later.

    Twilio reports a voicemail twice (the record action and the recording status callback),
    often at the same moment: whichever lands first files the request, in one round trip.
    """
    vk = voicemail_key(sid)
    for _ in range(3):
        request = records.CallbackRequest(
            number=number, reason=reason, channel="voice", created_at=at.isoformat(),
            recording_url=recording_url,
        )
        batch = Batch()
        batch.set(vk, request.id, ex=RECORD_TTL_SECONDS)
        request.save(batch)
        note(batch, sid, callback_id=request.id, recording_url=recording_url,
             recording_sid=recording_sid)
        existing = batch.apply_unless(r, vk)
        if existing is None:
            log.info("voicemail from %s is call-back request %s", mask(number), request.id)
            return request
        # The other report got here first: use its request.
        found = records.CallbackRequest.fetch(r, existing)
        if found is not None:
            if recording_url and found.recording_url != recording_url:
                found.recording_url = recording_url
                found.save(r)
            return found
        r.delete(vk)  # it points at nothing: make the request afresh
    raise redis.RedisError(f"could not file the voicemail of call {sid[-6:]}")


def record_recording(r: redis.Redis, form: Mapping[str, str], at: datetime) -> None:
    """Keep a recording status callback; a finished or failed voicemail reaches the nurses."""
    sid = (form.get("CallSid") or "")[:64]
    if not sid:
        return
    status = (form.get("RecordingStatus") or "").strip().lower()
    url = (form.get("RecordingUrl") or "").strip()[:500]
    fields = {"recording_status": status if status in RECORDING_STATUSES else "unknown"}
    duration = (form.get("RecordingDuration") or "").strip()
    if duration.isdigit():
        fields["recording_seconds"] = duration
    with r.pipeline() as p:
        note(p, sid, **fields)
        p.execute()
    if status not in ("completed", "failed"):
        return  # "absent": nothing was said, so there is no message to act on
    rec = call_record(r, sid)
    number = rec.get("number") or "unknown"
    reason = (
        "Left a voicemail on the phone line"
        if status == "completed"
        else "Tried to leave a voicemail on the phone line, but the recording failed"
    )
    save_voicemail(r, sid, number, reason, url if status == "completed" else "", at,
                   (form.get("RecordingSid") or "")[:64])
