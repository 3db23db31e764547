"""Faults: a Redis that hangs (paused with SIGSTOP) mid-burst of texts and calls.

Every reply must come within 2 seconds (Twilio gives up at 15), warning signs must still
get the urgent reply, and normal service must come back within seconds of Redis resuming.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import PATIENT, PUBLIC_BASE_URL, TOKEN
from flask import Flask
from test_webhook import form, messages, post

from bot.embedded import EmbeddedRedis
from bot.localclient import sign

BREAKER_SECONDS = 1.0


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A redis-server of this test's own, so it can be paused without harming others."""
    server = EmbeddedRedis(tmp_path / "paused-redis")
    server.start()
    yield server
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


def _pause(server: EmbeddedRedis) -> None:
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)


def _resume(server: EmbeddedRedis) -> None:
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGCONT)


@pytest.fixture
def app_on_own_redis(make_app: Callable[..., Flask], own_redis: EmbeddedRedis) -> Flask:
    return make_app(REDIS_URL=own_redis.url, REDIS_BREAKER_SECONDS=BREAKER_SECONDS)


def _text(app: Flask, body: str) -> tuple[float, list[str]]:
    client = app.test_client()
    start = time.monotonic()
    response = post(client, form(body))
    return time.monotonic() - start, messages(response)


def _call(app: Flask, sid: str) -> tuple[float, str]:
    data = {"CallSid": sid, "From": PATIENT, "To": "+447700900000", "CallStatus": "ringing",
            "AccountSid": "AC" + "0" * 32}
    url = f"{PUBLIC_BASE_URL}/voice"
    start = time.monotonic()
    response = app.test_client().post(
        "/voice", data=data, base_url=PUBLIC_BASE_URL,
        headers={"X-Twilio-Signature": sign(TOKEN, url, data)},
    )
    assert response.status_code == 200
    return time.monotonic() - start, response.get_data(as_text=True)


def test_a_paused_redis_mid_burst_still_answers_everyone_fast(
    app_on_own_redis: Flask, own_redis: EmbeddedRedis
) -> None:
    app = app_on_own_redis
    elapsed, texts = _text(app, "hi")
    assert "Reply with a number" in texts[0]

    _pause(own_redis)
    burst = ["can i eat before my ct", "temp 38.6 and shivering on chemo", "hello",
             "crushing pain in my chest", "what is a bone scan"] * 4
    times = []
    for n, body in enumerate(burst):
        elapsed, texts = _text(app, body)
        times.append(elapsed)
        if "38.6" in body:
            assert texts[0].startswith("Call the 24-hour number your hospital gave you")
        elif "chest" in body:
            assert texts[0].startswith("Call 999 now")
        else:
            assert "999" in texts[0]  # the safe reply: urgent numbers and the nurse line
        if n == 7:
            call_time, twiml = _call(app, "CA" + "1" * 32)
            assert call_time < 2.0 and "<Say" in twiml
    assert max(times) < 2.0, times
    # Only the first request waited for Redis; the breaker answered the rest at once.
    assert sorted(times)[-2] < 0.3, times

    _resume(own_redis)
    time.sleep(BREAKER_SECONDS + 0.1)
    elapsed, texts = _text(app, "what is a bone scan")
    assert elapsed < 2.0
    assert "bone scan" in texts[0].lower() and "999" not in texts[0]
