"""Reminders onto RQ's own scheduler, and off it again: deterministic job ids, aware UTC only."""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Queue, Retry, get_current_job
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from bot.outbound.texts import Reminder, advance

QUEUE = "default"
# By dotted name: the web app never imports workers. Short on purpose: RQ stores it
# compressed with the ids, and under 64 bytes Redis keeps the job hash compact.
SEND_JOB = "workers.send.send"
# 429s and 5xx come back quickly; a few minutes of retries covers Twilio's hiccups.
RETRY_INTERVALS = [10, 30, 60, 120, 300]
JOB_TIMEOUT = 60
# A send job's outcome lives on the reminder; RQ keeps no result stream (about 4.75 KB a
# send for a day) and deletes the job's hash as soon as it succeeds. Failures stay a week.
RESULT_TTL = 0
FAILURE_TTL = 7 * 24 * 3600


# RQ writes these for every job; RQ reads each as optional (a missing created_at is read
# as the time it is read), and nothing here shows them.
_LEFT_OUT = frozenset(["created_at", "description"])


class CompactJob(Job):
    """RQ's job, saved without the empty fields RQ writes for every job (callbacks not
    set, not yet started), its creation time and description: about 250 bytes less for
    each reminder waiting to go. Any RQ worker reads these jobs.
    """

    def to_dict(self, include_meta: bool = True, include_result: bool = True) -> dict[str, Any]:
        """RQ's fields, less those that are empty or unused."""
        fields = {
            k: v
            for k, v in super().to_dict(include_meta, include_result).items()
            if v != "" and k not in _LEFT_OUT
        }
        if "retry_intervals" in fields:  # the same JSON without its spaces
            fields["retry_intervals"] = json.dumps(self.retry_intervals, separators=(",", ":"))
        return fields


_RQ: weakref.WeakKeyDictionary[Any, redis.Redis] = weakref.WeakKeyDictionary()


def rq_connection(r: redis.Redis) -> redis.Redis:
    """A client on the same server that returns bytes, as RQ needs."""
    found = _RQ.get(r.connection_pool)
    if found is None:
        kwargs = dict(r.connection_pool.connection_kwargs)
        kwargs["decode_responses"] = False
        pool = redis.ConnectionPool(connection_class=r.connection_pool.connection_class, **kwargs)
        found = _RQ[r.connection_pool] = redis.Redis(connection_pool=pool)
    return found


def queue(r: redis.Redis) -> Queue:
    """The queue the send job runs on."""
    return Queue(QUEUE, connection=rq_connection(r), job_class=CompactJob)


def make_job(q: Queue, reminder: Reminder, status: JobStatus = JobStatus.QUEUED) -> Job:
    """The send job for a reminder (not yet saved)."""
    return q.create_job(
        SEND_JOB,
        status=status,
        args=(reminder.id, reminder.version),
        job_id=reminder.job_id,
        timeout=JOB_TIMEOUT,
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
    )


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("scheduling needs an aware datetime (RQ misreads naive ones)")
    return at.astimezone(UTC)


def schedule(r: redis.Redis, reminders: Iterable[Reminder], pipeline: Any = None) -> int:
    """Put each reminder's send job on the scheduler at its send_at; returns how many.

    Written into `pipeline` when given, so the jobs land in the same transaction as the
    reminders. (RQ's own Queue.schedule_job adds to the registry outside the pipeline
    it is given: a due job could then run before its reminder exists.)
    """
    q = queue(r)
    registry = ScheduledJobRegistry(queue=q)  # type: ignore[no-untyped-call]
    p = pipeline if pipeline is not None else q.connection.pipeline()
    p.sadd(q.redis_queues_keys, q.key)
    count = 0
    for reminder in reminders:
        job = make_job(q, reminder, JobStatus.SCHEDULED)
        job.save(pipeline=p)
        p.zadd(registry.key, {job.id: _aware(reminder.send_at_dt).timestamp()})
        count += 1
    if pipeline is None:
        p.execute()
    return count


