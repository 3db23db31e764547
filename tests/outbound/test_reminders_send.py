"""The send job: each reminder at most once, through a real RQ worker and a stand-in for Twilio."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
import redis
from flask import Flask
from rq.registry import FailedJobRegistry
from rq.scheduler import RQScheduler

from bot.dev.localclient import LocalPhone
from bot.outbound import scheduling
from bot.outbound.appointments import Patient
from bot.outbound.queue import queue_text, queue_texts
from bot.outbound.texts import (
    SENDING,
    STUCK_AFTER,
    by_sid,
    claim,
    sweep_stuck,
)
from bot.outbound.transport import OutboxTransport, TwilioTransport, outbox
from bot.store import records
from tests.support.base import PATIENT, PUBLIC_BASE_URL
from tests.support.reminders import (
    drama,
    fetch,
    job,
    make_appointment,
    make_reminder,
    quiet_hours_away_from_now,
    registry,
    run_worker,
    scheduled,
    spawn_worker,
    statuses,
    utc_now,
    worker_env,
)
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandin
from workers.send import NotReady, RetryLater, deliver, send
from workers.worker import SendWorker


@pytest.fixture
def via_standin(
    standin: TwilioStandin, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> TwilioStandin:
    """The in-process worker sends through the stand-in, as a deployment sends to Twilio."""
    worker_env(monkeypatch, redis_url, **standin.settings())
    return standin


def twilio(standin: TwilioStandin, timeout: float = 5.0) -> TwilioTransport:
    return TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, base_url=standin.base_url,
                           timeout=timeout)


# --- Sending once --------------------------------------------------------------------


def test_worker_sends_a_due_reminder_once_and_records_its_sid(
    r: redis.Redis, via_standin: TwilioStandin
) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))

    run_worker(r)

    [req] = via_standin.message_requests
    # Its delivery reports name the reminder, so no index of MessageSids is kept for them.
    assert req.form == {"To": PATIENT, "From": FROM_NUMBER, "Body": rem.body,
                        "StatusCallback": f"{PUBLIC_BASE_URL}/sms/status?r={rem.id}"}
    [message] = via_standin.messages
    stored = fetch(r, rem)
    assert (stored.status, stored.sid, stored.attempts) == ("sent", message["sid"], 1)
    assert stored.sent_at
    assert by_sid(r, message["sid"]) is None
    assert scheduled(r) == {}
    assert r.zcard(SENDING) == 0
    [logged] = records.history(r, PATIENT)
    assert (logged["direction"], logged["text"], logged["kind"]) == ("out", rem.body, rem.kind)


def test_a_reminder_not_yet_due_stays_on_the_scheduler(
    r: redis.Redis, via_standin: TwilioStandin
) -> None:
    later = utc_now() + timedelta(hours=1)
    rem = make_reminder(r, to=PATIENT, send_at=later)

    run_worker(r)

    assert via_standin.requests == []
    assert fetch(r, rem).status == "scheduled"
    assert abs(scheduled(r)[rem.job_id] - later) < timedelta(seconds=1)


def test_a_duplicate_scheduler_run_sends_once(r: redis.Redis, via_standin: TwilioStandin) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))
    conn = scheduling.rq_connection(r)
    first = RQScheduler([scheduling.QUEUE], connection=conn)
    first.acquire_locks()  # type: ignore[no-untyped-call]
    first.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]
    first.release_locks()  # type: ignore[no-untyped-call]
    # A second run puts the same job on the scheduler again (say, a scheduler that
    # crashed before it could take it off, or an import run twice).
    scheduling.schedule(r, [rem])
    assert list(scheduled(r)) == [rem.job_id]

    run_worker(r)

    assert len(via_standin.message_requests) == 1
    # The first run deleted its finished job (send jobs keep no result), so RQ dropped the
    # copy queued again; run that copy as a late duplicate would: it sends nothing.
    assert send(rem.id, rem.version) == "sent"
    assert len(via_standin.message_requests) == 1
    assert fetch(r, rem).attempts == 1


def test_the_same_job_enqueued_twice_sends_once(
    r: redis.Redis, via_standin: TwilioStandin
) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now(), schedule=False)
    scheduling.send_now(r, rem)
    scheduling.send_now(r, rem)
    assert scheduling.queue(r).count == 2

    worker = run_worker(r, with_scheduler=False)

    assert len(via_standin.message_requests) == 1
    assert send(rem.id, rem.version) == "sent"  # a copy run again sends nothing
    assert len(via_standin.message_requests) == 1
    worker.refresh()  # type: ignore[no-untyped-call]
    assert worker.successful_job_count == 1  # the second copy found its job done and gone
    assert scheduling.queue(r).count == 0


def test_two_worker_processes_racing_send_each_reminder_once(
    r: redis.Redis, redis_url: str, standin: TwilioStandin
) -> None:
    standin.latency = 0.005
    rems = [make_reminder(r, to=drama(100 + n), send_at=utc_now(), schedule=False)
            for n in range(20)]
    for rem in rems:  # each job twice, side by side: both workers take one copy at once
        scheduling.send_now(r, rem)
        scheduling.send_now(r, rem)

    workers = [spawn_worker(redis_url, standin.settings()) for _ in range(2)]
    for w in workers:
        _, err = w.communicate(timeout=60)
        assert w.returncode == 0, err.decode()

    assert len(standin.message_requests) == 20
    assert sorted(m["to"] for m in standin.messages) == sorted(x.to for x in rems)
    assert statuses(r, rems) == ["sent"] * 20
    assert all(fetch(r, x).attempts == 1 for x in rems)
    # Each copy either ran (and found its reminder claimed) or was dropped by RQ because
    # the other copy had finished and deleted the job: nothing is left queued.
    conn = scheduling.rq_connection(r)
    runs = sum(int(conn.hget(k, "successful_job_count") or 0)
               for k in conn.scan_iter("rq:worker:*") if not k.endswith(b":executions"))
    assert 20 <= runs <= 40
    assert scheduling.queue(r).count == 0


def test_a_sent_reminder_leaves_nothing_of_rq_behind(
    r: redis.Redis, redis_url: str, standin: TwilioStandin
) -> None:
    # RQ keeps a result stream of about 5 KB a job for a day unless told not to; the
    # reminder's own record says what happened, so a day of sends costs no more than that.
    rems = [make_reminder(r, to=drama(200 + n), send_at=utc_now() - timedelta(seconds=1))
            for n in range(5)]

    worker = spawn_worker(redis_url, standin.settings())  # as the Procfile runs it
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()

    assert statuses(r, rems) == ["sent"] * 5 and len(standin.message_requests) == 5
    conn = scheduling.rq_connection(r)
    left = sorted(k.decode() for pattern in ("rq:job:*", "rq:results:*", "rq:finished:*",
                                            "rq:execution:*", "rq:executions:*")
                  for k in conn.scan_iter(pattern))
    assert left == []
    assert conn.llen(f"rq:queue:{scheduling.QUEUE}:intermediate") == 0


def test_only_one_of_many_simultaneous_runs_claims_the_reminder(r: redis.Redis) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now(), schedule=False)
    box = OutboxTransport(r)
    start = threading.Barrier(8)

    def run() -> str:
        start.wait()
        return deliver(r, rem.id, 1, box, rem.send_at_dt)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: run(), range(8)))

    # Every run reports what became of the reminder; only one of them sent it.
    assert set(results) <= {"sent", "sending"}
    assert len(outbox(r)) == 1
    assert fetch(r, rem).attempts == 1
    assert claim(r, fetch(r, rem), utc_now()) == "sent"  # and never again afterwards


# --- A worker that dies mid-send -----------------------------------------------------


def test_a_worker_killed_between_claiming_and_sending_is_never_sent_again(
    r: redis.Redis, via_standin: TwilioStandin
) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))
    claimed_at = utc_now()
    assert claim(r, fetch(r, rem), claimed_at) == "claimed"  # ... and the worker died here

    run_worker(r)  # the scheduled job runs: the reminder is someone else's, or lost
    assert via_standin.requests == []
    assert fetch(r, rem).status == "sending"

    assert sweep_stuck(r, claimed_at + STUCK_AFTER - timedelta(seconds=1)) == []
    assert sweep_stuck(r, claimed_at + STUCK_AFTER + timedelta(seconds=1)) == [rem.id]
    stored = fetch(r, rem)
    assert stored.status == "failed"
    assert "stopped while sending" in stored.error and "not retried" in stored.error

    scheduling.send_now(r, rem)  # run the job again by hand: still nothing goes
    run_worker(r)
    assert via_standin.requests == []
    assert fetch(r, rem).status == "failed"
    assert r.zcard(SENDING) == 0


def test_a_worker_process_killed_while_twilio_answers_never_sends_twice(
    r: redis.Redis, redis_url: str, standin: TwilioStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))
    standin.hang_next(1.0)  # Twilio creates the message, but the worker is gone by then
    worker = spawn_worker(redis_url, standin.settings())
    try:
        standin.wait_for_requests(1, timeout=30)
        assert fetch(r, rem).status == "sending"
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.communicate(timeout=30)
    standin.wait_for_messages(1)

    assert sweep_stuck(r, utc_now() + STUCK_AFTER + timedelta(seconds=1)) == [rem.id]
    assert fetch(r, rem).status == "failed"
    worker_env(monkeypatch, redis_url, **standin.settings())
    scheduling.send_now(r, rem)
    run_worker(r)

    assert len(standin.message_requests) == 1
    assert fetch(r, rem).status == "failed"


# --- Answers from Twilio -------------------------------------------------------------


def test_429_is_retried_by_rq_and_then_sent(r: redis.Redis, via_standin: TwilioStandin) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))
    via_standin.fail_next(429)

    before = utc_now()
    run_worker(r)

    stored = fetch(r, rem)
    assert (stored.status, stored.attempts) == ("scheduled", 1)
    assert "Too Many Requests" in stored.error
    retry_at = scheduled(r)[rem.job_id]
    first = timedelta(seconds=scheduling.RETRY_INTERVALS[0])
    assert before + first - timedelta(seconds=1) <= retry_at <= utc_now() + first
    assert job(r, rem).retries_left == len(scheduling.RETRY_INTERVALS) - 1
    assert r.zcard(SENDING) == 0

    registry(r).requeue(rem.job_id)  # the retry's moment has come
    run_worker(r)

    assert len(via_standin.message_requests) == 2
    [message] = via_standin.messages
    stored = fetch(r, rem)
    assert (stored.status, stored.sid, stored.attempts) == ("sent", message["sid"], 2)
    assert stored.error == ""
    assert scheduled(r) == {}


def test_a_retryable_error_releases_the_claim_until_the_final_attempt(
    r: redis.Redis, standin: TwilioStandin
) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now(), schedule=False)
    standin.fail_next(429)
    now = rem.send_at_dt

    with pytest.raises(RetryLater):
        deliver(r, rem.id, 1, twilio(standin), now, final_attempt=False)
    assert (fetch(r, rem).status, r.zcard(SENDING)) == ("scheduled", 0)

    assert deliver(r, rem.id, 1, twilio(standin), now, final_attempt=False) == "sent"
    assert len(standin.message_requests) == 2 and len(standin.messages) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_then_fails_on_the_final_attempt(
    r: redis.Redis, standin: TwilioStandin, status: int
) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now(), schedule=False)
    standin.fail_next(status, times=2)
    now = rem.send_at_dt

    with pytest.raises(RetryLater):
        deliver(r, rem.id, 1, twilio(standin), now, final_attempt=False)
    assert fetch(r, rem).status == "scheduled"
    assert deliver(r, rem.id, 1, twilio(standin), now, final_attempt=True) == "failed"

    stored = fetch(r, rem)
    assert (stored.status, stored.attempts) == ("failed", 2)
    assert stored.error
    assert standin.messages == []


def test_5xx_through_rq_schedules_a_retry(r: redis.Redis, via_standin: TwilioStandin) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))
    via_standin.fail_next(503)

    run_worker(r)

    assert fetch(r, rem).status == "scheduled"
    assert rem.job_id in scheduled(r)
    registry(r).requeue(rem.job_id)
    run_worker(r)
    assert fetch(r, rem).status == "sent"
    assert len(via_standin.messages) == 1


def test_twilio_unreachable_is_retried(r: redis.Redis, standin: TwilioStandin) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now(), schedule=False)
    base = standin.base_url
    standin.stop()  # nothing listens: the connection is refused before anything is sent
    transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, base_url=base, timeout=2)

    with pytest.raises(RetryLater):
        deliver(r, rem.id, 1, transport, rem.send_at_dt, final_attempt=False)
    assert fetch(r, rem).status == "scheduled"


def test_21610_opts_the_patient_out_and_stops_their_other_reminders(
    r: redis.Redis, via_standin: TwilioStandin
) -> None:
    now = utc_now()
    appt, (first, later) = make_appointment(
        r, to=PATIENT, at=now + timedelta(days=2),
        sends=[now - timedelta(seconds=1), now + timedelta(days=1)],
    )
    _, (other,) = make_appointment(r, to=PATIENT, at=now + timedelta(days=9),
                                   sends=[now + timedelta(days=8)])
    _, (someone_else,) = make_appointment(r, to=drama(200), at=now + timedelta(days=2),
                                          sends=[now + timedelta(days=1)])
    via_standin.fail_next(400, 21610)

    run_worker(r)

    assert len(via_standin.message_requests) == 1
    assert statuses(r, [first, later, other]) == ["opted_out"] * 3
    assert "21610" in fetch(r, first).error
    assert records.is_opted_out(r, PATIENT)
    assert list(scheduled(r)) == [someone_else.job_id]
    assert fetch(r, someone_else).status == "scheduled"
    assert len(FailedJobRegistry(queue=scheduling.queue(r))) == 0
    assert queue_text(r, PATIENT, "Your results are ready.", kind="message", now=now) is None


@pytest.mark.parametrize("code", [21211, 21614])
def test_an_invalid_number_is_flagged_and_never_tried_again(
    r: redis.Redis, via_standin: TwilioStandin, code: int
) -> None:
    now = utc_now()
    _, (first, later) = make_appointment(
        r, to=PATIENT, at=now + timedelta(days=2),
        sends=[now - timedelta(seconds=1), now + timedelta(days=1)],
    )
    via_standin.fail_next(400, code)

    run_worker(r)

    assert statuses(r, [first, later]) == ["failed", "failed"]
    assert str(code) in fetch(r, first).error
    assert str(code) in str(r.hget(Patient.key_for(PATIENT), "invalid"))
    assert scheduled(r) == {}

    message = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1),
                            kind="message")
    run_worker(r)
    assert fetch(r, message).status == "failed"
    assert len(via_standin.message_requests) == 1


@pytest.mark.parametrize(("status", "code"), [(400, 21408), (400, 21617), (401, 20003)])
def test_other_4xx_fail_without_a_retry(
    r: redis.Redis, via_standin: TwilioStandin, status: int, code: int
) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))
    via_standin.fail_next(status, code)

    run_worker(r)

    stored = fetch(r, rem)
    assert (stored.status, stored.attempts) == ("failed", 1)
    assert stored.error
    assert scheduled(r) == {}
    assert len(via_standin.message_requests) == 1
    assert not records.is_opted_out(r, PATIENT)
    assert not r.hget(Patient.key_for(PATIENT), "invalid")


def test_a_read_timeout_fails_and_is_not_retried(
    r: redis.Redis, via_standin: TwilioStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_TIMEOUT", "0.5")
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))
    via_standin.hang_next(1.5)  # Twilio creates the message after the client gave up

    run_worker(r)

    stored = fetch(r, rem)
    assert stored.status == "failed"
    assert "may have been sent" in stored.error
    assert scheduled(r) == {}
    via_standin.wait_for_messages(1)

    scheduling.send_now(r, rem)
    run_worker(r)
    assert len(via_standin.message_requests) == 1


# --- Skipped, with the reason recorded -------------------------------------------------


def test_a_cancelled_appointment_is_not_sent(r: redis.Redis, via_standin: TwilioStandin) -> None:
    now = utc_now()
    appt, (rem,) = make_appointment(r, to=PATIENT, at=now + timedelta(days=1),
                                    sends=[now - timedelta(seconds=1)])
    # Cancelled behind the plan's back (the reminder itself still says scheduled): the
    # send job re-reads the appointment.
    r.hset(appt.key, "status", "cancelled")

    run_worker(r)

    stored = fetch(r, rem)
    assert (stored.status, stored.error) == ("cancelled", "the appointment was cancelled")
    assert via_standin.requests == []


def test_cancelling_after_the_scheduler_queued_the_job_sends_nothing(
    r: redis.Redis, via_standin: TwilioStandin
) -> None:
    from bot.outbound import appointments

    now = utc_now()
    appt, (rem,) = make_appointment(r, to=PATIENT, at=now + timedelta(days=1),
                                    sends=[now - timedelta(seconds=1)])
    scheduling.send_now(r, rem)  # already on the queue when the nurse cancels

    assert appointments.cancel(r, appt) == 1
    run_worker(r)

    assert fetch(r, rem).status == "cancelled"
    assert via_standin.requests == []


def test_a_cancelled_campaign_is_not_sent(r: redis.Redis, via_standin: TwilioStandin) -> None:
    r.hset("campaign:c1", mapping={"id": "c1", "name": "PET-CT week", "status": "cancelled"})
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1), campaign="c1")

    run_worker(r)

    stored = fetch(r, rem)
    assert (stored.status, stored.error) == ("cancelled", "the campaign was cancelled")
    assert via_standin.requests == []


def test_a_patient_who_texted_stop_is_not_sent(
    r: redis.Redis, via_standin: TwilioStandin, phone: LocalPhone
) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1))
    phone.send("STOP")

    run_worker(r)

    stored = fetch(r, rem)
    assert (stored.status, stored.error) == ("opted_out", "the patient opted out")
    assert via_standin.requests == []


def test_a_reminder_past_its_moment_expires_and_is_never_sent_late(
    r: redis.Redis, via_standin: TwilioStandin
) -> None:
    now = utc_now()
    rem = make_reminder(r, to=PATIENT, send_at=now - timedelta(hours=3),
                        expires_at=now - timedelta(seconds=1))

    run_worker(r)

    stored = fetch(r, rem)
    assert (stored.status, stored.error) == ("expired", "its moment had passed")
    assert via_standin.requests == []


def test_expiry_is_judged_at_the_moment_of_sending(r: redis.Redis) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now(), schedule=False)
    box = OutboxTransport(r)

    assert deliver(r, rem.id, 1, box, rem.expires_at_dt) == "expired"
    assert outbox(r) == []


def test_a_campaign_still_importing_makes_the_job_wait(
    r: redis.Redis, via_standin: TwilioStandin
) -> None:
    r.hset("campaign:c2", mapping={"id": "c2", "name": "MRI list", "status": "importing"})
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1), campaign="c2")
    with pytest.raises(NotReady):
        deliver(r, rem.id, 1, OutboxTransport(r), utc_now())

    run_worker(r)  # through RQ: NotReady is retried later, nothing is claimed

    assert fetch(r, rem).status == "scheduled"
    assert rem.job_id in scheduled(r)
    assert via_standin.requests == []

    r.hset("campaign:c2", "status", "active")
    registry(r).requeue(rem.job_id)
    run_worker(r)
    assert fetch(r, rem).status == "sent"
    assert len(via_standin.messages) == 1


def test_a_job_run_early_goes_back_on_the_scheduler(r: redis.Redis) -> None:
    later = utc_now() + timedelta(hours=2)
    rem = make_reminder(r, to=PATIENT, send_at=later, schedule=False)

    assert deliver(r, rem.id, 1, OutboxTransport(r), utc_now()) == "early"

    assert fetch(r, rem).status == "scheduled"
    assert abs(scheduled(r)[rem.job_id] - later) < timedelta(seconds=1)
    assert outbox(r) == []


# --- Quiet hours at the moment of sending ---------------------------------------------

LONDON = ZoneInfo("Europe/London")
NIGHT = (clock(21, 0), clock(8, 0))
LATE_EVENING = datetime(2026, 12, 1, 22, 30, tzinfo=LONDON)


def test_a_reminder_due_in_quiet_hours_after_a_backlog_waits_for_them_to_end(
    r: redis.Redis,
) -> None:
    # Planned for 20:15; the worker only reached it at 22:30.
    appt, (rem,) = make_appointment(
        r, to=PATIENT, at=LATE_EVENING + timedelta(days=1),
        sends=[LATE_EVENING - timedelta(minutes=135)],
    )
    box = OutboxTransport(r)

    assert deliver(r, rem.id, 1, box, LATE_EVENING, tz=LONDON, quiet=NIGHT) == "held"

    morning = datetime(2026, 12, 2, 8, 0, tzinfo=LONDON)
    stored = fetch(r, rem)
    assert (stored.status, stored.send_at_dt) == ("scheduled", morning)
    assert scheduled(r)[rem.job_id] == morning
    assert outbox(r) == []

    assert deliver(r, rem.id, 1, box, morning, tz=LONDON, quiet=NIGHT) == "sent"
    assert [m["to"] for m in outbox(r)] == [PATIENT]


def test_a_reminder_whose_moment_passes_in_the_quiet_hours_expires_unsent(
    r: redis.Redis,
) -> None:
    # An early-morning scan: the reminder is no use once the quiet hours end at 8.
    _, (rem,) = make_appointment(
        r, to=PATIENT, at=datetime(2026, 12, 2, 7, 30, tzinfo=LONDON),
        sends=[LATE_EVENING - timedelta(hours=2)],
    )

    assert deliver(r, rem.id, 1, OutboxTransport(r), LATE_EVENING, tz=LONDON,
                   quiet=NIGHT) == "expired"

    stored = fetch(r, rem)
    assert (stored.status, stored.error) == ("expired", "its moment passed during the quiet hours")
    assert outbox(r) == []


def test_a_text_the_patient_asked_for_goes_out_in_quiet_hours(r: redis.Redis) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=LATE_EVENING, kind="topic:ct_scan",
                        expires_at=LATE_EVENING + timedelta(hours=24), schedule=False)

    assert deliver(r, rem.id, 1, OutboxTransport(r), LATE_EVENING, tz=LONDON,
                   quiet=NIGHT) == "sent"


def test_the_procfile_worker_keeps_a_held_reminders_job_for_the_end_of_quiet_hours(
    r: redis.Redis, redis_url: str, standin: TwilioStandin
) -> None:
    # The SendWorker deletes a finished send job at once (no result kept); a job that put
    # its reminder back on the scheduler for the end of quiet hours must stay to run then.
    now = utc_now()
    local = now.astimezone(LONDON)
    ends = (local + timedelta(minutes=2)).replace(second=0, microsecond=0)
    quiet = f"{local - timedelta(hours=1):%H:%M}-{ends:%H:%M}"
    _, (rem,) = make_appointment(r, to=PATIENT, at=now + timedelta(days=1),
                                 sends=[now - timedelta(seconds=1)])

    worker = spawn_worker(redis_url, {**standin.settings(), "QUIET_HOURS": quiet})
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()

    assert standin.requests == []
    assert fetch(r, rem).status == "scheduled"
    assert abs(scheduled(r)[rem.job_id] - ends) < timedelta(seconds=1)
    assert job(r, rem).args == (rem.id, rem.version)  # still there for the scheduler


def test_the_worker_holds_a_reminder_in_quiet_hours_then_sends_it_when_they_end(
    r: redis.Redis, via_standin: TwilioStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utc_now()
    local = now.astimezone(LONDON)
    # Quiet hours from an hour ago until a minute or two from now, on the deployment's
    # clock: soon enough that the held job, run again, is within the send job's tolerance.
    ends = (local + timedelta(minutes=2)).replace(second=0, microsecond=0)
    monkeypatch.setenv("QUIET_HOURS", f"{local - timedelta(hours=1):%H:%M}-{ends:%H:%M}")
    _, (rem,) = make_appointment(r, to=PATIENT, at=now + timedelta(days=1),
                                 sends=[now - timedelta(seconds=1)])

    run_worker(r)

    stored = fetch(r, rem)
    assert stored.status == "scheduled"
    assert stored.send_at_dt == ends
    assert abs(scheduled(r)[rem.job_id] - ends) < timedelta(seconds=1)
    assert via_standin.requests == []

    # The quiet hours are over: RQ's scheduler moves the same job to the queue.
    monkeypatch.setenv("QUIET_HOURS", quiet_hours_away_from_now())
    registry(r).requeue(rem.job_id)
    run_worker(r)

    assert fetch(r, rem).status == "sent"
    assert [m["to"] for m in via_standin.messages] == [PATIENT]


def test_a_stale_version_sends_nothing(r: redis.Redis) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now(), schedule=False)
    r.hset(rem.key, "version", 2)

    assert deliver(r, rem.id, 1, OutboxTransport(r), rem.send_at_dt) == "stale"
    assert outbox(r) == []
    assert deliver(r, "no-such-reminder", 1, OutboxTransport(r), rem.send_at_dt) == "missing"


def test_sending_is_limited_per_sender(r: redis.Redis) -> None:
    rems = [make_reminder(r, to=drama(300 + n), send_at=utc_now(), schedule=False)
            for n in range(6)]
    box = OutboxTransport(r)

    started = time.monotonic()
    for rem in rems:
        deliver(r, rem.id, 1, box, rem.send_at_dt, sender="clinic", per_second=20)
    elapsed = time.monotonic() - started

    assert elapsed >= 5 / 20 - 0.01  # six sends at 20 a second need five gaps of 50 ms
    assert len(outbox(r)) == 6


# --- The local outbox ----------------------------------------------------------------


def test_with_no_twilio_account_the_worker_sends_to_the_outbox(
    r: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_env(monkeypatch, redis_url)
    now = utc_now()
    _, (rem,) = make_appointment(r, to=PATIENT, at=now + timedelta(days=1),
                                 sends=[now - timedelta(seconds=1)])
    text = queue_text(r, drama(400), "The number for Macmillan is 0808 808 00 00.",
                      kind="topic", now=now)
    assert text is not None

    run_worker(r)

    box = outbox(r)
    assert {(m["to"], m["body"]) for m in box} == {(PATIENT, rem.body), (drama(400), text.body)}
    assert all(m["status"] == "sent" and m["encoding"] == "GSM-7" for m in box)
    assert {fetch(r, rem).sid, fetch(r, text).sid} == {m["sid"] for m in box}
    assert fetch(r, text).status == "sent"
    # The reminder's reply words now refer to its appointment.
    waiting = json.loads(str(r.get(f"awaiting:{PATIENT}")))
    assert waiting["id"] == rem.appointment
    assert r.get(f"awaiting:{drama(400)}") is None


def test_queue_text_sends_nothing_to_an_opted_out_number(r: redis.Redis, app: Flask) -> None:
    records.set_opted_out(PATIENT, True, utc_now().isoformat(), pipeline=r)

    assert queue_text(r, PATIENT, "Hello", kind="message", now=utc_now()) is None
    assert r.keys("reminder:*") == []
    assert scheduling.queue(r).count == 0


def test_a_text_in_parts_is_sent_in_order(
    r: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_env(monkeypatch, redis_url)
    parts = ["Part one of the answer.", "Part two of the answer.", "Part three."]
    queued = queue_texts(r, drama(401), parts, kind="topic", now=utc_now())
    assert queued is not None and [t.body for t in queued] == parts

    run_worker(r)

    box = [m for m in outbox(r) if m["to"] == drama(401)]  # newest first
    assert [m["body"] for m in reversed(box)] == parts
    assert all(fetch(r, t).status == "sent" for t in queued)


def test_a_send_another_worker_saw_running_leaves_no_stuck_mark_behind(
    r: redis.Redis, redis_url: str, standin: TwilioStandin
) -> None:
    rem = make_reminder(r, to=drama(260), send_at=utc_now() - timedelta(seconds=1))
    standin.hang_next(3)  # Twilio is slow to answer: the send takes a few seconds
    worker = spawn_worker(redis_url, standin.settings())
    conn = scheduling.rq_connection(r)
    q = scheduling.queue(r)
    deadline = time.monotonic() + 30
    while rem.job_id.encode() not in conn.lrange(q.intermediate_queue_key, 0, -1):
        assert time.monotonic() < deadline and worker.poll() is None, "the send never started"
        time.sleep(0.02)
    # Meanwhile another worker's maintenance (RQ's own) sees the job on the intermediate list
    # and marks when it first saw it; a mark left behind would have a later run of the same
    # job id failed as stuck there for over a minute.
    q.intermediate_queue.cleanup(SendWorker([q], connection=conn), q)
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()

    assert statuses(r, [rem]) == ["sent"] and len(standin.message_requests) == 1
    assert list(conn.scan_iter(f"{q.intermediate_queue_key}:first_seen:*")) == []


def _worker_states(conn: redis.Redis) -> list[str]:
    """Each worker's state as `rq info` shows it."""
    return [str(w.get_state()) for w in SendWorker.all(connection=conn)]


