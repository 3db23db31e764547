"""With no Twilio account, a reminder call rings the simulator's phone: answered there, its
keys go through the same signed webhooks Twilio would post to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from flask import Flask

from bot.outbound.appointments import Appointment
from bot.outbound.texts import Reminder
from bot.outbound.transport import outbox
from tests.dev.test_simulator import Sim
from tests.support.base import Clock, must
from tests.support.calls import call_appointment, landline, now
from tests.support.reminders import run_worker, worker_env


@pytest.fixture
def sim(make_app: Callable[..., Flask], clock: Clock, monkeypatch: pytest.MonkeyPatch,
        redis_url: str) -> Sim:
    worker_env(monkeypatch, redis_url, CALL_HOURS="00:00-23:59")  # no Twilio account
    clock.now = now()
    return Sim(make_app().test_client())


def ring(r: redis.Redis) -> tuple[Appointment, str]:
    appt, rem = call_appointment(r, to=landline(321), at=now() + timedelta(days=2),
                                 send_at=now() - timedelta(seconds=1), name="Ann")
    run_worker(r)
    return appt, rem.id


def test_a_reminder_call_rings_the_simulator_and_a_person_confirms(
    r: redis.Redis, sim: Sim
) -> None:
    appt, rem_id = ring(r)
    assert outbox(r) == []  # nothing went as a text
    [ringing] = sim.client.get("/simulator/ringing").get_json()["calls"]
    assert ringing["to"] == landline(321)

    call = sim.post(f"ringing/{ringing['sid']}", {"as": "person"})
    said = " ".join(e["text"] for e in call["events"] if e["kind"] == "say")
    assert "hospital team" in said and "CT" not in said
    assert call["waiting"]["kind"] == "gather"
    assert sim.client.get("/simulator/ringing").get_json()["calls"] == []

    details = sim.act(call, digits="1")
    assert "Your CT scan is on" in " ".join(e["text"] for e in details["events"])
    done = sim.act(call, digits="1")
    assert done["ended"] and "confirmed" in " ".join(e["text"] for e in done["events"])

    assert must(Appointment.fetch(r, appt.id)).status == "confirmed"
    stored = must(Reminder.fetch(r, rem_id))
    assert (stored.status, stored.outcome) == ("answered", "confirmed")


@pytest.mark.parametrize(("how", "status"), [("machine", "voicemail"),
                                             ("no-answer", "scheduled")])
def test_the_simulator_can_let_a_machine_take_it_or_not_answer(
    r: redis.Redis, sim: Sim, how: str, status: str
) -> None:
    _, rem_id = ring(r)
    [ringing] = sim.client.get("/simulator/ringing").get_json()["calls"]
    result = sim.post(f"ringing/{ringing['sid']}", {"as": how})

    assert result["ended"]
    assert must(Reminder.fetch(r, rem_id)).status == status
