"""The phone simulator: text and ring the line from a web page, through the real signed webhooks.

Served only when no Twilio account is configured. Every request it makes to /sms or /voice
is built the way Twilio builds it and signed with the app's auth token, then dispatched
in-process, so signature validation and the webhooks run exactly as they do for Twilio.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import uuid
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from bot import config, phones
from bot.dev import simclock
from bot.lines import textline
from bot.masking import mask
from bot.outbound import dialler, scheduling, transport
from bot.store import keys
from bot.store.client import get_redis
from bot.web.clock import now
from bot.web.signatures import sign
from flows.directory import dial_form
from flows.gsm import cost

bp = Blueprint("simulator", __name__, url_prefix="/simulator")

DEFAULT_NUMBER = "+447700900123"
LINE_NUMBER = "+447700900000"  # the line itself, when no Twilio number is configured
LOCAL_ACCOUNT = "AC" + "0" * 32
API_VERSION = "2010-04-01"
# Ofcom's drama range: the only numbers the simulator will pretend to be.
DRAMA = re.compile(r"\+447700900\d{3}")
MAX_BODY = 1600
MAX_SPEECH = 500
CALL_TTL_SECONDS = 2 * 3600
MAX_REDIRECTS = 10  # per caller action; a loop of <Redirect>s would otherwise never end
DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed")
SIMULATED_TALK_SECONDS = 95
SIMULATED_MESSAGE_SECONDS = 14
# What a caller hears from Twilio when the app fails (error 11200/12100 and the like).
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
# Where Twilio reports a call's end: set on the phone number in Twilio's console, not in
# TwiML, so the simulator plays the number's part and posts there when the app has it.
CALL_STATUS_PATH = "/voice/status"


class SimulatorError(Exception):
    """A request the simulator cannot make or a reply it cannot play; shown to the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def register(app: Flask) -> None:
    """Serve the simulator only with no Twilio credentials at all (then real phones are used).

    It signs requests as Twilio with the app's token. That must be the local development
    one: with a real token, anyone who could reach the page could post as Twilio.
    """
    if not app.config.get("TWILIO_ACCOUNT_SID") and not app.config.get("TWILIO_AUTH_TOKEN"):
        app.register_blueprint(bp)


def drama_number(raw: str) -> str | None:
    """The E.164 form of `raw` if it is in Ofcom's drama range, else None."""
    number = phones.e164((raw or "").strip())
    return number if number and DRAMA.fullmatch(number) else None


def line_number() -> str:
    """The number callers and texters reach."""
    return str(current_app.config.get("TWILIO_FROM_NUMBER") or LINE_NUMBER)


def new_sid(prefix: str) -> str:
    """A Twilio-shaped identifier: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


# --- dispatching signed requests to this app -------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the app answered to one simulated Twilio request."""

    status: int
    body: str


def base_url() -> str:
    """The address Twilio would use for this app: PUBLIC_BASE_URL, else this request's host."""
    return str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def deliver(url: str, params: dict[str, str], method: str = "POST") -> Answer:
    """Make the request Twilio would make to `url` on this app, signed with the auth token."""
    base = base_url()
    if not url.startswith(base + "/"):
        raise SimulatorError(
            f"The line asked for {url}, which is not part of this app; "
            "the simulator only talks to this app."
        )
    split = urlsplit(url)
    path = url[len(base):].split("?", 1)[0].split("#", 1)[0]
    token = str(current_app.config["AUTH_TOKEN"])
    client = current_app.test_client()
    if method.upper() == "GET":
        # Twilio puts the parameters in the query string and signs the whole URL.
        query = "&".join(q for q in (split.query, urlencode(params)) if q)
        full = f"{base}{path}?{query}" if query else f"{base}{path}"
        headers = {"X-Twilio-Signature": sign(token, full, {})}
        response = client.get(path, query_string=query, base_url=base, headers=headers)
    else:
        headers = {"X-Twilio-Signature": sign(token, url.split("#", 1)[0], params)}
        response = client.post(
            path, query_string=split.query, data=params, base_url=base, headers=headers
        )
    return Answer(response.status_code, response.get_data(as_text=True))


# --- texts ----------------------------------------------------------------------------------


