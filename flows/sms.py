"""SMS rendering: GSM-7 text split into pages of at most two segments."""

from __future__ import annotations

import re
from functools import lru_cache

from flows.gsm import cost, fits, to_gsm7

MAX_SEGMENTS = 2
LONGEST_WORD = 280  # leaves room on a two-segment page for the MORE hint
_SENTENCE = re.compile(r"(?<=[.!?:])\s+|\n")


def _pieces(body: str) -> list[str]:
    """Sentences, and words of any sentence too long to fit a page on its own."""
    out: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE.split(body)):
        if not sentence:
            continue
        if fits(sentence, MAX_SEGMENTS - 1) or fits(sentence + " " * 40, MAX_SEGMENTS):
            out.append(sentence)
        else:
            for word in sentence.split():
                # A word too long for any page (a pasted link) is cut rather than overflow.
                if len(word) <= LONGEST_WORD:
                    out.append(word)
                else:
                    step = LONGEST_WORD
                    out.extend(word[i : i + step] for i in range(0, len(word), step))
    return out


def paginate(body: str, footer: str, more_hint: str) -> list[str]:
    """Split `body` + `footer` into GSM-7 pages; every page but the last ends in `more_hint`."""
    return list(_paginate(body, footer, more_hint))


# Replies come from a finite knowledge base, so the same few hundred are split again and
# again; splitting measures every candidate page, which is most of a reply's cost.
@lru_cache(maxsize=2048)
def _paginate(body: str, footer: str, more_hint: str) -> tuple[str, ...]:
    body, footer, more_hint = to_gsm7(body), to_gsm7(footer), to_gsm7(more_hint)
    whole = f"{body}\n{footer}" if footer else body
    if fits(whole, MAX_SEGMENTS):
        return (whole,)
    pages: list[str] = []
    current = ""
    for piece in _pieces(body):
        candidate = f"{current} {piece}".strip() if current else piece
        if fits(f"{candidate}\n{more_hint}", MAX_SEGMENTS):
            current = candidate
        else:
            pages.append(f"{current}\n{more_hint}")
            current = piece
    last = f"{current}\n{footer}" if footer else current
    if fits(last, MAX_SEGMENTS):
        pages.append(last)
    else:
        pages.extend([f"{current}\n{more_hint}", footer])
    return tuple(pages)


def describe(text: str) -> dict[str, object]:
    """Encoding and segment count of one SMS, as the CLI and checks report them."""
    c = cost(text)
    return {"encoding": c.encoding, "segments": c.segments, "characters": len(text)}
