"""Phone number normalisation with the phonenumbers library."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers


def e164(raw: str, region: str = "GB") -> str | None:
    """The E.164 form of a phone number, or None if it is not a valid number."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_E164 = re.compile(r"\+[1-9]\d{6,14}")


@lru_cache(maxsize=10_000)
def key(raw: str) -> str:
    """A stable key for a sender: E.164 when valid, else the raw text stripped."""
    if _E164.fullmatch(raw):
        return raw  # Twilio sends E.164 already; parsing it again costs a tenth of a request.
    return e164(raw) or "".join(ch for ch in raw if ch.isalnum() or ch == "+")[:32] or "unknown"
