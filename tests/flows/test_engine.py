"""Whole conversations through engine.step, as a patient texting the line sees them."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.conversation import Conversation
from flows.directory import Directory
from flows.engine import Context, Turn, default_directory, step
from flows.gsm import cost
from flows.knowledge import default_knowledge

LONDON = ZoneInfo("Europe/London")
# Monday 1 June 2026, 10:00 BST: the nurse line is open.
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=LONDON)

K = default_knowledge()
MAIN_MENU = K.messages["main_menu"].sms
TESTS_HEADER = K.messages["tests_menu"].sms
HINT = K.messages["more_hint"].sms
NO_MORE = K.messages["no_more"].sms
TESTS = [t.id for t in K.menu("tests")]
CT_INDEX = TESTS.index("ct_scan") + 1
ACUTE = "0191 000 0000"


class Chat:
    """One phone number texting the engine, carrying the conversation between turns."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.conv = Conversation()
        self.turn: Turn | None = None

    def send(self, text: str | None, media: int = 0, now: datetime | None = None) -> Turn:
        ctx = self.ctx if now is None else dataclasses.replace(self.ctx, now=now)
        self.turn = step(self.conv, text, ctx, media=media)
        self.conv = self.turn.conversation
        return self.turn

    @property
    def reply(self) -> str:
        """Everything sent back for the last message, as the patient's phone shows it."""
        assert self.turn is not None, "nothing sent yet"
        return "\n".join(self.turn.messages)

    @property
    def action_kinds(self) -> list[str]:
        assert self.turn is not None, "nothing sent yet"
        return [a.kind for a in self.turn.actions]


@pytest.fixture
def ctx() -> Context:
    return Context.default(now=MONDAY_10)


@pytest.fixture
def make_chat() -> Callable[..., Chat]:
    def make(now: datetime = MONDAY_10, directory: Directory | None = None) -> Chat:
        return Chat(Context.default(now=now, directory=directory))

    return make


@pytest.fixture
def chat(make_chat: Callable[..., Chat]) -> Chat:
    return make_chat()


def _fits(text: str) -> bool:
    c = cost(text)
    return c.encoding == "GSM-7" and c.segments <= 2


def _numbers(text: str) -> set[str]:
    """Phone-number-like runs of 3 or more digits in a reply ("24-hour", "5pm" are not)."""
    runs = (m.strip() for m in re.findall(r"\d(?:[\d ]*\d)?", text))
    return {r for r in runs if sum(c.isdigit() for c in r) >= 3}


# --- Menus ------------------------------------------------------------------------


def test_hi_shows_welcome_and_main_menu(chat: Chat) -> None:
    chat.send("hi")
    assert chat.reply.startswith(K.messages["welcome"].sms)
    assert MAIN_MENU in chat.reply
    assert chat.conv.state == "main"


def test_menu_path_to_preparation_text(chat: Chat) -> None:
    chat.send("hi")
    chat.send("1")
    assert chat.reply.startswith(TESTS_HEADER)
    assert f"{CT_INDEX} CT scan" in chat.reply
    chat.send(str(CT_INDEX))
    assert chat.reply.startswith("CT scan. Reply with a number:")
    assert "2 How to prepare" in chat.reply
    chat.send("2")
    assert chat.reply.startswith("CT scan: Do not eat or drink for at least 4 hours before")
    assert chat.reply.endswith(K.messages["after_section"].sms)
    assert chat.turn is not None and (chat.turn.topic, chat.turn.aspect) == ("ct_scan", "prepare")


def test_other_sections_from_the_same_test_menu(chat: Chat) -> None:
    for text in ("hi", "1", str(CT_INDEX), "2"):
        chat.send(text)
    chat.send("3")
    assert "10 to 30 minutes" in chat.reply
    chat.send("4")
    assert "go home" in chat.reply


def test_back_returns_to_previous_menu(chat: Chat) -> None:
    for text in ("hi", "1", str(CT_INDEX), "2"):
        chat.send(text)
    chat.send("BACK")
    assert chat.reply.startswith(TESTS_HEADER), "BACK from a section should show the tests"
    chat.send("BACK")
    assert chat.reply == MAIN_MENU
    chat.send("back")  # nothing further back: stays on the main menu
    assert chat.reply == MAIN_MENU


