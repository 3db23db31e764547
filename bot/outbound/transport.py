"""Outbound SMS: Twilio's REST API, or a local outbox in Redis when there is no account."""

from __future__ import annotations

import json
import os
import threading
import urllib.request
import uuid
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

import certifi
import redis
import requests
import urllib3
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from bot import config
from bot.store import keys
from flows.gsm import cost

TWILIO_API = "https://api.twilio.com"
OUTBOX = keys.OUTBOX
OUTBOX_LIMIT = 1000
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Sent:
    """What the API said about a message it accepted."""

    sid: str
    status: str


class SendError(Exception):
    """A message was not accepted; `retryable` says whether trying again may help."""

    def __init__(
        self, message: str, status: int | None = None, code: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable


class Transport(Protocol):
    """Anything that can send one SMS."""

    def send(self, to: str, body: str, status_callback: str | None = None) -> Sent:
        """Send `body` to `to`; raise SendError if it was not accepted."""
        ...


class OutboxTransport:
    """Nothing leaves the machine: messages land in a Redis list the simulator shows."""

    def __init__(self, r: redis.Redis, sender: str = "support line") -> None:
        self.r = r
        self.sender = sender

    def send(self, to: str, body: str, status_callback: str | None = None) -> Sent:
        """Append the message to the outbox."""
        sid = "SM" + uuid.uuid4().hex
        c = cost(body)
        entry = {
            "sid": sid,
            "to": to,
            "from": self.sender,
            "body": body,
            "at": datetime.now(UTC).isoformat(),
            "segments": c.segments,
            "encoding": c.encoding,
            "status": "sent",
        }
        p = self.r.pipeline()
        p.rpush(OUTBOX, json.dumps(entry))
        p.ltrim(OUTBOX, -OUTBOX_LIMIT, -1)
        p.execute()
        return Sent(sid, "sent")


class _BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's HTTP client as it is, sending to another base address (a local stand-in or
    mock); the dialler's few calls a minute need nothing leaner."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


class _LeanHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's HTTP client, posting its form requests through one urllib3 pool of kept-alive
    connections, to Twilio or another base address (a local stand-in or mock).

    requests, under Twilio's client, prepared each message afresh: merged settings, hooks
    and sixteen runtime protocol checks, about 40% of the client's 1.1 ms of CPU a send.
    The same request, headers and timeouts go straight to urllib3 (which requests uses
    underneath) unless a proxy is configured or the body is JSON: those go as before.
    urllib3's errors are classified by TwilioTransport.send as requests' were.
    """

    def __init__(self, base_url: str | None, timeout: float, connections: int = 1) -> None:
        super().__init__(timeout=timeout)
        self.base_url = (base_url or TWILIO_API).rstrip("/")
        self.pool: urllib3.PoolManager | None = None
        self.connections = connections
        self._making = threading.Lock()  # a worker's send threads share one pool

    def request(
        self, method: str, url: str, params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None, timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API):]
        sent = dict(headers or {})
        if self.proxy or "json" in sent.get("Content-Type", ""):
            return super().request(method, url, params, data, sent, auth, timeout,
                                   allow_redirects)
        if self.pool is None:
            with self._making:
                if self.pool is None:
                    verify = self.session.verify if self.session is not None else True
                    # One kept-alive connection for each send thread: one fewer, and a
                    # thread would open (and shake hands over TLS) afresh each time.
                    self.pool = urllib3.PoolManager(
                        maxsize=self.connections,
                        cert_reqs="CERT_REQUIRED" if verify else "CERT_NONE",
                        ca_certs=verify if isinstance(verify, str) else certifi.where(),
                    )
        if params:
            url += "?" + urlencode(_pairs(params), doseq=True)
        if auth:
            sent["Authorization"] = "Basic " + b64encode(":".join(auth).encode()).decode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
        seconds = timeout or self.timeout
        answer = self.pool.request(
            method.upper(), url, body=urlencode(_pairs(data or {}), doseq=True), headers=sent,
            timeout=urllib3.Timeout(connect=seconds, read=seconds), retries=False,
            redirect=allow_redirects,
        )
        self._test_only_last_response = Response(
            answer.status, answer.data.decode("utf-8"), answer.headers)
        return self._test_only_last_response


def _pairs(values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Form fields as requests encodes them: lists repeated, None and unset left out."""
    return [(k, v) for k, v in values.items() if v is not None]


def _environment_once(http: TwilioHttpClient, url: str) -> None:
    """Read the proxy and CA settings from the environment now, not on every request.

    requests looks them up again for each message (about 0.2 ms of a send's 3 ms of CPU);
    they do not change while a worker runs.
    """
    session = http.session
    if session is None:
        return
    if not http.proxy and not requests.utils.should_bypass_proxies(url, no_proxy=None):
        http.proxy = urllib.request.getproxies()
    session.verify = (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )
    session.trust_env = False


class TwilioTransport:
    """Twilio's Messages API through the official client, with a timeout."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connections: int = 1,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        http = _LeanHttpClient(base_url, timeout, connections)
        _environment_once(http, base_url or TWILIO_API)
        self.client = Client(account_sid, auth_token, http_client=http)
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    def send(self, to: str, body: str, status_callback: str | None = None) -> Sent:
        """Create the message; classify any failure as retryable or final."""
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            retryable = exc.status == 429 or exc.status >= 500
            message = getattr(exc, "msg", None) or getattr(exc, "detail", None) or ""
            detail = f"HTTP {exc.status}, Twilio error {exc.code}: {message}"
            raise SendError(detail, exc.status, exc.code, retryable) from exc
        except (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError) as exc:
            # Refused or not answered before anything was sent (urllib3's NewConnectionError
            # is a ConnectTimeoutError): safe to retry.
            raise SendError(f"could not connect to Twilio: {exc}", retryable=True) from exc
        except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.HTTPError) as exc:
            # Sent, or perhaps sent (a timeout, a reset): a reminder must never go twice.
            raise SendError(
                f"Twilio did not answer; the message may have been sent: {exc}") from exc
        except requests.ConnectionError as exc:
            # Refused before anything was sent: safe to retry. Anything later (a reset or
            # a read timeout) may have created the message, and a reminder must never go
            # twice, so it fails for a person to look at instead.
            reason = getattr(exc.args[0] if exc.args else None, "reason", None)
            refused = isinstance(reason, NewConnectionError)
            raise SendError(f"connection to Twilio failed: {exc}", retryable=refused) from exc
        except requests.Timeout as exc:
            raise SendError(
                f"Twilio did not answer in time; the message may have been sent: {exc}"
            ) from exc
        return Sent(str(message.sid), str(message.status or "queued"))


def transport_for(settings: Mapping[str, Any], r: redis.Redis) -> Transport:
    """Twilio when an account is configured, else the local outbox."""
    sid, token = settings.get("TWILIO_ACCOUNT_SID"), settings.get("TWILIO_AUTH_TOKEN")
    if sid and token:
        return TwilioTransport(
            str(sid),
            str(token),
            from_number=settings.get("TWILIO_FROM_NUMBER") or None,
            messaging_service_sid=settings.get("TWILIO_MESSAGING_SERVICE_SID") or None,
            base_url=settings.get("TWILIO_API_BASE_URL") or None,
            timeout=float(settings.get("TWILIO_TIMEOUT") or DEFAULT_TIMEOUT),
            connections=config.send_threads(settings),
        )
    return OutboxTransport(r)


def outbox(r: redis.Redis, limit: int = 100) -> list[dict[str, Any]]:
    """The local outbox, newest first."""
    return [json.loads(x) for x in reversed(r.lrange(OUTBOX, -limit, -1))]
