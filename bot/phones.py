"""Phone number normalisation with the phonenumbers library."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

# Ofcom keeps 07700 900000 to 07700 900999 for drama and testing: never a real person.
# phonenumbers calls them invalid; the simulator, tests and demos use nothing else.
_DRAMA = re.compile(r"\+447700900\d{3}")
_MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def is_drama(number: str) -> bool:
    """True for Ofcom's drama range, in E.164."""
    return bool(_DRAMA.fullmatch(number))


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None


def e164(raw: str, region: str = "GB") -> str | None:
    """The E.164 form of a phone number, or None if it is not a valid number."""
    parsed = _parse(raw, region)
    if parsed is None:
        return None
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if is_drama(formatted) or phonenumbers.is_valid_number(parsed):
        return formatted
    return None


def mobile(raw: str, region: str = "GB") -> tuple[str | None, str]:
    """(E.164, "") for a number that can receive texts, else (None, the reason in plain words)."""
    number = e164(raw.strip(), region)
    if number is None:
        return None, f"{raw.strip()!r} is not a valid phone number"
    if is_drama(number):
        return number, ""
    parsed = _parse(number, region)
    if parsed is None or phonenumbers.number_type(parsed) not in _MOBILE:
        return None, f"{raw.strip()} is not a mobile number, so it cannot get texts"
    return number, ""


_E164 = re.compile(r"\+[1-9]\d{6,14}")


@lru_cache(maxsize=10_000)
def key(raw: str) -> str:
    """A stable key for a sender: E.164 when valid, else the raw text stripped."""
    if _E164.fullmatch(raw):
        return raw  # Twilio sends E.164 already; parsing it again costs a tenth of a request.
    return e164(raw) or "".join(ch for ch in raw if ch.isalnum() or ch == "+")[:32] or "unknown"