def test_back_from_test_menu_returns_to_tests(chat: Chat) -> None:
    for text in ("hi", "1", str(CT_INDEX)):
        chat.send(text)
    chat.send("Back")
    assert chat.reply.startswith(TESTS_HEADER)


@pytest.mark.parametrize("word", ["MENU", "0", "menu", "Home"], ids=["MENU", "0", "menu", "Home"])
@pytest.mark.parametrize(
    "path",
    [("hi", "1"), ("hi", "1", "5", "2"), ("hi", "3", "2"), ("NURSE",),
     ("what is a bone scan",), ("hi", "1", "3", "9")],
    ids=["tests", "section", "treatment", "nurse-reason", "free-text-test", "after-invalid"],
)
def test_menu_and_zero_return_to_main_from_anywhere(
    chat: Chat, word: str, path: tuple[str, ...]
) -> None:
    for text in path:
        chat.send(text)
    chat.send(word)
    assert chat.reply == MAIN_MENU
    assert chat.conv.state == "main"
    assert chat.conv.back == []
    chat.send("1")
    assert chat.reply.startswith(TESTS_HEADER), "numbers after MENU should be main options"


def test_more_pages_through_a_long_answer_then_says_end(chat: Chat) -> None:
    chat.send("hi")
    chat.send("3")
    chat.send("2")  # Hormone therapy: longer than one page
    first = chat.reply
    assert first.startswith("Hormone therapy")
    assert first.endswith(HINT)
    chat.send("MORE")
    second = chat.reply
    assert second != first
    assert not second.endswith(HINT)
    assert second.endswith(K.messages["after_menu_topic"].sms)
    chat.send("more")
    assert chat.reply == NO_MORE
    for page in (first, second):
        assert _fits(page)


def test_more_with_nothing_pending(chat: Chat) -> None:
    chat.send("MORE")
    assert chat.reply == NO_MORE


def test_new_question_drops_the_rest_of_an_old_answer(chat: Chat) -> None:
    for text in ("hi", "3", "2"):
        chat.send(text)
    chat.send("what is a ct scan")
    chat.send("MORE")
    assert chat.reply == NO_MORE


@pytest.mark.parametrize(
    ("path", "choice", "count"),
    [(("hi",), "9", 6), (("hi", "1"), "9", len(TESTS)), (("hi", "1", "5"), "7", 4),
     (("hi", "3"), "12", len(K.menu("treatments")))],
    ids=["main", "tests", "test-menu", "treatments"],
)
def test_invalid_number_explains_and_reshows_menu(
    chat: Chat, path: tuple[str, ...], choice: str, count: int
) -> None:
    for text in path:
        chat.send(text)
    before = chat.reply.split("\n", 1)[1] if path == ("hi",) else chat.reply
    state = chat.conv.state
    chat.send(choice)
    assert chat.reply.startswith(f"Please reply with a number from 1 to {count}")
    assert before in chat.reply, "the same menu should be shown again"
    assert chat.conv.state == state
    assert _fits(chat.reply)


def test_free_text_question_goes_straight_to_the_section(chat: Chat) -> None:
    chat.send("can i eat before my CT")
    assert "Do not eat or drink for at least 4 hours" in chat.reply
    assert chat.conv.state == "test:ct_scan"
    chat.send("3")  # the test menu now applies
    assert "10 to 30 minutes" in chat.reply


def test_not_understood_offers_menu_and_nurse(chat: Chat) -> None:
    chat.send("qwerty zxcv")
    assert chat.reply == K.messages["not_sure"].sms


# --- Nurse call-backs ---------------------------------------------------------------


def _ask_nurse(chat: Chat, reason: str = "questions about my scan results") -> None:
    chat.send("NURSE")
    assert chat.reply == K.messages["nurse_ask"].sms
    assert chat.conv.state == "nurse:reason"
    assert chat.turn is not None and chat.turn.actions == []
    chat.send(reason)


def test_nurse_asks_for_reason_then_books_callback_with_it(chat: Chat) -> None:
    _ask_nurse(chat, "questions   about my\nscan results")
    assert chat.turn is not None
    callbacks = [a for a in chat.turn.actions if a.kind == "callback"]
    assert len(callbacks) == 1
    assert callbacks[0].data["reason"] == "questions about my scan results"
    assert chat.conv.state == "main"


