"""POST /sms: Twilio's webhook for inbound text messages."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, current_app, request

from bot import config, phones
from bot.lines import textline
from bot.outbound import appointments
from bot.store.client import breaker, webhook_redis
from bot.web.clock import now as _now
from bot.web.signatures import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)

# Twilio sends at most 1,600 characters; anything longer is still read whole by triage (a
# warning sign may come last), up to a bound that keeps one request's work small.
MAX_READ = 20_000


def inbound_from_form() -> textline.Inbound:
    """Read Twilio's form fields defensively: any may be missing or odd."""
    form = request.form
    try:
        media = int(form.get("NumMedia", "0") or 0)
    except ValueError:
        media = 0
    sender = form.get("From", "").strip()
    return textline.Inbound(
        number=phones.key(sender) if sender else "",
        body=(form.get("Body", "") or "")[:MAX_READ],
        sid=(form.get("MessageSid") or form.get("SmsSid") or "")[:64],
        media=media,
    )


def _xml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")


@bp.post("/sms")
@twilio_signed
def inbound() -> Response:
    """Reply to a patient's text: triage first, then the conversation."""
    msg = inbound_from_form()
    if not msg.number:
        # Twilio always names the sender; without one there is nobody to answer or alert.
        return Response("A text needs a From number.", status=400, mimetype="text/plain")
    ctx = textline.context(current_app.config, _now())
    guard = breaker()
    if not guard.allow():
        # Redis failed a moment ago: answer at once rather than wait for it again.
        return _xml(textline.fallback(msg, ctx))
    try:
        quiet = appointments.quiet_hours(current_app.config)
        reply = _xml(textline.handle(webhook_redis(), msg, ctx, quiet,
                                     config.send_capacity(current_app.config),
                                     config.calling(current_app.config).hours))
    except (redis.RedisError, OSError):
        guard.failed()
        log.exception("Redis unreachable; sending the safe fallback reply")
        return _xml(textline.fallback(msg, ctx))
    guard.succeeded()
    return reply
