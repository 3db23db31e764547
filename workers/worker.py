"""The RQ worker the Procfile runs: one process that keeps its connections between jobs."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from rq.job import Job
from rq.job_lifecycle import format_exc_info
from rq.queue import Queue
from rq.suspension import is_suspended
from rq.utils import now
from rq.worker import SimpleWorker, WorkerStatus

from bot import config, masking
from bot.dev import simclock
from bot.outbound.scheduling import SEND_JOB
from bot.outbound.texts import sweep_stuck
from bot.store.scripts import script
from workers import send
from workers.inflight import Done, InFlight, perform
from workers.send import decoding

log = logging.getLogger(__name__)

# How often the worker looks for sends interrupted by a dead worker (RQ's own default
# maintenance runs every 10 minutes; a nurse should know within two).
MAINTENANCE_SECONDS = 30
# RQ writes the worker's heartbeat three to five times a job and checks for `rq suspend`
# before each; every heartbeat sets TTLs of at least 105 s, so once in a few seconds keeps
# the worker just as alive. A suspension is seen within a second.
HEARTBEAT_SECONDS = 5.0
SUSPENSION_CHECK_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1

# The finished send jobs' bookkeeping, then the next job taken and read, in one round trip
# (RQ's dequeue is LMOVE then HGETALL, and each finish a third). KEYS: the queue, its
# intermediate list; ARGV: the job key prefix, then for each finished job its list, its
# id, its key (empty when kept), its first-seen key and the worker's key.
_FINISH_AND_DEQUEUE = """
for i = 2, #ARGV, 5 do
  if ARGV[i + 2] ~= '' then redis.call('DEL', ARGV[i + 2]) end
  redis.call('LREM', ARGV[i], 1, ARGV[i + 1])
  redis.call('DEL', ARGV[i + 3])
  redis.call('HINCRBY', ARGV[i + 4], 'successful_job_count', 1)
