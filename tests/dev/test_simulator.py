"""The phone simulator's endpoints: texts and calls through the real signed webhooks."""

from __future__ import annotations

import re
import wave
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any

import pytest
import redis
from flask import Blueprint, Flask, Response, request
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from bot.dev import simulator
from bot.outbound import scheduling
from bot.outbound.transport import OutboxTransport
from bot.store import calls, records
from bot.store.conversations import key as conversation_key
from bot.web.signatures import sign, twilio_signed
from flows.gsm import cost
from tests.support.base import PATIENT, PUBLIC_BASE_URL, TOKEN

OTHER = "+447700900456"  # a second drama number
TEMPERATURE = "temp 38.5 and shivery"


def csrf_token(client: FlaskClient) -> str:
    """The token the simulator page hands its script."""
    page = client.get("/simulator/")
    assert page.status_code == 200
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert found
    return found.group(1)


class Sim:
    """The simulator page's side of the conversation: JSON posts with the page's token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = csrf_token(client)

    def post(self, path: str, data: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.client.post(
            f"/simulator/{path}", json=data, headers={"X-CSRFToken": self.token}
        )
        assert response.status_code == status, response.get_data(as_text=True)
        body = response.get_json()
        assert isinstance(body, dict)
        return body

    def text(self, body: str, number: str = PATIENT, status: int = 200) -> dict[str, Any]:
        return self.post("text", {"from": number, "body": body}, status)

    def ring(self, number: str = PATIENT, status: int = 200) -> dict[str, Any]:
        return self.post("call", {"from": number}, status)

    def act(self, call: dict[str, Any], status: int = 200, **data: Any) -> dict[str, Any]:
        return self.post(f"call/{call['call']}", data, status)


@pytest.fixture
def sim(app: Flask) -> Sim:
    return Sim(app.test_client())


# --- where the simulator is served ---------------------------------------------------------


def test_the_page_is_served_without_a_twilio_account(app: Flask) -> None:
    page = app.test_client().get("/simulator/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Phone simulator" in html
    assert 'value="+447700900123"' in html
    assert 'aria-live="polite"' in html


def test_there_is_no_simulator_when_a_twilio_account_is_configured(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app(
        TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_FROM_NUMBER="+447700900001",
    ).test_client()
    assert client.get("/simulator/").status_code == 404
    assert client.post("/simulator/text", json={"from": PATIENT, "body": "hi"}).status_code == 404


def test_there_is_no_simulator_with_a_real_auth_token_even_without_an_account(
    make_app: Callable[..., Flask],
) -> None:
    # A text-line-only deployment needs just the token; the simulator would sign with it.
    client = make_app(TWILIO_AUTH_TOKEN="a-real-twilio-auth-token").test_client()
    assert client.get("/simulator/").status_code == 404
    assert client.post("/simulator/text", json={"from": PATIENT, "body": "hi"}).status_code == 404


# --- texts ------------------------------------------------------------------------------


def test_a_text_gets_the_bots_reply_with_its_segment_count(sim: Sim) -> None:
    result = sim.text("can i eat before my ct")
    assert result["from"] == PATIENT
    assert result["sent"]["body"] == "can i eat before my ct"
    [reply] = result["replies"]
    assert "CT scan" in reply["body"] and "4 hours" in reply["body"]
    price = cost(reply["body"])
    assert (reply["segments"], reply["encoding"]) == (price.segments, price.encoding)
    assert reply["encoding"] == "GSM-7"


def test_a_red_flag_text_gets_urgent_advice_and_raises_an_alert(
    sim: Sim, r: redis.Redis
) -> None:
    [reply] = sim.text(TEMPERATURE)["replies"]
    assert reply["body"].startswith("Call the 24-hour number")
    [alert] = records.open_alerts(r)
    assert (alert.number, alert.level, alert.text) == (PATIENT, "urgent", TEMPERATURE)


def test_texts_carry_on_one_conversation_per_number(sim: Sim, r: redis.Redis) -> None:
    [menu] = sim.text("hi")["replies"]
    assert "1 Tests and scans" in menu["body"]
    [tests] = sim.text("1")["replies"]
    assert "CT" in tests["body"]
    # Another number starts afresh: "1" means nothing to a conversation not at the menu.
    sim.text("hi", number=OTHER)
    assert r.exists(conversation_key(PATIENT)) and r.exists(conversation_key(OTHER))
    assert [m["direction"] for m in records.history(r, PATIENT)] == ["in", "out", "in", "out"]


def test_the_number_may_be_written_as_a_uk_mobile(sim: Sim) -> None:
    assert sim.text("hi", number="07700 900123")["from"] == PATIENT


@pytest.mark.parametrize(
    # None of these can reach anyone: too long, too short, the emergency number, nonsense.
    "number", ["+4477009001234", "+44770090012", "999", "", "not a number"]
)
def test_only_drama_numbers_can_text(sim: Sim, r: redis.Redis, number: str) -> None:
    # Nothing is sent: the request fails before any webhook is called.
    error = sim.text("hi", number=number, status=400)["error"]
    assert "drama range" in error
    assert r.dbsize() == 0


def test_an_empty_text_is_refused_with_a_clear_message(sim: Sim, r: redis.Redis) -> None:
    assert sim.text("   ", status=400)["error"] == "Type a message first."
    assert r.dbsize() == 0


def test_posts_without_the_pages_token_are_refused(app: Flask, r: redis.Redis) -> None:
    client = app.test_client()
    client.get("/simulator/")
    response = client.post("/simulator/text", json={"from": PATIENT, "body": TEMPERATURE})
    assert response.status_code == 400
    assert "expired" in response.get_json()["error"]
    forged = client.post(
        "/simulator/text", json={"from": PATIENT, "body": TEMPERATURE},
        headers={"X-CSRFToken": "forged"},
    )
    assert forged.status_code == 400
    assert records.open_alerts(r) == []


# --- signing: the webhook's own validation decides ---------------------------------------------


def test_texts_are_signed_as_twilio_signs_them_for_the_public_url(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str, dict[str, str], str]] = []

    def spy(token: str, url: str, form: dict[str, str]) -> str:
        signature = sign(token, url, form)
        seen.append((token, url, dict(form), signature))
        return signature

    monkeypatch.setattr(simulator, "sign", spy)
    sim.text("hi")
    [(token, url, form, signature)] = seen
    assert token == TOKEN
    assert url == f"{PUBLIC_BASE_URL}/sms"
    assert form["From"] == PATIENT and form["Body"] == "hi"
    assert re.fullmatch(r"SM[0-9a-f]{32}", form["MessageSid"])
    assert RequestValidator(TOKEN).validate(url, form, signature)


def test_a_tampered_token_is_refused_by_the_webhook(
    sim: Sim, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    def tampered(token: str, url: str, form: dict[str, str]) -> str:
        return sign(token + "x", url, form)

    monkeypatch.setattr(simulator, "sign", tampered)
    result = sim.text(TEMPERATURE, status=502)
    assert result["error"] == "The text webhook answered 403."
    assert records.open_alerts(r) == []
    assert not r.exists(conversation_key(PATIENT))


def test_without_a_public_url_the_request_address_is_signed(
    make_app: Callable[..., Flask], r: redis.Redis
) -> None:
    app = make_app(PUBLIC_BASE_URL="")
    sim = Sim(app.test_client())
    [reply] = sim.text(TEMPERATURE)["replies"]
    assert reply["body"].startswith("Call the 24-hour number")
    assert len(records.open_alerts(r)) == 1


# --- the outbox --------------------------------------------------------------------------------


def test_the_outbox_shows_what_was_sent_newest_first(sim: Sim, r: redis.Redis) -> None:
    assert sim.client.get("/simulator/outbox").get_json() == {"messages": []}
    outbox = OutboxTransport(r)
    first = outbox.send(PATIENT, "Reminder: your scan is tomorrow at 10am.", None)
    second = outbox.send(OTHER, "Your appointment has moved.", None)
    shown = sim.client.get("/simulator/outbox").get_json()["messages"]
    assert [m["sid"] for m in shown] == [second.sid, first.sid]
    assert shown[1]["to"] == PATIENT
    assert shown[1]["body"] == "Reminder: your scan is tomorrow at 10am."
    assert shown[1]["segments"] == 1
    assert shown[1]["hidden"] is False


def test_the_outbox_hides_texts_to_numbers_outside_the_drama_range(
    sim: Sim, r: redis.Redis
) -> None:
    # Not a dialable number (13 digits), so no real person either; it stands for a real
    # patient's number imported into a trial run without a Twilio account.
    OutboxTransport(r).send("+4477009001234", "Reminder for someone real.", None)
    [shown] = sim.client.get("/simulator/outbox").get_json()["messages"]
    assert shown["hidden"] is True
    assert shown["body"] == ""
    assert shown["to"] != "+4477009001234" and shown["to"].endswith("234")
    assert "Reminder" not in sim.client.get("/simulator/outbox").get_data(as_text=True)


# --- the TwiML player, against a line built for the test ---------------------------------------
#
# These check how the simulator carries out each verb as Twilio does; the real phone line is
# walked in the tests further down. The test line validates signatures like every webhook.

fake_line = Blueprint("fake_line", __name__, url_prefix="/fake")
heard: list[dict[str, str]] = []


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


@fake_line.route("/start", methods=["POST", "GET"])
@twilio_signed
def fake_start() -> Response:
    heard.append({"path": "start", **request.values.to_dict()})
    vr = VoiceResponse()
    vr.say("Welcome to the test line.", voice="Polly.Amy", language="en-GB")
    vr.redirect("/fake/menu?step=1")
    return _twiml(vr)


@fake_line.post("/menu")
@twilio_signed
def fake_menu() -> Response:
    heard.append({"path": "menu", **request.values.to_dict()})
    vr = VoiceResponse()
    gather = Gather(input="dtmf speech", num_digits=1, action="/fake/choice", language="en-GB")
    gather.say("Press 1 for a nurse, 2 to leave a message, or say what you need.")
    vr.append(gather)
    vr.say("We did not hear anything.")
    vr.redirect("/fake/menu?step=2", method="GET")
    return _twiml(vr)


@fake_line.get("/menu")
@twilio_signed
def fake_menu_get() -> Response:
    heard.append({"path": "menu-get", **request.values.to_dict()})
    vr = VoiceResponse()
    vr.say("Goodbye.")
    vr.hangup()
    return _twiml(vr)


@fake_line.post("/choice")
@twilio_signed
def fake_choice() -> Response:
    heard.append({"path": "choice", **request.values.to_dict()})
    vr = VoiceResponse()
    digits = request.form.get("Digits", "")
    if digits == "1":
        dial = Dial(action="/fake/after-dial", caller_id="+447700900000", timeout=20)
        dial.number("+447700900777")
        vr.append(dial)
    elif digits == "2":
        vr.say("Leave a message after the tone.")
        vr.record(action="/fake/recorded", max_length=120,
                  recording_status_callback="/fake/recording-status")
        vr.say("We did not get a message.")
    elif digits == "3":
        vr.redirect("https://elsewhere.example.com/next")
    elif digits == "4":
        return Response("oops", status=500)
    else:
        vr.say(f"You said {request.form.get('SpeechResult', 'nothing')}.")
    return _twiml(vr)


@fake_line.post("/after-dial")
@twilio_signed
def fake_after_dial() -> Response:
    heard.append({"path": "after-dial", **request.form.to_dict()})
    vr = VoiceResponse()
    vr.say(f"The nurse line was {request.form.get('DialCallStatus', '')}.")
    vr.hangup()
    return _twiml(vr)


@fake_line.post("/recorded")
@twilio_signed
def fake_recorded() -> Response:
    heard.append({"path": "recorded", **request.form.to_dict()})
    vr = VoiceResponse()
    vr.say("Thank you for your message.")
    return _twiml(vr)


@fake_line.post("/recording-status")
@twilio_signed
def fake_recording_status() -> Response:
    heard.append({"path": "recording-status", **request.form.to_dict()})
    return Response("", status=204)


@pytest.fixture
def line_app(app: Flask) -> Iterator[Flask]:
    app.register_blueprint(fake_line)
    heard.clear()
    yield app
    heard.clear()


def ring_fake(app: Flask, client: FlaskClient, number: str = PATIENT) -> dict[str, Any]:
    """Start a call at the test line instead of /voice, as the simulator's Call button does."""
    with app.test_request_context("/simulator/call", base_url=PUBLIC_BASE_URL):
        call = simulator.Call(simulator.new_sid("CA"), number, simulator.LINE_NUMBER)

        def ring(c: simulator.Call, t: simulator.Turn) -> None:
            verbs = simulator.fetch(c, f"{PUBLIC_BASE_URL}/fake/start", c.params("ringing"))
            simulator.play(c, verbs, t)

        return simulator.step(call, ring)


