"""The floor for bench/webhook.py: validate the signature, one Redis read and write, one reply."""

from __future__ import annotations

import os

import redis
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse


def create_floor_app() -> Flask:
    """The least any signed, stateful SMS webhook must do."""
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    base = os.environ["PUBLIC_BASE_URL"].rstrip("/")
    r = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)

    @app.post("/sms")
    def sms() -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(base + request.path, request.form, signature):
            abort(403)
        key = "floor:" + request.form.get("From", "")
        r.get(key)
        r.set(key, request.form.get("Body", ""), ex=86400)
        reply = MessagingResponse()
        reply.message("Thank you for your message.")
        return Response(str(reply), mimetype="text/xml")

    return app
