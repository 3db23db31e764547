"""Phone numbers are masked in any text that goes to a log, however they are written."""

from __future__ import annotations

import logging

import pytest

from bot import masking


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The 'To' number +447700900123 is not a valid phone number.",
         "The 'To' number +44*******123 is not a valid phone number."),
        ("ring 07700 900123 now", "ring 0*******123 now"),
        ("call +44 7700-900-456", "call +44*******456"),
        ("landline 01632 960001", "landline 0*******001"),
    ],
)
def test_numbers_in_text_are_masked(text: str, expected: str) -> None:
    assert masking.mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["held until 2026-11-29T21:00:00+00:00", "reminder 3f2a9c1d0e4b5a67 sent",
     "temp 38.5 at 10:30", "SMdeadbeef", "1,400 reminders in 12 s"],
)
def test_dates_ids_and_figures_are_left_alone(text: str) -> None:
    assert masking.mask_text(text) == text


def test_a_logged_exception_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    masking.install()
    log = logging.getLogger("test.masking")
    try:
        raise ValueError("Twilio refused +447700900999")
    except ValueError:
        log.exception("send to %s failed", "+447700900999")
    (record,) = caplog.records
    assert "+447700900999" not in record.getMessage()
    assert record.exc_text and "+447700900999" not in record.exc_text
    assert "+44*******999" in record.exc_text