def said(result: dict[str, Any]) -> list[str]:
    return [e["text"] for e in result["events"] if e["kind"] == "say"]


def test_player_follows_redirects_and_waits_at_a_gather(line_app: Flask) -> None:
    result = ring_fake(line_app, line_app.test_client())
    assert said(result) == [
        "Welcome to the test line.",
        "Press 1 for a nurse, 2 to leave a message, or say what you need.",
    ]
    assert result["events"][0]["voice"] == "Polly.Amy"
    assert result["events"][0]["language"] == "en-GB"
    assert result["waiting"] == {
        "kind": "gather", "dtmf": True, "speech": True, "num_digits": 1, "finish_on_key": "#",
        "timeout": "5", "hints": "", "language": "en-GB", "action_on_empty": False,
    }
    assert result["ended"] is None
    assert [h["path"] for h in heard] == ["start", "menu"]
    assert heard[0]["CallStatus"] == "ringing" and heard[1]["CallStatus"] == "in-progress"
    assert heard[0]["CallSid"] == heard[1]["CallSid"] == result["call"]
    assert heard[0]["From"] == PATIENT and heard[0]["Direction"] == "inbound"


def test_player_posts_speech_to_the_gather_action(line_app: Flask, sim: Sim) -> None:
    call = ring_fake(line_app, sim.client)
    result = sim.act(call, speech="  I need   a nurse ")
    assert said(result) == ["You said I need a nurse."]
    assert result["events"][0] == {"kind": "you", "text": "You said: I need a nurse"}
    assert heard[-1]["SpeechResult"] == "I need a nurse"
    assert result["ended"] == "The line hung up."  # the document ran out of verbs


