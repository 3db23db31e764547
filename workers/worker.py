"""The RQ worker the Procfile runs: one process that keeps its connections between jobs."""

from __future__ import annotations

from typing import Any

from rq.worker import SimpleWorker


class SendWorker(SimpleWorker):
    """RQ's worker that runs jobs in its own process, with the send job loaded up front.

    RQ's default worker forks a fresh process for every job, which costs more than the
    job itself here (measured: about half the throughput on trivial jobs) and throws away
    the HTTPS connection to Twilio each time. The send job is short, has a timeout, and
    holds nothing between jobs that a crash could corrupt.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from bot import config, masking
        from workers import send

        config.check(config.load())  # fail at start, not in every job
        masking.install()

        send.preload()
