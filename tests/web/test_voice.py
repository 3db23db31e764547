"""The phone line end to end: signed Twilio requests, real Redis, the TwiML a caller hears."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import redis
from flask import Flask

from bot.outbound.texts import Reminder
from bot.store import calls, records
from bot.web.voice import render
from flows.calls import Call, CallTurn, Connect
from flows.directory import NotDialable
from flows.engine import default_directory
from flows.knowledge import ASPECTS, default_knowledge
from tests.support.base import PATIENT, PUBLIC_BASE_URL, TOKEN, Clock
from tests.support.voice import ACUTE, LINE, MACMILLAN, NURSE, NURSE_2, VOICE, Caller, Twiml

K = default_knowledge()
BASE = PUBLIC_BASE_URL
LANDLINE = "+441632960123"  # Ofcom drama range (01632 960xxx): never a real person


def attrs(el: ET.Element | None) -> dict[str, str]:
    assert el is not None
    return dict(el.attrib)


def assert_voice(twiml: Twiml) -> None:
    """Every <Say> is in a British voice."""
    says = twiml.says()
    assert says
    for say in says:
        assert attrs(say) == {"voice": VOICE, "language": "en-GB"}
        assert (say.text or "").strip()


# --- Answering ------------------------------------------------------------------------------------


def test_a_call_is_answered_with_the_999_warning_and_the_main_menu(app: Flask) -> None:
    caller = Caller(app.test_client())
    twiml = caller.ring()
    assert twiml.tags == ["Gather", "Redirect"]
    gather = attrs(twiml.gather)
    hints = gather.pop("hints")
    assert gather == {
        "action": f"{BASE}/voice/input?t=1", "method": "POST", "input": "dtmf speech",
        "language": "en-GB", "numDigits": "1", "timeout": "6", "speechTimeout": "auto",
        "finishOnKey": "",
    }
    assert "tests and scans" in hints and "nurse" in hints
    redirect = twiml.verbs[1]
    assert attrs(redirect) == {"method": "POST"}
    assert redirect.text == f"{BASE}/voice/input?t=1"
    assert_voice(twiml)
    said = twiml.spoken()
    assert said[0] == ("Hello, you have reached the breast care team's support line. "
                       "If you are very unwell, hang up and call 9 9 9.")
    assert said[3:10] == [
        "For tests and scans, press 1.", "For getting ready for an appointment, press 2.",
        "For waiting for results, press 3.", "For treatments, press 4.",
        "For symptoms and when to get help, press 5.",
        "To talk to a breast care nurse, press 6.", "For support organisations, press 7.",
    ]


def test_without_a_public_base_url_actions_use_the_request_address(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(PUBLIC_BASE_URL="")
    caller = Caller(app.test_client(), base_url="http://localhost")
    twiml = caller.ring()
    assert attrs(twiml.gather)["action"] == "http://localhost/voice/input?t=1"
    assert caller.press("3").said.startswith(K.topics["results"].answer.voice[:40])


@pytest.mark.parametrize(
    "path", ["/voice", "/voice/input?t=1", "/voice/dialled?t=2", "/voice/recorded?t=3",
             "/voice/status", "/voice/recording"])
def test_every_voice_webhook_refuses_unsigned_or_tampered_requests(app: Flask, path: str) -> None:
    caller = Caller(app.test_client())
    assert caller.post(path, {"Digits": "1"}, signature="").status_code == 403
    assert caller.post(path, {"Digits": "1"}, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    # Signed for another address (what a misconfigured proxy would cause).
    from bot.web.signatures import sign
    form = caller.params() | {"Digits": "1"}
    wrong = sign(TOKEN, "https://elsewhere.example.org" + path, form)
    assert caller.post(path, {"Digits": "1"}, signature=wrong).status_code == 403
    # Signed with another account's token.
    other = Caller(app.test_client(), token="another-token-0000000000000000")
    assert other.post(path, {"Digits": "1"}).status_code == 403


# --- Walking the menus ----------------------------------------------------------------------------


def test_every_test_and_every_part_of_it_is_heard_by_keypad(app: Flask) -> None:
    for i, topic in enumerate(K.menu("tests"), 1):
        caller = Caller(app.test_client())
        caller.ring()
        assert caller.press("1").spoken()[0] == (
            "Tests and scans. Which test would you like to hear about?")
        twiml = caller.press(str(i))
        assert [s.text for s in twiml.says()][:2] == [f"{topic.title}.", topic.answer.voice]
        for j, aspect in enumerate(ASPECTS, 1):
            twiml = caller.press(str(j))
            assert twiml.tags == ["Gather", "Redirect"]
            assert twiml.spoken()[0] == topic.sections[aspect].voice.replace(
                "999", "9 9 9")
            assert_voice(twiml)
            caller.press("*")


def test_every_treatment_and_main_menu_topic_is_heard_by_keypad(app: Flask) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    for i, topic in enumerate(K.menu("treatments"), 1):
        caller.press("0")
        caller.press("4")
        assert caller.press(str(i)).spoken()[0] == topic.answer.voice
    for key, topic_id in (("3", "results"), ("5", "symptoms"), ("7", "support")):
        caller.press("0")
        heard = caller.press(key).spoken()[0] or ""
        # Numbers in the text are read out digit by digit.
        assert heard.split(" ")[:6] == K.topics[topic_id].answer.voice.split(" ")[:6]


def test_topics_outside_the_menus_are_heard_by_speech(app: Flask) -> None:
    for topic_id, words in (("about", "what is secondary breast cancer"),
                            ("diagnosis", "how is it diagnosed"),
                            ("receptors", "what are hormone receptors"),
                            ("nurse", "what does a breast care nurse do")):
        caller = Caller(app.test_client())
        caller.ring()
        twiml = caller.say(words)
        # The topic's answer, or the part of it the question asks about ("hormone receptors").
        topic = K.topics[topic_id]
        answers = [topic.answer.voice, *(s.voice for s in topic.sections.values())]
        heard = twiml.spoken()[0].split(" ")[:5]
        assert heard in [a.split(" ")[:5] for a in answers], topic_id


def test_a_mumbled_answer_is_asked_again_with_twilios_confidence(app: Flask) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    twiml = caller.say("er", confidence="0.12")
    assert "did not catch that clearly" in twiml.said
    clear = caller.say("bone scan", confidence="0.91")
    assert K.topics["bone_scan"].answer.voice in clear.said


def test_a_whole_call_by_speech(app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    assert caller.say("Tests and scans").spoken()[0].startswith("Tests and scans.")
    assert caller.say("the PET CT").spoken()[0] == "PET-CT scan."
    twiml = caller.say("how do I get ready for it")
    assert twiml.spoken()[0] == K.topics["pet_ct_scan"].sections["prepare"].voice
    assert caller.say("main menu").spoken()[0] == "What would you like to hear about?"
    twiml = caller.say("I want to talk to a nurse please")
    assert twiml.tags == ["Say", "Dial"]
    assert twiml.dialled == [NURSE]
    history = records.history(r, PATIENT)
    spoken_in = [h["text"] for h in history if h["direction"] == "in"]
    assert spoken_in == ["(phone call)", "Tests and scans", "the PET CT",
                         "how do I get ready for it", "main menu",
                         "I want to talk to a nurse please"]
    assert all(h["channel"] == "voice" and h["sid"] == caller.sid for h in history)


# --- Triage ---------------------------------------------------------------------------------------

FEVER = "I've got a temperature of 38.6 and I feel shivery"


def test_a_spoken_warning_sign_gets_urgent_advice_and_the_acute_line(
        make_app: Callable[..., Flask], r: redis.Redis) -> None:
    app = make_app(ACUTE_ONCOLOGY_NUMBER=ACUTE)
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("1")
    twiml = caller.say(FEVER)
    said = twiml.spoken()
    assert said[0].startswith(
        "Call the 24-hour acute oncology line now on 0 7 7 0 0, 9 0 0, 9 9 9.")
    assert "If you cannot get through, call 9 9 9." in said[0]
    assert said[1] == "To be put through to the 24-hour acute oncology line now, press 1."
    [alert] = records.open_alerts(r)
    assert (alert.level, alert.channel, alert.number, alert.text) == (
        "urgent", "voice", PATIENT, FEVER)
    history = records.history(r, PATIENT)
    assert history[-2]["triage"] == "urgent" and history[-2]["text"] == FEVER
    assert history[-1]["direction"] == "out" and history[-1]["text"].startswith("Call the 24")
    twiml = caller.say("yes please")
    assert twiml.tags == ["Say", "Dial"]
    assert twiml.dialled == [ACUTE]
    assert attrs(twiml.dial)["action"] == f"{BASE}/voice/dialled?t=4"


def test_an_emergency_is_told_to_hang_up_and_dial_999(app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("3")
    twiml = caller.say("my chest is really tight and I can't breathe")
    assert twiml.tags == ["Say", "Say", "Hangup"]
    assert twiml.spoken()[0].startswith("Hang up and call 9 9 9 now.")
    [alert] = records.open_alerts(r)
    assert alert.level == "emergency" and alert.channel == "voice"


def test_a_warning_sign_texted_earlier_makes_a_spoken_one_urgent(
        app: Flask, r: redis.Redis, clock: Clock) -> None:
    from bot.dev.localclient import LocalPhone
    phone = LocalPhone(app.test_client(), TOKEN, PATIENT, PUBLIC_BASE_URL)
    phone.send("I've had a new cough for a few weeks")
    clock.now += timedelta(hours=2)
    caller = Caller(app.test_client())
    caller.ring()
    caller.say("I have been feeling sick all day")
    levels = sorted(a.level for a in records.open_alerts(r))
    assert levels == ["same_day", "urgent"]


# --- Routing --------------------------------------------------------------------------------------


def test_no_answer_moves_down_the_chain_then_voicemail_reaches_the_nurses(
        app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    twiml = caller.press("6")
    assert twiml.tags == ["Say", "Dial"]
    assert twiml.spoken()[0] == "Putting you through to a breast care nurse now."
    assert attrs(twiml.dial) == {
        "action": f"{BASE}/voice/dialled?t=2", "method": "POST", "callerId": LINE,
        "timeout": "20", "timeLimit": "3600", "answerOnBridge": "true"}
    assert twiml.dialled == [NURSE]
    twiml = caller.dial_ends("no-answer")
    assert twiml.dialled == [NURSE_2]
    twiml = caller.dial_ends("busy")
    assert twiml.tags == ["Say", "Record", "Redirect"]
    assert attrs(twiml.record) == {
        "action": f"{BASE}/voice/recorded?t=4", "method": "POST", "maxLength": "120",
        "timeout": "5", "playBeep": "true", "trim": "trim-silence",
        "recordingStatusCallback": f"{BASE}/voice/recording",
        "recordingStatusCallbackMethod": "POST",
        "recordingStatusCallbackEvent": "completed absent"}
    assert twiml.verbs[2].text == f"{BASE}/voice/recorded?t=4"
    twiml, url = caller.leave_message()
    assert twiml.tags == ["Say", "Say", "Hangup"]
    assert "call you back" in twiml.said
    [callback] = records.open_callbacks(r)
    assert (callback.number, callback.channel, callback.recording_url) == (PATIENT, "voice", url)
    assert callback.reason.startswith("Left a voicemail")
    record = calls.call_record(r, caller.sid)
    assert record["callback_id"] == callback.id and record["recording_status"] == "completed"


def test_a_voicemail_left_by_hanging_up_still_reaches_the_nurses_once(
        app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("6")
    caller.dial_ends("no-answer")
    caller.dial_ends("no-answer")
    record = caller.last.record if caller.last else None
    assert record is not None
    # Only the status callback arrives (the caller hung up before the action).
    rec_url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1"
    callback_url = record.get("recordingStatusCallback", "")
    caller.recording_status(callback_url, "RE1", rec_url, 20)
    caller.recording_status(callback_url, "RE1", rec_url, 20)
    [callback] = records.open_callbacks(r)
    assert callback.recording_url == rec_url and callback.channel == "voice"
    # The action arriving late makes no second request.
    caller.leave_message()
    assert len(records.open_callbacks(r)) == 1


def test_a_silent_recording_makes_no_call_back_unless_asked(app: Flask, r: redis.Redis,
                                                            clock: Clock) -> None:
    clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("6")
    caller.press("3")
    record = caller.last.record if caller.last else None
    assert record is not None
    caller.recording_status(record.get("recordingStatusCallback", ""), "RE9", "", 0, "absent")
    twiml = caller.say_nothing_in_record()
    assert twiml.spoken()[0] == "I did not hear a message."
    assert records.open_callbacks(r) == []
    twiml = caller.press("2")
    assert twiml.hangs_up
    [callback] = records.open_callbacks(r)
    assert callback.recording_url == "" and "without a message" in callback.reason


def test_a_call_that_was_answered_ends_with_a_goodbye(app: Flask) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("6")
    twiml = caller.dial_ends("completed")
    assert twiml.tags == ["Say", "Hangup"]


def test_the_caller_id_is_the_twilio_number_when_set(make_app: Callable[..., Flask]) -> None:
    app = make_app(TWILIO_FROM_NUMBER="+447700900001")
    caller = Caller(app.test_client())
    caller.ring()
    assert attrs(caller.press("6").dial)["callerId"] == "+447700900001"


def test_only_directory_numbers_are_ever_dialled(make_app: Callable[..., Flask]) -> None:
    app = make_app(ACUTE_ONCOLOGY_NUMBER=ACUTE)
    allowed = {NURSE, NURSE_2, MACMILLAN, ACUTE}
    seen: set[str] = set()
    for keys in (["6"], ["5", "3"], ["1", "6", "2"]):
        caller = Caller(app.test_client())
        caller.ring()
        for key in keys:
            caller.press(key)
        while caller.last is not None and caller.last.dial is not None:
            seen.update(caller.last.dialled)
            caller.dial_ends("no-answer")
    caller = Caller(app.test_client())
    caller.ring()
    caller.say(FEVER)
    seen.update(caller.press("1").dialled)
    assert seen and seen <= allowed
    assert ACUTE in seen and NURSE_2 in seen


def test_the_renderer_refuses_a_line_outside_the_directory(app: Flask) -> None:
    turn = CallTurn(Call(turn=3), ["Putting you through."], Connect("emergency", "nurse"))
    with app.test_request_context("/voice/input", base_url=BASE), pytest.raises(NotDialable):
        render(turn, default_directory(), LINE)
    bogus = CallTurn(Call(turn=3), [], Connect("no_such_line", "nurse"))
    with app.test_request_context("/voice/input", base_url=BASE), pytest.raises(NotDialable):
        render(bogus, default_directory(), LINE)


# --- Opening hours, across a week, a bank holiday and the clock changes ---------------------------


def _ring_nurse(app: Flask) -> Twiml:
    caller = Caller(app.test_client())
    caller.ring()
    return caller.press("6")


@pytest.mark.parametrize(
    ("now", "open_", "says"),
    [
        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), True, ""),  # Monday morning
        (datetime(2026, 11, 27, 16, 59, tzinfo=UTC), True, ""),  # Friday, a minute to go
        (datetime(2026, 11, 27, 17, 0, tzinfo=UTC), False, "opens again on Monday at 9am"),
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), False, "opens again on Monday at 9am"),
        (datetime(2026, 11, 29, 12, 0, tzinfo=UTC), False, "opens again tomorrow at 9am"),
        # Christmas Day (a Friday) and the Boxing Day substitute (Monday 28 December).
        (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), False,
         "Today is a bank holiday, so the breast care nurse line is closed. "
         "It opens again on Tuesday at 9am."),
        (datetime(2026, 12, 28, 10, 0, tzinfo=UTC), False,
         "Today is a bank holiday, so the breast care nurse line is closed. "
         "It opens again tomorrow at 9am."),
        (datetime(2026, 12, 29, 9, 0, tzinfo=UTC), True, ""),
        # Clocks go forward on Sunday 29 March 2026: 08:30 UTC on Monday is 09:30 BST.
        (datetime(2026, 3, 27, 16, 30, tzinfo=UTC), True, ""),
        (datetime(2026, 3, 29, 8, 30, tzinfo=UTC), False, "opens again tomorrow at 9am"),
        (datetime(2026, 3, 30, 7, 59, tzinfo=UTC), False, "opens again today at 9am"),
        (datetime(2026, 3, 30, 8, 30, tzinfo=UTC), True, ""),
        (datetime(2026, 3, 30, 16, 30, tzinfo=UTC), False, "opens again tomorrow at 9am"),
        # Clocks go back on Sunday 25 October 2026: 16:30 UTC on Friday is 17:30 BST.
        (datetime(2026, 10, 23, 16, 30, tzinfo=UTC), False, "opens again on Monday at 9am"),
        (datetime(2026, 10, 26, 8, 30, tzinfo=UTC), False, "opens again today at 9am"),
        (datetime(2026, 10, 26, 16, 30, tzinfo=UTC), True, ""),
    ],
    ids=["weekday", "friday-1659", "friday-1700", "saturday", "sunday", "christmas",
         "boxing-day-substitute", "after-christmas", "fri-before-spring-change",
         "sun-29-mar", "mon-0859-bst", "mon-0930-bst", "mon-1730-bst", "fri-1730-bst",
         "mon-0830-gmt", "mon-1630-gmt"],
)
def test_the_nurse_line_by_opening_hours(app: Flask, clock: Clock, now: datetime, open_: bool,
                                         says: str) -> None:
    clock.now = now
    twiml = _ring_nurse(app)
    if open_:
        assert twiml.tags == ["Say", "Dial"] and twiml.dialled == [NURSE]
    else:
        assert twiml.dial is None and twiml.gather is not None
        assert says in twiml.spoken()[0]
        assert "To leave a message for a nurse to call you back, press 3." in twiml.said


def test_out_of_hours_macmillan_is_offered_only_while_open(app: Flask, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # Monday 7.30pm: Macmillan open
    caller = Caller(app.test_client())
    caller.ring()
    twiml = caller.press("6")
    assert "To be put through to the Macmillan Support Line, which is free, press 2." in twiml.said
    twiml = caller.press("2")
    assert twiml.dialled == [MACMILLAN]
    clock.now = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    twiml = _ring_nurse(app)
    assert "Macmillan" not in twiml.said
    assert "NHS 1 1 1" in twiml.said


# --- Texts ----------------------------------------------------------------------------------------


def _reminders(r: redis.Redis) -> list[Reminder]:
    ids = [str(k).removeprefix("reminder:") for k in sorted(r.keys("reminder:*"))
           if r.type(k) == "hash"]
    return Reminder.fetch_many(r, ids)


def test_asking_for_a_text_queues_the_sms_version(app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("3")
    twiml = caller.press("2")
    assert twiml.spoken()[0] == ("I have sent that to you as a text message. "
                                     "It should come in the next few minutes.")
    assert K.topics["results"].answer.voice not in twiml.said
    [queued] = _reminders(r)
    assert (queued.to, queued.kind, queued.body) == (
        PATIENT, "topic", K.topics["results"].answer.sms)
    assert records.history(r, PATIENT)[-1]["event"] == "text sent"


def test_a_long_answer_is_texted_in_parts(app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("5")
    twiml = caller.say("text me")
    assert twiml.spoken()[0].startswith("I have sent that to you in 2 text messages.")
    assert len(_reminders(r)) == 2


def test_an_opted_out_caller_is_told_kindly_and_sent_nothing(app: Flask, r: redis.Redis) -> None:
    records.set_opted_out(PATIENT, True, "2026-11-01T10:00:00+00:00", pipeline=r)
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("3")
    twiml = caller.press("2")
    assert twiml.spoken()[0].startswith(
        "You have asked us not to send you texts, so I have not sent one.")
    assert "To hear that again, press 1." in twiml.said
    assert _reminders(r) == []


@pytest.mark.parametrize("number", [LANDLINE, "anonymous", "", "+266696687"])
def test_no_text_is_offered_to_a_landline_or_hidden_number(app: Flask, r: redis.Redis,
                                                            number: str) -> None:
    caller = Caller(app.test_client(), number=number)
    caller.ring()
    twiml = caller.press("3")
    assert "text message" not in twiml.said
    twiml = caller.press("2")
    assert twiml.spoken()[0] == "Sorry, 2 is not one of the choices."
    assert _reminders(r) == []


def test_a_hidden_caller_is_asked_to_say_their_number_in_a_voicemail(
        app: Flask, r: redis.Redis, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    caller = Caller(app.test_client(), number="anonymous")
    caller.ring()
    caller.press("6")
    twiml = caller.press("3")
    assert "Your number is hidden" in twiml.said
    caller.leave_message()
    [callback] = records.open_callbacks(r)
    assert callback.number == "withheld"


# --- Never trapped, never an error ----------------------------------------------------------------


def test_silence_twice_then_an_offer_then_goodbye(app: Flask) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    for _ in range(2):
        twiml = caller.silence()
        assert twiml.spoken()[0] == "Sorry, I did not hear anything."
        assert twiml.tags == ["Gather", "Redirect"]
    twiml = caller.silence()
    assert "To be put through to a breast care nurse now, press 1." in twiml.said
    twiml = caller.silence()
    assert twiml.tags == ["Say", "Hangup"]
    assert twiml.spoken()[0].startswith("Thank you for calling.")


def test_a_wrong_key_is_explained(app: Flask) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    twiml = caller.press("#")
    assert [s.text for s in twiml.says()][:2] == [
        "Sorry, hash is not one of the choices.", "Please press a number from 1 to 8."]


def test_a_repeated_request_gets_the_same_answer_and_changes_nothing(
        app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    url = attrs(caller.last.gather if caller.last else None)["action"]
    first = caller.post(url, {"Digits": "3"}).get_data(as_text=True)
    length = len(records.history(r, PATIENT))
    again = caller.post(url, {"Digits": "3"}).get_data(as_text=True)
    assert again == first
    assert len(records.history(r, PATIENT)) == length
    stored = calls.parse(r.get(calls.key(caller.sid)))
    assert stored is not None and stored.turn == 2 and stored.state == "play:results"


def test_input_for_a_call_with_no_state_starts_at_the_main_menu(app: Flask) -> None:
    caller = Caller(app.test_client())
    twiml = caller.post("/voice/input?t=7", {"Digits": "4"})
    parsed = Twiml.of(twiml)
    assert parsed.spoken()[0] == "Sorry, I lost track of where we were."
    assert "For tests and scans, press 1." in parsed.said


def test_odd_requests_never_raise(app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    for path, fields in (("/voice/input", {}), ("/voice/input?t=abc", {"Digits": "x"}),
                         ("/voice/input?t=99", {"SpeechResult": ""}),
                         ("/voice/dialled", {}), ("/voice/recorded", {"RecordingDuration": "x"}),
                         ("/voice/input?t=1", {"Digits": "1234567890" * 5})):
        Twiml.of(caller.post(path, fields))
    r.set(calls.key(caller.sid), "{not json")
    assert Twiml.of(caller.post("/voice/input?t=3", {"Digits": "1"})).gather is not None
    r.set(calls.key(caller.sid), json.dumps({"state": ["a list"], "turn": "x"}))
    assert Twiml.of(caller.post("/voice/input?t=3", {"Digits": "1"})).gather is not None
    no_sid = Caller(app.test_client(), sid="")
    assert Twiml.of(no_sid.post("/voice/input", {"Digits": "1"})).gather is not None


def test_a_long_call_is_ended_politely(app: Flask, clock: Clock) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("3")
    clock.now += timedelta(minutes=45)
    twiml = caller.press("1")
    assert twiml.tags == ["Say", "Hangup"]
    assert "0 1 9 1, 4 4 5, 3 7 3 5" in twiml.said


# --- Status callbacks -----------------------------------------------------------------------------


def test_call_status_callbacks_are_kept_with_the_call(app: Flask, r: redis.Redis,
                                                       clock: Clock) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    clock.now += timedelta(minutes=3)
    assert caller.status("completed", "187").status_code == 204
    record = calls.call_record(r, caller.sid)
    assert record["status"] == "completed" and record["duration"] == "187"
    assert record["number"] == PATIENT and record["ended_at"] == clock.now.isoformat()
    assert calls.recent_calls(r)[0]["sid"] == caller.sid
    stranger = Caller(app.test_client())
    assert stranger.status("no-answer").status_code == 204
    assert calls.call_record(r, stranger.sid)["status"] == "no-answer"
    assert stranger.status("exploded").status_code == 204
    assert calls.call_record(r, stranger.sid)["status"] == "unknown"


# --- Redis unreachable ----------------------------------------------------------------------------

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_without_redis_the_caller_hears_the_urgent_numbers_and_is_put_through(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(REDIS_URL=DEAD_REDIS, ACUTE_ONCOLOGY_NUMBER=ACUTE)
    caller = Caller(app.test_client())
    twiml = caller.ring()
    assert twiml.tags == ["Say", "Say", "Dial", "Say", "Hangup"]
    assert_voice(twiml)
    first = twiml.spoken()[0] or ""
    assert "hang up and call 9 9 9" in first and "0 7 7 0 0, 9 0 0, 9 9 9" in first
    assert twiml.dialled == [NURSE]
    dial = attrs(twiml.dial)
    assert "action" not in dial and dial["callerId"] == LINE
    for path in ("/voice/input?t=1", "/voice/dialled?t=2", "/voice/recorded?t=3"):
        assert caller.post(path, {"Digits": "1"}).status_code == 200
    assert Twiml.of(caller.post("/voice/dialled?t=2", {"DialCallStatus": "completed"})).tags == [
        "Hangup"]
    assert caller.status("completed").status_code == 204
    assert caller.post("/voice/recording", {"RecordingStatus": "completed"}).status_code == 204


def test_without_redis_out_of_hours_gives_the_numbers_and_hours(
        make_app: Callable[..., Flask], clock: Clock) -> None:
    clock.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # Saturday
    app = make_app(REDIS_URL=DEAD_REDIS)
    twiml = Caller(app.test_client()).ring()
    assert twiml.tags == ["Say", "Say", "Hangup"]
    assert "NHS 1 1 1" in twiml.said
    assert "0 1 9 1, 4 4 5, 3 7 3 5" in twiml.said and "0 8 0 8, 8 0 8, 0 0, 0 0" in twiml.said


# --- The nurses' numbers ------------------------------------------------------------------------


def test_calls_texts_topics_and_alerts_are_counted_for_the_console(
        app: Flask, r: redis.Redis, clock: Clock) -> None:
    from zoneinfo import ZoneInfo

    from bot.store import stats
    for _ in range(2):
        caller = Caller(app.test_client())
        caller.ring()
    caller.press("5")
    caller.press("2")  # symptoms go out as two texts
    caller.say(FEVER)
    day = clock.now.date()
    counts = stats.daily(r, day, day, ZoneInfo("Europe/London"))[day]
    assert counts["in:voice"] == 2
    assert counts["out:voice"] == 2
    assert counts["topic:symptoms"] == 1
    assert counts["alert:urgent"] == 1


def test_a_voicemail_whose_request_went_missing_is_filed_again(r: redis.Redis) -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    r.set(calls.voicemail_key("CA1"), "gone")
    request = calls.save_voicemail(r, "CA1", PATIENT, "Left a voicemail", "https://x/RE1", at)
    assert request.id != "gone"
    assert [c.id for c in records.open_callbacks(r)] == [request.id]
    again = calls.save_voicemail(r, "CA1", PATIENT, "Left a voicemail", "https://x/RE2", at)
    assert again.id == request.id
    assert records.open_callbacks(r)[0].recording_url == "https://x/RE2"


def test_a_failed_recording_still_asks_a_nurse_to_call_back(app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    caller.press("6")
    caller.dial_ends("no-answer")
    caller.dial_ends("no-answer")
    record = caller.last.record if caller.last else None
    assert record is not None
    caller.recording_status(record.get("recordingStatusCallback", ""), "RE5", "", 0, "failed")
    [callback] = records.open_callbacks(r)
    assert callback.recording_url == "" and "recording failed" in callback.reason
    assert calls.call_record(r, caller.sid)["recording_status"] == "failed"


def test_a_repeated_ring_is_answered_the_same_and_logged_once(app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    first = caller.ring().xml
    assert caller.ring().xml == first
    assert [h["text"] for h in records.history(r, PATIENT)].count("(phone call)") == 1
