"""GSM-7 encoding rules for SMS: what fits, how many segments a text costs."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs an escape septet plus its own.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
GSM7_ALL = GSM7_BASIC | GSM7_EXTENDED

SINGLE_GSM7, MULTI_GSM7 = 160, 153
SINGLE_UCS2, MULTI_UCS2 = 70, 67

# Typographic characters that word processors and phones insert; each would force
# the whole message into UCS-2 (70 characters a segment) for no gain.
_REPLACEMENTS = {
    "\u00bd": "1/2", "\u00bc": "1/4", "\u00be": "3/4", "\u2153": "1/3",
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",
    "\t": " ",
    "\u00b0": " degrees",
}


@dataclass(frozen=True)
class SmsCost:
    """What a text costs to send: its encoding, length in units and segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the GSM-7 alphabet."""
    return set(text) <= GSM7_ALL


def to_gsm7(text: str) -> str:
    """Replace typographic characters with GSM-7 equivalents; drop what has none."""
    if is_gsm7(text):
        return text
    # "38°C" reads as "38C"; a lone degree sign as the word.
    text = text.replace("\u00b0C", "C").replace("\u00b0F", "F")
    out: list[str] = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(ch)
        elif ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        else:
            # Accented letters outside GSM-7 lose the accent rather than the letter.
            base = unicodedata.normalize("NFKD", ch)
            kept = "".join(c for c in base if c in GSM7_BASIC)
            out.append(kept)
    return "".join(out)


def cost(text: str) -> SmsCost:
    """Count the segments `text` needs, as a handset or Twilio would."""
    if is_gsm7(text):
        units = len(text) + sum(text.count(c) for c in GSM7_EXTENDED if c in text)
        if units <= SINGLE_GSM7:
            return SmsCost("GSM-7", units, 1 if units else 0)
        return SmsCost("GSM-7", units, math.ceil(units / MULTI_GSM7))
    units = len(text.encode("utf-16-le")) // 2
    if units <= SINGLE_UCS2:
        return SmsCost("UCS-2", units, 1)
    return SmsCost("UCS-2", units, math.ceil(units / MULTI_UCS2))


def fits(text: str, max_segments: int = 2) -> bool:
    """True when `text` is GSM-7 and at most `max_segments` segments long."""
    c = cost(text)
    return c.encoding == "GSM-7" and c.segments <= max_segments