def test_silence_at_a_gather_carries_on_with_the_next_verbs(line_app: Flask, sim: Sim) -> None:
    call = ring_fake(line_app, sim.client)
    result = sim.act(call, silence=True)
    # The verbs after the Gather: a Say, then a GET redirect signed over its query string.
    assert said(result) == ["We did not hear anything.", "Goodbye."]
    assert heard[-1]["path"] == "menu-get" and heard[-1]["step"] == "2"
    assert result["ended"] == "The line hung up."


def test_a_dial_shows_who_and_posts_the_outcome(line_app: Flask, sim: Sim) -> None:
    call = ring_fake(line_app, sim.client)
    result = sim.act(call, digits="1")
    assert result["waiting"]["kind"] == "dial"
    assert result["waiting"]["targets"] == [
        {"number": "+447700900777", "name": "not in the directory"}
    ]
    assert result["waiting"]["caller_id"] == "+447700900000"
    assert heard[-1]["Digits"] == "1"
    done = sim.act(call, dial_status="no-answer")
    assert said(done) == ["The nurse line was no-answer."]
    assert heard[-1]["DialCallStatus"] == "no-answer"
    assert heard[-1]["DialCallDuration"] == "0"
    assert done["ended"] == "The line hung up."
    # The call is over: nothing more can be done on it.
    assert "ended" in sim.act(call, digits="1", status=404)["error"]


