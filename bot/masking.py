"""Phone numbers in logs: enough to tell two apart, not enough to call."""

from __future__ import annotations

import re


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