def text_line(number: str, body: str) -> dict[str, Any]:
    """Text the line as `number`; the replies with what each costs to send."""
    form = {
        "ToCountry": "GB",
        "SmsMessageSid": "",
        "NumMedia": "0",
        "SmsSid": "",
        "SmsStatus": "received",
        "Body": body,
        "To": line_number(),
        "NumSegments": str(max(cost(body).segments, 1)),
        "MessageSid": "",
        "AccountSid": LOCAL_ACCOUNT,
        "From": number,
        "FromCountry": "GB",
        "ApiVersion": API_VERSION,
    }
    sid = new_sid("SM")
    form["SmsMessageSid"] = form["SmsSid"] = form["MessageSid"] = sid
    answer = deliver(base_url() + "/sms", form)
    if answer.status != 200:
        raise SimulatorError(f"The text webhook answered {answer.status}.", 502)
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError as exc:
        raise SimulatorError("The text webhook did not answer with TwiML.", 502) from exc
    replies = []
    for message in root.iter("Message"):
        text = message.text or ""
        body_el = message.find("Body")
        if body_el is not None:
            text = body_el.text or ""
        replies.append(_priced(text))
    return {"sid": sid, "from": number, "sent": _priced(body), "replies": replies}


def _priced(text: str) -> dict[str, Any]:
    c = cost(text)
    return {"body": text, "segments": c.segments, "encoding": c.encoding, "units": c.units}


# --- calls ------------------------------------------------------------------------------------


@dataclass
class Call:
    """A simulated call: who is calling, and what the line is waiting for from them."""

    sid: str
    number: str
    to: str
    requests: int = 0
    waiting: dict[str, Any] | None = None
    rest: list[str] = field(default_factory=list)  # the verbs after the one waiting, as XML
    doc_url: str = ""
    ended: str = ""
    started_at: float = 0.0  # the app clock's timestamp when the call was answered
    direction: str = "inbound"  # "outbound-api": the line rang the simulator (a reminder)
    status_url: str = ""  # where its end is reported, for a call the line placed
    answered_by: str = ""  # what answered a call the line placed: human or machine_end_beep

    @staticmethod
    def key(sid: str) -> str:
        """The Redis key a call's state lives under."""
        return keys.simulator_call(sid)

    def save(self) -> None:
        """Store the call (it expires: a forgotten tab must not leave state forever)."""
        get_redis().set(self.key(self.sid), json.dumps(asdict(self)), ex=CALL_TTL_SECONDS)

    @classmethod
    def load(cls, sid: str) -> Call:
        """The call with this sid, or a SimulatorError if there is none."""
        if not re.fullmatch(r"CA[0-9a-f]{32}", sid or ""):
            raise SimulatorError("That is not a call.", 404)
        raw = get_redis().get(cls.key(sid))
        if not raw:
            raise SimulatorError("That call has ended or expired. Ring again.", 404)
        return cls(**json.loads(str(raw)))

    def params(self, status: str = "in-progress") -> dict[str, str]:
        """The parameters Twilio sends with every request about this call."""
        return {
            "AccountSid": LOCAL_ACCOUNT,
            "ApiVersion": API_VERSION,
            "CallSid": self.sid,
            "CallStatus": status,
            "Called": self.to,
            "Caller": self.number,
            "Direction": self.direction,
            "From": self.number,
            "FromCountry": "GB",
            "To": self.to,
            "ToCountry": "GB",
        }