def unschedule(r: redis.Redis, reminders: Iterable[Reminder], pipeline: Any = None) -> None:
    """Take reminders' jobs off the scheduler (the send job would skip them anyway)."""
    q = queue(r)
    registry = ScheduledJobRegistry(queue=q)  # type: ignore[no-untyped-call]
    p = pipeline if pipeline is not None else q.connection.pipeline()
    running = get_current_job()
    for reminder in reminders:
        p.zrem(registry.key, reminder.job_id)
        # A send job stopping its own reminder (an opt-out) leaves its hash to RQ, which
        # deletes it when the job ends and fails the job if it is already gone.
        if running is None or running.id != reminder.job_id:
            p.delete(Job.key_for(reminder.job_id))
    if pipeline is None:
        p.execute()


def rescheduled_itself(reminder: Reminder) -> None:
    """The running send job has put its reminder back on the scheduler under the same job
    id: RQ must keep the job until then rather than delete it as it ends (result_ttl 0).

    RQ's own worker then keeps it (and its result) until an hour after it is due again;
    the SendWorker just leaves it.
    """
    job = get_current_job()
    if job is not None and job.id == reminder.job_id:
        wait = _aware(reminder.send_at_dt) - datetime.now(UTC)  # RQ's TTLs are real time
        job.result_ttl = max(int(wait.total_seconds()), 0) + 3600


def send_now(r: redis.Redis, reminder: Reminder, pipeline: Any = None) -> Job:
    """Queue the send job to run as soon as a worker is free (in `pipeline` if given,
    which must be on the RQ connection, rq_connection(r))."""
    q = queue(r)
    return q.enqueue_job(make_job(q, reminder), pipeline=pipeline)


def scheduled_at(r: redis.Redis, reminder: Reminder) -> datetime | None:
    """When RQ will run this reminder's job, or None if it is not scheduled."""
    registry = ScheduledJobRegistry(queue=queue(r))  # type: ignore[no-untyped-call]
    score = rq_connection(r).zscore(registry.key, reminder.job_id)
    return datetime.fromtimestamp(score, UTC) if score is not None else None


_HOUR_SLOTS = 60  # slots counted an hour at a time first, then by the slot where busy


def taken(r: redis.Redis, first: int, last: int, slot_seconds: int) -> dict[int, int]:
    """Sends already on the scheduler in each slot first..last (every campaign's, and any
    reminder held over quiet hours), read from RQ's registry itself: what is cancelled,
    sent or moved stops counting by itself, with no counter of our own to drift."""
    key = ScheduledJobRegistry(queue=queue(r)).key  # type: ignore[no-untyped-call]
    conn = rq_connection(r)

    def counts(starts: list[int], width: int) -> list[int]:
        p = conn.pipeline(transaction=False)
        for s in starts:
            p.zcount(key, s * slot_seconds, f"({(s + width) * slot_seconds}")
        return [int(n) for n in p.execute()]

    hours = list(range(first, last + 1, _HOUR_SLOTS))
    busy = [h for h, n in zip(hours, counts(hours, _HOUR_SLOTS), strict=True) if n]
    slots = [s for h in busy for s in range(h, min(h + _HOUR_SLOTS, last + 1))]
    return {s: n for s, n in zip(slots, counts(slots, 1), strict=True) if n}


def hold(r: redis.Redis, rem: Reminder, until: datetime, too_late: str) -> str | None:
    """Put a reminder back on the scheduler until `until` (quiet or calling hours' end), or
    mark it expired with `too_late` when that is past its usefulness; None when held."""
    if until >= rem.expires_at_dt:
        return advance(r, rem.id, "expired", too_late)
    rem.send_at = until.isoformat()
    p = rq_connection(r).pipeline()
    p.hset(rem.key, Reminder.field("send_at"), Reminder.stored_value("send_at", rem.send_at))
    schedule(r, [rem], pipeline=p)
    p.execute()
    rescheduled_itself(rem)
    return None
