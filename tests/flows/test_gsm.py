"""GSM-7 rules: what a text costs to send, and cleaning typographic characters out."""

from __future__ import annotations

import pytest

from flows.gsm import cost, fits, is_gsm7, to_gsm7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Can I eat before my CT scan?", True),
        ("Cost: £5 or €5 [approx] {ok} ~ ^ | \\", True),
        ("café, Ñ, ü, à, ß, Δ", True),
        ("line one\nline two", True),
        ("don\u2019t", False),  # curly apostrophe
        ("\u201cquoted\u201d", False),
        ("9am \u2013 5pm", False),  # en dash
        ("wait\u2026", False),  # ellipsis
        ("non\u00a0breaking", False),
        ("thanks \U0001f60a", False),  # emoji
        ("\u00e7a va", False),  # lower-case c-cedilla is not in GSM-7 (only the capital is)
        ("38\u00b0C", False),
    ],
    ids=[
        "plain", "extension-chars", "gsm-accents", "newline", "curly-apostrophe",
        "curly-quotes", "en-dash", "ellipsis", "nbsp", "emoji", "c-cedilla", "degree-sign",
    ],
)
def test_is_gsm7(text: str, expected: bool) -> None:
    assert is_gsm7(text) is expected


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("a" * 459, "GSM-7", 459, 3),
        ("a" * 460, "GSM-7", 460, 4),
        ("\u0105" * 70, "UCS-2", 70, 1),
        ("\u0105" * 71, "UCS-2", 71, 2),
        ("\u0105" * 134, "UCS-2", 134, 2),
        ("\u0105" * 135, "UCS-2", 135, 3),
        # One emoji in an otherwise short GSM text forces the whole text into UCS-2.
        ("a" * 69 + "\U0001f600", "UCS-2", 71, 2),
    ],
    ids=[
        "gsm-160", "gsm-161", "gsm-306", "gsm-307", "gsm-459", "gsm-460",
        "ucs2-70", "ucs2-71", "ucs2-134", "ucs2-135", "emoji-two-units",
    ],
)
def test_segment_boundaries(text: str, encoding: str, units: int, segments: int) -> None:
    c = cost(text)
    assert (c.encoding, c.units, c.segments) == (encoding, units, segments)


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("\u20ac" * 80, 160, 1),  # 80 euro signs: 80 escapes + 80 characters
        ("\u20ac" * 81, 162, 2),
        ("a" * 159 + "[", 161, 2),  # 160 characters, but one counts double
        ("{}" * 76 + "ab", 306, 2),
        ("{}" * 76 + "abc", 307, 3),
        ("a" * 158 + "^", 160, 1),
    ],
    ids=["euro-80", "euro-81", "bracket-tips-over", "braces-306", "braces-307", "caret-fits"],
)
def test_extension_characters_count_double(text: str, units: int, segments: int) -> None:
    c = cost(text)
    assert c.encoding == "GSM-7"
    assert (c.units, c.segments) == (units, segments)


def test_empty_text_costs_nothing() -> None:
    assert cost("").segments == 0


def test_fits_needs_gsm7_and_at_most_two_segments() -> None:
    assert fits("a" * 306)
    assert not fits("a" * 307)
    assert not fits("short but curly \u2019")  # UCS-2 never "fits", however short
    assert fits("a" * 160, max_segments=1)
    assert not fits("a" * 161, max_segments=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("don\u2019t \u2018worry\u2019", "don't 'worry'"),
        ("\u201cfasting\u201d \u201eok\u201d", '"fasting" "ok"'),
        ("9am\u20135pm \u2014 Monday\u2212Friday", "9am-5pm - Monday-Friday"),
        ("wait\u2026", "wait..."),
        ("0808\u00a0808\u00a000\u00a000", "0808 808 00 00"),
        ("narrow\u202fspace and\tthin\u2009one", "narrow space and thin one"),
        ("\u2022 item", "- item"),
    ],
    ids=["curly-single", "curly-double", "dashes", "ellipsis", "nbsp", "other-spaces", "bullet"],
)
def test_to_gsm7_replaces_typography(text: str, expected: str) -> None:
    out = to_gsm7(text)
    assert out == expected
    assert is_gsm7(out)


@pytest.mark.parametrize(
    "text",
    [
        "See you soon \U0001f60a",
        "\U0001f44d\U0001f3fd thanks",  # thumbs up with a skin tone
        "\u2764\ufe0f love",  # heart with variation selector
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",  # zero-width-joined emoji
    ],
    ids=["smiley", "skin-tone", "variation-selector", "zwj-sequence"],
)
def test_to_gsm7_drops_emoji_and_keeps_words(text: str) -> None:
    out = to_gsm7(text)
    assert is_gsm7(out)
    words = [w for w in text.split() if w.isascii()]
    assert out.split() == words
    assert cost(out).encoding == "GSM-7"


def test_to_gsm7_keeps_letters_of_accented_words() -> None:
    # Letters outside GSM-7 lose the accent, not the letter: names stay readable.
    assert to_gsm7("Fran\u00e7oise, Zo\u00eb, \u0160\u00e1ra") == "Francoise, Zoe, Sara"


def test_to_gsm7_leaves_gsm_text_alone() -> None:
    text = "Reply 1 to 4, BACK or MENU. Cost: \u00a35 [free] \u20ac0 {x} ~ ^ | \\ \u00e9\u00e8"
    assert to_gsm7(text) == text


def test_to_gsm7_keeps_fractions_readable() -> None:
    out = to_gsm7("Take \u00bd tablet")
    assert out in ("Take 1/2 tablet", "Take half tablet", "Take 1 / 2 tablet")
