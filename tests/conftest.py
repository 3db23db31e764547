"""Shared fixtures: a real Redis (REDIS_URL or the embedded one), an app, a signed phone."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from bot import create_app, masking
from bot.dev.embedded import EmbeddedRedis
from bot.dev.localclient import LocalPhone
from tests.support.base import MONDAY_10AM, PATIENT, PUBLIC_BASE_URL, TOKEN, Clock, use_dev_token

# A UK phone number written out, as a log line must never show one (a separate pattern
# from the masking code's own, so a gap in one is caught by the other).
_UNMASKED = re.compile(r"(?:\+44\s?|\b0)[17]\d{3}\s?\d{6}\b")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def no_phone_number_in_any_log_line() -> Iterator[None]:
    """Every log line any test makes in this process shows phone numbers masked."""
    masking.install()
    handler = _Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) or logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    leaks = [line for line in handler.lines if _UNMASKED.search(line)]
    assert not leaks, "phone numbers in log lines:\n" + "\n".join(leaks[:5])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set, otherwise an embedded redis-server for the whole session."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    """A client on a clean database."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_10AM)


@pytest.fixture
def make_app(redis_url: str, r: redis.Redis, tmp_path: Path, clock: Clock
             ) -> Callable[..., Flask]:
    """Build an app on the test Redis; keyword settings override the defaults."""

    def build(**overrides: Any) -> Flask:
        settings: dict[str, Any] = {
            "REDIS_URL": redis_url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "INSTANCE_PATH": str(tmp_path / "instance"), "CLOCK": clock,
            # No Twilio credentials: the app validates with its development token, TOKEN.
            # With an account in the environment (a test's worker sends through the
            # stand-in) the app needs a token too: the same TOKEN.
            "TWILIO_AUTH_TOKEN": TOKEN if os.environ.get("TWILIO_ACCOUNT_SID") else "",
        }
        settings.update(overrides)
        use_dev_token(Path(settings["INSTANCE_PATH"]))
        app = create_app(settings)
        app.config["TESTING"] = True
        return app

    return build


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def phone(app: Flask) -> LocalPhone:
    """A patient's phone texting the app through the signed webhook."""
    return LocalPhone(app.test_client(), TOKEN, PATIENT, PUBLIC_BASE_URL)
