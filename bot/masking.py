"""Phone numbers in logs: enough to tell two apart, not enough to call."""

from __future__ import annotations

import logging
import re
from typing import Any

# A phone number as it may appear in any text: "+447700900123", "07700 900123",
# "+44 7700-900-123". Ten to fifteen digits with single spaces or dashes between.
_NUMBER_IN_TEXT = re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[ -]?\d){9,14}(?!\w)")


def mask(number: str | None) -> str:
    """'+447700900123' -> '+44*******123'."""
    if not number:
        return "(none)"
    digits = re.sub(r"\D", "", number)
    if len(digits) <= 4:
        return "*" * len(digits)
    prefix = "+" + digits[:2] if number.startswith("+") else digits[:1]
    hidden = len(digits) - len(prefix.lstrip("+")) - 3
    return f"{prefix}{'*' * hidden}{digits[-3:]}"


def mask_text(text: str) -> str:
    """Every phone number in `text` masked ("The 'To' number +44*******123 is invalid")."""
    return _NUMBER_IN_TEXT.sub(lambda m: mask(m.group(0)), text)


_installed: list[Any] = []


def install() -> None:
    """Mask phone numbers in every log record from here on, whoever logs it.

    Done where records are made rather than in one handler, so that RQ's, gunicorn's and
    the twilio library's records are masked too, and an exception's text with them.
    """
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        message = record.getMessage()
        safe = mask_text(message)
        if safe != message:
            record.msg, record.args = safe, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        return record

    _installed.append(make)
    logging.setLogRecordFactory(masked)