def test_a_left_message_posts_the_recording_and_its_status_callback(
    line_app: Flask, sim: Sim
) -> None:
    call = ring_fake(line_app, sim.client)
    waiting = sim.act(call, digits="2")
    assert said(waiting) == ["Leave a message after the tone."]
    assert waiting["waiting"]["kind"] == "record"
    assert waiting["waiting"]["max_length"] == "120"
    result = sim.act(call, message=True)
    assert said(result) == ["Thank you for your message."]
    recorded, status = heard[-2], heard[-1]
    assert recorded["path"] == "recorded" and status["path"] == "recording-status"
    url = recorded["RecordingUrl"]
    assert url.startswith(f"{PUBLIC_BASE_URL}/simulator/recordings/RE")
    assert recorded["Digits"] == "#"
    assert status["RecordingUrl"] == url and status["RecordingStatus"] == "completed"
    assert status["CallSid"] == call["call"]
    # The fake recording can be played.
    audio = sim.client.get(url.removeprefix(PUBLIC_BASE_URL) + ".mp3")
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    with wave.open(BytesIO(audio.get_data())) as w:
        assert w.getnframes() > 0


def test_hanging_up_after_a_message_posts_it_with_digits_hangup(
    line_app: Flask, sim: Sim
) -> None:
    call = ring_fake(line_app, sim.client)
    sim.act(call, digits="2")
    result = sim.act(call, message=True, hangup=True)
    assert result["ended"] == "You hung up."
    assert heard[-2]["Digits"] == "hangup" and heard[-1]["path"] == "recording-status"


