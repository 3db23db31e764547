"""Reminders on RQ's own scheduler: aware UTC only, deterministic jobs, reschedule, cancel, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq.job import Job

from bot.outbound import appointments, scheduling
from bot.outbound.appointments import Appointment
from bot.outbound.texts import Reminder
from bot.outbound.transport import OutboxTransport, outbox
from flows.reminders import PlanError, default_content
from tests.support.base import PATIENT
from tests.support.reminders import (
    LONDON,
    QUIET,
    book,
    drama,
    fetch,
    job,
    make_reminder,
    scheduled,
    statuses,
)
from workers.send import deliver


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in the clinic's zone."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def by_kind(r: redis.Redis, rems: list[Reminder]) -> dict[str, datetime]:
    """Each reminder's kind and the instant RQ's registry says its job is due."""
    times = scheduled(r)
    return {x.kind.split(":")[1]: times[x.job_id] for x in rems}


def text(r: redis.Redis, rem: Reminder) -> str:
    """The words the send job will send for this reminder."""
    return appointments.text_of(r, rem, LONDON)


def exists(r: redis.Redis, job_id: str) -> bool:
    return bool(Job.exists(job_id, connection=scheduling.rq_connection(r)))


# --- Aware UTC only ------------------------------------------------------------------


def test_a_naive_send_time_is_refused_and_nothing_is_scheduled(r: redis.Redis) -> None:
    naive = make_reminder(r, to=PATIENT, send_at=datetime(2026, 3, 29, 1, 30), schedule=False)

    with pytest.raises(ValueError, match="aware"):
        scheduling.schedule(r, [naive])

    assert scheduled(r) == {}


def test_rescheduling_to_a_naive_time_is_refused_and_changes_nothing(r: redis.Redis) -> None:
    now = utc(2026, 11, 16, 12)
    appt, rems = book(r, to=PATIENT, test="mri_scan", at=local(2026, 11, 25, 9, 30), now=now)
    before = scheduled(r)

    with pytest.raises(ValueError, match="time zone"):
        appointments.reschedule(r, appt, datetime(2026, 11, 26, 9, 30), LONDON, QUIET, now)

    assert scheduled(r) == before
    assert statuses(r, rems) == ["scheduled"] * len(rems)


def test_rq_reads_back_the_same_instant_whatever_zone_it_was_given(r: redis.Redis) -> None:
    summer = local(2026, 7, 1, 18, 0)  # 17:00 UTC
    rem = make_reminder(r, to=PATIENT, send_at=summer)

    at = scheduling.scheduled_at(r, rem)
    assert at == utc(2026, 7, 1, 17, 0)
    assert at is not None and at.utcoffset() == timedelta(0)
    assert scheduling.scheduled_at(r, make_reminder(r, to=PATIENT, send_at=summer,
                                                    schedule=False)) is None


# --- Deterministic jobs --------------------------------------------------------------


def test_job_ids_follow_the_appointment_version_and_position(r: redis.Redis) -> None:
    now = utc(2026, 11, 16, 12)
    appt, rems = book(r, to=PATIENT, test="ct_scan", at=local(2026, 11, 25, 10, 0), now=now)

    assert [x.id for x in rems] == [f"{appt.id}-1-{n}" for n in range(1, len(rems) + 1)]
    assert sorted(scheduled(r)) == sorted(f"reminder-{x.id}-v1" for x in rems)
    for rem in rems:
        j = job(r, rem)
        assert j.func_name == scheduling.SEND_JOB
        assert j.args == [rem.id, 1] or j.args == (rem.id, 1)
        assert j.retries_left == len(scheduling.RETRY_INTERVALS)
        assert j.timeout == scheduling.JOB_TIMEOUT

    scheduling.schedule(r, rems)  # scheduling again changes nothing
    assert by_kind(r, rems) == {x.kind.split(":")[1]: x.send_at_dt for x in rems}
    assert len(scheduled(r)) == len(rems)


# --- Reschedule and cancel -----------------------------------------------------------


def test_reschedule_replaces_the_reminders_on_the_scheduler(r: redis.Redis) -> None:
    now = utc(2026, 11, 16, 12)
    appt, old = book(r, to=PATIENT, test="mri_scan", at=local(2026, 11, 25, 9, 30), now=now)
    _, other = book(r, to=drama(500), test="xray", at=local(2026, 11, 25, 11, 0), now=now)

    new = appointments.reschedule(r, appt, local(2026, 12, 2, 14, 0), LONDON, QUIET, now)

    assert [x.id for x in new] == [f"{appt.id}-2-{n}" for n in range(1, len(new) + 1)]
    times = scheduled(r)
    assert sorted(times) == sorted(x.job_id for x in new + other)
    assert by_kind(r, new) == {
        "few_days_before": utc(2026, 11, 29, 10, 0),
        "day_before": utc(2026, 12, 1, 18, 0),
    }
    assert all(not exists(r, x.job_id) for x in old)
    assert statuses(r, old) == ["cancelled"] * len(old)
    assert {fetch(r, x).error for x in old} == {"appointment moved"}
    assert all("Wed 2 Dec at 2pm" in text(r, x) for x in new)

    moved = Appointment.fetch(r, appt.id)
    assert moved is not None
    assert (moved.version, moved.status, moved.reminder_ids) == (2, "booked", [x.id for x in new])
    assert moved.at_dt == utc(2026, 12, 2, 14, 0)
    # A copy of an old job that was already on the queue sends nothing.
    assert deliver(r, old[-1].id, 1, OutboxTransport(r), old[-1].send_at_dt) == "cancelled"
    assert outbox(r) == []


def test_reschedule_to_a_time_that_has_passed_changes_nothing(r: redis.Redis) -> None:
    now = utc(2026, 11, 16, 12)
    appt, rems = book(r, to=PATIENT, test="bone_scan", at=local(2026, 11, 25, 9, 0), now=now)
    before = scheduled(r)

    with pytest.raises(PlanError):
        appointments.reschedule(r, appt, local(2026, 11, 10, 9, 0), LONDON, QUIET, now)

    assert scheduled(r) == before
    assert statuses(r, rems) == ["scheduled"] * len(rems)
    stored = Appointment.fetch(r, appt.id)
    assert stored is not None and stored.version == 1


def test_cancel_takes_the_reminders_off_the_scheduler(r: redis.Redis) -> None:
    now = utc(2026, 11, 16, 12)
    appt, rems = book(r, to=PATIENT, test="pet_ct_scan", at=local(2026, 11, 25, 9, 0), now=now)
    _, other = book(r, to=drama(501), test="biopsy", at=local(2026, 11, 25, 9, 0), now=now)

    assert appointments.cancel(r, appt) == len(rems)

    assert sorted(scheduled(r)) == sorted(x.job_id for x in other)
    assert all(not exists(r, x.job_id) for x in rems)
    assert statuses(r, rems) == ["cancelled"] * len(rems)
    stored = Appointment.fetch(r, appt.id)
    assert stored is not None and stored.status == "cancelled"
    assert appointments.cancel(r, appt) == 0  # again: nothing left to stop


def test_cancel_leaves_reminders_already_sent_as_they_were(r: redis.Redis) -> None:
    now = utc(2026, 11, 16, 12)
    appt, rems = book(r, to=PATIENT, test="mri_scan", at=local(2026, 11, 25, 9, 30), now=now)
    first = rems[0]
    assert deliver(r, first.id, 1, OutboxTransport(r), first.send_at_dt) == "sent"

    assert appointments.cancel(r, appt) == len(rems) - 1

    assert statuses(r, rems) == ["sent"] + ["cancelled"] * (len(rems) - 1)


# --- Across the clock changes --------------------------------------------------------


def test_spring_forward_plan_lands_at_the_right_utc_instants(r: redis.Redis) -> None:
    now = utc(2026, 3, 20, 12)
    # Monday after the clocks go forward (Sunday 29 March 2026, 01:00 UTC): BST.
    _, mri = book(r, to=PATIENT, test="mri_scan", at=local(2026, 3, 30, 9, 30), now=now)
    # On the day itself: fasting counts real hours across the missing hour.
    _, ct = book(r, to=drama(502), test="ct_scan", at=local(2026, 3, 29, 10, 0), now=now)

    assert by_kind(r, mri) == {
        "few_days_before": utc(2026, 3, 27, 10, 0),  # Fri 10:00 GMT
        "day_before": utc(2026, 3, 29, 17, 0),  # Sun 18:00 BST
    }
    quiet_start = local(2026, 3, 28, 21, 0) - default_content().quiet_margin
    assert by_kind(r, ct) == {
        "few_days_before": utc(2026, 3, 26, 10, 0),
        "day_before": utc(2026, 3, 28, 18, 0),  # Sat 18:00 GMT
        "fasting": quiet_start,  # 05:00 BST is quiet: the evening before instead
    }
    assert quiet_start == utc(2026, 3, 28, 20, 30)
    # 10:00 BST is 09:00 UTC; four real hours before is 05:00 UTC, 6am BST.
    fasting = next(x for x in ct if x.kind == "ct_scan:fasting")
    assert "from 6am on Sun 29 Mar" in text(r, fasting)
    assert fasting.expires_at_dt == utc(2026, 3, 29, 5, 0)


def test_fall_back_plan_lands_at_the_right_utc_instants(r: redis.Redis) -> None:
    now = utc(2026, 10, 20, 12)
    # Monday after the clocks go back (Sunday 25 October 2026, 01:00 UTC): GMT.
    _, mri = book(r, to=PATIENT, test="mri_scan", at=local(2026, 10, 26, 9, 30), now=now)
    _, pet = book(r, to=drama(503), test="pet_ct_scan", at=local(2026, 10, 25, 8, 30), now=now)

    assert by_kind(r, mri) == {
        "few_days_before": utc(2026, 10, 23, 9, 0),  # Fri 10:00 BST
        "day_before": utc(2026, 10, 25, 18, 0),  # Sun 18:00 GMT
    }
    assert by_kind(r, pet) == {
        "few_days_before": utc(2026, 10, 22, 9, 0),
        "day_before": utc(2026, 10, 24, 17, 0),  # Sat 18:00 BST
        "fasting": utc(2026, 10, 24, 19, 30),  # Sat 20:30 BST, before the quiet hours
    }
    # 08:30 GMT less six real hours is 02:30 GMT (the hour 01:00-02:00 happened twice).
    fasting = next(x for x in pet if x.kind == "pet_ct_scan:fasting")
    assert "from 2.30am on Sun 25 Oct" in text(r, fasting)
    assert fasting.expires_at_dt == utc(2026, 10, 25, 2, 30)


def test_every_scheduled_instant_is_the_reminders_own_send_time(r: redis.Redis) -> None:
    now = utc(2026, 10, 20, 12)
    rems = []
    for n, test in enumerate(["blood_tests", "xray", "bone_scan", "liver_ultrasound",
                              "ct_scan", "pet_ct_scan", "mri_scan", "biopsy"]):
        rems += book(r, to=drama(510 + n), test=test, at=local(2026, 10, 26, 8 + n, 0),
                     now=now)[1]

    times = scheduled(r)
    assert {x.job_id: x.send_at_dt for x in rems} == times
    for at in times.values():  # none in the quiet hours on the clinic's clock
        assert 8 <= at.astimezone(LONDON).hour < 21