@dataclass
class Turn:
    """What the caller heard and saw between two of their own actions."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, voice: str = "", language: str = "en-GB") -> None:
        """Something the line said."""
        self.events.append(
            {"kind": "say", "text": " ".join(text.split()), "voice": voice, "language": language}
        )

    def note(self, text: str) -> None:
        """Something that happened on the call that was not speech (a beep, a transfer)."""
        self.events.append({"kind": "note", "text": text})


def _attr(el: ET.Element, name: str, default: str = "") -> str:
    return el.get(name, default).strip()


def _lines_by_number() -> dict[str, str]:
    directory = textline.directory_for(dict(current_app.config))
    names: dict[str, str] = {}
    for line in directory.lines.values():
        number = dial_form(line.number) if line.number else None
        if number:
            names.setdefault(number, line.name)
    return names


def _dial_targets(dial: ET.Element) -> list[dict[str, str]]:
    names = _lines_by_number()
    raw: list[str] = []
    if (dial.text or "").strip():
        raw.append((dial.text or "").strip())
    for noun in dial:
        if noun.tag in ("Number", "Client", "Sip", "Queue", "Conference"):
            raw.append((noun.text or "").strip())
    # A number outside the directory is shown as such: the line must never dial one.
    return [{"number": n, "name": names.get(n, "not in the directory")} for n in raw if n]


def fetch(call: Call, url: str, params: dict[str, str], method: str = "POST") -> list[ET.Element]:
    """Request `url` as Twilio would for this call; the verbs of the TwiML it answered."""
    call.requests += 1
    call.doc_url = url
    answer = deliver(url, params, method)
    if answer.status != 200:
        raise _CallFailed(f"The voice webhook answered {answer.status}.")
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError as exc:
        raise _CallFailed("The voice webhook did not answer with TwiML.") from exc
    if root.tag != "Response":
        raise _CallFailed(f"The voice webhook answered <{root.tag}>, not <Response>.")
    return list(root)


class _CallFailed(Exception):
    """The app answered in a way Twilio would end the call over."""


def play(call: Call, verbs: list[ET.Element], turn: Turn, redirects: int = 0) -> None:
    """Carry out TwiML verbs as Twilio would, until the line waits for the caller or hangs up."""
    for i, verb in enumerate(verbs):
        rest = verbs[i + 1:]
        tag = verb.tag
        if tag == "Say":
            turn.say(verb.text or "", _attr(verb, "voice"), _attr(verb, "language", "en-GB"))
        elif tag == "Play":
            turn.note("A recording plays.")
        elif tag == "Pause":
            turn.note(f"A pause of {_attr(verb, 'length', '1')} seconds.")
        elif tag == "Gather":
            _wait_gather(call, verb, rest, turn)
            return
        elif tag == "Dial":
            _wait_dial(call, verb, rest, turn)
            return
        elif tag == "Record":
            _wait_record(call, verb, rest, turn)
            return
        elif tag == "Redirect":
            if redirects >= MAX_REDIRECTS:
                raise _CallFailed("The line redirected the call too many times in a row.")
            target = urljoin(call.doc_url, (verb.text or "").strip())
            verbs = fetch(call, target, call.params(), _attr(verb, "method", "POST"))
            play(call, verbs, turn, redirects + 1)
            return
        elif tag in ("Hangup", "Reject"):
            call.ended = "The line hung up."
            call.waiting = None
            return
        else:
            raise _CallFailed(f"The simulator cannot play <{tag}>.")
    # Twilio hangs up when a document runs out of verbs.
    call.ended = "The line hung up."
    call.waiting = None


def _keep_rest(call: Call, rest: list[ET.Element]) -> None:
    call.rest = [ET.tostring(v, encoding="unicode") for v in rest]


def _action(call: Call, verb: ET.Element) -> str:
    action = _attr(verb, "action")
    return urljoin(call.doc_url, action) if action else ""


def _wait_gather(call: Call, verb: ET.Element, rest: list[ET.Element], turn: Turn) -> None:
    for child in verb:
        if child.tag == "Say":
            turn.say(child.text or "", _attr(child, "voice"), _attr(child, "language", "en-GB"))
        elif child.tag == "Play":
            turn.note("A recording plays.")
    inputs = _attr(verb, "input", "dtmf").split()
    num_digits = _attr(verb, "numDigits")
    call.waiting = {
        "kind": "gather",
        # Twilio posts a Gather without an action back to the document it came from.
        "action": _action(call, verb) or call.doc_url,
        "method": _attr(verb, "method", "POST").upper(),
        "dtmf": "dtmf" in inputs,
        "speech": "speech" in inputs,
        "num_digits": int(num_digits) if num_digits.isdigit() else None,
        "finish_on_key": _attr(verb, "finishOnKey", "#"),
        "timeout": _attr(verb, "timeout", "5"),
        "hints": _attr(verb, "hints"),
        "language": _attr(verb, "language", "en-US"),
        "action_on_empty": _attr(verb, "actionOnEmptyResult") == "true",
    }
    _keep_rest(call, rest)


def _wait_dial(call: Call, verb: ET.Element, rest: list[ET.Element], turn: Turn) -> None:
    targets = _dial_targets(verb)
    names = ", ".join(t["name"] or t["number"] for t in targets) or "nobody"
    turn.note(f"Putting you through to {names}.")
    call.waiting = {
        "kind": "dial",
        "action": _action(call, verb),
        "method": _attr(verb, "method", "POST").upper(),
        "targets": targets,
        "caller_id": _attr(verb, "callerId"),
        "timeout": _attr(verb, "timeout", "30"),
    }
    _keep_rest(call, rest)


def _wait_record(call: Call, verb: ET.Element, rest: list[ET.Element], turn: Turn) -> None:
    turn.note("Beep. The line is recording.")
    callback = _attr(verb, "recordingStatusCallback")
    call.waiting = {
        "kind": "record",
        # Twilio posts a Record without an action back to the document it came from.
        "action": _action(call, verb) or call.doc_url,
        "method": _attr(verb, "method", "POST").upper(),
        "max_length": _attr(verb, "maxLength", "3600"),
        "finish_on_key": _attr(verb, "finishOnKey", "1234567890*#"),
        "callback": urljoin(call.doc_url, callback) if callback else "",
        "callback_method": _attr(verb, "recordingStatusCallbackMethod", "POST").upper(),
        "callback_events": _attr(verb, "recordingStatusCallbackEvent", "completed").split(),
    }
    _keep_rest(call, rest)


def _continue(call: Call, turn: Turn) -> None:
    """Twilio carries on with the verbs after the one that was waiting."""
    verbs = [ET.fromstring(v) for v in call.rest]
    call.waiting, call.rest = None, []
    play(call, verbs, turn)


def _recording_url(sid: str) -> str:
    return f"{base_url()}/simulator/recordings/{sid}"


def answer_input(call: Call, data: dict[str, Any], turn: Turn) -> None:
    """Apply one thing the caller did (a key, words, silence, a dial outcome, a message)."""
    waiting = call.waiting or {}
    kind = waiting.get("kind")
    if data.get("hangup"):
        if kind == "record" and data.get("message"):
            _leave_message(call, waiting, "hangup")
        call.ended, call.waiting = "You hung up.", None
        return
    if kind == "gather":
        _answer_gather(call, waiting, data, turn)
    elif kind == "dial":
        outcome = str(data.get("dial_status", ""))
        if outcome not in DIAL_OUTCOMES:
            raise SimulatorError("Choose whether the call was answered.")
        turn.note(
            "The call you were put through to has ended."
            if outcome == "completed"
            else f"Nobody took the call ({outcome.replace('-', ' ')})."
        )
        if not waiting.get("action"):
            _continue(call, turn)
            return
        params = call.params() | {
            "DialCallStatus": outcome,
            "DialCallSid": new_sid("CA"),
            "DialCallDuration": str(SIMULATED_TALK_SECONDS if outcome == "completed" else 0),
        }
        play(call, fetch(call, waiting["action"], params, waiting["method"]), turn)
    elif kind == "record":
        if data.get("silence"):
            # Nothing recorded: Twilio skips the action and carries on with the next verb.
            turn.events.append({"kind": "you", "text": "You said nothing."})
            _recording_status(call, waiting, new_sid("RE"), "absent", "0")
            _continue(call, turn)
            return
        if not data.get("message"):
            raise SimulatorError("Leave a message, stay silent or hang up.")
        verbs = _leave_message(call, waiting, "#")
        play(call, verbs, turn)
    else:
        raise SimulatorError("The line is not waiting for you at the moment.", 409)


def _answer_gather(call: Call, waiting: dict[str, Any], data: dict[str, Any], turn: Turn) -> None:
    params = call.params()
    if "digits" in data:
        digits = str(data["digits"])
        if not waiting["dtmf"]:
            raise SimulatorError("The line is listening for words, not keys.")
        if not re.fullmatch(r"[0-9*#]{1,20}", digits):
            raise SimulatorError("Keys are 0 to 9, * and #.")
        params["Digits"] = digits
        turn.events.append({"kind": "you", "text": f"You pressed {' '.join(digits)}."})
    elif "speech" in data:
        words = " ".join(str(data["speech"]).split())[:MAX_SPEECH]
        if not waiting["speech"]:
            raise SimulatorError("The line is waiting for a key press, not words.")
        if not words:
            raise SimulatorError("Type what you would say.")
        params |= {"SpeechResult": words, "Confidence": "0.91"}
        turn.events.append({"kind": "you", "text": f"You said: {words}"})
    elif data.get("silence"):
        turn.events.append({"kind": "you", "text": "You said nothing."})
        if not waiting["action_on_empty"]:
            # A Gather that times out with no input falls through to the next verb.
            _continue(call, turn)
            return
    else:
        raise SimulatorError("Press a key, say something or stay silent.")
    play(call, fetch(call, waiting["action"], params, waiting["method"]), turn)


def _leave_message(call: Call, waiting: dict[str, Any], digits: str) -> list[ET.Element]:
    """Post the recording to the action (and its status callback) as Twilio does."""
    sid = new_sid("RE")
    url = _recording_url(sid)
    duration = str(SIMULATED_MESSAGE_SECONDS)
    params = call.params("completed" if digits == "hangup" else "in-progress") | {
        "RecordingUrl": url,
        "RecordingSid": sid,
        "RecordingDuration": duration,
        "Digits": digits,
    }
    verbs = fetch(call, waiting["action"], params, waiting["method"])
    _recording_status(call, waiting, sid, "completed", duration)
    return verbs


def _recording_status(
    call: Call, waiting: dict[str, Any], sid: str, status: str, duration: str
) -> None:
    """Post the recording status callback, for the events the <Record> asked about."""
    if not waiting.get("callback") or status not in waiting.get("callback_events", []):
        return
    form = {
        "AccountSid": LOCAL_ACCOUNT,
        "CallSid": call.sid,
        "RecordingSid": sid,
        "RecordingUrl": _recording_url(sid),
        "RecordingStatus": status,
        "RecordingDuration": duration,
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
        "RecordingStartTime": _now().strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "ErrorCode": "0",
    }
    answer = deliver(waiting["callback"], form, waiting["callback_method"])
    if answer.status >= 300:
        raise _CallFailed(f"The recording status callback answered {answer.status}.")


def _now() -> datetime:
    return now().astimezone(UTC)


def _report_end(call: Call) -> str:
    """Post the call status callback Twilio sends when a call ends; any problem, in words."""
    target = call.status_url or (base_url() + CALL_STATUS_PATH)
    if not call.status_url and not _has_route(CALL_STATUS_PATH):
        return ""
    seconds = max(0, round(_now().timestamp() - call.started_at)) if call.started_at else 0
    form = call.params("completed") | ({"AnsweredBy": call.answered_by}
                                       if call.answered_by else {}) | {
        "CallDuration": str(seconds),
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "0",
        "Timestamp": _now().strftime("%a, %d %b %Y %H:%M:%S +0000"),
    }
    # The call is over for the caller whatever the app answers; a failure is only noted.
    answer = deliver(target, form)
    return f"The call status callback answered {answer.status}." if answer.status >= 300 else ""


def _has_route(path: str) -> bool:
    adapter = current_app.url_map.bind("localhost")
    return bool(adapter.test(path, method="POST"))


def view(call: Call, turn: Turn) -> dict[str, Any]:
    """The JSON the page shows for a call after one step."""
    waiting = dict(call.waiting or {})
    for internal in ("action", "method", "callback", "callback_method"):
        waiting.pop(internal, None)
    return {
        "call": call.sid,
        "from": call.number,
        "events": turn.events,
        "waiting": waiting or None,
        "ended": call.ended or None,
    }


def step(call: Call, act: Callable[[Call, Turn], None]) -> dict[str, Any]:
    """Run one step of a call; a broken answer ends it the way Twilio would."""
    turn = Turn()
    try:
        act(call, turn)
    except _CallFailed as exc:
        turn.say(APPLICATION_ERROR)
        turn.note(str(exc))
        call.ended, call.waiting = "The line hung up after an application error.", None
    if call.ended:
        get_redis().delete(Call.key(call.sid))
        problem = _report_end(call)
        if problem:
            turn.note(problem)
    else:
        call.save()
    return view(call, turn)


# --- the page and its JSON endpoints ---------------------------------------------------------


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise SimulatorError("Send JSON.")
    return data


def _number(data: dict[str, Any]) -> str:
    number = drama_number(str(data.get("from") or ""))
    if not number:
        raise SimulatorError(
            "Use a number from Ofcom's drama range, 07700 900000 to 07700 900999, "
            "so no real person can ever be contacted."
        )
    return number


@bp.before_request
def _check_csrf() -> None:
    # The endpoints sign requests as Twilio, so another site must not be able to drive them.
    if request.method == "POST":
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except ValidationError as exc:
            raise CSRFError(str(exc)) from exc


@bp.errorhandler(SimulatorError)
def _simulator_error(exc: SimulatorError) -> tuple[Response, int]:
    return jsonify(error=exc.message), exc.status


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError) -> tuple[Response, int]:
    return jsonify(error="This page has expired. Reload it and try again."), 400


@bp.get("/")
def page() -> str:
    """The simulator: a phone for texts, a keypad for calls, and the outbox."""
    return render_template(
        "simulator/index.html",
        default_number=DEFAULT_NUMBER,
        line=line_number(),
        csrf=generate_csrf(),
    )


@bp.post("/text")
def send_text() -> Response:
    """Text the line from a drama number; its replies with their segment counts."""
    data = _json_body()
    number = _number(data)
    body = str(data.get("body") or "")
    if not body.strip():
        raise SimulatorError("Type a message first.")
    if len(body) > MAX_BODY:
        raise SimulatorError(f"A text can be at most {MAX_BODY} characters.")
    return jsonify(text_line(number, body))


@bp.post("/call")
def start_call() -> Response:
    """Ring the line from a drama number."""
    number = _number(_json_body())
    call = Call(new_sid("CA"), number, line_number(), started_at=_now().timestamp())

    def ring(call: Call, turn: Turn) -> None:
        play(call, fetch(call, base_url() + "/voice", call.params("ringing")), turn)

    return jsonify(step(call, ring))


@bp.post("/call/<sid>")
def call_input(sid: str) -> Response:
    """Do one thing on a call: press keys, speak, stay silent, end a transfer, leave a message."""
    data = _json_body()
    call = Call.load(sid)
    return jsonify(step(call, lambda c, t: answer_input(c, data, t)))


# --- calls the line places (reminder calls) ---------------------------------------------------

PICK_UP = {"person": "human", "machine": "machine_end_beep"}
RING_OUT = {"no-answer": "Nobody answered.", "busy": "The phone was busy."}


def _absolute(url: str) -> str:
    """A URL the worker wrote without PUBLIC_BASE_URL, on this app."""
    return base_url() + url if url.startswith("/") else url


@bp.get("/ringing")
def ringing() -> Response:
    """Reminder calls the line has placed to the simulator's phone, still ringing."""
    shown = [{"sid": c.get("sid", ""), "to": c.get("to", ""), "at": c.get("at", "")}
             for c in dialler.ringing(get_redis())
             if DRAMA.fullmatch(str(c.get("to", ""))) or phones.is_drama_landline(
                 str(c.get("to", "")))]
    return jsonify(calls=shown)


