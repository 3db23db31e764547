"""Fixtures shared by the outbound tests: Twilio's REST API as a local stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.twilio_standin import TwilioStandin


@pytest.fixture
def standin() -> Iterator[TwilioStandin]:
    """Twilio's Messages and Calls API on 127.0.0.1, fresh for each test."""
    with TwilioStandin() as s:
        yield s
