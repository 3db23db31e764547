"""What the line says when a warning sign is told from the hospital, and to the replies
people send after a warning: "ok", "he's refusing to go", "the paramedics came and left"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from flows.conversation import Conversation
from flows.engine import Context, Turn, step
from flows.knowledge import default_knowledge

MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))
THANKS = default_knowledge().messages["thanks"].sms


def ask(text: str, conv: Conversation | None = None) -> Turn:
    return step(conv or Conversation(), text, Context.default(now=MONDAY_10))


def reply(turn: Turn) -> str:
    return "\n".join(turn.messages)


def test_a_collapse_in_the_waiting_room_is_told_to_the_staff_there_first() -> None:
    said = reply(ask("mum has collapsed in the waiting room at A&E"))
    assert "tell a nurse or doctor there straight away" in said
    # "At the hospital" may be where they were earlier: 999 is still given.
    assert "If not, call 999 now" in said


def test_an_urgent_sign_told_from_the_hospital_names_the_staff_and_the_24_hour_line() -> None:
    said = reply(ask("we're at the hospital for her scan, she's got a temp of 39 and shivering"))
    assert "tell a nurse or doctor there" in said and "24-hour number" in said


def test_a_warning_sign_told_at_home_gets_the_usual_call() -> None:
    said = reply(ask("he's got chest pain going down his arm"))
    assert said.startswith("Call 999 now") and "nurse or doctor there" not in said


@pytest.mark.parametrize("text", ["ok", "Ok.", "thanks", "thank you x", "will do"])
def test_ok_after_an_urgent_reply_is_the_call_still_to_make_not_you_are_welcome(
    text: str,
) -> None:
    first = ask("temp 38.6 on chemo")
    said = reply(ask(text, first.conversation))
    assert "24-hour number" in said and "999" in said and THANKS not in said


def test_ok_after_an_emergency_reply_is_999() -> None:
    first = ask("he's got chest pain going down his arm")
    said = reply(ask("ok", first.conversation))
    assert "call 999 now" in said and THANKS not in said


def test_ok_with_nothing_before_it_is_still_you_are_welcome() -> None:
    assert reply(ask("thanks")) == THANKS


@pytest.mark.parametrize(
    "text", ["he's refusing to go", "she refuses point blank", "she won't let me ring them"]
)
def test_help_refused_after_a_warning_gets_the_call_again(text: str) -> None:
    first = ask("he's got chest pain going down his arm")
    turn = ask(text, first.conversation)
    assert "call 999 now" in reply(turn) and turn.topic is None


@pytest.mark.parametrize(
    "text",
    ["paramedics came, said it was anxiety and left",
     "the ambulance crew checked her over and didn't take her in",
     "the out of hours doctor came out and said she's fine"],
)
def test_seen_by_paramedics_and_left_at_home_follows_them_and_says_when_to_call_again(
    text: str,
) -> None:
    first = ask("she's gone very drowsy and confused, temp 39")
    said = reply(ask(text, first.conversation))
    assert "Follow what they told you" in said and "call 999 again" in said


def test_seen_and_left_but_worse_is_told_to_call_now() -> None:
    first = ask("she's gone very drowsy and confused, temp 39")
    said = reply(ask("paramedics came and left but she's worse now", first.conversation))
    assert "call 999 now" in said and "Follow what they told you" not in said
