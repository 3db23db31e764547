"""Send jobs run side by side in a worker's threads: one's wait on Twilio, another's work."""

from __future__ import annotations

import sys
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from types import TracebackType
from typing import TypeAlias

from rq.job import Job
from rq.queue import Queue
from rq.timeouts import BaseDeathPenalty, JobTimeoutException, TimerDeathPenalty
from rq.utils import now

ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType]


@dataclass(frozen=True)
class Done:
    """A job that ran in a thread, and how it ended: `exc_info` None when it succeeded."""

    job: Job
    queue: Queue
    exc_info: ExcInfo | None


def perform(
    job: Job, queue: Queue, timeout: float, penalty: type[BaseDeathPenalty] = TimerDeathPenalty
) -> Done:
    """Run one job in this thread under its timeout; what it raised is kept, not raised.

    RQ's alarm-signal timeout (the worker's own) works only in the main thread; the timer's,
    the default, raises the timeout in the job's own thread.
    """
    job.started_at = now()
    try:
        with penalty(timeout, JobTimeoutException, job_id=job.id):
            job.perform()
    except Exception:
        job.ended_at = now()
        exc_type, exc, tb = sys.exc_info()
        assert exc_type is not None and exc is not None and tb is not None
        return Done(job, queue, (exc_type, exc, tb))
    job.ended_at = now()
    return Done(job, queue, None)


class InFlight:
    """At most `threads` jobs running at once, each in a thread of its own."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        # Made at the first job: RQ forks its scheduler when the worker starts, and a
        # fork should copy no threads.
        self._pool: ThreadPoolExecutor | None = None
        self._running: set[Future[Done]] = set()

    def __len__(self) -> int:
        return len(self._running)

    def full(self) -> bool:
        """Every thread is busy: the next job must wait for one to finish."""
        return len(self._running) >= self.threads

    def start(self, job: Job, queue: Queue, timeout: float) -> None:
        """Run `job` in a free thread; call only when not `full()`."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="send")
        self._running.add(self._pool.submit(perform, job, queue, timeout))

    def finished(self, block: bool = False, every: bool = False) -> list[Done]:
        """The jobs that have ended since last asked; `block`: wait for at least one,
        `every`: wait for all."""
        if not self._running:
            return []
        if every:
            ended, _ = wait(self._running)
        elif block:
            ended, _ = wait(self._running, return_when=FIRST_COMPLETED)
        else:
            ended = {f for f in self._running if f.done()}
        self._running -= ended
        return [f.result() for f in ended]

    def close(self) -> list[Done]:
        """Wait for every running job, stop the threads, and return the jobs that ended."""
        done = self.finished(every=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        return done
