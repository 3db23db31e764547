"""Triage across a conversation: repeats, answers with a safety line, the number again."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows import calls
from flows.conversation import Conversation
from flows.engine import Context, Turn, default_directory, step
from flows.knowledge import default_knowledge

LONDON = ZoneInfo("Europe/London")
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=LONDON)  # the nurse line is open
K = default_knowledge()
NURSE = default_directory()["nurse"].number or ""


class Chat:
    """One number texting the engine; the conversation is carried between turns."""

    def __init__(self) -> None:
        self.ctx = Context.default(now=MONDAY_10)
        self.conv = Conversation()

    def send(self, text: str, after: timedelta = timedelta(0)) -> Turn:
        ctx = dataclasses.replace(self.ctx, now=MONDAY_10 + after)
        turn = step(self.conv, text, ctx)
        self.conv = turn.conversation
        return turn


@pytest.fixture
def chat() -> Chat:
    return Chat()


def _alerts(turn: Turn) -> list[str]:
    return [a.data["level"] for a in turn.actions if a.kind == "alert"]


def test_a_frightened_patient_asking_two_questions_is_never_told_to_ring_999(chat: Chat) -> None:
    first = chat.send("so nervous about my scan tomorrow, will the injection hurt?")
    second = chat.send("and how long will I be there? scared tbh", timedelta(minutes=5))
    for turn in (first, second):
        assert turn.triage.level == "none"
        assert "999" not in "\n".join(turn.messages)
        assert _alerts(turn) == []


def test_a_different_amber_sign_within_a_day_is_urgent(chat: Chat) -> None:
    assert chat.send("my ankles are really puffy").triage.level == "same_day"
    turn = chat.send("and now my eyes are gritty and watering", timedelta(hours=3))
    assert turn.triage.level == "urgent"
    assert turn.messages[0].startswith("Call the 24-hour number your hospital gave you now")
    assert _alerts(turn) == ["urgent"]


def test_the_same_amber_sign_again_within_a_day_is_urgent(chat: Chat) -> None:
    assert chat.send("I've been sick twice this morning").triage.level == "same_day"
    turn = chat.send("been sick again", timedelta(hours=4))
    assert turn.triage.level == "urgent"
    assert "same warning sign again" in turn.triage.reason


def test_an_amber_sign_a_day_and_more_later_is_not_escalated(chat: Chat) -> None:
    chat.send("my ankles are really puffy")
    turn = chat.send("my eyes are gritty and sore", timedelta(hours=25))
    assert turn.triage.level == "same_day"


def test_low_mood_said_twice_is_not_escalated_to_urgent(chat: Chat) -> None:
    assert chat.send("feeling really low and crying all the time").triage.level == "same_day"
    turn = chat.send("still feeling so down today", timedelta(hours=2))
    assert turn.triage.level == "same_day"


def test_a_question_with_a_same_day_sign_gets_the_answer_then_a_safety_line(chat: Chat) -> None:
    turn = chat.send("my ankles have been puffy for a few days, can I eat before my CT scan?")
    assert turn.triage.level == "same_day"
    assert turn.topic == "ct_scan"
    assert len(turn.messages) == 2
    assert "breast care nurses today" not in turn.messages[0]  # the answer comes first
    assert turn.messages[1].startswith("Also, about the swollen ankles or legs")
    assert NURSE and NURSE in turn.messages[1]
    assert _alerts(turn) == ["same_day"]


def test_a_same_day_sign_without_a_question_gets_the_same_day_advice(chat: Chat) -> None:
    turn = chat.send("my ankles have been puffy for a few days")
    assert turn.messages[0].startswith("Please contact your breast care nurses today")


def test_an_urgent_sign_with_a_question_puts_the_action_first(chat: Chat) -> None:
    turn = chat.send("can I eat before my CT scan? temp is 38.4 and I'm shivery")
    assert turn.triage.level == "urgent"
    assert turn.messages[0].startswith("Call the 24-hour number your hospital gave you now")


@pytest.mark.parametrize(
    "question",
    ["what number do I ring?", "is there a number at night", "who do I call", "what number"],
)
def test_after_an_urgent_reply_the_number_is_given_again(chat: Chat, question: str) -> None:
    chat.send("temp 38.6 and shivering on chemo")
    turn = chat.send(question, timedelta(minutes=2))
    assert turn.messages[0].startswith("Call the 24-hour number your hospital gave you now")
    assert "999" in turn.messages[0]


def test_after_an_urgent_reply_the_configured_number_is_given_again() -> None:
    chat = Chat()
    chat.ctx = dataclasses.replace(
        chat.ctx, directory=default_directory().with_number("acute_oncology", "0191 000 0000")
    )
    chat.send("temp 38.6 and shivering on chemo")
    turn = chat.send("what number do I ring?", timedelta(minutes=2))
    assert turn.messages[0].startswith("Call the 24-hour acute oncology line now on 0191 000 0000")


def test_after_an_emergency_reply_the_number_is_999(chat: Chat) -> None:
    chat.send("crushing pain in my chest")
    turn = chat.send("what number do i call", timedelta(minutes=1))
    assert turn.messages[0].startswith("Call 999 now")


def test_without_an_urgent_reply_a_number_question_is_answered_as_usual(chat: Chat) -> None:
    turn = chat.send("what number do I ring?")
    assert not turn.messages[0].startswith("Call the 24-hour")


def test_the_number_is_not_repeated_a_day_later(chat: Chat) -> None:
    chat.send("temp 38.6 and shivering on chemo")
    turn = chat.send("what number do I ring?", timedelta(hours=25))
    assert not turn.messages[0].startswith("Call the 24-hour")


def test_a_sign_texted_then_another_said_on_the_phone_is_urgent() -> None:
    chat = Chat()
    chat.send("my ankles are really puffy")
    ctx = dataclasses.replace(chat.ctx, now=MONDAY_10 + timedelta(hours=1))
    call = calls.Call.new(ctx.now, worries=chat.conv.recent_worries(ctx.now))
    turn = calls.step(call, calls.Heard("call"), ctx)
    turn = calls.step(turn.call, calls.Heard("input", speech="my eyes are gritty and sore"), ctx)
    assert turn.triage.level == "urgent"


def test_two_questions_on_the_phone_are_not_escalated() -> None:
    ctx = Context.default(now=MONDAY_10)
    turn = calls.step(calls.Call.new(ctx.now), calls.Heard("call"), ctx)
    for words in ("will the biopsy hurt", "I'm so nervous about it"):
        turn = calls.step(turn.call, calls.Heard("input", speech=words), ctx)
        assert turn.triage.level == "none"


# A sign asked about as a question: told as a question by someone who has it, or asked
# for information only (then the reply says what to do if it is happening now).


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("is it normal to cough up blood", "emergency"),
        ("should I worry that I'm coughing up blood", "emergency"),
        ("will it pass ive got chest pain and my arm is numb", "emergency"),
        ("chest pain, when will it go away", "emergency"),
        ("is it normal to be this breathless after radiotherapy", "urgent"),
    ],
)
def test_a_sign_told_as_a_question_gets_the_warning(chat: Chat, text: str, level: str) -> None:
    turn = chat.send(text)
    assert turn.triage.level == level
    assert _alerts(turn) == [level]


@pytest.mark.parametrize(
    "text",
    [
        "scared that I'm going to be sick at the scan",
        "had chest pain last night, it went away after 10 mins",
        "is it normal to feel hot all over when they put the dye in",
    ],
)
def test_a_fear_an_end_or_a_procedure_asked_about_is_not_a_sign(chat: Chat, text: str) -> None:
    turn = chat.send(text)
    assert turn.triage.level == "none" and turn.triage.asked is None
    assert _alerts(turn) == []


def test_an_emergency_sign_asked_about_gets_what_to_do_if_it_is_happening(chat: Chat) -> None:
    turn = chat.send("is chest pain a side effect?")
    assert turn.triage.level == "none" and _alerts(turn) == []
    assert turn.messages == [
        "Chest pain can be a sign of a blood clot or heart problem. "
        "If this is happening now, call 999."
    ]
    assert "hang up and call 999" in turn.voice


def test_an_urgent_sign_asked_about_gets_the_answer_then_the_24_hour_line(chat: Chat) -> None:
    turn = chat.send("is breathlessness a side effect of radiotherapy")
    assert turn.topic == "radiotherapy"
    assert len(turn.messages) == 2
    assert "happening now" not in turn.messages[0]
    assert turn.messages[1].endswith(
        "Is it happening now? Then call the 24-hour number your hospital gave you, or NHS 111."
    )


def test_a_mild_sign_or_a_future_question_gets_no_line(chat: Chat) -> None:
    mild = "is tiredness a side effect of letrozole?"
    for text in (mild, "will radiotherapy make me breathless"):
        turn = chat.send(text)
        assert not any("happening now" in m for m in turn.messages), text


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # Asking what to take or do for it is said by someone who has it.
        ("what can I take for this chest pain, feels like a weight on me", "emergency"),
        # Asking how much would kill is itself the sign, question or not.
        ("how many of my sleeping tablets would it take to not wake up", "emergency"),
        # A question about when it ends is asked by someone who has it.
        ("will the hot flushes ever stop, I'm drenched every night", "same_day"),
        # What the question named is what the next sentence tells of.
        ("is a nosebleed a side effect of chemo? it's been going for an hour", "urgent"),
        # Pain as bad as ever despite painkillers, with no word "pain".
        ("had my codeine an hour ago and my back is still 10/10", "urgent"),
        ("should dad be worried about his tummy getting bigger and his ankles swelling", "urgent"),
        # What someone else says of the writer is about the writer.
        ("my son says my eyes have gone yellow", "urgent"),
        # A bruise nobody knocked is a sign; a fall without a knock to the head is not.
        ("dad has bruises on his legs and can't remember knocking them, he's on chemo", "urgent"),
        ("took my oramorph twice by mistake and can barely keep my eyes open", "emergency"),
        ("temp 38.5 on chemo and everything goes black when I try to stand", "emergency"),
    ],
)
def test_signs_put_as_questions_in_other_words(chat: Chat, text: str, level: str) -> None:
    assert chat.send(text).triage.level == level


@pytest.mark.parametrize(
    "text",
    [
        "My sister's neighbour is on chemo and has a cough, should she tell someone?",
        "is it normal for my husband to be this tired? he's up all night worrying about me",
        "does the biopsy hurt after? how long will it be sore, I need to get back to work",
        "had a clot in my lung last year, I'm on apixaban now, can I still have the CT dye",
        "fell over in the garden but didn't bang my head and nothing hurts",
        "her ankles went down after the water tablets, she's walking again",
        "pet scan on monday, when do i have to stop eating",
    ],
)
def test_someone_else_a_procedure_or_a_past_clot_is_not_a_sign(chat: Chat, text: str) -> None:
    turn = chat.send(text)
    assert turn.triage.level == "none" and turn.triage.asked is None


def test_a_symptom_asked_about_with_its_sign_gets_what_the_leaflets_say_then_the_line(
    chat: Chat,
) -> None:
    turn = chat.send("bone pain 2 weeks not going away with paracetamol, should i tell someone")
    said = "\n".join(turn.messages)
    assert "1 to 2 weeks" in said and "contact your breast care nurses today" in said
    assert _alerts(turn) == ["same_day"]


def test_a_question_in_a_later_sentence_beside_a_sign_is_answered_too(chat: Chat) -> None:
    turn = chat.send("bone scan thurs. do they just do my back where it hurts or all of me")
    said = "\n".join(turn.messages)
    assert "whole body" in said and "contact your breast care nurses today" in said
