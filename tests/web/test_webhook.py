"""The SMS webhook end to end: signed Twilio requests, real Redis, the replies patients see."""

from __future__ import annotations

import json
import logging
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bot.dev.localclient import LocalPhone
from bot.masking import mask
from bot.store import records
from bot.web.signatures import sign
from flows.gsm import cost
from tests.support.base import PATIENT, PUBLIC_BASE_URL, TOKEN, Clock

CONV_KEY = f"conv:{PATIENT}"
SMS_URL = f"{PUBLIC_BASE_URL}/sms"
LOCAL_URL = "http://localhost/sms"


def _without(data: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in data.items() if k != key}


def form(body: str | None = "hi", **extra: str) -> dict[str, str]:
    """A Twilio inbound-SMS body from the test patient."""
    data = {"From": PATIENT, "To": "+447700900000", "MessageSid": "SM" + uuid.uuid4().hex,
            "NumMedia": "0", "AccountSid": "AC" + "0" * 32}
    if body is not None:
        data["Body"] = body
    data.update(extra)
    return data


def post(client: FlaskClient, data: dict[str, str], *, signed_url: str = SMS_URL,
         signed_data: dict[str, str] | None = None, token: str = TOKEN,
         base_url: str = PUBLIC_BASE_URL, signature: str | None = None) -> TestResponse:
    """POST /sms with a signature Twilio would compute over `signed_url` and `signed_data`."""
    if signature is None:
        signature = sign(token, signed_url, data if signed_data is None else signed_data)
    return client.post("/sms", data=data, base_url=base_url,
                       headers={"X-Twilio-Signature": signature})


def messages(response: TestResponse) -> list[str]:
    """The <Message> texts of a TwiML reply."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


def reply(response: TestResponse) -> str:
    """The one text a patient receives for a message."""
    texts = messages(response)
    assert len(texts) == 1, texts
    return texts[0]


def assert_sms_ok(text: str) -> None:
    """A patient's phone gets a short, cheap GSM-7 text."""
    assert text.strip()
    c = cost(text)
    assert c.encoding == "GSM-7", text
    assert c.segments <= 2, (c.segments, text)


def state(r: redis.Redis) -> dict[str, Any]:
    raw = r.get(CONV_KEY)
    assert raw, "no conversation stored"
    found: dict[str, Any] = json.loads(str(raw))
    return found


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- answering a signed question -------------------------------------------------------


def test_signed_question_is_answered(client: FlaskClient) -> None:
    text = reply(post(client, form("can i eat before my ct")))
    assert "CT scan" in text
    assert "4 hours" in text
    assert_sms_ok(text)


def test_local_phone_helper_gets_the_same_answer(phone: LocalPhone) -> None:
    (text,) = phone.send("can i eat before my ct")
    assert "4 hours" in text


# --- signature checks ------------------------------------------------------------------


def test_unsigned_request_is_refused(client: FlaskClient, r: redis.Redis) -> None:
    response = client.post("/sms", data=form("chest pain"), base_url=PUBLIC_BASE_URL)
    assert response.status_code == 403
    assert records.open_alerts(r) == []
    assert r.get(CONV_KEY) is None


