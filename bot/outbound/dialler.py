"""Placing reminder calls: Twilio's Calls API, or the simulator's phone when there is no account."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import redis
import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from bot.outbound.transport import (
    DEFAULT_TIMEOUT,
    TWILIO_API,
    SendError,
    Sent,
    _BaseUrlHttpClient,
    _environment_once,
)
from bot.store import keys

CALL_OUTBOX = keys.CALL_OUTBOX
OUTBOX_LIMIT = 200
RING_SECONDS = 30  # then Twilio reports no-answer (a machine usually answers by 20 to 25 s)
# Twilio waits for the machine's greeting to end before asking for TwiML, so the
# message is recorded whole ("DetectMessageEnd").
MACHINE_DETECTION = "DetectMessageEnd"


class Dialler(Protocol):
    """Anything that can place one call."""

    def place(self, to: str, url: str, status_callback: str) -> Sent:
        """Ring `to`; the answered call asks `url` what to say; raise SendError if refused."""
        ...


class LocalDialler:
    """No Twilio account: the call rings the simulator's phone (a Redis list it shows)."""

    def __init__(self, r: redis.Redis, sender: str = "support line") -> None:
        self.r = r
        self.sender = sender

    def place(self, to: str, url: str, status_callback: str) -> Sent:
        """Put the call on the simulator's list of ringing calls."""
        sid = "CA" + uuid.uuid4().hex
        entry = {"sid": sid, "to": to, "from": self.sender, "url": url,
                 "status_callback": status_callback, "at": datetime.now(UTC).isoformat()}
        p = self.r.pipeline()
        p.lpush(CALL_OUTBOX, json.dumps(entry))
        p.ltrim(CALL_OUTBOX, 0, OUTBOX_LIMIT - 1)
        p.execute()
        return Sent(sid, "queued")


class TwilioDialler:
    """Twilio's Calls API through the official client, with a timeout."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str,
                 base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        http = (_BaseUrlHttpClient(base_url, timeout) if base_url
                else TwilioHttpClient(timeout=timeout))
        _environment_once(http, base_url or TWILIO_API)
        self.client = Client(account_sid, auth_token, http_client=http)
        self.from_number = from_number

    def place(self, to: str, url: str, status_callback: str) -> Sent:
        """Create the call; classify any failure as retryable or final, as texts do."""
        if not self.from_number:
            raise SendError("reminder calls need TWILIO_FROM_NUMBER, a number that can call")
        if not (url.startswith("https://") and status_callback.startswith("https://")):
            raise SendError("reminder calls need PUBLIC_BASE_URL, an https address Twilio reaches")
        try:
            call = self.client.calls.create(
                to=to, from_=self.from_number, url=url, method="POST",
                status_callback=status_callback, status_callback_method="POST",
                machine_detection=MACHINE_DETECTION, timeout=RING_SECONDS,
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            retryable = exc.status == 429 or exc.status >= 500
            message = getattr(exc, "msg", None) or getattr(exc, "detail", None) or ""
            raise SendError(f"HTTP {exc.status}, Twilio error {exc.code}: {message}",
                            exc.status, exc.code, retryable) from exc
        except requests.ConnectTimeout as exc:
            raise SendError(f"could not connect to Twilio: {exc}", retryable=True) from exc
        except requests.ConnectionError as exc:
            # Refused before anything was sent: safe to retry. Anything later may have
            # placed the call, and a patient must never be rung twice blind.
            reason = getattr(exc.args[0] if exc.args else None, "reason", None)
            raise SendError(f"connection to Twilio failed: {exc}",
                            retryable=isinstance(reason, NewConnectionError)) from exc
        except requests.Timeout as exc:
            raise SendError(
                f"Twilio did not answer in time; the call may have been placed: {exc}"
            ) from exc
        return Sent(str(call.sid), str(call.status or "queued"))


def dialler_for(settings: Mapping[str, Any], r: redis.Redis) -> Dialler:
    """Twilio when an account is configured, else the simulator's phone."""
    sid, token = settings.get("TWILIO_ACCOUNT_SID"), settings.get("TWILIO_AUTH_TOKEN")
    if sid and token:
        return TwilioDialler(
            str(sid), str(token), str(settings.get("TWILIO_FROM_NUMBER") or ""),
            base_url=settings.get("TWILIO_API_BASE_URL") or None,
            timeout=float(settings.get("TWILIO_TIMEOUT") or DEFAULT_TIMEOUT),
        )
    return LocalDialler(r)


def ringing(r: redis.Redis, limit: int = 20) -> list[dict[str, Any]]:
    """Calls placed locally that nobody has picked up yet, newest first."""
    return [json.loads(x) for x in r.lrange(CALL_OUTBOX, 0, limit - 1)]


def picked_up(r: redis.Redis, sid: str) -> dict[str, Any] | None:
    """Take a locally placed call off the ringing list (once); None if it is not there."""
    for raw in r.lrange(CALL_OUTBOX, 0, -1):
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        entry = json.loads(text)
        if entry.get("sid") == sid and r.lrem(CALL_OUTBOX, 1, text):
            return dict(entry)
    return None
