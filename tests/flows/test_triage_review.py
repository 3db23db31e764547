"""Messages a reviewer wrote against this session's reading rules: each of these lost its
warning under a first version of the rules, and must keep it."""

from __future__ import annotations

import pytest

from flows.conversation import Conversation
from flows.engine import Context, step
from flows.triage import RANK, assess

KEEP = [
    # Asking what to do, beside the sign itself.
    ("do I need to call 999 my chest is crushing", "emergency"),
    ("do i need to go to a&e i can't breathe properly", "emergency"),
    ("do i have to wait till monday with this chest pain", "emergency"),
    ("am i meant to feel this breathless", "urgent"),
    ("is she meant to be this drowsy on the morphine", "emergency"),
    # An age said beside the patient.
    ("my 80 year old mum has collapsed", "emergency"),
    ("my 75 yr old dad is having a fit", "emergency"),
    ("my 80 year old mum is confused", "urgent"),
    ("70 years old, chest pain since this morning", "emergency"),
    ("60 year old here on chemo, temp 38.9", "urgent"),
    ("mum, 78 years old, is confused and drowsy", "urgent"),
    # Waiting for someone is not the someone's sign.
    ("having chest pain waiting for my son to come", "emergency"),
    ("coughing up blood so waiting for my son to take me to a and e", "emergency"),
    ("temp of 38.9 waiting for my daughter to get here", "urgent"),
    ("too breathless to get up for my son's visit", "urgent"),
    ("been vomiting all day and couldn't get up for my grandson", "urgent"),
    # The team knowing does not make a sign stop.
    ("the team know she's having fits, what do I do while we wait", "emergency"),
    ("the team are aware of her leg weakness and back pain", "urgent"),
    ("the team know about the chest pain, they said come in but i can't get a lift", "emergency"),
    ("I'm not sure the team know she has a temp of 38.9", "urgent"),
    ("rang earlier and the team know she's very confused", "urgent"),
    ("the team knows I've been vomiting for 3 days, should I go in", "urgent"),
    # "In case" that is not a supposition.
    ("just in case it matters I've been having chest pain since last night", "emergency"),
    ("messaging you in case you need to know I'm coughing up blood", "emergency"),
    ("in case it's relevant my temp is 38.6 and I'm on chemo", "urgent"),
    ("texting in case it's important she's been very confused all day", "urgent"),
    # Legs going down is a fall.
    ("mum fell, her legs went down from under her", "emergency"),
    ("her legs went down and she hit the floor", "emergency"),
    ("my legs went down from under me", "emergency"),
    ("mum's legs went down on the stairs", "emergency"),
    ("ankles went down and now i can't get up", "emergency"),
    # Confused after a question mark, with more said.
    ("mum's temp is 38.5? confused and shivering", "emergency"),
    ("help? I'm so confused and can't think straight", "urgent"),
    ("is this normal? very confused and sleepy today", "urgent"),
    ("should I ring someone? confused all day and not eating", "urgent"),
    ("what should i do? confused", "urgent"),
    # Bruises nobody knocked, in other words or another sentence.
    ("my legs are covered in bruises. I haven't knocked them on anything", "urgent"),
    ("purple marks all over her arms, she hasn't knocked them", "urgent"),
    ("big black and blue marks on my legs and I haven't banged them", "urgent"),
    ("she has purple blotches on her shins, didn't bang them", "urgent"),
    # Someone else finding or telling of the patient.
    ("my mum's friend found her collapsed", "emergency"),
    ("mum's neighbour found her on the floor and she's very confused", "urgent"),
    ("mum and a friend went out and she fainted in the shop", "emergency"),
    ("my mum's friend says she is very confused", "urgent"),
    ("my son has found mum on the floor and she's not breathing properly", "emergency"),
    ("my daughter rang to say mum has collapsed", "emergency"),
    # Something over in one clause does not end a sign in another.
    ("my chest pain has gone since the morphine but I can't breathe", "emergency"),
    ("the headache has gone since i took paracetamol, but I've been sick 5 times", "urgent"),
    ("temp finally settled at 38.5", "urgent"),
    ("chest pain went since, but still breathless", "emergency"),
    # A sign with "after" and whose body it is.
    ("should I worry about this chest pain after my chemo", "emergency"),
    ("is it normal for her to be confused after the morphine", "urgent"),
    ("had some bad news today and the pain is unbearable", "urgent"),
    ("her personality has changed since the weekend", "urgent"),
    ("her personality isnt the same", "urgent"),
    # Session 11's review: narrowing "personality" and "confusing" lost these; taken back.
    ("his personality seems different since the radiotherapy", "urgent"),
    ("mum finds it all very confusing since yesterday, keeps asking the same thing over and over",
     "urgent"),
    ("its all very confusing she doesnt know who i am", "urgent"),
    ("my back's bad news since Tuesday, can't sleep for it", "same_day"),
    ("she's like a different person", "urgent"),
    ("its all very confusing for her, she doesnt know where she is", "urgent"),
    ("what can i take for the pain in my chest after chemo", "emergency"),
    # Asking how much would kill.
    ("how many oramorph would kill me", "emergency"),
    ("if i took all my morphine would it kill me", "emergency"),
]

NONE = [
    "my mum's friend has chest pain",
    "my husband's friend collapsed",
    "my 6 year old has a temperature",
    "my dad's cat has been sick",
    "my son told me he has chest pain",
    "my friend said her husband collapsed",
    "these scans keep confusing him",
    "is denosumab a targeted therapy or a bone drug? confused",
    "had a fall in Asda but didn't bang my head and nothing hurts",
    "the biopsy says the secondary is ER negative. is this bad news for me",
    "is there anywhere i can just go in person",
    "can i speak to a real person",
    "she's such a lovely person",
]


@pytest.mark.parametrize(("text", "level"), KEEP, ids=[t for t, _ in KEEP])
def test_a_sign_keeps_its_warning(text: str, level: str) -> None:
    got = assess(text).level
    assert RANK[got] <= RANK[level], f"{text!r}: {got}, want at least {level}"


@pytest.mark.parametrize("text", NONE)
def test_someone_else_or_no_sign_is_not_a_warning(text: str) -> None:
    assert assess(text).level == "none", text


def test_two_ambers_named_in_a_question_do_not_break_the_reply() -> None:
    turn = step(Conversation(), "is diarrhoea and a sore mouth a side effect of chemo?",
                Context.default(__import__("datetime").datetime(2026, 6, 1, 10, 0)))
    assert turn.messages
