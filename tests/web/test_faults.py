"""Faults: a Redis that hangs (paused with SIGSTOP) mid-burst of texts and calls.

Every reply must come within 2 seconds (Twilio gives up at 15), warning signs must still
get the urgent reply, and normal service must come back within seconds of Redis resuming.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask

from bot.dev.embedded import EmbeddedRedis
from bot.outbound import scheduling
from bot.outbound.texts import INTERRUPTED, STUCK_AFTER, claim
from bot.web.signatures import sign
from tests.support.base import PATIENT, PUBLIC_BASE_URL, TOKEN
from tests.support.reminders import fetch, make_reminder, spawn_worker, utc_now, worker_env
from tests.web.test_webhook import form, messages, post
from workers.worker import SendWorker

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


# --- a worker killed mid-send ------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_scheduler_does_not_outlive_a_killed_worker(redis_url: str, r: redis.Redis) -> None:
    worker = spawn_worker(redis_url, {}, burst=False)
    lock = f"rq:scheduler-lock:{scheduling.QUEUE}"
    try:
        assert _wait(lambda: bool(r.exists(lock)) and bool(_children(worker.pid)), 30)
        (scheduler,) = _children(worker.pid)
        worker.send_signal(signal.SIGKILL)  # no handler runs, as when the OOM killer strikes
        worker.wait(timeout=10)
        assert _wait(lambda: not _alive(scheduler), 10), "the scheduler outlived its worker"
        assert _wait(lambda: not r.exists(lock), 10), "the scheduler lock was left held"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_a_send_interrupted_by_a_dead_worker_is_marked_within_two_minutes(
    r: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_env(monkeypatch, redis_url)
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(minutes=3))
    fresh = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))
    # One worker claimed a reminder and died; another claimed one a moment ago.
    assert claim(r, fetch(r, rem), utc_now() - STUCK_AFTER - timedelta(seconds=1)) == "claimed"
    assert claim(r, fetch(r, fresh), utc_now()) == "claimed"
    assert timedelta(minutes=2) >= STUCK_AFTER

    # Made as `rq worker` makes it: upkeep every 10 minutes, blocked 405 s waiting for jobs.
    worker = SendWorker([scheduling.queue(r)], connection=scheduling.queue(r).connection,
                        maintenance_interval=600, worker_ttl=420)
    assert worker.maintenance_interval <= 30 and worker.dequeue_timeout <= 30
    worker.run_maintenance_tasks()  # what every live worker does every 30 seconds

    stored = fetch(r, rem)
    assert (stored.status, stored.error) == ("failed", INTERRUPTED)
    assert fetch(r, fresh).status == "sending"  # still in Twilio's hands: left alone
