"""Twilio's error codes the line acts on, whether the REST API or a delivery report gives them."""

from __future__ import annotations

OPTED_OUT = 21610  # the recipient replied STOP: opt the patient out
NOT_A_NUMBER = 21211
NOT_A_MOBILE = 21614
LANDLINE = 30006  # landline or unreachable carrier (delivery reports)
# Texts to these numbers cannot be delivered: flag the number and stop its reminders.
UNREACHABLE = frozenset([NOT_A_NUMBER, NOT_A_MOBILE, LANDLINE])


def code(raw: object) -> int | None:
    """An error code from the API (int) or a delivery report's form ("21610"); None if none."""
    try:
        return int(str(raw))
    except ValueError:
        return None
