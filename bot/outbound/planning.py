"""Taking sending minutes: every path that schedules texts plans them against the same
minutes, so the line's capacity (SMS_PER_SECOND x SMS_SENDERS) is never exceeded.

Two locks. A campaign import holds the planning lock for as long as it runs (minutes, for a
week of national load), so two imports never count the same free minute. Everything else
that schedules a few texts (a booking from the feed, a moved appointment, START, a text to
everyone) holds only the short slots lock, which an import also holds while it reads the
minutes taken and publishes its plan as a reservation: what it has planned and not yet
written. The minutes taken are RQ's scheduler plus that reservation.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import redis

from bot.outbound import scheduling
from bot.outbound.texts import Reminder
from bot.store import keys
from flows import spreading

log = logging.getLogger(__name__)

LOCK_TTL = 120.0  # seconds: renewed every third of it while the import runs
SLOTS_WAIT = 30.0  # an import holds the slots lock while it spreads (seconds, for 100,000)
SLOTS_TTL = 60.0
RESERVED = keys.PLANNING_RESERVED
_holding_slots: contextvars.ContextVar[bool] = contextvars.ContextVar("slots", default=False)


class PlanningBusy(Exception):
    """Another import holds the planning lock."""


@contextmanager
def planning_lock(
    r: redis.Redis, wait: float = 900.0, ttl: float = LOCK_TTL
) -> Iterator[None]:
    """One import at a time plans against what is scheduled and schedules it, so two
    campaigns never both count the same free minute as theirs.

    The lock (and the import's reservation) is renewed while its holder lives, however
    long the import takes; a holder that dies frees both within `ttl`. PlanningBusy when
    another import holds it longer than `wait` seconds. The reservation goes at the end.
    """
    # Not thread-local: the renewing thread must see the token this one acquired.
    lock = r.lock(keys.PLANNING_LOCK, timeout=ttl, blocking_timeout=wait, thread_local=False)
    if not lock.acquire():
        raise PlanningBusy("another campaign is being scheduled")
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl / 3):
            try:
                lock.reacquire()
                r.pexpire(RESERVED, int(ttl * 1000))
            except redis.exceptions.RedisError:
                log.warning("could not renew the campaign planning lock")
                return

    keeper = threading.Thread(target=renew, name="planning-lock", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()
        try:
            r.delete(RESERVED)
            lock.release()
        except redis.exceptions.LockError:
            # What was scheduled stays scheduled: failing now would invite a second import.
            log.warning("the campaign planning lock had already expired at release")


@contextmanager
def slots_lock(r: redis.Redis, wait: float = SLOTS_WAIT) -> Iterator[None]:
    """Held from reading the minutes taken until the texts placed in them are written.

    Re-entered freely by the code already holding it (a feed message that moves an
    appointment holds it for the whole message). Should it stay locked longer than `wait`
    seconds, the texts are placed against the minutes taken as they stand, unlocked,
    rather than not scheduled at all.
    """
    if _holding_slots.get():
        yield
        return
    lock = r.lock(keys.PLANNING_SLOTS, timeout=SLOTS_TTL, blocking_timeout=wait)
    held = lock.acquire()
    if not held:
        log.warning("the sending minutes stayed locked for %.0f s: planning without it", wait)
    token = _holding_slots.set(True)
    try:
        yield
    finally:
        _holding_slots.reset(token)
        if held:
            try:
                lock.release()
            except redis.exceptions.LockError:
                log.warning("the sending minutes lock had already expired at release")


def taken(r: redis.Redis, first: int, last: int) -> dict[int, int]:
    """Sends in each minute first..last: on RQ's scheduler, and planned by a running
    import and not yet written."""
    found = scheduling.taken(r, first, last, spreading.SLOT_SECONDS)
    for slot, n in r.hgetall(RESERVED).items():
        if first <= int(slot) <= last and int(n) > 0:
            found[int(slot)] = found.get(int(slot), 0) + int(n)
    return found


def reserve(r: redis.Redis, moments: Iterable[datetime]) -> None:
    """Publish an import's plan (its texts' moments) as minutes taken until written."""
    counts = Counter(spreading.slot_of(m) for m in moments)
    if counts:
        p = r.pipeline()
        p.delete(RESERVED)
        p.hset(RESERVED, mapping={str(k): v for k, v in counts.items()})
        p.pexpire(RESERVED, int(LOCK_TTL * 1000))
        p.execute()


# Written texts leave the reservation (never below nothing: a write not planned here).
_WRITTEN = """
for i = 1, #ARGV, 2 do
  local left = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') - tonumber(ARGV[i + 1])
  if left > 0 then redis.call('HSET', KEYS[1], ARGV[i], left)
  else redis.call('HDEL', KEYS[1], ARGV[i]) end
end
"""


def written(p: Any, moments: Iterable[datetime]) -> None:
    """Into the pipeline that writes them: these texts are on the scheduler now."""
    counts = Counter(spreading.slot_of(m) for m in moments)
    if counts:
        args = [x for slot, n in counts.items() for x in (str(slot), n)]
        p.eval(_WRITTEN, 1, RESERVED, *args)


def place(
    r: redis.Redis | None,
    items: list[spreading.Item],
    per_second: float,
    tz: ZoneInfo,
    quiet: tuple[time, time],
) -> tuple[spreading.Spread, Mapping[int, int]]:
    """Spread items against the minutes taken (none with `r` None): the placement and
    what was taken. Hold slots_lock from here until the texts are written."""
    bounds = spreading.span(items)
    if per_second <= 0 or bounds is None:
        return spreading.Spread(), {}
    held = taken(r, *bounds) if r is not None else {}
    return spreading.spread(items, per_second, tz, quiet, held), held


NO_QUIET = (time(0), time(0))  # texts the send job does not hold over quiet hours


def fit(
    r: redis.Redis,
    reminders: list[Reminder],
    per_second: float,
    tz: ZoneInfo,
    quiet: tuple[time, time],
) -> list[Reminder]:
    """Move each reminder within its window (send_at to expires_at) into minutes with room,
    the most time-critical first; hold slots_lock until they are written. A reminder with
    no room in its window keeps its moment (the send job's limiter then delays it)."""
    items = [spreading.Item(x.id, x.kind, x.send_at_dt, x.expires_at_dt) for x in reminders]
    placed, _ = place(r, items, per_second, tz, quiet)
    for reminder in reminders:
        at = placed.send_at.get(reminder.id)
        if at is not None:
            reminder.send_at = at.isoformat()
    if placed.unfit:
        log.warning("%d texts found no room within the sending capacity before their "
                    "latest moment: kept at their planned moments", len(placed.unfit))
    return reminders