end
local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
if not id then return false end
return {id, redis.call('HGETALL', ARGV[1] .. id)}
"""
_HOOKED: set[int] = set()  # processes whose forks already die with them


class SendWorker(SimpleWorker):
    """RQ's worker that runs jobs in its own process, with the send job loaded up front.

    RQ's default worker forks a fresh process for every job, which costs more than the
    job itself here (measured: about half the throughput on trivial jobs) and throws away
    the HTTPS connection to Twilio each time. The send job is short, has a timeout, and
    holds nothing between jobs that a crash could corrupt.
    """

    # Finished send jobs' bookkeeping, applied with the next dequeue: for each, its queue's
    # intermediate list, its id, its key (empty when kept), its first-seen key and this
    # worker's key.
    _pending: list[tuple[str, str, str, str, str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `rq worker` passes its own defaults (maintenance every 10 minutes, and an idle
        # worker blocked waiting for a job for 405 s): both capped, so upkeep runs at
        # least every MAINTENANCE_SECONDS even when no job comes.
        self.maintenance_interval = min(self.maintenance_interval, MAINTENANCE_SECONDS)
        self.worker_ttl = min(self.worker_ttl, MAINTENANCE_SECONDS + 15)

        settings = config.load()
        config.check(settings)  # fail at start, not in every job
        masking.install()
        _children_die_with(os.getpid())

        send.preload()
        self._pending = []
        self._inflight = InFlight(config.send_threads(settings))

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        """The next job in one round trip with the last ones' finish, once a send thread is
        free; RQ's way (which may wait for a job) when the queue is empty or there are
        several."""
        # A job is taken only when a thread can start it: taken and waiting here, it
        # could not go to another worker.
        self._collect(block=self._inflight.full())
        if self._stop_requested:  # told to stop (a warm shutdown) while sends ran
            return None
        version = self.get_redis_server_version()  # type: ignore[no-untyped-call]
        if len(self._ordered_queues) == 1 and version >= (6, 2, 0):
            self.heartbeat()
            if self.should_run_maintenance_tasks:
                self.run_maintenance_tasks()
            queue = self._ordered_queues[0]
            job = self._finish_and_dequeue(queue)
            if job is not None:
                job.redis_server_version = version
                # RQ marks the worker busy as it records each job's execution, which a
                # send job skips; without this `rq info` showed it idle, or "started",
                # while it sent. Written only when it changes; RQ's dequeue below marks
                # it idle again once the queue is empty.
                self.set_state(WorkerStatus.BUSY)
                return job, queue
        self._drain()  # RQ's dequeue may wait long for a job: nothing left running meanwhile
        if self._stop_requested:
            return None
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

    def _finish_and_dequeue(self, queue: Queue) -> Job | None:
        """The pending finishes, then the queue's next job, or None when it is empty. A job
        whose hash is gone is passed over, as RQ does (its id left for RQ's cleanup)."""
        while True:
            pending, self._pending = self._pending, []
            found = script(self.connection, _FINISH_AND_DEQUEUE)(
                keys=[queue.key, queue.intermediate_queue_key],
                args=[self.job_class.redis_job_namespace_prefix,
                      *(field for finish in pending for field in finish)],
            )
            if not found:
                return None
            raw_id, flat = found
            if flat:
                job = self.job_class(raw_id.decode(), connection=self.connection,
                                     serializer=self.serializer)
                job.restore(dict(zip(flat[::2], flat[1::2], strict=True)))
                return job

    def _finish_pending(self) -> None:
        """Apply finished send jobs' bookkeeping now, if the next dequeue has not."""
        pending, self._pending = self._pending, []
        if pending:
            p = self.connection.pipeline(transaction=False)
            for pending_list, job_id, job_key, seen_key, worker_key in pending:
                if job_key:
                    p.delete(job_key)
                p.lrem(pending_list, 1, job_id)
                p.delete(seen_key)
                p.hincrby(worker_key, "successful_job_count", 1)
            p.execute()

    def _collect(self, block: bool = False, every: bool = False) -> None:
        """Take in the send jobs that ended in their threads (waiting as `InFlight.finished`
        says): their failures handled now, their finishes kept for the next dequeue."""
        for done in self._inflight.finished(block=block, every=every):
            self._ended(done)

    def _drain(self) -> None:
        """Wait for every running send job, and apply all their bookkeeping."""
        self._collect(every=True)
        self._finish_pending()

    def teardown(self) -> None:
        """RQ's teardown, after every running send has ended and been recorded."""
        for done in self._inflight.close():
            self._ended(done)
        self._finish_pending()
        super().teardown()  # type: ignore[no-untyped-call]

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """RQ's heartbeat, at most once every HEARTBEAT_SECONDS."""
        last = self.last_heartbeat
        if last is not None and (now() - last).total_seconds() < HEARTBEAT_SECONDS:
            return
        super().heartbeat(timeout, pipeline)

    def check_for_suspension(self, burst: bool) -> None:
        """RQ's check for `rq suspend`, at most once every SUSPENSION_CHECK_SECONDS."""
        at = time.monotonic()
        if at - getattr(self, "_suspension_checked", -SUSPENSION_CHECK_SECONDS) < (
            SUSPENSION_CHECK_SECONDS
        ):
            return
        self._suspension_checked = at
        if is_suspended(self.connection):
            self._drain()  # a suspended worker may wait here a long time
        super().check_for_suspension(burst)

    def set_state(self, state: str, pipeline: Any = None) -> None:
        """RQ's state for `rq info`, written only when it changes."""
        if pipeline is None and state == getattr(self, "_state", None):
            return
        super().set_state(state, pipeline)

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Start a send job with the least of RQ's bookkeeping, in a thread of its own; run
        any other job as RQ does.

        RQ records an execution for every job (a hash, two sorted sets, a set, the job's
        status and heartbeats: about 40 Redis commands a job, more than the send itself).
        The send job needs none of it to be sent once: it claims its reminder before
        sending, and a claimed send a dead worker left is marked by `sweep_stuck`. What
        stays is RQ's own safety net: the job stays on the queue's intermediate list while
        it runs, and RQ's maintenance retries or fails a job left there by a dead worker,
        as it does any abandoned job. A job that raises gets RQ's full failure handling
        (its retries, the failed job registry), in the worker's main thread.

        Sends run side by side (SEND_THREADS at once), as most of a send is waiting for
        Twilio's answer; with one thread, each runs here before the next is taken.
        """
        if not _lean(job):
            super().execute_job(job, queue)
            return
        job.worker_name = self.name
        timeout = job.timeout or self.queue_class.DEFAULT_TIMEOUT
        if self._inflight.threads > 1:
            self._inflight.start(job, queue, timeout)
            return
        self._ended(perform(job, queue, timeout, self.death_penalty_class))

    def _ended(self, done: Done) -> None:
        """A send job's end: RQ's failure handling if it raised, else its finish kept for
        the next dequeue."""
        job, queue = done.job, done.queue
        if done.exc_info is not None:
            self.handle_exception(job, *done.exc_info)
            self.handle_job_failure(job=job, queue=queue,
                                    exc_string=format_exc_info(done.exc_info))
            p = self.connection.pipeline(transaction=False)
            p.lrem(queue.intermediate_queue_key, 1, job.id)
            # Set by another worker's maintenance while this ran; left, a later run of the
            # same job id would be taken for one stuck since then.
            p.delete(queue.intermediate_queue.get_first_seen_key(job.id))
            p.execute()
            return
        # Applied with the next dequeue (one round trip for all), or before anything else
        # that reads the queue: maintenance, a suspension, the worker's exit. Should the
        # worker die before then, its job is left on the intermediate list as a job that
        # died mid-run is, and its reminder, already "sent", is not sent again.
        self._pending.append((
            queue.intermediate_queue_key,
            job.id,
            job.key if job.result_ttl == 0 else "",  # else it put itself back: kept
            queue.intermediate_queue.get_first_seen_key(job.id),  # see the failure above
            self.key,  # RQ's successful job count; its total working time is not kept
        ))
        log.debug("job %s done", job.id)

    def run_maintenance_tasks(self) -> None:
        """RQ's upkeep, and marking sends a dead worker left half done."""
        # Else RQ's cleanup sees running and finished jobs still on the list; and RQ may
        # fork its scheduler here, which should copy no running thread.
        self._drain()
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]

        stuck = sweep_stuck(decoding(self.connection), datetime.now(UTC))
        if stuck:
            log.warning("marked %d interrupted sends as failed: %s", len(stuck), stuck)
        self.catch_up_simulated_time()

    def catch_up_simulated_time(self) -> None:
        """On the local stack with its clock moved ahead, queue what has come due since.

        RQ's scheduler keeps the real time, so a reminder due in simulated time would
        otherwise wait for the real time to reach it.
        """
        settings = config.load()
        ahead = simclock.offset(settings)
        if ahead <= timedelta(0):
            return
        for queue in self.queues:
            due = simclock.catch_up(queue, datetime.now(UTC) + ahead)
            if due:
                log.info("simulated clock: queued %d reminders now due", due)


def _lean(job: Job) -> bool:
    """A send job that keeps no result (as scheduling makes them), with nothing after it."""
    return (
        job.func_name == SEND_JOB
        and job.result_ttl == 0
        and not job._dependency_ids  # as read with the job: no extra round trip
        and not job.repeats_left
    )


def _children_die_with(parent: int) -> None:
    """A process this worker forks (RQ's scheduler) ends when the worker does.

    Killed with SIGKILL, the worker runs no handler; its scheduler lived on as an orphan
    holding the scheduler lock. On Linux the kernel sends the child SIGTERM instead,
    which the scheduler handles by releasing its lock and stopping.
    """
    if not sys.platform.startswith("linux") or parent in _HOOKED:
        return
    _HOOKED.add(parent)

    def in_child() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the worker died before the call above
            os.kill(os.getpid(), signal.SIGTERM)

    os.register_at_fork(after_in_child=in_child)