def test_silence_while_recording_skips_the_action(line_app: Flask, sim: Sim) -> None:
    call = ring_fake(line_app, sim.client)
    sim.act(call, digits="2")
    result = sim.act(call, silence=True)
    assert said(result) == ["We did not get a message."]
    assert heard[-1]["path"] == "choice"


def test_the_player_never_leaves_this_app(line_app: Flask, sim: Sim) -> None:
    call = ring_fake(line_app, sim.client)
    result = sim.act(call, digits="3", status=400)
    assert "not part of this app" in result["error"]


def test_a_broken_answer_ends_the_call_as_twilio_would(line_app: Flask, sim: Sim) -> None:
    call = ring_fake(line_app, sim.client)
    result = sim.act(call, digits="4")
    assert said(result) == [simulator.APPLICATION_ERROR]
    assert {"kind": "note", "text": "The voice webhook answered 500."} in result["events"]
    assert result["ended"]


def test_input_the_line_is_not_waiting_for_is_refused(line_app: Flask, sim: Sim) -> None:
    call = ring_fake(line_app, sim.client)
    assert sim.act(call, digits="12a", status=400)["error"] == "Keys are 0 to 9, * and #."
    assert sim.act(call, dial_status="completed", status=400)["error"]
    assert "Press a key" in sim.act(call, status=400)["error"]
    # Still waiting at the same menu.
    assert said(sim.act(call, speech="hello")) == ["You said hello."]


def test_calls_are_signed_and_a_tampered_token_is_refused(
    line_app: Flask, sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator, "sign", lambda token, url, form: sign(token[::-1], url, form))
    result = ring_fake(line_app, sim.client)
    assert {"kind": "note", "text": "The voice webhook answered 403."} in result["events"]
    assert result["ended"] and heard == []


def test_unknown_calls_are_refused(sim: Sim) -> None:
    assert sim.post("call/CA" + "0" * 32, {"digits": "1"}, status=404)["error"]
    assert sim.post("call/nonsense", {"digits": "1"}, status=404)["error"]


def test_only_drama_numbers_can_ring(sim: Sim, r: redis.Redis) -> None:
    assert "drama range" in sim.ring(number="999", status=400)["error"]
    assert r.dbsize() == 0