def test_wrong_signature_is_refused(client: FlaskClient, r: redis.Redis) -> None:
    data = form("hi")
    assert post(client, data, token="not-the-auth-token").status_code == 403
    assert post(client, data, signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=").status_code == 403
    assert r.get(CONV_KEY) is None
    # The same message signed with the right token is answered.
    assert "Reply with a number" in reply(post(client, data))


def test_tampered_body_is_refused(client: FlaskClient, r: redis.Redis) -> None:
    signed = form("hi")
    tampered = {**signed, "Body": "i have chest pain"}
    assert post(client, tampered, signed_data=signed).status_code == 403
    assert records.open_alerts(r) == []
    assert records.history(r, PATIENT) == []


def test_tampered_sender_is_refused(client: FlaskClient, r: redis.Redis) -> None:
    signed = form("NURSE")
    tampered = {**signed, "From": "+447700900999"}
    assert post(client, tampered, signed_data=signed).status_code == 403
    assert r.get("conv:+447700900999") is None


def test_signature_over_request_url_is_refused_when_public_url_set(client: FlaskClient) -> None:
    data = form("hi")
    response = post(client, data, signed_url=LOCAL_URL, base_url="http://localhost")
    assert response.status_code == 403
    # Signed over PUBLIC_BASE_URL, the same request through the proxy is answered.
    assert "Reply with a number" in reply(post(client, data, base_url="http://localhost"))


@pytest.mark.parametrize("unset", [None, ""])
def test_signature_over_request_url_works_without_public_url(
        make_app: Callable[..., Flask], unset: str | None) -> None:
    client = make_app(PUBLIC_BASE_URL=unset).test_client()
    data = form("hi")
    text = reply(post(client, data, signed_url=LOCAL_URL, base_url="http://localhost"))
    assert "Reply with a number" in text
    # ...and a signature over some other address is not accepted.
    again = form("hi")
    assert post(client, again, signed_url=SMS_URL, base_url="http://localhost").status_code == 403


def test_signature_over_the_url_with_its_port_is_answered(client: FlaskClient) -> None:
    # Twilio's helper accepts the URL with or without the scheme's port; so must we.
    host = PUBLIC_BASE_URL.split("://", 1)[1]
    with_port = SMS_URL.replace(host, f"{host}:443")
    assert "Reply with a number" in reply(post(client, form("hi"), signed_url=with_port))
    assert post(client, form("hi"), signed_url=SMS_URL.replace(host, f"{host}:8443")
                ).status_code == 403


# --- a conversation through the webhook --------------------------------------------------


def test_whole_conversation_through_the_menus(client: FlaskClient, r: redis.Redis) -> None:
    text = reply(post(client, form("hi")))
    assert "Reply with a number" in text and "1 Tests and scans" in text
    assert state(r)["state"] == "main"

    text = reply(post(client, form("1")))
    assert text.startswith("Tests and scans")
    assert "5 CT scan" in text
    assert state(r)["state"] == "tests"

    text = reply(post(client, form("5")))
    assert text.startswith("CT scan")
    assert "2 How to prepare" in text
    assert state(r)["state"] == "test:ct_scan"

    text = reply(post(client, form("2")))
    assert "4 hours" in text
    assert "BACK" in text and "MENU" in text
    assert state(r)["state"] == "test:ct_scan"

    text = reply(post(client, form("BACK")))
    assert text.startswith("Tests and scans")
    assert state(r)["state"] == "tests"

    text = reply(post(client, form("MENU")))
    assert "1 Tests and scans" in text and "5 Talk to a nurse" in text
    stored = state(r)
    assert stored["state"] == "main"
    assert stored["back"] == []
    assert stored["turns"] == 6

    ttl = r.ttl(CONV_KEY)
    assert 24 * 3600 - 60 <= ttl <= 24 * 3600

    history = records.history(r, PATIENT)
    inbound = [h["text"] for h in history if h["direction"] == "in"]
    assert inbound == ["hi", "1", "5", "2", "BACK", "MENU"]
    assert len([h for h in history if h["direction"] == "out"]) == 6


def test_two_numbers_have_separate_conversations(client: FlaskClient, r: redis.Redis) -> None:
    post(client, form("hi"))
    post(client, form("1"))
    other = form("1", From="+447700900456")
    text = reply(post(client, other))
    # A fresh conversation: "1" is the first main-menu option, tests.
    assert text.startswith("Tests and scans")
    assert state(r)["state"] == "tests"
    assert json.loads(str(r.get("conv:+447700900456")))["state"] == "tests"
    post(client, form("5"))
    assert state(r)["state"] == "test:ct_scan"
    assert json.loads(str(r.get("conv:+447700900456")))["state"] == "tests"


def test_twilio_retry_gets_the_same_reply_and_advances_once(
        client: FlaskClient, r: redis.Redis) -> None:
    post(client, form("hi"))
    data = form("1")
    first = post(client, data)
    second = post(client, data)
    assert second.status_code == 200
    assert second.get_data() == first.get_data()
    assert reply(first).startswith("Tests and scans")
    stored = state(r)
    assert stored["state"] == "tests"
    assert stored["turns"] == 2
    inbound = [h for h in records.history(r, PATIENT) if h["direction"] == "in"]
    assert [h["text"] for h in inbound] == ["hi", "1"]
    assert [h["sid"] for h in inbound].count(data["MessageSid"]) == 1


def test_retried_red_flag_makes_one_alert(client: FlaskClient, r: redis.Redis) -> None:
    data = form("i have chest pain")
    first = post(client, data)
    second = post(client, data)
    assert second.get_data() == first.get_data()
    assert len(records.open_alerts(r)) == 1


# --- red flags ------------------------------------------------------------------------------


def test_chest_pain_is_an_emergency(client: FlaskClient, r: redis.Redis) -> None:
    text = reply(post(client, form("i have chest pain")))
    assert text.startswith("Call 999 now")
    assert_sms_ok(text)
    (alert,) = records.open_alerts(r)
    assert alert.level == "emergency"
    assert alert.number == PATIENT
    assert alert.text == "i have chest pain"
    assert alert.status == "open"


def test_a_warning_sign_after_1600_characters_is_still_triaged(
    client: FlaskClient, r: redis.Redis
) -> None:
    preamble = "Just a long update about my week and the appointments. " * 40
    assert len(preamble) > 1600
    text = reply(post(client, form(preamble + "Also I have crushing chest pain right now.")))
    assert text.startswith("Call 999 now")
    (alert,) = records.open_alerts(r)
    assert alert.level == "emergency"
    assert len(alert.text) <= 1600 and alert.text.endswith("[...]")


@pytest.mark.parametrize(
    "data",
    [_without(form("i have chest pain"), "From"), form("i have chest pain", From="  "), {}],
    ids=["missing From", "blank From", "only a signature"],
)
def test_a_signed_text_with_no_sender_is_refused(
    client: FlaskClient, r: redis.Redis, data: dict[str, str]
) -> None:
    # Twilio always names the sender: without one there is nobody to answer or alert.
    response = post(client, data)
    assert response.status_code == 400
    assert records.open_alerts(r) == []
    assert r.dbsize() == 0


def test_red_flag_is_caught_in_the_middle_of_a_menu(client: FlaskClient, r: redis.Redis) -> None:
    post(client, form("hi"))
    post(client, form("1"))
    text = reply(post(client, form("chest pain")))
    assert text.startswith("Call 999 now")
    assert [a.level for a in records.open_alerts(r)] == ["emergency"]


def test_high_temperature_is_urgent(client: FlaskClient, r: redis.Redis) -> None:
    text = reply(post(client, form("temp 38.4")))
    assert "24-hour" in text
    assert "999" in text
    assert_sms_ok(text)
    (alert,) = records.open_alerts(r)
    assert alert.level == "urgent"
    assert alert.number == PATIENT
    assert alert.text == "temp 38.4"


def test_urgent_reply_names_the_configured_acute_oncology_number(
        make_app: Callable[..., Flask], r: redis.Redis) -> None:
    client = make_app(ACUTE_ONCOLOGY_NUMBER="0191 000 0000").test_client()
    text = reply(post(client, form("temp 38.4")))
    assert text.startswith("Call the 24-hour acute oncology line now on 0191 000 0000")
    assert_sms_ok(text)
    assert [a.level for a in records.open_alerts(r)] == ["urgent"]


def test_repeated_same_day_worries_escalate_to_urgent(
        client: FlaskClient, r: redis.Redis, clock: Clock) -> None:
    first = reply(post(client, form("i feel sick")))
    assert first.startswith("Please contact your breast care nurses today")
    assert "0191 445 3735" in first
    assert [a.level for a in records.open_alerts(r)] == ["same_day"]

    clock.now += timedelta(hours=2)
    second = reply(post(client, form("i have a new cough")))
    assert second.startswith("Call the 24-hour")
    assert "several worrying symptoms" in second
    assert_sms_ok(second)
    levels = sorted(a.level for a in records.open_alerts(r))
    assert levels == ["same_day", "urgent"]
    urgent = next(a for a in records.open_alerts(r) if a.level == "urgent")
    assert urgent.text == "i have a new cough"
    assert "Repeated" in urgent.reason


def test_same_day_worries_a_day_apart_are_not_escalated(
        client: FlaskClient, r: redis.Redis, clock: Clock) -> None:
    post(client, form("i feel sick"))
    clock.now += timedelta(hours=25)
    second = reply(post(client, form("i have a new cough")))
    assert second.startswith("Please contact your breast care nurses today")
    assert sorted(a.level for a in records.open_alerts(r)) == ["same_day", "same_day"]


def test_most_urgent_alert_is_listed_first(
        client: FlaskClient, r: redis.Redis, clock: Clock) -> None:
    post(client, form("i have a swollen arm"))
    clock.now += timedelta(minutes=5)
    post(client, form("chest pain", From="+447700900456"))
    alerts = records.open_alerts(r)
    assert [a.level for a in alerts][0] == "emergency"
    assert alerts[0].number == "+447700900456"


# --- nurse call-backs -------------------------------------------------------------------------


def test_nurse_callback_is_queued_while_line_is_open(client: FlaskClient, r: redis.Redis) -> None:
    ask = reply(post(client, form("NURSE")))
    assert "what would you like to talk about" in ask
    assert state(r)["state"] == "nurse:reason"

    text = reply(post(client, form("i would like to talk about my scan")))
    assert "call you back" in text
    assert "open now" in text
    assert "5pm" in text
    assert_sms_ok(text)
    (callback,) = records.open_callbacks(r)
    assert callback.reason == "i would like to talk about my scan"
    assert callback.number == PATIENT
    assert state(r)["state"] == "main"


def test_nurse_callback_on_saturday_names_monday(
        client: FlaskClient, r: redis.Redis, clock: Clock) -> None:
    clock.now += timedelta(days=5)  # Saturday 10:00 in London
    post(client, form("NURSE"))
    text = reply(post(client, form("questions about my treatment plan")))
    assert "closed" in text
    assert "Monday at 9am" in text
    (callback,) = records.open_callbacks(r)
    assert callback.reason == "questions about my treatment plan"


def test_menu_cancels_a_nurse_request(client: FlaskClient, r: redis.Redis) -> None:
    post(client, form("NURSE"))
    text = reply(post(client, form("MENU")))
    assert "1 Tests and scans" in text
    assert records.open_callbacks(r) == []


# --- STOP and START ---------------------------------------------------------------------------


def test_stop_and_start(client: FlaskClient, r: redis.Redis) -> None:
    response = post(client, form("STOP"))
    assert messages(response) == []
    assert len(list(ET.fromstring(response.get_data()))) == 0
    assert r.hexists("optouts", PATIENT)
    assert records.is_opted_out(r, PATIENT)

    response = post(client, form("START"))
    assert messages(response) == []
    assert not r.hexists("optouts", PATIENT)


@pytest.mark.parametrize("word", ["stop", "Stop.", "UNSUBSCRIBE", "quit"])
def test_stop_words_opt_out(client: FlaskClient, r: redis.Redis, word: str) -> None:
    assert messages(post(client, form(word))) == []
    assert records.is_opted_out(r, PATIENT)


# --- bad input never errors -------------------------------------------------------------------


BAD_INPUTS: dict[str, Callable[[], dict[str, str]]] = {
    "empty body": lambda: form(""),
    "missing body": lambda: form(None),
    "whitespace body": lambda: form("   \n\t "),
    "very long body": lambda: form("When will I get the results of my scan please? " * 40),
    "very long unbroken body": lambda: form("x" * 1700),
    "emoji only": lambda: form("\U0001f600\U0001f622\U0001f44d"),
    "arabic": lambda: form("\u0645\u0631\u062d\u0628\u0627 \u0643\u064a\u0641 "
                           "\u062d\u0627\u0644\u0643 \u0627\u0644\u064a\u0648\u0645"),
    "control characters": lambda: form("a\x00b\x01c\x07\x1b[31m\x7f"),
    "picture only": lambda: form("", NumMedia="1"),
    "odd NumMedia": lambda: form("", NumMedia="lots"),
    "odd From": lambda: form("hello", From="not a number"),
    "missing MessageSid": lambda: _without(form("hello"), "MessageSid"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_odd_input_gets_a_helpful_reply(client: FlaskClient, case: str) -> None:
    data = BAD_INPUTS[case]()
    text = reply(post(client, data))
    assert_sms_ok(text)


def test_picture_only_message_says_pictures_cannot_be_read(client: FlaskClient) -> None:
    text = reply(post(client, form("", NumMedia="1")))
    assert "pictures" in text


def test_empty_message_says_so(client: FlaskClient) -> None:
    assert "empty" in reply(post(client, form("")))


def test_arabic_gets_the_interpreter_reply(client: FlaskClient) -> None:
    text = reply(post(client, BAD_INPUTS["arabic"]()))
    assert "English" in text and "interpreter" in text


def test_red_flag_with_control_characters_and_emoji_is_still_caught(
        client: FlaskClient, r: redis.Redis) -> None:
    text = reply(post(client, form("\U0001f622 chest\x00 pain\x07 \U0001f622")))
    assert text.startswith("Call 999 now")
    assert [a.level for a in records.open_alerts(r)] == ["emergency"]


def test_long_message_with_a_red_flag_is_caught(client: FlaskClient, r: redis.Redis) -> None:
    body = "I have been feeling a bit low this week and have some questions. " * 20
    text = reply(post(client, form(body + "I have chest pain")))
    assert len(body) < 1600
    assert text.startswith("Call 999 now")


def test_message_without_sid_is_not_answered_from_a_cache(
        client: FlaskClient, r: redis.Redis) -> None:
    post(client, _without(form("hi"), "MessageSid"))
    text = reply(post(client, _without(form("1"), "MessageSid")))
    assert text.startswith("Tests and scans")
    text = reply(post(client, _without(form("5"), "MessageSid")))
    assert text.startswith("CT scan")


# --- Redis unreachable ------------------------------------------------------------------------

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def dead_client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(REDIS_URL=DEAD_REDIS).test_client()


def test_redis_down_ordinary_text_gets_safe_reply(dead_client: FlaskClient) -> None:
    text = reply(post(dead_client, form("when will i get my results")))
    assert "999" in text
    assert "0191 445 3735" in text
    assert "0808 808 00 00" in text
    assert_sms_ok(text)


def test_redis_down_red_flag_still_says_call_999(dead_client: FlaskClient) -> None:
    text = reply(post(dead_client, form("chest pain")))
    assert text.startswith("Call 999 now")


def test_redis_down_urgent_still_names_the_24_hour_line(
        make_app: Callable[..., Flask]) -> None:
    client = make_app(REDIS_URL=DEAD_REDIS, ACUTE_ONCOLOGY_NUMBER="0191 000 0000").test_client()
    text = reply(post(client, form("temp 38.4")))
    assert text.startswith("Call the 24-hour acute oncology line now on 0191 000 0000")


def test_redis_down_stop_sends_nothing(dead_client: FlaskClient) -> None:
    assert messages(post(dead_client, form("STOP"))) == []


def test_redis_down_still_checks_signatures(dead_client: FlaskClient) -> None:
    response = dead_client.post("/sms", data=form("hi"), base_url=PUBLIC_BASE_URL)
    assert response.status_code == 403


def test_healthz_reports_redis_down(dead_client: FlaskClient) -> None:
    response = dead_client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["redis"] != "ok"


def test_healthz_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["redis"] == "ok"


# --- privacy in logs --------------------------------------------------------------------------


def test_mask() -> None:
    assert mask(PATIENT) == "+44*******123"
    assert mask("+447700900456") == "+44*******456"


def test_logs_never_show_the_full_number(client: FlaskClient, caplog: pytest.LogCaptureFixture,
                                         make_app: Callable[..., Flask]) -> None:
    caplog.set_level(logging.DEBUG)
    data = form("1")
    for sent in (form("hi"), data, data, form("chest pain"), form("NURSE"),
                 form("please ring me"), form("STOP"), form("START")):
        assert post(client, sent).status_code == 200
    client.post("/sms", data=form("hi"), base_url=PUBLIC_BASE_URL)  # unsigned: logged, 403
    dead = make_app(REDIS_URL=DEAD_REDIS).test_client()
    post(dead, form("hi"))
    post(dead, form("chest pain"))

    logged = [rec.getMessage() for rec in caplog.records]
    assert any("+44*******123" in m for m in logged), logged
    full_forms = (PATIENT, PATIENT[1:], "07700900123", "7700900123")
    leaks = [m for m in logged if any(f in m for f in full_forms)]
    assert leaks == []
    formatted = caplog.text
    assert not any(f in formatted for f in full_forms)


# --- long answers and stale state -------------------------------------------------------------


def test_long_answer_continues_with_more(client: FlaskClient, r: redis.Redis) -> None:
    first = reply(post(client, form("tell me about hormone therapy")))
    assert first.endswith("Reply MORE for the rest.")
    assert_sms_ok(first)
    assert state(r)["pages"], "the rest of the answer is kept for MORE"

    second = reply(post(client, form("MORE")))
    assert second != first
    assert_sms_ok(second)
    assert state(r)["pages"] == []

    third = reply(post(client, form("MORE")))
    assert "end of that answer" in third


def test_unreadable_stored_conversation_starts_afresh(client: FlaskClient, r: redis.Redis) -> None:
    r.set(CONV_KEY, "{not json")
    text = reply(post(client, form("1")))
    assert text.startswith("Tests and scans")
    assert state(r)["state"] == "tests"


STALE_STATES = {
    # A topic removed or renamed in a content update while a conversation was live
    # (conversations are kept for 24 hours).
    "retired test": ({"state": "test:retired_topic"}, "1"),
    "retired menu": ({"state": "retired_menu"}, "2"),
    "retired test on the BACK stack": ({"state": "main", "back": ["test:retired_topic"]}, "BACK"),
}


@pytest.mark.parametrize("case", list(STALE_STATES))
def test_stale_stored_state_still_gets_a_reply(make_app: Callable[..., Flask], r: redis.Redis,
                                               case: str) -> None:
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production: a 500, not a raise
    client = app.test_client()
    stored, body = STALE_STATES[case]
    r.set(CONV_KEY, json.dumps(stored), ex=24 * 3600)
    response = post(client, form(body))
    assert response.status_code == 200
    text = reply(response)
    assert_sms_ok(text)
    assert not text.startswith("Sorry, this line has a problem")
    # ...and the conversation carries on normally afterwards.
    assert "1 Tests and scans" in reply(post(client, form("MENU")))


# Conversations that flows.conversation.Conversation.from_dict rejects ("malformed state
# starts afresh") but that carry a number of turns: written by another version of the app,
# or edited by hand.
MALFORMED = {
    "pages not a list": '{"state": "main", "turns": 3, "pages": 7}',
    "fractional turns": '{"state": "main", "turns": 2.5}',
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_stored_conversation_starts_afresh(
        client: FlaskClient, r: redis.Redis, case: str) -> None:
    r.set(CONV_KEY, MALFORMED[case], ex=24 * 3600)
    text = reply(post(client, form("1")))
    assert text.startswith("Tests and scans")
    assert state(r)["state"] == "tests"


@pytest.mark.parametrize("case", list(MALFORMED))
def test_red_flag_is_recorded_despite_a_malformed_stored_conversation(
        client: FlaskClient, r: redis.Redis, case: str) -> None:
    r.set(CONV_KEY, MALFORMED[case], ex=24 * 3600)
    text = reply(post(client, form("i have chest pain")))
    assert text.startswith("Call 999 now")
    alerts = records.open_alerts(r)
    assert [(a.level, a.number) for a in alerts] == [("emergency", PATIENT)]


# --- several texts at once from one number ----------------------------------------------------


def test_simultaneous_texts_are_all_answered_and_recorded(app: Flask, r: redis.Redis) -> None:
    """Twilio may deliver a burst of texts from one phone at the same moment."""
    bodies = ["what is a bone scan", "i have chest pain", "can i eat before my ct",
              "what is a biopsy", "temp 38.5"]
    start = threading.Barrier(len(bodies))
    replies: dict[str, str] = {}

    def send(body: str) -> None:
        client = app.test_client()
        data = form(body)
        start.wait(timeout=10)
        replies[body] = reply(post(client, data))

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert set(replies) == set(bodies)
    assert replies["i have chest pain"].startswith("Call 999 now")
    assert "4 hours" in replies["can i eat before my ct"]
    assert not any(t.startswith("Sorry, this line has a problem") for t in replies.values())
    assert state(r)["turns"] == len(bodies)
    inbound = [h["text"] for h in records.history(r, PATIENT) if h["direction"] == "in"]
    assert sorted(inbound) == sorted(bodies)
    assert sorted(a.level for a in records.open_alerts(r)) == ["emergency", "urgent"]
