"""A local stand-in for the part of Twilio's REST API we use: creating an SMS or a call.

In a test, run it in a thread and script what it answers:

    with TwilioStandin() as standin:
        standin.fail_next(429)
        transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER,
                                    base_url=standin.base_url)

For a benchmark, run it as its own process so it does not share the interpreter lock
with the code being measured: `python tests/support/twilio_standin.py --latency-ms 5` prints
its base address and serves until stopped; `StandinProcess` wraps that, and
GET /_standin/stats counts what it received.

It answers like Twilio: HTTP basic auth with the account sid and auth token (401 with
error 20003 otherwise), 201 with a message resource shaped like Twilio's, and errors as
`{"code", "message", "more_info", "status"}` so the twilio client raises
TwilioRestException with the right code. It only accepts Ofcom drama numbers
(+447700900000 to +447700900999) as recipients: a test that texts anyone else gets
error 21211, the answer Twilio gives for an invalid number. Calls (Calls.json) may also
go to Ofcom's drama landlines (+441632960000 to +441632960999), and nowhere else.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flows.gsm import cost

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "standin-auth-token-0123456789abcd"
FROM_NUMBER = "+447700900001"  # Ofcom drama range, like every number in the tests
MESSAGING_SERVICE_SID = "MG0123456789abcdef0123456789abcdef"
API_VERSION = "2010-04-01"

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
CALLS_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls\.json$")
DRAMA_NUMBER = re.compile(r"^\+447700900\d{3}$")
DRAMA_CALLABLE = re.compile(r"^\+44(?:7700900|1632960)\d{3}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

# What Twilio says for the errors a test is likely to script, in our own words where
# Twilio's exact text does not matter to the client.
ERROR_MESSAGES: dict[int, str] = {
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20502: "Bad Gateway",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number is not a valid, SMS-capable number for your account.",
    21609: "Invalid StatusCallback url",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21701: "The Messaging Service Sid is invalid.",
}


# Errors whose text names the number, as Twilio's own do.
NAMES_THE_NUMBER = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21614: "'To' number {to} is not a valid mobile number",
}


def error_body(status: int, code: int, message: str | None = None) -> dict[str, Any]:
    """An error answer shaped like Twilio's."""
    return {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code) or HTTPStatus(status).phrase,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def rfc2822(moment: datetime) -> str:
    """A date as Twilio writes it in resources: 'Mon, 23 Nov 2026 10:00:00 +0000'."""
    return format_datetime(moment.astimezone(UTC)).replace("-0000", "+0000")


@dataclass
class Recorded:
    """One request as the stand-in received it."""

    method: str
    path: str
    form: dict[str, str]
    auth: tuple[str, str] | None
    headers: dict[str, str]
    status: int | None = None  # what it answered; None when it dropped the connection


@dataclass(frozen=True)
class _Fail:
    status: int
    code: int
    message: str | None


@dataclass(frozen=True)
class _Hang:
    seconds: float


@dataclass(frozen=True)
class _Close:
    sent: bool


_Outcome = _Fail | _Hang | _Close


