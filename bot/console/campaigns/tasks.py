"""Slow campaign work off the request: progress kept in Redis for the page to poll.

Small jobs run inside the request (and the tests' client sees the outcome at once); big
ones run on a thread of the web process, so a nurse sees a progress bar instead of a
page that hangs until the browser gives up.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import redis
from flask import Flask

from bot.store import keys
from bot.store.hashes import HashRecord

log = logging.getLogger(__name__)

TTL_SECONDS = 3600  # long enough to come back to the page, short enough to leave no litter
# Every stage reports at least this often (500 rows take well under a second), so a task
# silent for this long has lost its thread: the process stopped or restarted.
STALLED_AFTER = timedelta(minutes=2)
WRITE_EVERY = 0.25  # seconds between progress writes: enough for a smooth bar
THREADS = 2  # per web process: imports queue behind each other rather than starve the webhooks
EXTENSION = "campaign_tasks"

Clock = Callable[[], datetime]


@dataclass
class Task(HashRecord):
    """One piece of background work and how far it has gone."""

    PREFIX: ClassVar[str] = keys.TASK

    id: str
    by: str  # the nurse who started it: nobody else sees it
    kind: str  # check | import | cancel | message
    title: str  # what the progress page is about, in words
    ref: str = ""  # the upload token or campaign id it works on
    state: str = "running"  # running | done | failed
    stage: str = ""  # what it is doing now, in words
    done: int = 0
    total: int = 0
    result: str = ""  # what it made (a campaign id), when done
    message: str = ""  # the outcome, or what went wrong, in words
    started_at: str = ""
    updated_at: str = ""

    @property
    def percent(self) -> int:
        """How far, 0 to 100."""
        if self.state != "running":
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    def stalled(self, now: datetime) -> bool:
        """True when a running task has not reported for too long (its thread is gone)."""
        if self.state != "running" or not self.updated_at:
            return False
        return now - datetime.fromisoformat(self.updated_at) > STALLED_AFTER


class Reporter:
    """Progress callbacks for the pipeline's `progress(done, total)`, throttled into Redis."""

    def __init__(self, r: redis.Redis, task: Task, clock: Clock) -> None:
        self.r = r
        self.task = task
        self.clock = clock
        self._last = 0.0

    def stage(self, words: str, total: int = 0) -> None:
        """Start a new stage ("Scheduling reminders") at zero."""
        self.task.stage, self.task.done, self.task.total = words, 0, total
        self._write()
        self._last = 0.0  # the stage's first step shows at once

    def __call__(self, done: int, total: int) -> None:
        self.task.done, self.task.total = done, total
        if done >= total or time.monotonic() - self._last >= WRITE_EVERY:
            self._write()

    def _write(self) -> None:
        self._last = time.monotonic()
        self.task.updated_at = self.clock().isoformat()
        p = self.r.pipeline()
        p.hset(self.task.key, mapping={"stage": self.task.stage, "done": self.task.done,
                                       "total": self.task.total,
                                       "updated_at": self.task.updated_at})
        p.expire(self.task.key, TTL_SECONDS)
        p.execute()


@dataclass(frozen=True)
class Outcome:
    """What a finished task made (a campaign id, say) and a sentence for the nurse."""

    message: str
    result: str = ""
    failed: bool = False


Work = Callable[[Reporter], Outcome]
FAILED = ("Something went wrong on our side part way through, and nothing from it will be "
          "sent. Try again; if it happens again, tell the team who look after this system.")


def new(r: redis.Redis, by: str, kind: str, title: str, ref: str, now: datetime) -> Task:
    """A task record, saved, not yet started."""
    task = Task(id=secrets.token_urlsafe(12), by=by, kind=kind, title=title, ref=ref,
                stage="Waiting to start", started_at=now.isoformat(),
                updated_at=now.isoformat())
    p = r.pipeline()
    task.save(p)
    p.expire(task.key, TTL_SECONDS)
    p.execute()
    return task


def find(r: redis.Redis, task_id: str, by: str) -> Task | None:
    """The task, if it exists and belongs to the nurse `by`."""
    task = Task.fetch(r, task_id)
    return task if task is not None and task.by == by else None


def _finish(r: redis.Redis, task: Task, outcome: Outcome, clock: Clock) -> None:
    task.state = "failed" if outcome.failed else "done"
    task.message, task.result = outcome.message, outcome.result
    task.updated_at = clock().isoformat()
    p = r.pipeline()
    p.hset(task.key, mapping={"state": task.state, "message": task.message,
                              "result": task.result, "updated_at": task.updated_at})
    p.expire(task.key, TTL_SECONDS)
    p.execute()


def execute(r: redis.Redis, task: Task, work: Work, clock: Clock) -> Task:
    """Do the work here and now, recording progress and the outcome; never raises."""
    try:
        outcome = work(Reporter(r, task, clock))
    except Exception:
        log.exception("campaign task %s (%s) failed", task.id, task.kind)
        outcome = Outcome(FAILED, failed=True)
    _finish(r, task, outcome, clock)
    return task


def _pool(app: Flask) -> ThreadPoolExecutor:
    pool = app.extensions.get(EXTENSION)
    if pool is None:
        pool = app.extensions[EXTENSION] = ThreadPoolExecutor(
            max_workers=THREADS, thread_name_prefix="campaign-task"
        )
    return pool


def start(app: Flask, r: redis.Redis, task: Task, work: Work, clock: Clock) -> Any:
    """Run the work on a background thread of this process; returns its future."""
    return _pool(app).submit(execute, r, task, work, clock)