@bp.post("/ringing/<sid>")
def pick_up(sid: str) -> Response:
    """Answer a ringing reminder call as a person or a machine, or let it ring out."""
    how = str(_json_body().get("as") or "")
    if how not in PICK_UP and how not in RING_OUT:
        raise SimulatorError("Answer as a person or a machine, or let it ring out.")
    entry = dialler.picked_up(get_redis(), sid)
    if entry is None:
        raise SimulatorError("That call has stopped ringing.", 404)
    status_url = _absolute(str(entry.get("status_callback", "")))
    call = Call(str(entry["sid"]), str(entry.get("from") or line_number()), str(entry["to"]),
                started_at=_now().timestamp(), direction="outbound-api",
                status_url=status_url, answered_by=PICK_UP.get(how, ""))
    if how in RING_OUT:
        if not call.number.startswith("+"):
            call.number = line_number()
        answer = deliver(status_url, call.params(how) | {"CallDuration": "0"})
        note = "" if answer.status < 300 else f" The status callback answered {answer.status}."
        return jsonify(call=call.sid, events=[{"kind": "note", "text": RING_OUT[how] + note}],
                       waiting=None, ended=RING_OUT[how])
    if not call.number.startswith("+"):
        call.number = line_number()
    url = _absolute(str(entry["url"]))

    def answered(call: Call, turn: Turn) -> None:
        turn.note("You picked up." if how == "person" else "The answering machine picked up.")
        play(call, fetch(call, url, call.params() | {"AnsweredBy": call.answered_by}), turn)

    return jsonify(step(call, answered))


