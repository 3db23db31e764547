"""The phone line's flow on its own: menus, keys, speech, triage, routing and voicemail."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flows import calls
from flows.calls import (
    Call,
    CallContentError,
    CallTurn,
    Connect,
    Hangup,
    Heard,
    Listen,
    Record,
    after_text,
    default_prompts,
    fallback,
    load_prompts,
    speakable,
    spoken_key,
    spoken_texts,
    step,
)
from flows.catalogue import Entry
from flows.engine import Context, default_directory
from flows.gsm import cost
from flows.knowledge import ASPECTS, default_knowledge

LONDON = ZoneInfo("Europe/London")
ACUTE = "+447700900999"
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # nurse line open (GMT)
MONDAY_7PM = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # nurses closed, Macmillan open
MONDAY_9PM = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # both closed
P = default_prompts()
K = default_knowledge()


def context(now: datetime = MONDAY_10AM, acute: bool = False) -> Context:
    directory = default_directory()
    if acute:
        directory = directory.with_number("acute_oncology", ACUTE)
    return Context.default(now, LONDON, directory)


class Line:
    """A call driven through the pure flow, one input at a time."""

    def __init__(self, ctx: Context, call: Call | None = None) -> None:
        self.ctx = ctx
        self.call = call or Call.new(ctx.now)
        self.turn = step(self.call, Heard("call"), ctx)
        self.call = self.turn.call

    def _do(self, heard: Heard) -> CallTurn:
        turn = step(self.call, heard, self.ctx)
        self.call, self.turn = turn.call, turn
        return turn

    def press(self, key: str) -> CallTurn:
        return self._do(Heard("input", digits=key))

    def say(self, words: str) -> CallTurn:
        return self._do(Heard("input", speech=words))

    def silence(self) -> CallTurn:
        return self._do(Heard("input"))

    def dial_ends(self, status: str) -> CallTurn:
        return self._do(Heard("dialled", dial_status=status))

    def recorded(self, url: str = "https://api.twilio.com/rec/RE1", seconds: int | None = 9
                 ) -> CallTurn:
        return self._do(Heard("recorded", recording_url=url, recording_seconds=seconds))

    @property
    def said(self) -> str:
        return " ".join(self.turn.say)

    @property
    def state(self) -> str:
        return self.call.state


# --- Answering and the main menu ----------------------------------------------------------


def test_the_call_opens_with_the_999_warning_then_the_main_menu() -> None:
    line = Line(context())
    say = line.turn.say
    assert "hang up and call 999" in say[0]
    assert say[0].startswith("Hello")
    assert line.state == "main"
    assert isinstance(line.turn.next, Listen)
    menu = [s for s in say if "press" in s]
    assert [s.split("press ")[1] for s in menu[1:]] == [f"{n}." for n in range(1, 9)]
    for words in ("tests and scans", "getting ready for an appointment", "waiting for results",
                  "treatments", "symptoms and when to get help", "breast care nurse",
                  "support organisations"):
        assert words in line.said, words
    assert "say your question" in say[-1]
    assert line.turn.next.hints and "nurse" in line.turn.next.hints


@pytest.mark.parametrize(
    ("key", "state"),
    [("1", "menu:tests"), ("2", "menu:prepare"), ("3", "play:results"), ("4", "menu:treatments"),
     ("5", "play:symptoms"), ("7", "play:support")],
)
def test_each_main_choice_goes_where_it_says(key: str, state: str) -> None:
    line = Line(context())
    line.press(key)
    assert line.state == state
    assert line.call.back == ["main"]


def test_every_test_and_every_part_of_it_can_be_heard_by_keypad() -> None:
    tests = K.menu("tests")
    assert len(tests) == 8
    for i, topic in enumerate(tests, 1):
        line = Line(context())
        line.press("1")
        line.press(str(i))
        assert line.state == f"test:{topic.id}"
        assert topic.answer.voice in line.said
        for j, aspect in enumerate(ASPECTS, 1):
            line.press(str(j))
            assert line.state == f"play:{topic.id}:{aspect}"
            assert line.turn.say[0] == topic.sections[aspect].voice
            assert line.turn.topic == topic.id
            line.press("*")
            assert line.state == f"test:{topic.id}"


def test_getting_ready_reads_the_preparation_for_the_chosen_test() -> None:
    line = Line(context())
    for i, topic in enumerate(K.menu("tests"), 1):
        line.press("0")
        line.press("2")
        line.press(str(i))
        assert line.state == f"play:{topic.id}:prepare"
        assert line.turn.say[0] == topic.sections["prepare"].voice
        line.press("*")
        assert line.state == "menu:prepare"


def test_every_treatment_can_be_heard_by_keypad() -> None:
    line = Line(context())
    for i, topic in enumerate(K.menu("treatments"), 1):
        line.press("0")
        line.press("4")
        line.press(str(i))
        assert line.state == f"play:{topic.id}"
        assert line.turn.say[0] == topic.answer.voice


@pytest.mark.parametrize("topic_id", ["results", "symptoms", "support"])
def test_main_menu_topics_are_read_then_the_after_choices(topic_id: str) -> None:
    line = Line(context())
    line.press({"results": "3", "symptoms": "5", "support": "7"}[topic_id])
    say = line.turn.say
    assert say[0] == K.topics[topic_id].answer.voice
    assert say[1] == "To hear that again, press 1."
    assert say[2] == "To get this as a text message, press 2."
    assert say[-1] == "For the main menu, press 0."


def test_every_topic_can_be_reached_by_speech() -> None:
    for topic in K.topics.values():
        line = Line(context())
        line.say(f"tell me about {topic.title}")
        expected = f"test:{topic.id}" if topic.is_test else f"play:{topic.id}"
        assert line.state == expected, (topic.id, line.state)
        assert topic.answer.voice in line.said


def test_speech_walk_through_the_menus() -> None:
    line = Line(context())
    line.say("Tests and scans.")
    assert line.state == "menu:tests"
    line.say("CT scan")
    assert line.state == "test:ct_scan"
    line.say("How long does it take?")
    assert line.state == "play:ct_scan:duration"
    assert line.turn.say[0] == K.topics["ct_scan"].sections["duration"].voice
    line.say("go back")
    assert line.state == "test:ct_scan"
    line.say("main menu")
    assert line.state == "main"
    line.say("Can I eat before my bone scan?")
    assert line.state == "play:bone_scan:eat_drink"
    line.say("repeat")
    assert line.turn.say[0] == K.topics["bone_scan"].sections["eat_drink"].voice
    line.say("goodbye")
    assert isinstance(line.turn.next, Hangup)


def test_a_test_named_at_the_getting_ready_menu_means_its_preparation() -> None:
    line = Line(context())
    line.press("2")
    line.say("an MRI")
    assert line.state == "play:mri_scan:prepare"


@pytest.mark.parametrize(
    ("speech", "key"),
    [("two", "2"), ("2.", "2"), ("Press 3", "3"), ("option four", "4"), ("star", "*"),
     ("zero", "0"), ("hash", "#"), ("nine", "9"), ("the second one", None), ("", None)],
)
def test_keys_can_be_said(speech: str, key: str | None) -> None:
    assert spoken_key(speech) == key


def test_saying_a_key_works_like_pressing_it() -> None:
    line = Line(context())
    line.say("Four.")
    assert line.state == "menu:treatments"


# --- Keys that work everywhere; wrong keys; silence ---------------------------------------


def test_nine_repeats_star_goes_back_zero_goes_to_the_main_menu() -> None:
    line = Line(context())
    line.press("1")
    line.press("5")
    first = list(line.turn.say)
    line.press("9")
    assert line.turn.say == first and line.state == "test:ct_scan"
    line.press("2")
    line.press("*")
    assert line.state == "test:ct_scan"
    line.press("*")
    assert line.state == "menu:tests"
    line.press("*")
    assert line.state == "main"
    line.press("*")
    assert line.state == "main"
    assert line.turn.say[0] == "You are at the main menu."
    line.press("1")
    line.press("5")
    line.press("0")
    assert line.state == "main" and line.call.back == []


def test_a_wrong_key_is_explained_and_the_choices_read_again() -> None:
    line = Line(context())
    line.press("#")
    assert line.state == "main"
    assert line.turn.say[0] == "Sorry, hash is not one of the choices."
    assert line.turn.say[1] == "Please press a number from 1 to 8."
    assert "For tests and scans, press 1." in line.turn.say
    line.press("#")
    assert line.turn.say[0] == "Sorry, hash is not one of the choices."


def test_a_wrong_key_while_hearing_a_topic_does_not_read_it_all_again() -> None:
    line = Line(context())
    line.press("3")
    line.press("7")
    assert K.topics["results"].answer.voice not in line.said
    assert "To hear that again, press 1." in line.turn.say


def test_three_wrong_answers_offer_a_person() -> None:
    line = Line(context())
    line.press("#")
    line.say("purple monkey dishwasher")
    assert line.turn.say[0].startswith("Sorry, I did not understand that.")
    line.press("#")
    assert line.state == "offer"
    assert "To be put through to a breast care nurse now, press 1." in line.turn.say
    line.press("1")
    assert isinstance(line.turn.next, Connect) and line.turn.next.line == "nurse"


def test_silence_is_reprompted_twice_then_a_person_offered_then_a_polite_goodbye() -> None:
    line = Line(context())
    line.press("3")
    for _ in range(2):
        line.silence()
        assert line.turn.say[0] == "Sorry, I did not hear anything."
        assert line.state == "play:results"
        assert isinstance(line.turn.next, Listen)
    line.silence()
    assert line.state == "offer"
    assert "To be put through to a breast care nurse now, press 1." in line.turn.say
    line.silence()
    assert isinstance(line.turn.next, Hangup)
    assert "Goodbye" in line.said and "999" in line.said


def test_out_of_hours_the_silence_offer_is_a_message() -> None:
    line = Line(context(MONDAY_9PM))
    for _ in range(3):
        line.silence()
    assert "To leave a message for a nurse to call you back, press 1." in line.turn.say
    line.press("1")
    assert isinstance(line.turn.next, Record)


def test_an_answer_resets_the_silence_count() -> None:
    line = Line(context())
    line.silence()
    line.silence()
    line.press("3")
    line.silence()
    assert line.state == "play:results" and line.call.misses == 1


def test_unknown_or_unreadable_state_goes_to_the_main_menu_without_error() -> None:
    ctx = context()
    for data in ({"state": "topic:gone"}, {"state": "test:results"}, {"state": "menu:nothing"},
                 {"state": 42, "back": "x"}, "not a dict", None, {"turn": "many"}):
        call = Call.from_dict(data)
        turn = step(call, Heard("input", digits="1"), ctx)
        assert isinstance(turn.next, Listen), data
    lost = step(Call.from_dict({"state": "record"}), Heard("input", digits="3"), ctx)
    assert lost.say[0] == "Sorry, I lost track of where we were."
    assert "For tests and scans, press 1." in lost.say
    assert lost.call.state == "main"
    nothing = step(Call(), Heard("input", digits=""), ctx)
    assert nothing.say[0] == "Sorry, I did not hear anything."


def test_an_ended_call_says_goodbye_again() -> None:
    line = Line(context())
    line.say("goodbye")
    line.press("1")
    assert isinstance(line.turn.next, Hangup)


def test_a_call_cannot_go_on_for_ever() -> None:
    ctx = context()
    line = Line(ctx)
    for _ in range(calls.MAX_INPUTS):
        line.press("9")
    assert isinstance(line.turn.next, Listen)
    line.press("9")
    assert isinstance(line.turn.next, Hangup)
    assert "0191 445 3735" in line.said
    later = Line(context(MONDAY_10AM + timedelta(minutes=41)), replace(line.call, inputs=0,
                                                                        state="main"))
    later.press("1")
    assert isinstance(later.turn.next, Hangup)
    sooner = Line(context(MONDAY_10AM + timedelta(minutes=39)), replace(line.call, inputs=0,
                                                                         state="main"))
    sooner.press("1")
    assert isinstance(sooner.turn.next, Listen)


# --- Triage on every spoken answer ---------------------------------------------------------

FEVER = "I've had a temperature of 38.5 since this morning"


@pytest.mark.parametrize(
    "keys",
    [[], ["1"], ["1", "5"], ["1", "5", "2"], ["3"], ["6"], ["5"], ["2"]],
    ids=["main", "tests", "ct", "ct-prepare", "results", "nurse-closed", "symptoms", "prepare"],
)
def test_a_spoken_warning_sign_is_triaged_first_in_every_state(keys: list[str]) -> None:
    line = Line(context(MONDAY_9PM, acute=True))
    for key in keys:
        line.press(key)
    line.say(FEVER)
    turn = line.turn
    assert line.state == "urgent"
    assert turn.say[0].startswith(f"Call the 24-hour acute oncology line now on {ACUTE}")
    assert "To be put through to the 24-hour acute oncology line now, press 1." in turn.say
    assert turn.actions[0].kind == "alert"
    assert turn.actions[0].data["level"] == "urgent"
    assert turn.actions[0].data["text"] == FEVER
    line.press("1")
    assert line.turn.next == Connect("acute_oncology", "acute_oncology")


def test_without_an_acute_line_the_caller_is_told_who_to_call() -> None:
    line = Line(context())
    line.say(FEVER)
    assert line.turn.say[0].startswith(
        "Call the 24-hour number your hospital gave you now, or NHS 111")
    assert "Please hang up now and make that call." in line.turn.say
    line.press("1")
    assert line.turn.say[0] == "Sorry, 1 is not one of the choices."


def test_an_emergency_is_told_to_hang_up_and_call_999_and_the_call_ends() -> None:
    line = Line(context())
    line.press("1")
    line.say("I have crushing chest pain")
    assert line.turn.say[0].startswith("Hang up and call 999 now.")
    assert isinstance(line.turn.next, Hangup)
    assert line.turn.actions[0].data["level"] == "emergency"


def test_a_same_day_worry_offers_the_nurse_or_a_message() -> None:
    line = Line(context())
    line.say("I've had a new cough for a few weeks")
    assert line.state == "same_day", line.turn.triage
    assert line.turn.say[0].startswith("Please contact your breast care nurses today.")
    line.press("1")
    assert line.turn.next == Connect("nurse", "nurse")
    evening = Line(context(MONDAY_9PM))
    evening.say("I've had a new cough for a few weeks")
    assert "To leave a message for a nurse to call you back, press 1." in evening.turn.say
    evening.press("1")
    assert isinstance(evening.turn.next, Record)


def test_a_second_worry_within_a_day_is_escalated() -> None:
    line = Line(context())
    line.say("I've had a new cough for a few weeks")
    line.press("0")
    line.say("I keep feeling sick")
    assert line.turn.triage.level == "urgent"
    assert "Repeated" in line.turn.triage.reason


def test_a_worry_texted_earlier_today_counts_too() -> None:
    ctx = context()
    texted = (MONDAY_10AM - timedelta(hours=3)).isoformat()
    line = Line(ctx, Call.new(ctx.now, worries=[texted]))
    line.say("I've had a new cough for a few weeks")
    assert line.turn.triage.level == "urgent"
    old = (MONDAY_10AM - timedelta(hours=30)).isoformat()
    fresh = Line(ctx, Call.new(ctx.now, worries=[old, "not a time"]))
    fresh.say("I've had a new cough for a few weeks")
    assert fresh.turn.triage.level == "same_day"


def test_a_question_about_symptoms_is_not_an_alert() -> None:
    line = Line(context())
    line.say("what symptoms should I look out for")
    assert line.state.startswith("play:symptoms")
    assert not line.turn.actions


# --- Routing ---------------------------------------------------------------------------------


def test_the_nurse_line_then_the_second_line_then_voicemail() -> None:
    line = Line(context())
    line.press("6")
    assert line.turn.next == Connect("nurse", "nurse")
    assert line.turn.say == ["Putting you through to a breast care nurse now."]
    line.dial_ends("no-answer")
    assert line.turn.next == Connect("nurse_2", "nurse")
    line.dial_ends("busy")
    assert isinstance(line.turn.next, Record)
    assert line.turn.next.max_seconds == 120
    assert "leave a message after the tone" in line.said
    line.recorded()
    assert isinstance(line.turn.next, Hangup)
    callback = line.turn.actions[0]
    assert callback.kind == "callback"
    assert callback.data["recording_url"] == "https://api.twilio.com/rec/RE1"
    assert "open now, until 5pm today" in line.said


@pytest.mark.parametrize("status", ["completed", "answered"])
def test_a_call_that_was_answered_ends_politely(status: str) -> None:
    line = Line(context())
    line.press("6")
    line.dial_ends(status)
    assert isinstance(line.turn.next, Hangup)
    assert line.turn.say == ["Thank you for calling. Goodbye."]


@pytest.mark.parametrize("status", ["failed", "canceled", "", "weird"])
def test_any_other_dial_outcome_moves_along_the_chain(status: str) -> None:
    line = Line(context())
    line.press("6")
    line.dial_ends(status)
    assert line.turn.next == Connect("nurse_2", "nurse")


def test_a_dial_result_with_no_state_starts_the_nurse_chain() -> None:
    ctx = context()
    turn = step(Call(), Heard("dialled", dial_status="no-answer"), ctx)
    assert turn.next == Connect("nurse", "nurse")


def test_out_of_hours_says_the_hours_and_offers_macmillan_while_it_is_open() -> None:
    line = Line(context(MONDAY_7PM, acute=True))
    line.press("6")
    assert line.state == "nurse:closed"
    assert line.turn.say[0] == (
        "The breast care nurse line is closed now. It is open Monday to Friday, 9am to 5pm, "
        "but not on bank holidays. It opens again tomorrow at 9am.")
    assert "To be put through to the 24-hour acute oncology line now, press 1." in line.turn.say
    assert ("To be put through to the Macmillan Support Line, which is free, press 2."
            in line.turn.say)
    assert "To leave a message for a nurse to call you back, press 3." in line.turn.say
    line.press("2")
    assert line.turn.next == Connect("macmillan", "macmillan")
    line.dial_ends("no-answer")
    assert line.state == "unanswered:macmillan"
    line.press("1")
    assert line.turn.next == Connect("macmillan", "macmillan")


def test_late_at_night_only_urgent_help_and_a_message() -> None:
    line = Line(context(MONDAY_9PM))
    line.press("6")
    assert "Macmillan" not in line.said
    assert "Then call the 24-hour number your hospital gave you, or NHS 111." in line.said
    line.press("2")
    assert line.turn.say[0] == "Sorry, 2 is not one of the choices."
    line.say("leave a message")
    assert isinstance(line.turn.next, Record)
    line.recorded()
    assert "opens again tomorrow at 9am" in line.said


def test_an_empty_voicemail_can_be_tried_again_or_become_a_call_back() -> None:
    line = Line(context(MONDAY_9PM))
    line.press("6")
    line.press("3")
    line.recorded(url="", seconds=None)
    assert line.state == "record:empty"
    assert line.turn.say[0] == "I did not hear a message."
    line.press("1")
    assert isinstance(line.turn.next, Record)
    line.recorded(url="https://api.twilio.com/rec/RE2", seconds=0)
    assert line.state == "record:empty"
    line.press("2")
    assert isinstance(line.turn.next, Hangup)
    assert line.turn.actions[0].kind == "callback"
    assert line.turn.actions[0].data["recording_url"] == ""


def test_a_hidden_number_is_asked_for_in_the_voicemail() -> None:
    ctx = context(MONDAY_9PM)
    line = Line(ctx, Call.new(ctx.now, hidden=True))
    line.press("6")
    line.press("3")
    assert "Your number is hidden" in line.said


def test_the_voicemail_reason_says_what_the_caller_was_hearing_about() -> None:
    line = Line(context(MONDAY_9PM))
    line.press("1")
    line.press("6")
    line.press("1")
    line.press("0")
    line.press("6")
    line.press("3")
    line.recorded()
    assert line.turn.actions[0].data["reason"] == (
        "Left a voicemail on the phone line (after hearing about PET-CT scan)")


def test_symptoms_offers_the_acute_line_only_when_there_is_one() -> None:
    with_line = Line(context(acute=True))
    with_line.press("5")
    with_line.press("3")
    assert with_line.turn.next == Connect("acute_oncology", "acute_oncology")
    without = Line(context())
    without.press("5")
    assert "press 3" not in without.said


# --- Texts --------------------------------------------------------------------------------


def test_asking_for_a_text_gives_the_sms_version_in_pages_of_two_segments() -> None:
    line = Line(context())
    line.press("5")
    line.press("2")
    request = line.turn.text
    assert request is not None and request.topic == "symptoms" and request.aspect is None
    assert "".join(request.pages).startswith(K.topics["symptoms"].answer.sms[:60])
    for page in request.pages:
        c = cost(page)
        assert c.encoding == "GSM-7" and c.segments <= 2, page
    assert len(request.pages) == 2
    assert request.pages[0].endswith("(Continued in the next text.)")
    assert K.topics["symptoms"].answer.voice not in line.said


def test_a_test_section_is_texted_with_its_title() -> None:
    line = Line(context())
    line.say("how do I get ready for a CT scan")
    line.press("2")
    assert line.turn.text is not None
    assert line.turn.text.pages == (f"CT scan: {K.topics['ct_scan'].sections['prepare'].sms}",)


@pytest.mark.parametrize(
    ("outcome", "sent", "first"),
    [("sent", 1, "I have sent that to you as a text message."),
     ("sent", 2, "I have sent that to you in 2 text messages."),
     ("opted_out", 0, "You have asked us not to send you texts, so I have not sent one."),
     ("failed", 0, "Sorry, I could not send the text just now.")],
)
def test_the_caller_is_told_what_happened_to_their_text(outcome: str, sent: int, first: str
                                                        ) -> None:
    line = Line(context())
    line.press("3")
    line.press("2")
    turn = after_text(line.turn, outcome, sent)
    assert turn.say[0].startswith(first)
    assert "To hear that again, press 1." in turn.say


def test_no_text_choice_for_a_phone_that_cannot_get_texts() -> None:
    ctx = context()
    line = Line(ctx, Call.new(ctx.now, can_text=False))
    line.press("3")
    assert "text message" not in line.said
    line.say("text me")
    assert line.turn.text is None
    assert line.turn.say[0] == "Sorry, I cannot send a text to the phone you are calling from."


# --- Without state; content ------------------------------------------------------------------


def test_the_fallback_puts_the_caller_through_in_hours_and_gives_numbers_out_of_hours() -> None:
    open_ = fallback(context(acute=True))
    assert open_.line == "nurse"
    assert ACUTE in open_.say[0] and "999" in open_.say[0]
    closed = fallback(context(MONDAY_9PM))
    assert closed.line is None
    assert "NHS 111" in closed.say[0]
    assert "0191 445 3735" in closed.say[1] and "0808 808 00 00" in closed.say[1]


@pytest.mark.parametrize(
    ("text", "spoken"),
    [("call 999.", "call 9 9 9."), ("or NHS 111.", "or NHS 1 1 1."),
     ("on 0191 445 3735, or", "on 0 1 9 1, 4 4 5, 3 7 3 5, or"),
     (f"now on {ACUTE}.", "now on 0 7 7 0 0, 9 0 0, 9 9 9."),
     ("free on 0808 808 00 00", "free on 0 8 0 8, 8 0 8, 0 0, 0 0"),
     ("Samaritans on 116 123", "Samaritans on 1 1 6, 1 2 3"),
     ("10 to 30 minutes, 4 hours, 3D, press 0", "10 to 30 minutes, 4 hours, 3D, press 0")],
)
def test_numbers_are_read_digit_by_digit(text: str, spoken: str) -> None:
    assert speakable(text) == spoken


def test_every_fixed_sentence_is_plain_english() -> None:
    today = datetime(2026, 11, 23).date()
    checked = 0
    for source, text in spoken_texts(context()):
        entry = Entry(source, "voice", string_filled(text))
        result = entry.check(today)
        assert not result["breaches"], (source, result["breaches"])
        checked += 1
    assert checked > 50


def string_filled(text: str) -> str:
    return text.format(hours="Monday to Friday, 9am to 5pm", when="on Monday at 9am",
                       key="8", count="7", urgent="the 24-hour acute oncology line",
                       nurse="0191 445 3735", macmillan="0808 808 00 00",
                       macmillan_hours="Monday to Friday, 9am to 8pm", title="CT scan",
                       close="5pm", name="Mary", number="0191 445 3735",
                       day="Tuesday 24 November", person="Mary")


def test_routes_name_only_directory_lines() -> None:
    directory = default_directory()
    for route, chain in P.routes.items():
        for line_id in chain:
            assert line_id in directory.lines, (route, line_id)


def test_a_malformed_voice_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "voice.yaml"
    bad.write_text("texts: {}\nchoices: {main: []}\n", encoding="utf-8")
    with pytest.raises(CallContentError):
        load_prompts(bad)
    good = calls.VOICE_FILE.read_text(encoding="utf-8")
    bad.write_text(good.replace('key: "2", go: "state:menu:prepare"', 'key: "9", go: "x"'),
                   encoding="utf-8")
    with pytest.raises(CallContentError, match="keys"):
        load_prompts(bad)


def test_a_long_menu_is_split_into_pages() -> None:
    ctx = context()
    topics = dict(K.topics)
    template = K.topics["ct_scan"]
    for n in range(5):
        extra = replace(template, id=f"extra_{n}", title=f"Extra scan {n}")
        topics[extra.id] = extra
    knowledge = replace(K, topics=topics)
    # menu() lists only the contract ids, so stand in a knowledge base that lists the extras.
    extras = [topics[f"extra_{n}"] for n in range(5)]

    class Bigger(type(knowledge)):  # type: ignore[misc]
        def menu(self, name: str):  # type: ignore[no-untyped-def]
            found = super().menu(name)
            return found + extras if name == "tests" else found

    big = Bigger(knowledge.topics, knowledge.messages)
    ctx = replace(ctx, knowledge=big)
    line = Line(ctx)
    line.press("1")
    assert line.turn.say[-2] == "For more choices, press 8."
    assert "For Extra scan" not in line.said
    line.press("7")
    assert line.state == "test:mri_scan"
    line.press("*")
    line.press("8")
    assert line.state == "menu:tests@2"
    assert "For extra scan 0, press 2." in line.turn.say
    line.press("2")
    assert line.state == "test:extra_0"
    line.press("*")
    line.press("8")
    assert line.state == "menu:tests"


def test_a_serious_sign_asked_about_is_told_what_to_do_before_the_answer() -> None:
    line = Line(context())
    turn = line.say("is chest pain a side effect of radiotherapy")
    assert turn.triage.level == "none" and turn.triage.asked == "chest_pain"
    assert turn.say[0].endswith("If this is happening now, hang up and call 999.")
    assert isinstance(turn.next, Listen)


def test_a_plain_question_by_voice_gets_no_such_line() -> None:
    line = Line(context())
    turn = line.say("does radiotherapy make you tired")
    assert not any("happening now" in s for s in turn.say)
