"""Twilio request validation: every webhook must carry a valid X-Twilio-Signature."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def signed_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path (behind a TLS proxy), else the request URL."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    query = request.query_string.decode()
    return str(base).rstrip("/") + request.path + (f"?{query}" if query else "")


def twilio_signed(view: F) -> F:
    """Reject (403) any request whose Twilio signature does not match."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        validator = RequestValidator(current_app.config["AUTH_TOKEN"])
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(signed_url(), request.form, signature):
            log.warning("rejected unsigned or tampered request to %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