def test_main_menu_option_5_asks_for_reason(chat: Chat) -> None:
    chat.send("hi")
    chat.send("5")
    assert chat.reply == K.messages["nurse_ask"].sms


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 6, 1, 10, 0, tzinfo=LONDON), "open now, until 5pm today"),
        (datetime(2026, 6, 6, 12, 0, tzinfo=LONDON), "opens again on Monday at 9am"),
        (datetime(2026, 6, 7, 20, 0, tzinfo=LONDON), "opens again tomorrow at 9am"),
        (datetime(2026, 6, 3, 7, 30, tzinfo=LONDON), "opens again today at 9am"),
        (datetime(2026, 6, 5, 17, 0, tzinfo=LONDON), "opens again on Monday at 9am"),
        # Sunday 29 March 2026, the day the clocks go forward.
        (datetime(2026, 3, 29, 20, 0, tzinfo=LONDON), "opens again tomorrow at 9am"),
    ],
    ids=["mon-10am", "saturday", "sun-8pm", "wed-7.30am", "fri-5pm", "clock-change-sunday"],
)
def test_callback_reply_says_when_nurse_line_is_open(
    make_chat: Callable[..., Chat], now: datetime, expected: str
) -> None:
    chat = make_chat(now=now)
    _ask_nurse(chat)
    assert expected in chat.reply
    assert "callback" in chat.action_kinds
    assert _fits(chat.reply)


def test_worrying_callback_reason_is_not_replaced_by_the_next_text(chat: Chat) -> None:
    chat.send("NURSE")
    chat.send("my hip pain is not helped by painkillers")
    assert "alert" in chat.action_kinds
    turn = chat.send("ok thanks")
    reasons = [a.data["reason"] for a in turn.actions if a.kind == "callback"]
    assert reasons in ([], ["my hip pain is not helped by painkillers"]), reasons


def test_menu_cancels_the_nurse_request(chat: Chat) -> None:
    chat.send("NURSE")
    chat.send("MENU")
    assert chat.reply == MAIN_MENU
    assert "callback" not in chat.action_kinds
    chat.send("1")
    assert "callback" not in chat.action_kinds


# --- Opt out and in ---------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", "stop", "Stop.", "UNSUBSCRIBE"])
def test_stop_opts_out_silently(chat: Chat, word: str) -> None:
    chat.send("hi")
    chat.send(word)
    assert chat.turn is not None
    assert chat.turn.messages == []
    assert chat.action_kinds == ["opt_out"]


@pytest.mark.parametrize("word", ["START", "start", "UNSTOP"])
def test_start_opts_in_silently(chat: Chat, word: str) -> None:
    chat.send(word)
    assert chat.turn is not None
    assert chat.turn.messages == []
    assert chat.action_kinds == ["opt_in"]


def test_stop_inside_a_sentence_is_not_an_opt_out(chat: Chat) -> None:
    chat.send("when do I stop eating before my pet scan")
    assert "opt_out" not in chat.action_kinds
    assert chat.turn is not None and chat.turn.messages


# --- Triage in every state ----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [(), ("NURSE",), ("hi", "1", "5"), ("hi", "1", "5", "2"), ("hi", "3", "2")],
    ids=["fresh", "nurse-reason", "test-menu", "section", "mid-long-answer"],
)
def test_chest_pain_is_an_emergency_in_every_state(chat: Chat, path: tuple[str, ...]) -> None:
    for text in path:
        chat.send(text)
    asked_for_nurse = chat.conv.state == "nurse:reason"
    chat.send("chest pain")
    assert chat.turn is not None
    assert chat.turn.triage.level == "emergency"
    assert chat.reply.startswith("Call 999 now")
    assert chat.action_kinds[0] == "alert"
    assert chat.turn.actions[0].data["level"] == "emergency"
    # A warning sign given as the reason for a call-back is also booked as one.
    assert ("callback" in chat.action_kinds) == asked_for_nurse
    assert chat.conv.pages == []
    chat.send("MORE")
    assert chat.reply == NO_MORE, "MORE after an emergency must not resume the old answer"


@pytest.mark.parametrize("word", ["1", "BACK", "STOP"])
def test_triage_runs_before_keywords_and_numbers(chat: Chat, word: str) -> None:
    chat.send("hi")
    chat.send(f"{word} I have chest pain")
    assert chat.reply.startswith("Call 999 now")


