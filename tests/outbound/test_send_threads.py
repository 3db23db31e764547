"""The Procfile's worker sends several reminders at once while Twilio answers slowly."""

from __future__ import annotations

import subprocess

import pytest
import redis
from rq.registry import FailedJobRegistry

from bot import config
from bot.outbound import scheduling
from bot.outbound.texts import Reminder
from tests.support.reminders import (
    drama,
    fetch,
    make_reminder,
    scheduled,
    spawn_worker,
    statuses,
    utc_now,
)
from tests.support.twilio_standin import TwilioStandin


def _due(r: redis.Redis, count: int, first: int) -> list[Reminder]:
    rems = [make_reminder(r, to=drama(first + n), send_at=utc_now(), schedule=False)
            for n in range(count)]
    for rem in rems:
        scheduling.send_now(r, rem)
    return rems


def _finish(worker: subprocess.Popen[bytes]) -> None:
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()


def _left_running(r: redis.Redis) -> int:
    """Send jobs still on the queue's list of those taken (none once a worker is done)."""
    return int(scheduling.rq_connection(r).llen(scheduling.queue(r).intermediate_queue_key))


@pytest.mark.parametrize("threads", [1, 4])
def test_a_worker_waits_on_twilio_for_up_to_send_threads_texts_at_once(
    r: redis.Redis, redis_url: str, standin: TwilioStandin, threads: int
) -> None:
    # One text at a time, a worker sends one per round trip to Twilio: at 300 ms a round
    # trip, not even one number's 10 a second.
    standin.latency = 0.3
    rems = _due(r, 8, first=300)

    _finish(spawn_worker(redis_url, {**standin.settings(), "SEND_THREADS": threads}))

    assert standin.most_at_once == threads
    assert statuses(r, rems) == ["sent"] * 8
    assert sorted(m["to"] for m in standin.messages) == sorted(x.to for x in rems)
    assert all(fetch(r, x).attempts == 1 for x in rems)
    assert _left_running(r) == 0 and scheduling.queue(r).count == 0


def test_a_send_failing_in_its_thread_is_retried_later_and_the_others_go(
    r: redis.Redis, redis_url: str, standin: TwilioStandin
) -> None:
    standin.latency = 0.1
    standin.fail_next(503)  # Twilio is briefly unavailable for the first text
    rems = _due(r, 4, first=320)

    _finish(spawn_worker(redis_url, {**standin.settings(), "SEND_THREADS": 4}))

    # The request the stand-in answered 503, not the first one recorded: with four threads
    # another request can be recorded first and still take the scripted failure.
    [failed] = [x for x in standin.message_requests if x.status == 503]
    failed_to = failed.form["To"]
    [retried] = [x for x in rems if x.to == failed_to]
    assert statuses(r, [x for x in rems if x is not retried]) == ["sent"] * 3
    assert fetch(r, retried).status == "scheduled"  # released, not lost or left "sending"
    assert retried.job_id in scheduled(r)  # RQ's retry, ten seconds on
    assert FailedJobRegistry(queue=scheduling.queue(r)).get_job_ids() == []
    assert _left_running(r) == 0


def test_a_worker_told_to_stop_finishes_every_send_under_way_and_starts_no_more(
    r: redis.Redis, redis_url: str, standin: TwilioStandin
) -> None:
    # A deploy stops workers with SIGTERM while several sends wait on Twilio: each of them
    # ends recorded as sent (none left "sending" for a nurse to check), and the rest wait
    # on the queue for the next worker.
    standin.hang_next(2, times=3)
    rems = _due(r, 10, first=340)
    worker = spawn_worker(redis_url, {**standin.settings(), "SEND_THREADS": 3}, burst=False)
    try:
        standin.wait_for_requests(3, timeout=30)
        worker.terminate()
        _finish(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()

    sent = [x for x in rems if fetch(r, x).status == "sent"]
    assert len(sent) == len(standin.messages) == len(standin.message_requests) == 3
    assert statuses(r, [x for x in rems if x not in sent]) == ["scheduled"] * 7
    assert scheduling.queue(r).count == 7
    assert _left_running(r) == 0


def test_send_threads_must_be_a_sensible_whole_number() -> None:
    assert config.send_threads({}) == config.SEND_THREADS
    assert config.send_threads({"SEND_THREADS": "1"}) == 1
    for wrong in ("0", "-2", "four", "65", "2.5"):
        with pytest.raises(config.ConfigError, match="SEND_THREADS"):
            config.check({"SEND_THREADS": wrong})


def test_the_worker_refuses_to_start_with_a_wrong_send_threads(
    redis_url: str, standin: TwilioStandin
) -> None:
    worker = spawn_worker(redis_url, {**standin.settings(), "SEND_THREADS": "lots"})
    _, err = worker.communicate(timeout=60)
    assert worker.returncode != 0 and b"SEND_THREADS" in err


def test_a_send_thread_timed_out_by_rq_is_failed_not_hung(
    r: redis.Redis, redis_url: str, standin: TwilioStandin
) -> None:
    (rem,) = _due(r, 1, first=360)
    job = scheduling.queue(r).fetch_job(rem.job_id)
    assert job is not None
    job.timeout = 1
    job.retries_left = 0
    job.save()
    standin.hang_next(3)  # longer than the job may run

    _finish(spawn_worker(redis_url, {**standin.settings(), "SEND_THREADS": 2,
                                     "TWILIO_TIMEOUT": 10}))

    assert FailedJobRegistry(queue=scheduling.queue(r)).get_job_ids() == [rem.job_id]
    assert _left_running(r) == 0
    # Twilio may have taken the text: left "sending", the sweep marks it for a person.
    assert fetch(r, rem).status == "sending"