def _wait_for_state(conn: redis.Redis, state: str, worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while _worker_states(conn) != [state]:
        assert worker.poll() is None, "the worker stopped"
        assert time.monotonic() < deadline, f"states {_worker_states(conn)}, never [{state!r}]"
        time.sleep(0.02)


@pytest.mark.parametrize("other_job_first", [False, True])
def test_rq_info_shows_the_worker_busy_while_it_sends_and_idle_after(
    r: redis.Redis, redis_url: str, standin: TwilioStandin, other_job_first: bool
) -> None:
    # Send jobs skip RQ's execution records, where RQ marks a worker busy: the worker
    # showed "started", or "idle" after a job of another kind, all the while it sent.
    rem = make_reminder(r, to=drama(270), send_at=utc_now() - timedelta(seconds=1),
                        schedule=False)
    q = scheduling.queue(r)
    if other_job_first:
        q.enqueue("os.getpid")  # any job that is not a send, run the way RQ runs it
    scheduling.send_now(r, rem)
    standin.hang_next(2)  # Twilio is slow to answer: time to look at the worker
    conn = scheduling.rq_connection(r)
    worker = spawn_worker(redis_url, standin.settings(), burst=False)
    try:
        standin.wait_for_requests(1, timeout=30)
        assert _worker_states(conn) == ["busy"]
        standin.wait_for_messages(1, timeout=30)
        _wait_for_state(conn, "idle", worker)  # the queue is empty: waiting for the next
        assert statuses(r, [rem]) == ["sent"]
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err.decode()


def test_a_worker_told_to_stop_mid_send_finishes_the_send_first(
    r: redis.Redis, redis_url: str, standin: TwilioStandin
) -> None:
    # A deploy stops workers with SIGTERM: RQ's warm shutdown waits for a busy worker's
    # job, but stops one it thinks idle at once, which was a send cut off half way (left
    # "sending", for a nurse to check with the patient).
    rem = make_reminder(r, to=drama(271), send_at=utc_now() - timedelta(seconds=1),
                        schedule=False)
    scheduling.send_now(r, rem)
    standin.hang_next(2)
    worker = spawn_worker(redis_url, standin.settings(), burst=False)
    try:
        standin.wait_for_requests(1, timeout=30)
        worker.terminate()
        _, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err.decode()

    assert statuses(r, [rem]) == ["sent"] and len(standin.messages) == 1
