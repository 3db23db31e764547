"""POST /sms/status: Twilio's delivery reports for the texts we send."""

from __future__ import annotations

import logging
from datetime import datetime

import redis
from flask import Blueprint, Response, request

from bot import phones
from bot.masking import mask
from bot.outbound import appointments, twilio_codes
from bot.outbound.texts import RANK, REPORT_ARG, Reminder, advance, by_sid
from bot.store import keys, stats
from bot.store.client import breaker, webhook_redis
from bot.web.clock import now
from bot.web.signatures import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("status", __name__)

# Twilio's message statuses, as ours. Those before "sent" tell us nothing new.
STATUS = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "cancelled",
}
EARLY_TTL_SECONDS = 24 * 3600


def _reminder(r: redis.Redis, sid: str, named: str) -> tuple[str | None, str]:
    """The reminder a report is about, and its number: the one its address names, once
    that reminder holds this MessageSid (else the report came first), or by sid:<sid>."""
    if named:
        held, number = r.hmget(Reminder.key_for(named), ["sid", "to"])
        if held == sid:
            return named, str(number or "")
        if number is not None and not held:
            return None, str(number)  # the send job has not yet recorded the sid
    reminder_id = by_sid(r, sid)
    number = r.hget(Reminder.key_for(reminder_id), "to") if reminder_id else None
    return reminder_id, str(number or "")


def record(
    r: redis.Redis, sid: str, twilio_status: str, error_code: str, now: datetime, to: str = "",
    reminder: str = "",
) -> str:
    """Apply one delivery report; returns the reminder's status after it (or "unknown").

    `reminder` is the id the report's address names (texts.callback_for), if any.
    """
    status = STATUS.get(twilio_status.strip().lower())
    if not sid or status is None:
        return "ignored"
    reminder_id, number = _reminder(r, sid, reminder)
    number = number or to
    if number and twilio_codes.code(error_code) == twilio_codes.OPTED_OUT:
        appointments.opt_out(r, number, now)
    elif number and twilio_codes.code(error_code) in twilio_codes.UNREACHABLE:
        appointments.mark_invalid(r, number, f"Twilio cannot text this number (error {error_code})")
    if reminder_id is None:
        # The report beat the send job's own write of the sid: keep the furthest one.
        key = keys.early_status(sid)
        held = r.get(key)
        if held is None or RANK[status] > RANK.get(str(held), 0):
            r.set(key, status, ex=EARLY_TTL_SECONDS)
        return "unknown"
    error = f"Twilio error {error_code}" if error_code else ""
    before = r.hget(Reminder.key_for(reminder_id), "status")
    after = advance(r, reminder_id, status, error)
    if after == status and before != status:
        stats.delivery(r, now, status)
    return after


@bp.post("/sms/status")
@twilio_signed
def delivery_report() -> Response:
    """Record a delivery report; a late or repeated one never moves a status backwards."""
    form = request.form
    sid = (form.get("MessageSid") or form.get("SmsSid") or "")[:64]
    guard = breaker()
    if not guard.allow():
        log.error("delivery report %s not recorded: Redis failed a moment ago", sid)
        return Response("", status=503)
    try:
        after = record(
            webhook_redis(),
            sid,
            form.get("MessageStatus") or form.get("SmsStatus") or "",
            (form.get("ErrorCode") or "")[:8],
            now(),
            phones.key(form.get("To", "")) if form.get("To") else "",
            (request.args.get(REPORT_ARG) or "")[:64],
        )
    except (redis.RedisError, OSError):
        guard.failed()
        # A 503 shows in Twilio's debugger and its logs, where a 204 would hide the loss.
        log.exception("could not record the delivery report for %s", sid)
        return Response("", status=503)
    guard.succeeded()
    log.info("delivery report %s for %s: %s", sid, mask(form.get("To", "")), after)
    return Response("", status=204)
