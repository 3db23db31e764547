"""Reading rules from blind triage batch 12 (regional speech, signs told loosely, signs
found by someone else) and its read-only review: each case is worded apart from the
batch, so it tests the rule, not a sentence."""

from __future__ import annotations

import pytest

from flows.triage import RANK, assess

# (message, the level it must reach at least, the level it must not go above)
CASES = [
    # Signs told in everyday words.
    ("she can't get enough water and she's weeing all the time, not making much sense",
     "urgent", "emergency"),
    ("every time she has a sip of tea it comes straight back up", "urgent", "emergency"),
    ("wee's dark and I've hardly been since yesterday, feel dizzy", "urgent", "emergency"),
    ("bit sicky and haven't been for a poo in 5 days", "urgent", "urgent"),
    ("my head keeps going round when I get up", "same_day", "same_day"),
    ("not been out of bed for three days, this isn't my normal tired", "same_day", "urgent"),
    ("been to toilet loads today, only water coming out", "same_day", "urgent"),
    ("feelin proper rough, bein sick all mornin", "same_day", "urgent"),
    ("I'm goin yellow", "urgent", "urgent"),
    ("she's turned yellow gunk in her eyes too", "urgent", "emergency"),
    ("havin trouble passin urine, nothing since this morning", "urgent", "emergency"),
    ("mum keeps forgetting where she is and talking to people that aren't there",
     "urgent", "emergency"),
    # Someone else finds or tells of the writer.
    ("my friend found me collapsed on the kitchen floor", "emergency", "emergency"),
    ("my neighbour says I look yellow", "urgent", "emergency"),
    ("my son noticed I'm slurring my words", "emergency", "emergency"),
    # The same words as a real sign, kept.
    ("my nose keeps bleeding nightmare it won't stop", "emergency", "emergency"),
    ("we went down in the bathroom and she's not moving", "emergency", "emergency"),
    ("I nearly collapsed with shock, went all grey and clammy", "emergency", "emergency"),
    ("I have to stop every few steps to get my breath", "urgent", "emergency"),
    ("have to stop the hoover every minute, chest heaving", "urgent", "emergency"),
    ("she's not making sense to me or the kids tonight", "urgent", "emergency"),
    ("she's confused to the point she doesn't know me", "urgent", "emergency"),
    ("my son told me I was talking gibberish on the phone", "urgent", "emergency"),
    # Feeling sick all the time is one sign (nausea), not sickness counted as well.
    ("feel sick all the time since the new tablets", "same_day", "same_day"),
    ("been sick 6 times today", "urgent", "emergency"),
    # Being sick told in other words, and nausea with nothing drunk (the third review).
    ("feel sick and I've thrown up 5 times today", "urgent", "emergency"),
    ("feeling sick and been spewing all night", "urgent", "emergency"),
    ("feel sick and haven't been able to drink anything all day", "urgent", "emergency"),
    ("feel sick all the time and haven't eaten in 2 days", "urgent", "emergency"),
    ("on the bus home my nose was a bleeding nightmare for an hour and won't stop",
     "emergency", "emergency"),
    ("unable to pass water, nothing since this morning", "urgent", "emergency"),
    ("I'm struggling to swallow", "same_day", "urgent"),
    # Not signs.
    ("she's yellow belt in karate now, so proud", "none", "none"),
    ("parking at the Royal is an absolute bleeding nightmare", "none", "none"),
    ("woke with my eye gummed shut with sticky yellow stuff", "same_day", "same_day"),
    ("the car park is a bleeding nightmare again", "none", "none"),
    ("nearly collapsed with relief when they said it was stable", "none", "none"),
    ("thinking of pulling a sicky tomorrow, can't face work", "none", "none"),
    ("do i have to stop feeding before the pet scan", "none", "none"),
    ("took a drink and my temp came straight back down to normal", "none", "none"),
    ("the car park is a bleeding nightmare, took ages to find a space", "none", "none"),
    ("got told off at work for pulling a sicky", "none", "none"),
    ("my friend told me she had a fit last night", "none", "none"),
    # The fourth review: laughing, a sentence cut off and painkillers "had" are no longer
    # rewritten away; pain going into the jaw needs the chest named; numbness at a scar.
    ("I was laughing at the telly and suddenly couldn't breathe, lips going blue",
     "emergency", "emergency"),
    ("couldn't finish my sentence on the phone, my arm went weak and I dropped it",
     "urgent", "emergency"),
    ("pain in my pelvis is not controlled, I've had my max doses", "urgent", "emergency"),
    ("cant eat or drink how long, been 2 days, mouth too sore to swallow water",
     "urgent", "emergency"),
    ("think it's over the sickness but now I'm yellow", "urgent", "emergency"),
    ("the scar on my right side is still numb 6 months on", "none", "none"),
    ("toothache going into my jaw", "none", "same_day"),
    ("had all my painkillers delivered today, thanks", "none", "none"),
    ("can i eat or drink from when before the ct", "none", "none"),
]


@pytest.mark.parametrize(("text", "least", "most"), CASES)
def test_batch12_reading(text: str, least: str, most: str) -> None:
    level = assess(text).level
    # RANK: a smaller number is more urgent.
    assert RANK[most] <= RANK[level] <= RANK[least], f"{level}: {text!r}"


@pytest.mark.parametrize(
    "text",
    ["my left side has gone numb", "numb down my left side since lunch",
     "my right side feels numb and heavy", "i feel numb down my left side"],
)
def test_numbness_down_one_side_is_a_stroke_sign(text: str) -> None:
    # Missed at the start of session 13; found while checking "i feel numb" as a feeling.
    assert assess(text).level == "emergency"


def test_tingling_in_one_hand_on_chemo_is_not_a_stroke() -> None:
    assert assess("tingling in my left hand on capecitabine").level == "same_day"
