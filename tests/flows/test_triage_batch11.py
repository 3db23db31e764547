"""Reading rules from blind triage batch 11 (readings, signs inside other messages, signs
played down): each case is worded apart from the batch, so it tests the rule, not a
sentence."""

from __future__ import annotations

import pytest

from flows.triage import assess

CASES = [
    # Found down: a person found on the floor, not a thing.
    ("came home and found him on the kitchen floor, he's breathing", "emergency"),
    ("I found my glasses on the floor at last", "none"),
    ("found mum's wig on the bedroom floor, the cat was sleeping in it", "none"),
    # Eyes that will not open; a fit told loosely.
    ("dad won't open his eyes when we talk to him", "emergency"),
    ("can't get mum to open her eyes", "emergency"),
    ("I can't open my eyes in bright light since chemo, is that normal", "none"),
    ("she's having some sort of fit, arms and legs jerking", "emergency"),
    ("the new bra is a funny sort of fit", "none"),
    # What the point of going on is, asked or denied; wanting to sleep and not wake.
    ("honestly what's the point of carrying on", "emergency"),
    ("there's no point in living like this", "emergency"),
    ("i don't see the point in going on", "emergency"),
    ("I just want to go to sleep and never wake up", "emergency"),
    ("honestly i want to sleep forever after that drive lol", "none"),
    ("no point in going on about it, the nurse is sorting it", "none"),
    ("is there any point in carrying on with the chemo if it's not working", "none"),
    ("I could sleep forever, this fatigue is unreal", "none"),
    # "What's the point" beside a test may still be despair: it stays a warning (a safety
    # review found seventeen such messages when it was read as asking what a test is for).
    ("why do I need another CT, it already showed the spread, what's the point", "emergency"),
    ("had chemo again, it's not working, what's the point", "emergency"),
    # Legs weaker, not only "weak".
    ("my legs are getting weaker and my back is killing me", "urgent"),
    # A mouth too sore to get even a drink down.
    ("mouth ulcers everywhere, can't get anything down but sips", "urgent"),
    # A colour that has changed is now, whatever else the sentence dates.
    ("his eyes have gone yellow, his bloods were off last month", "urgent"),
    ("two years ago when I had my PE my lips had gone blue", "none"),
    ("her poo is pale like putty and she's itching all over", "urgent"),
    # Retention named; weight "down"; vomiting spelt as it sounds; a weekday as days.
    ("the district nurse thinks mum is in retention", "urgent"),
    ("my weight is down 4kg since the summer", "same_day"),
    ("her weight's down 3 kilos in a fortnight", "same_day"),
    ("im down 40 pounds on parking this week", "none"),
    ("i try to keep her weight down because of her knees", "none"),
    ("through up twice this morning, keeping water down", "same_day"),
    ("got through up to cycle 4, halfway there", "none"),
    ("not been since Saturday and it's Wednesday now", "same_day"),
    ("not left the sofa in days, so much more tired than normal", "same_day"),
    # Words that look like signs and are not; the same words of a relative still are.
    ("my mind is all over the place since the news", "none"),
    ("my heads all over the place and pounding", "urgent"),
    ("cant stop the bleeding hospital line engaged", "emergency"),
    ("we had to have the dog put to sleep for good yesterday, im gutted", "none"),
    ("cant get anything down from the loft with my arm", "none"),
    ("trying to keep my weight down, im 14 stone", "none"),
    ("mum's head is all over the place since this morning", "urgent"),
    ("mum is confused trying to get out of bed all night", "urgent"),
    ("dad keeps getting muddled between day and night", "urgent"),
    ("the bleeding ticket machine is broken again", "none"),
    ("my port site is bleeding phone me back please", "urgent"),
    ("the wound on her chest keeps bleeding thing wont stop", "emergency"),
]


@pytest.mark.parametrize(("text", "level"), CASES)
def test_batch_11_signs_are_read_as_concepts(text: str, level: str) -> None:
    assert assess(text).level == level, assess(text)


@pytest.mark.parametrize(
    "text",
    [
        # A fourth review found a relative's or the writer's real muddle in the words that
        # first read as puzzlement ("I thought it was...", "kept saying... I got muddled",
        # "that's not right, is it"): an over-read of a question is kept instead.
        "i thought it was a different year when i woke up this morning, really scared",
        "the team kept saying my calcium is high and I am so confused and thirsty",
        "on paclitaxel, feel really odd and shaky tonight, thats not right is it",
        "my wife has brain mets. So confused reading the letter, didnt know it was hers",
    ],
)
def test_puzzlement_and_a_real_muddle_share_words_and_stay_a_warning(text: str) -> None:
    assert assess(text).level in ("urgent", "emergency")


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # A third review: the writer's own muddle and a relative's nonsense stay signs.
        ("i thought it was tuesday but its saturday, keep losing track of days", "urgent"),
        ("mum was saying things that made no sense and i was so confused", "urgent"),
        ("Mum awful. Confused reading her tablets, took the wrong ones twice", "urgent"),
        ("my head is all over the place and i keep forgetting where i am", "urgent"),
        ("thats not right, she's so pale and weak", "same_day"),
        ("kept getting lost trying to find the oncology unit, the signs are rubbish", "none"),
        ("any point in going on tamoxifen if its already spread?", "none"),
        ("hasn't been for days to the toilet, tummy hard", "urgent"),
        ("no point in going on with this pain", "emergency"),
        ("mum is having some sort of fit at the table", "emergency"),
        ("found dad on the floor breathing funny", "emergency"),
        # and what is not a sign stays so.
        ("my husband is having a kind of fit of temper about the appointment letters", "none"),
        ("mum won't open her eyes for the eye drops", "none"),
        ("weight down to 70kg on purpose, doing well", "none"),
    ],
)
def test_the_third_review_of_batch_11s_mends(text: str, level: str) -> None:
    assert assess(text).level == level, assess(text)