@dataclass
class _Answer:
    status: int | None
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Connections waiting to be accepted: a worker's send threads connect at once, and
    # socketserver's default of 5 refused some under load (each then retried ten seconds
    # later, as a refused connection to Twilio is), which no real API does at 16.
    request_queue_size = 128
    standin: TwilioStandin


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as Twilio does: the twilio client reuses one pooled connection.
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30  # an idle keep-alive connection is closed after this

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without this, Nagle's algorithm holds the
        # body until the client's delayed ACK (40 ms), which would swamp any latency figure.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.standin._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.standin._track(self.connection, False)

    def _any(self) -> None:
        self.server.standin._handle(self)

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the recorded requests are the log."""


def _settings(
    account_sid: str, auth_token: str, base_url: str, overrides: dict[str, Any]
) -> dict[str, Any]:
    """App settings that send through a stand-in at `base_url` (overrides win)."""
    values: dict[str, Any] = {
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": base_url,
    }
    values.update(overrides)
    return values


class TwilioStandin:
    """Twilio's Messages API on 127.0.0.1, in a thread, with scriptable answers."""

    def __init__(
        self,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        latency: float = 0.0,
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency  # seconds added to every Messages request
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._outcomes: deque[_Outcome] = deque()
        self._requests: list[Recorded] = []
        self._messages: list[dict[str, Any]] = []
        self._calls: list[dict[str, Any]] = []
        # Called with a create-call request's form and the new call before the API
        # answers: Twilio's callbacks about a call can reach the app while the worker
        # that placed it is still waiting for (or acting on) this answer.
        self.on_call: Callable[[dict[str, str], dict[str, Any]], None] | None = None
        self._connections: set[socket.socket] = set()
        self._at_once = 0
        self.most_at_once = 0  # the most requests it was answering at one moment

    # Life cycle

    def start(self) -> TwilioStandin:
        """Listen on a free port (or the one given) and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.standin = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name="twilio-standin", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release any hung request and close open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._changed:
            open_connections = list(self._connections)
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> TwilioStandin:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on."""
        if self._server is None:
            raise RuntimeError("the Twilio stand-in is not running; call start()")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What TWILIO_API_BASE_URL should be to send here."""
        return f"http://127.0.0.1:{self.port}"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """App settings that send through this stand-in (override any key)."""
        return _settings(self.account_sid, self.auth_token, self.base_url, overrides)

    # Scripting: each scripted outcome is used by one Messages request, in order, once
    # that request has passed the auth check.

    def fail_next(
        self, status: int, code: int | None = None, message: str | None = None, times: int = 1,
    ) -> None:
        """Answer the next request(s) with this HTTP status and Twilio error code."""
        outcome = _Fail(status, code if code is not None else 20000 + status, message)
        self._script(outcome, times)

    def hang_next(self, seconds: float, times: int = 1) -> None:
        """Hold the next request(s) this long, then create the message and answer as usual.

        A client with a shorter timeout gives up although the message was created, as
        happens with the real API.
        """
        self._script(_Hang(seconds), times)

    def close_next(self, sent: bool = False, times: int = 1) -> None:
        """Drop the connection of the next request(s) without answering.

        With `sent=True` the message is created first (a valid request), so a test can
        check that a dropped answer is not followed by a second copy.
        """
        self._script(_Close(sent), times)

    def _script(self, outcome: _Outcome, times: int) -> None:
        with self._changed:
            self._outcomes.extend([outcome] * times)

    def reset(self) -> None:
        """Forget recorded requests, created messages and scripted outcomes."""
        with self._changed:
            self._outcomes.clear()
            self._requests.clear()
            self._messages.clear()
            self._calls.clear()
            self.most_at_once = 0

    # What it saw

    @property
    def requests(self) -> list[Recorded]:
        """Every request received, oldest first."""
        with self._changed:
            return list(self._requests)

    @property
    def message_requests(self) -> list[Recorded]:
        """The POSTs to the Messages endpoint, oldest first."""
        return [
            x for x in self.requests if x.method == "POST" and MESSAGES_PATH.match(x.path)
        ]

    @property
    def call_requests(self) -> list[Recorded]:
        """The POSTs to the Calls endpoint, oldest first."""
        return [x for x in self.requests if x.method == "POST" and CALLS_PATH.match(x.path)]

    @property
    def calls(self) -> list[dict[str, Any]]:
        """The call resources created (what would have rung a phone), oldest first."""
        with self._changed:
            return list(self._calls)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The message resources created (what would have reached a phone), oldest first."""
        with self._changed:
            return list(self._messages)

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least `count` messages were created; fail after `timeout`."""
        self._wait(lambda: len(self._messages) >= count, timeout, f"{count} message(s) created")
        return self.messages

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        """Block until at least `count` requests arrived; fail after `timeout`."""
        self._wait(lambda: len(self._requests) >= count, timeout, f"{count} request(s)")
        return self.requests

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(done, timeout):
                raise AssertionError(
                    f"Twilio stand-in: waited {timeout}s for {what}; got "
                    f"{len(self._requests)} request(s), {len(self._messages)} message(s)"
                )

    # Serving

    def _track(self, conn: socket.socket, is_open: bool) -> None:
        with self._changed:
            if is_open:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _handle(self, h: _Handler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        path = urlsplit(h.path).path
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        if path == "/_standin/stats" and h.command == "GET":
            _write(h, _Answer(200, self._stats()))  # control, not part of the record
            return
        rec = Recorded(h.command, path, form, _basic_auth(h.headers.get("Authorization")),
                       dict(h.headers.items()))
        with self._changed:
            self._requests.append(rec)
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)
            self._changed.notify_all()
        try:
            answer = self._answer(rec)
            rec.status = answer.status
            if answer.status is None:
                h.close_connection = True  # nothing written: the client sees the line drop
            else:
                _write(h, answer)
        finally:
            with self._changed:
                self._at_once -= 1
                self._changed.notify_all()

    def _answer(self, rec: Recorded) -> _Answer:
        match = MESSAGES_PATH.match(rec.path) or CALLS_PATH.match(rec.path)
        is_call = bool(CALLS_PATH.match(rec.path))
        if not match:
            return _Answer(404, error_body(404, 20404))
        if rec.method != "POST":
            return _Answer(405, error_body(405, 20004))
        if self.latency > 0:
            self._stopping.wait(self.latency)
        if rec.auth != (self.account_sid, self.auth_token) or (
            match["account"] != self.account_sid
        ):
            return _Answer(
                401, error_body(401, 20003), {"WWW-Authenticate": 'Basic realm="Twilio API"'}
            )
        with self._changed:
            outcome = self._outcomes.popleft() if self._outcomes else None
        if isinstance(outcome, _Fail):
            message = outcome.message
            if message is None and outcome.code in NAMES_THE_NUMBER:
                # As Twilio does: "The 'To' number +44... is not a valid phone number."
                message = NAMES_THE_NUMBER[outcome.code].format(to=rec.form.get("To", ""))
            return _Answer(outcome.status, error_body(outcome.status, outcome.code, message))
        if isinstance(outcome, _Hang) and self._stopping.wait(outcome.seconds):
            return _Answer(None)
        problem = _invalid_call(rec.form) if is_call else _invalid(rec.form)
        create = self._create_call if is_call else self._create
        if isinstance(outcome, _Close):
            if outcome.sent and problem is None:
                create(rec.form)
            return _Answer(None)
        if problem is not None:
            code, message = problem
            return _Answer(400, error_body(400, code, message))
        created = create(rec.form)
        if is_call and self.on_call is not None:
            self.on_call(rec.form, created)
        return _Answer(201, created)

    def _create_call(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "CA" + uuid.uuid4().hex
        now = rfc2822(datetime.now(UTC))
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}"
        resource: dict[str, Any] = {
            "sid": sid, "date_created": now, "date_updated": now, "parent_call_sid": None,
            "account_sid": self.account_sid, "to": form.get("To", ""),
            "to_formatted": form.get("To", ""), "from": form.get("From", ""),
            "from_formatted": form.get("From", ""), "phone_number_sid": None,
            "status": "queued", "start_time": None, "end_time": None, "duration": None,
            "price": None, "price_unit": "USD", "direction": "outbound-api",
            "answered_by": None, "api_version": API_VERSION, "forwarded_from": None,
            "group_sid": None, "caller_name": None, "queue_time": "0", "trunk_sid": None,
            "uri": f"{base}.json",
            "subresource_uris": {"recordings": f"{base}/Recordings.json"},
        }
        with self._changed:
            self._calls.append(resource)
            self._changed.notify_all()
        return resource

    def _create(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = rfc2822(datetime.now(UTC))
        service = form.get("MessagingServiceSid") or None
        sender = form.get("From") or None
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        resource: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(cost(form.get("Body", "")).segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # A messaging service picks the sender later: Twilio says "accepted" until then.
            "status": "accepted" if service and not sender else "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": form.get("To", ""),
            "uri": f"{base}.json",
        }
        with self._changed:
            self._messages.append(resource)
            self._changed.notify_all()
        return resource

    def _stats(self) -> dict[str, Any]:
        with self._changed:
            answered: dict[str, int] = {}
            for rec in self._requests:
                key = str(rec.status) if rec.status is not None else "dropped"
                answered[key] = answered.get(key, 0) + 1
            return {
                "requests": len(self._requests),
                "messages": len(self._messages),
                "answered": answered,
            }


def _invalid(form: dict[str, str]) -> tuple[int, str] | None:
    """The Twilio error a create-message request earns, or None if it is acceptable."""
    to = form.get("To", "")
    if not to:
        return 21604, ERROR_MESSAGES[21604]
    if not DRAMA_NUMBER.match(to):
        return 21211, (
            f"The 'To' number {to} is not a valid phone number. (This stand-in accepts "
            "only Ofcom drama numbers, +447700900000 to +447700900999.)"
        )
    sender, service = form.get("From", ""), form.get("MessagingServiceSid", "")
    if not sender and not service:
        return 21603, ERROR_MESSAGES[21603]
    if service and not SERVICE_SID.match(service):
        return 21701, f"The Messaging Service Sid {service} is invalid."
    if sender and not DRAMA_NUMBER.match(sender):
        return 21606, ERROR_MESSAGES[21606]
    body = form.get("Body", "")
    if not body and not form.get("MediaUrl"):
        return 21602, ERROR_MESSAGES[21602]
    if len(body) > 1600:
        return 21617, ERROR_MESSAGES[21617]
    callback = form.get("StatusCallback")
    if callback is not None:
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.hostname or "_" in parts.hostname:
            return 21609, ERROR_MESSAGES[21609]
    return None


def _invalid_call(form: dict[str, str]) -> tuple[int, str] | None:
    """The Twilio error a create-call request earns, or None if it is acceptable."""
    to = form.get("To", "")
    if not to:
        return 21201, "No 'To' number is specified"
    if not DRAMA_CALLABLE.match(to):
        return 21211, (f"The 'To' number {to} is not a valid phone number. (This stand-in "
                       "calls only Ofcom drama numbers.)")
    if not DRAMA_NUMBER.match(form.get("From", "")):
        return 21210, "The source phone number provided is not yet verified for your account."
    if not form.get("Url") and not form.get("Twiml"):
        return 21205, "Url parameter is required."
    for name in ("Url", "StatusCallback"):
        value = form.get(name)
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                return 21205, f"Invalid {name}"
    return None


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _write(h: _Handler, answer: _Answer) -> None:
    assert answer.status is not None
    payload = json.dumps(answer.body).encode()
    try:
        h.send_response(answer.status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(payload)))
        h.send_header("Twilio-Request-Id", "RQ" + uuid.uuid4().hex)
        for name, value in answer.headers.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(payload)
    except (BrokenPipeError, ConnectionResetError):
        h.close_connection = True  # the client gave up waiting; Twilio would not notice


# The stand-in as its own process, for benchmarks.


class StandinProcess:
    """`python tests/support/twilio_standin.py` in a child process; a context manager."""

    def __init__(self, latency: float = 0.0, port: int = 0) -> None:
        self.latency = latency
        self.port = port
        self.account_sid = ACCOUNT_SID
        self.auth_token = AUTH_TOKEN
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self) -> StandinProcess:
        """Start it and wait until it listens."""
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()),
             "--latency-ms", str(self.latency * 1000), "--port", str(self.port)],
            stdout=subprocess.PIPE, text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the Twilio stand-in did not start (it printed {line!r})")
        self.base_url = line
        return self

    def stats(self) -> dict[str, Any]:
        """How many requests it received, messages it created, answers by status."""
        with urllib.request.urlopen(self.base_url + "/_standin/stats", timeout=5) as resp:
            return dict(json.load(resp))

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """App settings that send through this stand-in (override any key)."""
        return _settings(self.account_sid, self.auth_token, self.base_url, overrides)

    def stop(self) -> None:
        """Stop the child process."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> StandinProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or Ctrl-C; print the base address first."""
    parser = argparse.ArgumentParser(description="Local stand-in for Twilio's Messages API")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="added to every Messages request, e.g. 5")
    args = parser.parse_args(argv)
    standin = TwilioStandin(latency=args.latency_ms / 1000, port=args.port).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(standin.base_url, flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
