"""Twilio request validation: every webhook must carry a valid X-Twilio-Signature.

`sign` makes one as Twilio does, for the local tools and the simulator (which sign with
the development token).
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def sign(token: str, url: str, form: dict[str, str]) -> str:
    """The X-Twilio-Signature Twilio sends for this POST."""
    return str(RequestValidator(token).compute_signature(url, form))


def signed_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path (behind a TLS proxy), else the request URL."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    query = request.query_string.decode()
    return str(base).rstrip("/") + request.path + (f"?{query}" if query else "")


class _Params(dict[str, list[str]]):
    """Form fields as the helper reads them: it asks for getall() first, then getlist()
    (werkzeug's name) after an AttributeError, once per field, on every request."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def is_valid(validator: RequestValidator, uri: str, params: Any, signature: str) -> bool:
    """Twilio's check, trying the URL exactly as signed before the helper's port variants.

    The helper always computes two signatures (the URL with and without its port). Twilio
    signs the URL it was given, so for our form webhooks the first comparison nearly always
    decides; whenever it does not, the helper's own full check runs.
    """
    if not isinstance(params, str):  # a JSON body is checked by its hash, by the helper
        if hasattr(params, "lists"):
            params = _Params(params.lists())
        exact = validator.compute_signature(uri, params)
        if hmac.compare_digest(exact.encode(), signature.encode()):
            return True
    return bool(validator.validate(uri, params, signature))


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def twilio_signed(view: F) -> F:
    """Reject (403) any request whose Twilio signature does not match."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        validator = _validator(current_app.config["AUTH_TOKEN"])
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not is_valid(validator, signed_url(), request.form, signature):
            log.warning("rejected unsigned or tampered request to %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