def test_urgent_without_acute_number_gives_no_made_up_number(chat: Chat) -> None:
    chat.send("I have a temperature of 38.5")
    assert chat.turn is not None and chat.turn.triage.level == "urgent"
    assert chat.reply.startswith("Call the 24-hour number your hospital gave you now")
    assert "the 24-hour number your hospital gave you" in chat.reply
    assert _numbers(chat.reply) <= default_directory().dialable(), chat.reply
    assert "alert" in chat.action_kinds


def test_urgent_with_acute_number_gives_it(make_chat: Callable[..., Chat]) -> None:
    directory = default_directory().with_number("acute_oncology", ACUTE)
    chat = make_chat(directory=directory)
    chat.send("I have a temperature of 38.5")
    assert chat.reply.startswith(f"Call the 24-hour acute oncology line now on {ACUTE}")
    assert "your hospital gave you" not in chat.reply


@pytest.mark.parametrize("configured", [False, True], ids=["no-acute-number", "acute-number"])
def test_callback_reply_names_the_urgent_line(
    make_chat: Callable[..., Chat], configured: bool
) -> None:
    directory = default_directory().with_number("acute_oncology", ACUTE if configured else None)
    chat = make_chat(directory=directory)
    _ask_nurse(chat)
    if configured:
        assert ACUTE in chat.reply
    else:
        assert "the 24-hour number your hospital gave you" in chat.reply
        assert _numbers(chat.reply) <= default_directory().dialable(), chat.reply


SAME_DAY = "I have been constipated for 3 days"
SAME_DAY_2 = "I have a new rash on my arms"


def test_same_day_message_points_to_breast_care_team(chat: Chat) -> None:
    chat.send(SAME_DAY)
    assert chat.turn is not None and chat.turn.triage.level == "same_day"
    nurse = default_directory()["nurse"]
    assert nurse.number is not None and nurse.number in chat.reply
    assert "Monday to Friday, 9am to 5pm" in chat.reply


@pytest.mark.parametrize(("hours", "level"), [(1, "urgent"), (23, "urgent"), (25, "same_day")])
def test_repeated_worrying_messages_escalate_within_24_hours(
    chat: Chat, hours: int, level: str
) -> None:
    first = chat.send(SAME_DAY, now=MONDAY_10)
    assert first.triage.level == "same_day"
    second = chat.send(SAME_DAY_2, now=MONDAY_10 + timedelta(hours=hours))
    assert second.triage.level == level
    if level == "urgent":
        assert chat.reply.startswith("Call the 24-hour number your hospital gave you now")
        assert K.messages["repeat_escalation"].sms in chat.reply
        assert second.actions[0].kind == "alert"
        assert second.actions[0].data["level"] == "urgent"
    else:
        assert chat.reply.startswith("Please contact your breast care nurses today")


def test_escalation_survives_a_save_and_reload(chat: Chat) -> None:
    chat.send(SAME_DAY)
    chat.conv = Conversation.from_dict(json.loads(json.dumps(chat.conv.to_dict())))
    turn = chat.send(SAME_DAY_2, now=MONDAY_10 + timedelta(hours=2))
    assert turn.triage.level == "urgent"


def test_a_flood_of_warning_signs_keeps_the_state_small_and_still_escalates(chat: Chat) -> None:
    # Hundreds of worrying texts in a day (a distressed patient, a stuck phone) must not
    # make every later message slower to read and save; each still gets the urgent reply.
    signs = [SAME_DAY, SAME_DAY_2, "my ankles are swollen", "ive been sick twice today"]
    for i in range(400):
        turn = chat.send(signs[i % len(signs)], now=MONDAY_10 + timedelta(minutes=3 * i))
        assert i == 0 or turn.triage.level == "urgent", (i, turn.triage)
    assert len(chat.conv.worries) <= 21
    assert len(json.dumps(chat.conv.to_dict())) < 4000
    # A day after the flood has stopped, a new sign is same day again.
    later = MONDAY_10 + timedelta(minutes=3 * 400) + timedelta(hours=25)
    assert chat.send(SAME_DAY, now=later).triage.level == "same_day"


# --- Odd input ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", None, "\n\t"], ids=["empty", "spaces", "none", "ws"])
def test_empty_text_gets_empty_message(chat: Chat, text: str | None) -> None:
    chat.send(text)
    assert chat.reply == K.messages["empty"].sms


@pytest.mark.parametrize("text", ["", None], ids=["empty", "none"])
def test_picture_without_text_gets_pictures_message(chat: Chat, text: str | None) -> None:
    chat.send(text, media=1)
    assert chat.reply == K.messages["media_only"].sms
    assert "pictures" in chat.reply


