"""sms.paginate: long answers are split into GSM-7 pages of at most two segments."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from flows.gsm import cost, is_gsm7, to_gsm7
from flows.knowledge import default_knowledge
from flows.sms import describe, paginate

HINT = "Reply MORE for the rest."
FOOTER = "Reply another number, BACK or MENU."

LONG_BODY = (
    "A CT scan takes a series of x-rays to make a 3D picture of the inside of your body. "
    "It is painless. Do not eat or drink for at least 4 hours before. Follow your letter if "
    "it says something different. You may have a dye as a drink or an injection. Tell the "
    "team if you are allergic to iodine or have asthma. The scan takes 10 to 30 minutes. "
    "If you have the dye, you may feel hot all over for a few minutes. You can usually go "
    "home as soon as the scan is over. Results can take from a few days to a couple of "
    "weeks. Your breast care nurse can tell you more about what the results mean for you, "
    "and when you will hear about them."
)


def _strip_hint(page: str) -> str:
    assert page.endswith("\n" + HINT), f"page does not end with the MORE hint: {page!r}"
    return page[: -len(HINT) - 1]


def _check_pages(body: str, footer: str, pages: list[str]) -> None:
    """Every property a patient relies on when reading a paged answer."""
    assert pages, "no pages at all"
    for i, page in enumerate(pages):
        c = cost(page)
        assert c.encoding == "GSM-7", f"page {i + 1} is {c.encoding}: {page!r}"
        assert c.segments <= 2, f"page {i + 1} is {c.segments} segments: {page!r}"
    content = [_strip_hint(p) for p in pages[:-1]]
    for i, text in enumerate(content):
        assert text.strip(), f"page {i + 1} has nothing but the MORE hint"
    last = pages[-1]
    assert not last.endswith(HINT), "the last page asks for MORE but there is none"
    if footer:
        assert last.endswith(footer), f"the last page lacks the footer: {last!r}"
    joined = " ".join([*content, last])
    expected = f"{to_gsm7(body)} {to_gsm7(footer)}"
    assert Counter(joined.split()) == Counter(expected.split()), "words lost or duplicated"


def test_short_text_is_one_page_with_footer() -> None:
    pages = paginate("Bring a list of your medicines.", FOOTER, HINT)
    assert pages == [f"Bring a list of your medicines.\n{FOOTER}"]


def test_short_text_without_footer_is_just_the_text() -> None:
    assert paginate("Call 999 now.", "", HINT) == ["Call 999 now."]


def test_text_exactly_filling_two_segments_is_not_split() -> None:
    body = "word " * 58 + "abcd"  # 294 characters; with "\n" and the footer, 306
    footer = "Reply MENU."
    whole = f"{body}\n{footer}"
    assert cost(whole).units == 306
    assert paginate(body, footer, HINT) == [whole]


def test_long_text_is_split_into_pages() -> None:
    pages = paginate(LONG_BODY, FOOTER, HINT)
    assert len(pages) >= 2
    _check_pages(LONG_BODY, FOOTER, pages)


def test_long_text_pages_break_between_sentences() -> None:
    pages = paginate(LONG_BODY, FOOTER, HINT)
    for page in pages[:-1]:
        text = _strip_hint(page)
        assert text.rstrip().endswith((".", "?", "!", ":")), f"page cut mid-sentence: {text!r}"


def test_typographic_characters_are_cleaned_on_every_page() -> None:
    body = LONG_BODY.replace("'", "\u2019").replace(" - ", " \u2013 ") + " Don\u2019t worry\u2026"
    pages = paginate(body, FOOTER, HINT)
    assert all(is_gsm7(p) for p in pages)
    _check_pages(body, FOOTER, pages)


def test_one_very_long_sentence_is_split_between_words() -> None:
    body = " ".join(f"word{i}" for i in range(150))  # about 1000 characters, no full stop
    pages = paginate(body, FOOTER, HINT)
    assert len(pages) >= 4
    _check_pages(body, FOOTER, pages)


def test_footer_that_no_longer_fits_gets_its_own_page() -> None:
    # The body alone fills the last page so that the footer cannot join it.
    body = "First part here. " + "x" * 150 + " " + "y" * 100 + ". " + "z" * 270 + "."
    pages = paginate(body, FOOTER, HINT)
    _check_pages(body, FOOTER, pages)
    assert pages[-1] == FOOTER


@pytest.mark.parametrize("seed", range(40), ids=lambda s: f"seed{s}")
def test_random_texts_page_without_loss(seed: int) -> None:
    rng = random.Random(seed)
    vocabulary = [
        "scan", "the", "hospital", "appointment", "tablets", "x-ray", "[note]", "\u20ac5",
        "breathlessness", "nurse,", "it's", "\u2019quoted\u2019", "10.30am", "radiotherapy",
    ]
    words = []
    for _ in range(rng.randint(1, 250)):
        word = rng.choice(vocabulary)
        roll = rng.random()
        if roll < 0.08:
            word += "."
        elif roll < 0.1:
            word += "?"
        words.append(word)
    body = " ".join(words)
    footer = rng.choice([FOOTER, "", "Reply MENU for topics or NURSE for a call back."])
    _check_pages(body, footer, paginate(body, footer, HINT))


@pytest.mark.parametrize(
    "topic_id", sorted(default_knowledge().topics), ids=lambda t: t
)
def test_every_topic_answer_pages_cleanly(topic_id: str) -> None:
    k = default_knowledge()
    body = k.topics[topic_id].answer.sms
    footer = k.messages["after_topic"].sms
    assert k.messages["more_hint"].sms == HINT
    _check_pages(body, footer, paginate(body, footer, HINT))


def test_describe_reports_encoding_and_segments() -> None:
    assert describe("a" * 161) == {"encoding": "GSM-7", "segments": 2, "characters": 161}
    assert describe("hi \U0001f60a")["encoding"] == "UCS-2"
