"""POST /feeds/fhir: FHIR R4 Appointments from the hospital, behind a bearer token.

Off (404) unless FEED_TOKEN is set; 403 without the right token; errors answered with
an OperationOutcome. A Bundle is checked whole before any of it is applied.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, request

from bot.feeds import bookings, messages
from bot.feeds.bookings import Feed
from bot.feeds.messages import FAILED, IGNORED, FeedMessage
from bot.store.client import get_redis
from bot.web.clock import now as _now
from flows import fhirappt
from flows.feed import FieldError

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
FHIR_JSON = "application/fhir+json"
MAX_BODY = 5 * 1024 * 1024


def outcome(status: int, issues: list[tuple[str, str, str]]) -> Response:
    """An OperationOutcome: (severity, code, text) per issue."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": s, "code": c, "diagnostics": t} for s, c, t in issues],
    }
    return Response(json.dumps(body), status=status, mimetype=FHIR_JSON)


def _authorised() -> bool:
    token = str(current_app.config.get("FEED_TOKEN") or "")
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(),
                                                              token.encode())


def _feed() -> Feed:
    return bookings.current(current_app.config)


@bp.post("/fhir")
def receive() -> Response:
    """Apply each Appointment in the body; an OperationOutcome says what became of each."""
    if not current_app.config.get("FEED_TOKEN"):
        return outcome(404, [("error", "not-supported", "The FHIR feed is off: FEED_TOKEN is "
                                                        "not set on this deployment.")])
    if not _authorised():
        return outcome(403, [("error", "security", "A valid bearer token is needed.")])
    # Read one byte past the limit: a chunked body declares no length to check first.
    raw = b"" if (request.content_length or 0) > MAX_BODY else request.stream.read(MAX_BODY + 1)
    if (request.content_length or 0) > MAX_BODY or len(raw) > MAX_BODY:
        return outcome(413, [("error", "too-costly", "The body is too large.")])
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text or "null")
    except ValueError as exc:
        why = f"The body is not JSON: {exc}"
        r = get_redis()
        kept, _ = messages.receive(r, "fhir", text[:100_000], _now())
        messages.finish(r, kept, FAILED, ack="400", error=why, label="FHIR (not JSON)")
        return outcome(400, [("error", "structure", why)])
    try:
        found = fhirappt.entries(body)
    except fhirappt.Invalid as exc:
        r = get_redis()
        kept, _ = messages.receive(r, "fhir", json.dumps(body)[:100_000], _now())
        messages.finish(r, kept, FAILED, ack="400", error=str(exc), label="FHIR (invalid)")
        return outcome(400, [("error", "invalid", str(exc))])
    issues = [apply_entry(entry) for entry in found]
    failed = any(s == "error" for s, _, _ in issues)
    return outcome(422 if failed else 200, issues)


def apply_entry(entry: fhirappt.Entry) -> tuple[str, str, str]:
    """Keep one Appointment, apply it, record what happened; its OperationOutcome issue."""
    r, now = get_redis(), _now()
    raw = json.dumps({"appointment": entry.resource, "patients": entry.patients})
    kept, new = messages.receive(r, "fhir", raw, now, "fhir", entry.control_id)
    if not new:
        return ("information", "informational",
                f"Already received and applied once: {kept.note or kept.status}")
    done = process(r, _feed(), kept, entry, now)
    if done.status == FAILED:
        return ("error", "value", done.error)
    return ("information", "informational", done.note)


def process(r: Any, feed: Feed, kept: FeedMessage, entry: fhirappt.Entry,
            now: datetime) -> FeedMessage:
    """Read and apply one kept Appointment, recording the outcome."""
    label = f"Appointment {entry.resource.get('status', '')}".strip()
    if fhirappt.waiting(entry):
        return messages.finish(r, kept, IGNORED, ack="200", label=label,
                               note="Not booked yet (proposed, pending or waitlist): "
                                    "nothing planned.")
    try:
        booking = fhirappt.booking(entry, datetime.fromisoformat(kept.received_at))
    except FieldError as exc:
        return messages.finish(r, kept, FAILED, ack="422", label=label, error=str(exc))
    kept.appointment_id = booking.appointment_id
    kept.message_time = booking.message_time.isoformat()

    def record(pipeline: Any, result: bookings.Outcome) -> None:
        messages.finish(r, kept, result.status, pipeline, label=label,
                        ack="422" if result.status == FAILED else "200", note=result.note,
                        error=result.error, appointment=result.appointment,
                        unmapped=result.unmapped)

    bookings.apply(r, feed, booking, kept.id, now, record)
    return kept


def replay(r: Any, feed: Feed, kept: FeedMessage, now: datetime) -> FeedMessage:
    """Try a kept Appointment again."""
    kept.attempts = int(r.hincrby(kept.key, "attempts"))
    try:
        data = json.loads(kept.raw)
        entry = fhirappt.Entry(data["appointment"], data.get("patients") or [], kept.control_id)
    except (ValueError, KeyError, TypeError):
        return messages.finish(r, kept, FAILED, ack="400",
                               error="This was not a valid Appointment when it came; the "
                                     "hospital's system must send it again.")
    return process(r, feed, kept, entry, now)
