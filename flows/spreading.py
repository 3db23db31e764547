"""Spreading reminders due together across their windows, within the sending capacity.

Each reminder has a window: from the moment its plan gives it (never earlier) to the
moment it stops being useful (its expiry), with no sending in quiet hours. Time is cut
into slots of a minute; a slot holds at most `capacity` sends a second times its length,
less what earlier campaigns already put there. Reminders are placed kind by kind, the
most time-critical first (fasting, then the day before, then a few days before), each
kind earliest-deadline-first from the start of its window: the schedule that misses the
fewest deadlines for a kind given what the kinds before it took, and with the least
delay, since a reminder only moves when the slots before it are full. The same input
gives the same plan.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.reminders import in_quiet

SLOT_SECONDS = 60
# Most time-critical first: a missed fasting reminder can cost the scan; a missed
# few-days-before one is covered by the day-before one.
PRIORITY = ("fasting", "day_before", "few_days_before")


@dataclass(frozen=True)
class Item:
    """One reminder to place: its window and how urgent its kind is."""

    key: Hashable  # the caller's name for it
    kind: str  # e.g. "ct_scan:fasting", "mri_scan:day_before+few_days_before"
    earliest: datetime  # aware: its planned moment
    latest: datetime  # aware: it must go before this
    closed: tuple[time, time] | None = None  # hours it may not go, if not the quiet hours
    # (a reminder call: outside calling hours)


@dataclass
class Spread:
    """Where each reminder goes, and what did not fit."""

    send_at: dict[Hashable, datetime] = field(default_factory=dict)  # key -> its moment
    unfit: list[Hashable] = field(default_factory=list)  # keys with no room in their window
    per_slot: dict[int, int] = field(default_factory=dict)  # slot -> sends placed by us
    capacity_per_slot: int = 0

    def delay(self, item: Item) -> timedelta:
        """How much later than its planned moment an item goes."""
        at = self.send_at.get(item.key, item.earliest)
        return max(timedelta(0), at - item.earliest)


def rank(kind: str) -> int:
    """Lower goes first: fasting, day before, few days before, then anything else."""
    base = kind.partition(":")[2] or kind
    base = base.partition("+")[0].removesuffix("~carry")
    return PRIORITY.index(base) if base in PRIORITY else len(PRIORITY)


def slot_of(moment: datetime) -> int:
    """The slot a moment falls in (slots are counted from the Unix epoch)."""
    return int(moment.timestamp()) // SLOT_SECONDS


def slot_start(slot: int) -> datetime:
    """When a slot begins, aware UTC."""
    return datetime.fromtimestamp(slot * SLOT_SECONDS, UTC)


def span(items: Iterable[Item]) -> tuple[int, int] | None:
    """The first and last slot any item could use, or None for no items."""
    listed = list(items)
    if not listed:
        return None
    return (slot_of(min(i.earliest for i in listed)), slot_of(max(i.latest for i in listed)))


def per_slot(per_second: float) -> int:
    """Sends one slot holds at `per_second` (at least one, for any limit at all)."""
    return max(1, int(per_second * SLOT_SECONDS)) if per_second > 0 else 0


def spread(
    items: Sequence[Item],
    per_second: float,
    tz: ZoneInfo,
    quiet: tuple[time, time],
    taken: Mapping[int, int] | None = None,
) -> Spread:
    """Place every item in a slot of its window with room left; `taken` is what other
    campaigns already hold, by slot. With `per_second` 0 (no limit) nothing moves.

    Items with hours of their own (`Item.closed`: calls) are placed after those kept out
    of `quiet`, in the minutes those left, and only within their own hours.
    """
    groups: dict[tuple[time, time], list[Item]] = {}
    for item in items:
        groups.setdefault(item.closed or quiet, []).append(item)
    if len(groups) <= 1:
        return _spread(items, per_second, tz, next(iter(groups), quiet), taken)
    out = Spread(capacity_per_slot=per_slot(per_second))
    held = dict(taken or {})
    order = {item.key: n for n, item in enumerate(items)}
    for hours in sorted(groups, key=lambda h: h != quiet):  # the quiet hours' own first
        part = _spread(groups[hours], per_second, tz, hours, held)
        out.send_at.update(part.send_at)
        out.unfit.extend(part.unfit)
        for slot, n in part.per_slot.items():
            out.per_slot[slot] = out.per_slot.get(slot, 0) + n
            held[slot] = held.get(slot, 0) + n
    out.unfit.sort(key=lambda k: order[k])
    return out


def _spread(
    items: Sequence[Item],
    per_second: float,
    tz: ZoneInfo,
    quiet: tuple[time, time],
    taken: Mapping[int, int] | None = None,
) -> Spread:
    out = Spread(capacity_per_slot=per_slot(per_second))
    if per_second <= 0 or not items:
        return out
    cap = out.capacity_per_slot
    used: dict[int, int] = dict(taken or {})
    open_slot: dict[int, bool] = {}

    def sendable(slot: int) -> bool:
        # Both ends outside quiet hours, so no send in the slot falls inside them.
        if slot not in open_slot:
            start = slot_start(slot)
            end = start + timedelta(seconds=SLOT_SECONDS - 1)
            open_slot[slot] = not in_quiet(start, tz, quiet) and not in_quiet(end, tz, quiet)
        return open_slot[slot]

    by_rank: dict[int, list[Item]] = {}
    order = {id(item): n for n, item in enumerate(items)}  # ties go in the caller's order
    unfit: list[Item] = []
    for item in items:
        by_rank.setdefault(rank(item.kind), []).append(item)
    for r in sorted(by_rank):
        group = sorted(by_rank[r], key=lambda i: (i.earliest, i.latest, order[id(i)]))
        waiting: list[tuple[datetime, datetime, int, Item]] = []  # by deadline
        n, slot = 0, slot_of(group[0].earliest)
        while n < len(group) or waiting:
            if not waiting:
                slot = max(slot, slot_of(group[n].earliest))
            while n < len(group) and slot_of(group[n].earliest) <= slot:
                g = group[n]
                heapq.heappush(waiting, (g.latest, g.earliest, order[id(g)], g))
                n += 1
            room = cap - used.get(slot, 0) if sendable(slot) else 0
            start = slot_start(slot)
            while waiting and room > 0:
                latest, earliest, _, item = waiting[0]
                index = used.get(slot, 0)
                at = max(earliest, start + timedelta(seconds=index * SLOT_SECONDS / cap))
                heapq.heappop(waiting)
                if at >= latest:  # its deadline falls before its turn in this slot
                    unfit.append(item)
                    continue
                used[slot] = index + 1
                out.per_slot[slot] = out.per_slot.get(slot, 0) + 1
                out.send_at[item.key] = at
                room -= 1
            # Whatever can no longer make its deadline in a later slot did not fit.
            next_start = slot_start(slot + 1)
            while waiting and waiting[0][0] <= next_start:
                unfit.append(heapq.heappop(waiting)[3])
            slot += 1
    out.unfit = [i.key for i in sorted(unfit, key=lambda i: order[id(i)])]
    return out
