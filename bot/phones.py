"""Phone number normalisation with the phonenumbers library."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

# Ofcom keeps 07700 900000 to 07700 900999 (mobiles) and 01632 960000 to 960999
# (landlines) for drama and testing: never a real person. phonenumbers calls them
# invalid; the simulator, tests and demos use nothing else.
_DRAMA = re.compile(r"\+447700900\d{3}")
_DRAMA_LANDLINE = re.compile(r"\+441632960\d{3}")
_MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
# Numbers a person answers but that cannot read texts: they get reminders by phone call.
_CALL_ONLY = (
    PhoneNumberType.FIXED_LINE, PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.UAN,
)


def is_drama(number: str) -> bool:
    """True for Ofcom's drama mobile range, in E.164."""
    return bool(_DRAMA.fullmatch(number))


def is_drama_landline(number: str) -> bool:
    """True for Ofcom's drama landline range (01632 960xxx), in E.164."""
    return bool(_DRAMA_LANDLINE.fullmatch(number))


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
    if is_drama(formatted) or is_drama_landline(formatted) or phonenumbers.is_valid_number(parsed):
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


def reachable(raw: str, region: str = "GB") -> tuple[str | None, str, str]:
    """(E.164, "sms" or "call", "") for a number that can get reminders: texts for a
    mobile, phone calls for a landline; else (None, "", the reason in plain words)."""
    number = e164(raw.strip(), region)
    if number is None:
        return None, "", f"{raw.strip()!r} is not a valid phone number"
    if is_drama(number):
        return number, "sms", ""
    if is_drama_landline(number):
        return number, "call", ""
    parsed = _parse(number, region)
    kind = phonenumbers.number_type(parsed) if parsed is not None else None
    if kind in _MOBILE:
        return number, "sms", ""
    if kind in _CALL_ONLY:
        return number, "call", ""
    why = "cannot get texts or reminder calls (not a mobile or a home phone)"
    return None, "", f"{raw.strip()} {why}"


def can_text(number: str) -> bool:
    """True for a number that can receive texts (a mobile)."""
    return reachable(number)[1] == "sms"


_E164 = re.compile(r"\+[1-9]\d{6,14}")


@lru_cache(maxsize=10_000)
def key(raw: str) -> str:
    """A stable key for a sender: E.164 when valid, else the raw text stripped."""
    if _E164.fullmatch(raw):
        return raw  # Twilio sends E.164 already; parsing it again costs a tenth of a request.
    return e164(raw) or "".join(ch for ch in raw if ch.isalnum() or ch == "+")[:32] or "unknown"
