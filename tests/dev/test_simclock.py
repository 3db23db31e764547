"""The local stack's simulated clock: set from the simulator, kept by the app and the worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from flask import Flask

from bot.dev import simclock
from bot.outbound import transport
from tests.dev.test_simulator import Sim
from tests.support.reminders import (
    drama,
    make_reminder,
    run_worker,
    scheduled,
    spawn_worker,
    statuses,
    worker_env,
)

LONDON = ZoneInfo("Europe/London")
SUNDAY_10PM = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("+1 day", datetime(2026, 11, 30, 22, 0, tzinfo=UTC)),
        ("+ 2 hours", datetime(2026, 11, 30, 0, 0, tzinfo=UTC)),
        ("Monday 11:00", datetime(2026, 11, 30, 11, 0, tzinfo=UTC)),
        ("tomorrow 9am", datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
        # Sunday 21:00 has gone: the next one is a week on.
        ("sunday 21:00", datetime(2026, 12, 6, 21, 0, tzinfo=UTC)),
        ("2026-12-02 14:00", datetime(2026, 12, 2, 14, 0, tzinfo=UTC)),
        # In summer the clinic's 11:00 is 10:00 UTC.
        ("2027-06-01 11:00", datetime(2027, 6, 1, 10, 0, tzinfo=UTC)),
        ("Real time", None),
    ],
)
def test_the_clock_reads_jumps_days_and_dates(words: str, expected: datetime | None) -> None:
    assert simclock.target(words, SUNDAY_10PM, LONDON) == expected


@pytest.mark.parametrize(
    "words", ["next tuesday", "13pm monday", "monday 25:00", "2026-13-01 09:00"]
)
def test_what_the_clock_cannot_read_is_explained(words: str) -> None:
    with pytest.raises(simclock.ClockError):
        simclock.target(words, SUNDAY_10PM, LONDON)


def _real_time_app(make_app: Callable[..., Flask]) -> Flask:
    # The worker keeps the real time (plus the offset), so the app must too.
    return make_app(CLOCK=lambda: datetime.now(UTC))


def test_jumping_ahead_sends_what_came_due_and_expires_what_is_too_late(
    make_app: Callable[..., Flask], r: redis.Redis, redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = _real_time_app(make_app)
    now = datetime.now(UTC)
    patient = drama(321)
    due = make_reminder(r, to=patient, send_at=now + timedelta(hours=20),
                        expires_at=now + timedelta(hours=30), body="Your scan is on Tuesday.")
    too_late = make_reminder(r, to=patient, send_at=now + timedelta(hours=2),
                             expires_at=now + timedelta(hours=3), body="Too late now.")
    later = make_reminder(r, to=patient, send_at=now + timedelta(days=3), body="Next week.")

    state = Sim(app.test_client()).post("clock", {"to": "+1 day"})
    assert state["ahead"] == "1 day ahead of the real time"
    assert state["queued"] == 2
    assert app.config["CLOCK"]() - datetime.now(UTC) > timedelta(hours=23, minutes=59)

    worker_env(monkeypatch, redis_url, INSTANCE_PATH=app.config["INSTANCE_PATH"])
    run_worker(r, with_scheduler=False)  # the endpoint queued them; RQ's scheduler is not needed
    assert statuses(r, [due, too_late, later]) == ["sent", "expired", "scheduled"]
    assert [m["body"] for m in transport.outbox(r)] == ["Your scan is on Tuesday."]
    assert later.job_id in scheduled(r)


def test_the_clock_only_goes_forward_and_back_to_the_real_time(
    make_app: Callable[..., Flask],
) -> None:
    sim = Sim(_real_time_app(make_app).test_client())
    assert sim.post("clock", {"to": "+3 hours"})["ahead"] == "3 hours ahead of the real time"
    refused = sim.post("clock", {"to": "2020-01-01 09:00"}, status=400)
    assert "only goes forward" in refused["error"]
    unread = sim.post("clock", {"to": "soonish"}, status=400)
    assert "+1 hour" in unread["error"]
    back = sim.post("clock", {"to": "now"})
    assert back["ahead"] == "the real time"
    assert back["simulated"] is False


def test_a_worker_on_its_own_catches_up_with_the_simulated_time(
    make_app: Callable[..., Flask], r: redis.Redis, redis_url: str,
) -> None:
    app = _real_time_app(make_app)
    now = datetime.now(UTC)
    rem = make_reminder(r, to=drama(322), send_at=now + timedelta(hours=5),
                        expires_at=now + timedelta(hours=8), body="Five hours on.")
    simclock.set_offset(app.config, timedelta(hours=6))
    # The Procfile's worker, with nothing queued: RQ's scheduler alone would wait 5 hours.
    worker = spawn_worker(redis_url, {"INSTANCE_PATH": app.config["INSTANCE_PATH"]})
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()
    assert statuses(r, [rem]) == ["sent"]


def test_a_deployment_with_twilio_never_moves_its_clock(tmp_path: Path) -> None:
    local = {"INSTANCE_PATH": str(tmp_path)}
    simclock.set_offset(local, timedelta(days=2))
    assert simclock.offset(local) == timedelta(days=2)
    # The same folder, with a Twilio account: the file is ignored, and cannot be written.
    deployed = {**local, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "x"}
    assert simclock.offset(deployed) == timedelta(0)
    assert abs(simclock.now(deployed) - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(simclock.ClockError):
        simclock.set_offset(deployed, timedelta(days=1))


def test_a_deployment_with_twilio_has_no_clock_page(make_app: Callable[..., Flask]) -> None:
    app = make_app(TWILIO_AUTH_TOKEN="a-real-token")
    assert app.test_client().post("/simulator/clock", json={"to": "+1 day"}).status_code == 404
    assert not isinstance(app.config["CLOCK"], simclock.Clock)
