"""Every warning message keeps its level when written differently.

For each warning sign in every evaluation set: two neighbouring letters swapped in one
correctly spelt word, the whole message in capitals, "thanks x" after it, an ordinary
question before it, and the message rewritten as a relative writing about mum.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from wordfreq import zipf_frequency

from flows.triage import RANK, assess

DATA = Path(__file__).resolve().parents[1] / "data"


def _warnings() -> list[tuple[str, str]]:
    out = []
    for path in sorted(DATA.glob("triage_*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                if row["level"] != "none":
                    out.append((f"{path.stem[7:]}:{n}", row["text"]))
    return out


WARNINGS = _warnings()
_WORD = re.compile(r"[A-Za-z]{6,}")


def swap_letters(text: str, seed: int) -> str:
    """Two neighbouring letters swapped inside one correctly spelt word of six or more."""
    words = [m for m in _WORD.finditer(text) if zipf_frequency(m.group(0).lower(), "en") >= 3]
    if not words:
        return text
    rnd = random.Random(seed)
    m = rnd.choice(words)
    w, i = m.group(0), rnd.randrange(1, len(m.group(0)) - 2)
    return text[: m.start()] + w[:i] + w[i + 1] + w[i] + w[i + 2 :] + text[m.end() :]


_AS_RELATIVE = [
    (r"\bI'm\b", "mum's"), (r"\bim\b", "mums"), (r"\bI've\b", "mum's"), (r"\bive\b", "mums"),
    (r"\bI am\b", "mum is"), (r"\bI have\b", "mum has"), (r"\b[Ii]\b", "mum"),
    (r"\bmy\b", "her"), (r"\bMy\b", "Her"), (r"\bme\b", "her"), (r"\bmyself\b", "herself"),
]


def as_relative(text: str) -> str:
    """The message as a relative would write it about mum."""
    for pattern, replacement in _AS_RELATIVE:
        text = re.sub(pattern, replacement, text)
    return text


REWRITES: dict[str, Callable[[str], str]] = {
    "capitals": str.upper,
    "thanks": lambda t: f"{t} thanks x",
    "after-a-question": lambda t: f"Hi, what time does the clinic open tomorrow? {t}",
    "as-a-relative": as_relative,
}


def test_there_are_enough_warning_messages_to_mean_something() -> None:
    assert len(WARNINGS) >= 1000


@pytest.mark.parametrize("rewrite", REWRITES, ids=list(REWRITES))
def test_a_warning_keeps_its_level_however_it_is_written(rewrite: str) -> None:
    changed = []
    for where, text in WARNINGS:
        before, after = assess(text).level, assess(REWRITES[rewrite](text)).level
        if after != before:
            changed.append(f"{where} {before} -> {after}: {REWRITES[rewrite](text)!r}")
    assert not changed, f"{len(changed)} changed:\n" + "\n".join(changed[:20])


def test_a_typo_never_lowers_a_warning_and_rarely_changes_it() -> None:
    lowered, changed = [], 0
    for n, (where, text) in enumerate(WARNINGS):
        typed = swap_letters(text, n)
        before, after = assess(text).level, assess(typed).level
        changed += after != before
        if RANK[after] > RANK[before]:
            lowered.append(f"{where} {before} -> {after}: {typed!r}")
    assert not lowered, f"{len(lowered)} lowered:\n" + "\n".join(lowered[:20])
    assert changed <= len(WARNINGS) // 100, f"{changed} of {len(WARNINGS)} changed level"


def test_the_rewrites_change_the_message() -> None:
    text = "I've had a temp of 38.5 since this morning and my back hurts"
    assert swap_letters(text, 1) != text
    assert as_relative(text) == "mum's had a temp of 38.5 since this morning and her back hurts"
