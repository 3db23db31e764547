"""Drug and test names a voice typist wrote as the words they sound like."""

from __future__ import annotations

import pytest

from flows import text as tx
from flows.matcher import default_matcher


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("was on tam ox if en before", "tamoxifen"),
        ("wat r bis fos fo nates for", "bisphosphon"),
        ("the doctor mentioned denny sue mab", "denosumab"),
        ("pal bo sick lib with letrozole", "palbociclib"),
    ],
)
def test_a_name_sounded_out_in_pieces_is_read_as_the_name(said: str, meant: str) -> None:
    assert tx.stem(meant) in default_matcher().words(said)


@pytest.mark.parametrize(
    "said",
    ["my sister had an ultrasound", "how long in the mri tube", "is the bone scan long",
     "can a blood test show its spread"],
)
def test_everyday_words_are_not_joined_into_a_name(said: str) -> None:
    words = default_matcher().words(said)
    assert len(words) == len(said.split())


def test_sound_keeps_the_consonants_as_spoken() -> None:
    assert tx.sound("palbociclib") == tx.sound("palbosicklib")
    assert tx.sound("tamoxifen") == tx.sound("tamoxiphen")
    assert tx.sound("steroids") != tx.sound("sisters")