@bp.get("/outbox")
def outbox() -> Response:
    """What the worker has "sent" with no Twilio account, newest first."""
    shown = []
    for item in transport.outbox(get_redis(), limit=50):
        to = str(item.get("to", ""))
        test_number = bool(DRAMA.fullmatch(to))
        # This page has no login: a number outside the drama range may be a real patient's.
        shown.append(
            {
                "sid": item.get("sid", ""),
                "to": to if test_number else mask(to),
                "body": item.get("body", "") if test_number else "",
                "hidden": not test_number,
                "at": item.get("at", ""),
                "segments": item.get("segments"),
                "status": item.get("status", ""),
            }
        )
    return jsonify(messages=shown)


@bp.get("/clock")
def clock_state() -> Response:
    """The simulated time the line, the console and the worker all keep."""
    return jsonify(_clock_state(queued=0))


@bp.post("/clock")
def move_clock() -> Response:
    """Move the simulated time ahead ("+1 day", "Monday 11:00") or back to the real time.

    Reminders due in the time jumped over are queued at once; the worker then sends
    them, or lets them expire, as it would have.
    """
    settings = current_app.config
    clock: simclock.Clock = settings["CLOCK"]  # create_app gives this stack one
    current = _now()
    real = clock.base()
    try:
        when = simclock.target(str(_json_body().get("to") or ""), current, _tz())
    except simclock.ClockError as exc:
        raise SimulatorError(str(exc)) from None
    if when is not None and when < current - timedelta(minutes=1):
        raise SimulatorError(
            "The simulated clock only goes forward. Choose 'Real time' to go back to now."
        )
    simclock.set_offset(settings, max(timedelta(0), when - real) if when else timedelta(0))
    queued = simclock.catch_up(scheduling.queue(get_redis()), _now()) if when else 0
    return jsonify(_clock_state(queued))


