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
    # Eyes that will not open; a fit told loosely.
    ("dad won't open his eyes when we talk to him", "emergency"),
    ("she's having some sort of fit, arms and legs jerking", "emergency"),
    # Asking what the point of going on is; not what the point of a test is.
    ("honestly what's the point of carrying on", "emergency"),
    ("I've got the tablets out and I just want to sleep forever", "emergency"),
    ("why do I need another CT, it already showed the spread, what's the point", "none"),
    ("had chemo again, it's not working, what's the point", "emergency"),
    # Legs weaker, not only "weak".
    ("my legs are getting weaker and my back is killing me", "urgent"),
    # A mouth too sore to get even a drink down.
    ("mouth ulcers everywhere, can't get anything down but sips", "urgent"),
    # A colour that has changed is now, whatever else the sentence dates.
    ("his eyes have gone yellow, his bloods were off last month", "urgent"),
    ("her poo is pale like putty and she's itching all over", "urgent"),
    # Retention named; weight "down"; vomiting spelt as it sounds; a weekday as days.
    ("the district nurse thinks mum is in retention", "urgent"),
    ("my weight is down 4kg since the summer", "same_day"),
    ("through up twice this morning, keeping water down", "same_day"),
    ("not been since Saturday and it's Wednesday now", "same_day"),
    ("not left the sofa in days, so much more tired than normal", "same_day"),
    # Words that look like signs and are not.
    ("my head is all over the place since the news", "none"),
    ("getting muddled reading all these leaflets", "none"),
    ("the bleeding ticket machine is broken again", "none"),
]


@pytest.mark.parametrize(("text", "level"), CASES)
def test_batch_11_signs_are_read_as_concepts(text: str, level: str) -> None:
    assert assess(text).level == level, assess(text)