# --- the real phone line ------------------------------------------------------------------------


def walk(sim: Sim, *steps: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ring the line and take each step; (the call, the last step's result)."""
    call = result = sim.ring()
    for data in steps:
        assert not result["ended"], result
        result = sim.act(call, **data)
    return call, result


def test_ringing_the_line_hears_the_welcome_and_the_menu(sim: Sim) -> None:
    call = sim.ring()
    first = said(call)[0]
    assert "If you are very unwell, hang up and call 9 9 9." in first
    assert any("press 6" in s and "nurse" in s for s in said(call))
    waiting = call["waiting"]
    assert waiting["kind"] == "gather" and waiting["dtmf"] and waiting["speech"]
    assert waiting["language"] == "en-GB" and waiting["num_digits"] == 1
    assert all(e["language"] == "en-GB" for e in call["events"] if e["kind"] == "say")


def test_the_keypad_walks_to_a_test_and_asks_for_it_as_a_text(
    sim: Sim, r: redis.Redis
) -> None:
    _, tests = walk(sim, {"digits": "1"})
    assert "For CT scan, press 5." in said(tests)
    _, ct = walk(sim, {"digits": "1"}, {"digits": "5"})
    assert said(ct)[0] == "CT scan."
    call, texted = walk(sim, {"digits": "1"}, {"digits": "5"}, {"digits": "2"}, {"digits": "2"})
    assert any("text" in s.lower() for s in said(texted))
    # The text goes through the worker queue; the browser test watches it arrive.
    jobs = scheduling.queue(r).get_jobs()
    assert len(jobs) == 1 and jobs[0].func_name == scheduling.SEND_JOB


def test_a_spoken_warning_sign_gets_the_urgent_advice(sim: Sim) -> None:
    _, result = walk(sim, {"speech": "I have a temperature of 39 and I feel shivery"})
    assert result["events"][0] == {
        "kind": "you", "text": "You said: I have a temperature of 39 and I feel shivery"
    }
    assert said(result)[0].startswith("Call the 24-hour number your hospital gave you now")


def test_no_answer_from_the_nurses_ends_in_a_voicemail_for_the_call_back_queue(
    sim: Sim, r: redis.Redis
) -> None:
    call, first = walk(sim, {"digits": "6"})  # Monday 10am: the nurse line is open
    assert first["waiting"]["kind"] == "dial"
    [target] = first["waiting"]["targets"]
    assert "nurse" in target["name"]
    nxt = sim.act(call, dial_status="no-answer")
    assert nxt["waiting"]["kind"] == "dial"
    recording = sim.act(call, dial_status="busy")
    assert recording["waiting"]["kind"] == "record"
    assert any("message" in s for s in said(recording))
    done = sim.act(call, message=True)
    assert done["ended"] == "The line hung up."
    [request] = records.open_callbacks(r)
    assert (request.number, request.channel) == (PATIENT, "voice")
    assert request.recording_url.startswith(f"{PUBLIC_BASE_URL}/simulator/recordings/RE")
    audio = sim.client.get(request.recording_url.removeprefix(PUBLIC_BASE_URL))
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    assert calls.call_record(r, call["call"])["status"] == "completed"


def test_saying_nothing_at_the_tone_leaves_no_call_back_request(
    sim: Sim, r: redis.Redis
) -> None:
    call, _ = walk(sim, {"digits": "6"}, {"dial_status": "failed"}, {"dial_status": "failed"})
    result = sim.act(call, silence=True)
    assert said(result)
    assert records.open_callbacks(r) == []
    assert calls.call_record(r, call["call"]).get("recording_status") == "absent"


def test_hanging_up_reports_the_end_of_the_call(sim: Sim, r: redis.Redis) -> None:
    call = sim.ring()
    assert calls.call_record(r, call["call"]).get("status") != "completed"
    assert sim.act(call, hangup=True)["ended"] == "You hung up."
    assert calls.call_record(r, call["call"])["status"] == "completed"
    assert not r.exists(simulator.Call.key(call["call"]))