def _tz() -> ZoneInfo:
    return config.clinic_tz(current_app.config)


def _clock_state(queued: int) -> dict[str, Any]:
    ahead = simclock.offset(current_app.config)
    local = _now().astimezone(_tz())
    return {
        "now": local.isoformat(),
        "label": f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}",
        "ahead": _ahead_words(ahead),
        "simulated": ahead > timedelta(0),
        "queued": queued,
    }


def _ahead_words(ahead: timedelta) -> str:
    """'2 days 3 hours ahead of the real time', or 'the real time'."""
    minutes = round(ahead.total_seconds() / 60)
    if minutes <= 0:
        return "the real time"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n} {unit}{'' if n == 1 else 's'}"
             for n, unit in ((days, "day"), (hours, "hour"), (mins, "minute")) if n]
    return " ".join(parts) + " ahead of the real time"


@bp.get("/recordings/<name>")
def recording(name: str) -> Response:
    """A stand-in for a voicemail recording: a short tone, as WAV (also for .mp3 and .wav)."""
    if not re.fullmatch(r"RE[0-9a-f]{32}(\.wav|\.mp3)?", name):
        abort(404)
    return Response(_tone(), mimetype="audio/wav")


def _tone(seconds: float = 1.0, rate: int = 8000, hz: float = 440.0) -> bytes:
    """A quiet sine tone: enough to show the recording plays, without a real voice."""
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * hz * i / rate)))
        for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()
