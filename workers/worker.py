"""The RQ worker the Procfile runs: one process that keeps its connections between jobs."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from rq.worker import SimpleWorker

log = logging.getLogger(__name__)

# How often the worker looks for sends interrupted by a dead worker (RQ's own default
# maintenance runs every 10 minutes; a nurse should know within two).
MAINTENANCE_SECONDS = 30
_PR_SET_PDEATHSIG = 1
_HOOKED: set[int] = set()  # processes whose forks already die with them


class SendWorker(SimpleWorker):
    """RQ's worker that runs jobs in its own process, with the send job loaded up front.

    RQ's default worker forks a fresh process for every job, which costs more than the
    job itself here (measured: about half the throughput on trivial jobs) and throws away
    the HTTPS connection to Twilio each time. The send job is short, has a timeout, and
    holds nothing between jobs that a crash could corrupt.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `rq worker` passes its own defaults (maintenance every 10 minutes, and an idle
        # worker blocked waiting for a job for 405 s): both capped, so upkeep runs at
        # least every MAINTENANCE_SECONDS even when no job comes.
        self.maintenance_interval = min(self.maintenance_interval, MAINTENANCE_SECONDS)
        self.worker_ttl = min(self.worker_ttl, MAINTENANCE_SECONDS + 15)
        from bot import config, masking
        from workers import send

        config.check(config.load())  # fail at start, not in every job
        masking.install()
        _children_die_with(os.getpid())

        send.preload()

    def run_maintenance_tasks(self) -> None:
        """RQ's upkeep, and marking sends a dead worker left half done."""
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        from bot.reminders import sweep_stuck
        from workers.send import decoding

        stuck = sweep_stuck(decoding(self.connection), datetime.now(UTC))
        if stuck:
            log.warning("marked %d interrupted sends as failed: %s", len(stuck), stuck)
        self.catch_up_simulated_time()

    def catch_up_simulated_time(self) -> None:
        """On the local stack with its clock moved ahead, queue what has come due since.

        RQ's scheduler keeps the real time, so a reminder due in simulated time would
        otherwise wait for the real time to reach it.
        """
        from bot import config, simclock

        settings = config.load()
        ahead = simclock.offset(settings)
        if ahead <= timedelta(0):
            return
        for queue in self.queues:
            due = simclock.catch_up(queue, datetime.now(UTC) + ahead)
            if due:
                log.info("simulated clock: queued %d reminders now due", due)


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