def test_picture_with_text_answers_the_text(chat: Chat) -> None:
    chat.send("what is a bone scan", media=1)
    assert chat.turn is not None and chat.turn.topic == "bone_scan"


@pytest.mark.parametrize(
    "text",
    [
        "I have a question about my scan next week. " * 38,
        "a" * 1600,
        "chest pain " * 146,
        ("what is a ct scan and how long does it take and what happens after " * 24)[:1600],
    ],
    ids=["sentences", "one-word", "repeated-warning", "long-question"],
)
def test_very_long_text_gets_a_short_reply(chat: Chat, text: str) -> None:
    assert len(text) >= 1600
    turn = chat.send(text)
    # Two questions in one get two texts at most, never a page per question asked.
    assert 1 <= len(turn.messages) <= 2
    assert all(_fits(m) for m in turn.messages)


@pytest.mark.parametrize(
    "text",
    ["\U0001f600\U0001f600\U0001f44d", "\u2764\ufe0f", "\x00\x01\x1b[31m", "\x7f\x08\x0c",
     "\ud83d", "\u202e\u200b\ufeff", "\U0001f600 1", "9\x00"],
    ids=["emoji", "heart", "ansi", "controls", "lone-surrogate", "bidi-zwsp-bom",
         "emoji-number", "number-nul"],
)
def test_odd_characters_never_raise(chat: Chat, text: str) -> None:
    turn = chat.send(text)
    # Two questions in one get two texts at most, never a page per question asked.
    assert 1 <= len(turn.messages) <= 2
    assert all(_fits(m) for m in turn.messages)


def test_non_english_text_is_told_so(chat: Chat) -> None:
    chat.send("\u0645\u0631\u062d\u0628\u0627 \u0643\u064a\u0641 \u062d\u0627\u0644\u0643")
    assert chat.reply == K.messages["not_english"].sms


# --- Saved state ------------------------------------------------------------------------


def _reload(conv: Conversation) -> Conversation:
    return Conversation.from_dict(json.loads(json.dumps(conv.to_dict())))


def test_conversation_round_trips_through_json(chat: Chat) -> None:
    for text in ("hi", "1", str(CT_INDEX), "2", "BACK", "BACK", "3", "2", SAME_DAY):
        chat.send(text)
    chat.send("hi")
    chat.send("3")
    chat.send("2")
    assert chat.conv.pages and chat.conv.back and chat.conv.worries
    restored = _reload(chat.conv)
    assert restored == chat.conv
    assert isinstance(restored.worries[0], str)
    # The patient cannot tell the conversation was stored: MORE carries on the same.
    ctx = chat.ctx
    assert step(restored, "MORE", ctx).messages == step(chat.conv, "MORE", ctx).messages
    assert step(restored, "BACK", ctx).messages == step(chat.conv, "BACK", ctx).messages


@pytest.mark.parametrize(
    "data",
    ["garbage", None, 42, [1, 2, 3], {"turns": "many"}, {"back": 5}, {"pages": 3.5},
     {"state": None, "turns": None}],
    ids=["string", "none", "int", "list", "bad-turns", "bad-back", "bad-pages", "nulls"],
)
def test_from_dict_of_garbage_gives_fresh_conversation(data: object, ctx: Context) -> None:
    conv = Conversation.from_dict(data)  # type: ignore[arg-type]
    assert conv == Conversation()
    turn = step(conv, "hi", ctx)
    assert MAIN_MENU in "\n".join(turn.messages)


@pytest.mark.parametrize(
    ("data", "text"),
    [({"state": "test:no_such_topic"}, "1"), ({"state": "banana"}, "1"),
     ({"state": "banana"}, "9"), ({"back": ["banana"]}, "BACK")],
    ids=["unknown-test-then-1", "unknown-state-then-1", "unknown-state-then-9",
         "unknown-back-then-BACK"],
)
def test_unknown_stored_state_still_gets_a_reply(data: dict[str, object], text: str,
                                                 ctx: Context) -> None:
    turn = step(Conversation.from_dict(data), text, ctx)
    assert turn.messages and _fits(turn.messages[0])


def test_old_worries_are_forgotten(chat: Chat) -> None:
    chat.send(SAME_DAY, now=MONDAY_10)
    chat.send("hi", now=MONDAY_10 + timedelta(hours=30))
    assert chat.conv.worries == []
