"""Reminder campaigns: made from checked rows, listed, shown, cancelled and messaged."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import redis

from bot.outbound import appointments, planning, scheduling
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.planning import PlanningBusy, planning_lock
from bot.outbound.texts import TEXT_LIFETIME, Reminder, new_id
from bot.store import keys
from bot.store.hashes import HashRecord
from flows import spreading
from flows.reminders import Plan, check_private

log = logging.getLogger(__name__)
__all__ = ["PlanningBusy", "planning_lock"]  # the import's lock, where imports look for it

INDEX = keys.CAMPAIGNS
CHUNK = 500  # rows written per transaction: big enough to be fast, small enough to not stall
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Row:
    """One checked line of a campaign: who, which test, when, where, and its plan."""

    line: int
    phone: str
    test: str
    at: datetime
    location: str
    name: str
    plan: Plan
    channel: str = "sms"  # "call" for a landline: its reminders ring instead


@dataclass
class Campaign(HashRecord):
    """A named batch of appointments whose reminders a nurse scheduled together."""

    PREFIX: ClassVar[str] = keys.CAMPAIGN

    id: str
    name: str
    created_by: str = ""
    created_at: str = ""
    status: str = "importing"  # importing | active | cancelled | failed
    patients: int = 0
    reminders: int = 0
    segments: int = 0

    @staticmethod
    def appointments_key(campaign_id: str) -> str:
        """The list of the campaign's appointment ids, in file order."""
        return keys.campaign_appointments(campaign_id)

    def appointment_ids(self, r: redis.Redis) -> list[str]:
        """Its appointments' ids."""
        return [str(x) for x in r.lrange(self.appointments_key(self.id), 0, -1)]


def _nothing(done: int, total: int) -> None:
    pass


def create(
    r: redis.Redis,
    name: str,
    rows: Sequence[Row],
    now: datetime,
    created_by: str = "",
    progress: Progress = _nothing,
) -> Campaign:
    """Store and schedule a campaign from rows that have all been checked.

    Written in chunks while the campaign says "importing" (the send job waits for it);
    if anything fails part way, what was written is cancelled, so nothing half-imported
    ever sends.
    """
    campaign = Campaign(id=new_id()[:10], name=name, created_by=created_by,
                        created_at=now.isoformat())
    campaign.save(r)
    r.zadd(INDEX, {campaign.id: now.timestamp()})
    conn = scheduling.rq_connection(r)
    written: list[Reminder] = []
    try:
        for start in range(0, len(rows), CHUNK):
            p = conn.pipeline(transaction=True)
            chunk: list[Reminder] = []
            for row in rows[start:start + CHUNK]:
                chunk.extend(_add_row(r, campaign, row, now, p))
            planning.written(p, (x.send_at_dt for x in chunk))
            p.execute()
            written.extend(chunk)
            progress(min(start + CHUNK, len(rows)), len(rows))
    except Exception:
        log.exception("campaign %s failed part way; cancelling what was written", campaign.id)
        scheduling.unschedule(r, written)
        r.hset(campaign.key, "status", "failed")
        raise
    campaign.patients = len({row.phone for row in rows})
    campaign.reminders = len(written)
    campaign.segments = sum(p.segments for row in rows for p in row.plan.reminders
                            if row.channel == "sms")
    r.hset(campaign.key, mapping={
        "patients": campaign.patients, "reminders": campaign.reminders,
        "segments": campaign.segments,
    })
    # Active only if nobody cancelled it while it was being written.
    if r.eval(_ACTIVATE, 1, campaign.key):
        campaign.status = "active"
    else:
        campaign.status = str(r.hget(campaign.key, "status"))
    return campaign


_ACTIVATE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'importing' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'active')
return 1
"""


def _add_row(r: redis.Redis, campaign: Campaign, row: Row, now: datetime, p: Any) -> list[Reminder]:
    p.hsetnx(Patient.key_for(row.phone), "created_at", now.isoformat())
    p.hset(Patient.key_for(row.phone), "id", row.phone)
    if row.name:
        p.hset(Patient.key_for(row.phone), "name", row.name)
    if row.channel == "call":  # a landline: a patient's own choice of texts cannot apply
        appointments.set_channel(p, row.phone, "call")
    appt = Appointment(
        id=new_id()[:12],
        patient=row.phone,
        test=row.test,
        at=row.at.astimezone(UTC).isoformat(),
        location=row.location,
        name=row.name,
        campaign=campaign.id,
        created_at=now.isoformat(),
    )
    reminders = appointments.reminders_for(appt, row.plan, now)
    appointments.store(appt, reminders, p)
    p.rpush(Campaign.appointments_key(campaign.id), appt.id)
    scheduling.schedule(r, reminders, pipeline=p)
    return reminders


@dataclass
class Capacity:
    """How a campaign's texts were spread to keep within the sending capacity."""

    per_second: float  # the whole line's: rate per sender times senders (0: no limit)
    texts: int = 0
    moved: int = 0  # texts a minute or more later than their usual moment, to make room
    latest: timedelta = timedelta(0)  # the most any text was moved
    over: list[dict[str, Any]] = field(default_factory=list)  # texts with no room in time
    hours: list[dict[str, Any]] = field(default_factory=list)  # texts an hour, with others'
    peak_per_minute: int = 0  # the busiest minute, this campaign's and others' together

    @property
    def fits(self) -> bool:
        """True when every text goes before its latest useful moment."""
        return not self.over

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The spread, for --json and the console's preview."""
        return {
            "per_second": self.per_second,
            "per_minute": spreading.per_slot(self.per_second),
            "texts": self.texts,
            "moved": self.moved,
            "latest_minutes": round(self.latest / timedelta(minutes=1)),
            "peak_per_minute": self.peak_per_minute,
            "fits": self.fits,
            "over_capacity": [{**o, "send_at": o["send_at"].astimezone(tz).isoformat(),
                               "expires_at": o["expires_at"].astimezone(tz).isoformat()}
                              for o in self.over],
            "hours": [{**h, "hour": h["hour"].astimezone(tz).isoformat()} for h in self.hours],
        }


_MOVED = timedelta(minutes=1)  # less is only a text's place in its minute's queue


def spread(
    r: redis.Redis | None,
    rows: Sequence[Row],
    per_second: float,
    tz: ZoneInfo,
    quiet: tuple[time, time],
    *,
    reserve: bool = False,
    call_hours: tuple[time, time] | None = None,
) -> tuple[list[Row], Capacity]:
    """Rows with each text moved within its window so that, with everything already on
    the scheduler (`r`; None: nothing), no minute holds more than the line can send.

    `reserve`: an import about to write these rows (holding the planning lock) publishes
    its plan, so texts scheduled by other paths while it writes keep out of its minutes.
    `call_hours`: when a landline's calls may ring (CALL_HOURS), needed if any row is
    one: they move only within those hours.
    """
    if call_hours is None and any(row.channel == "call" for row in rows):
        raise ValueError("reminder calls are spread within calling hours: give call_hours")
    if reserve and r is not None:
        with planning.slots_lock(r):
            out, report = spread(r, rows, per_second, tz, quiet, call_hours=call_hours)
            planning.reserve(r, (p.send_at for row in out for p in row.plan.reminders))
        return out, report
    closed = (call_hours[1], call_hours[0]) if call_hours else None  # calls: only within
    items = [spreading.Item((n, k), p.kind, p.send_at, p.expires_at,
                            closed if row.channel == "call" else None)
             for n, row in enumerate(rows) for k, p in enumerate(row.plan.reminders)]
    report = Capacity(per_second=per_second, texts=len(items))
    if per_second <= 0 or not items:
        return list(rows), report
    placed, taken = planning.place(r, items, per_second, tz, quiet)
    unfit = set(placed.unfit)
    out = []
    for n, row in enumerate(rows):
        new = []
        for k, p in enumerate(row.plan.reminders):
            at = placed.send_at.get((n, k), p.send_at)
            if (n, k) in unfit:
                report.over.append({"line": row.line, "kind": p.kind, "send_at": p.send_at,
                                    "expires_at": p.expires_at})
                note = "no room within the sending capacity before it stops being useful"
            elif at - p.send_at >= _MOVED:
                report.moved += 1
                report.latest = max(report.latest, at - p.send_at)
                note = f"{_minutes(at - p.send_at)} after its usual moment, to share the sending"
            else:  # its place in the minute's queue, seconds after: as the limiter would
                new.append(replace(p, send_at=at))
                continue
            new.append(replace(p, send_at=at, note=f"{p.note}; {note}" if p.note else note))
        out.append(replace(row, plan=replace(row.plan, reminders=new)))
    hours: dict[int, list[int]] = {}
    for slot in sorted(set(placed.per_slot) | set(taken)):
        mine = placed.per_slot.get(slot, 0)
        entry = hours.setdefault(slot // 60, [0, 0])
        entry[0] += mine
        entry[1] += taken.get(slot, 0)
        report.peak_per_minute = max(report.peak_per_minute, mine + taken.get(slot, 0))
    report.hours = [{"hour": spreading.slot_start(h * 60), "texts": mine, "others": theirs}
                    for h, (mine, theirs) in sorted(hours.items()) if mine]
    return out, report


def _minutes(gap: timedelta) -> str:
    minutes = max(1, round(gap / timedelta(minutes=1)))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{minutes / 60:.1f} hours"


def add_booking(
    r: redis.Redis, campaign_id: str, row: Row, now: datetime, *, source: str, source_ref: str,
    pipeline: Any = None,
) -> tuple[Appointment, list[Reminder]]:
    """One checked booking from the hospital's feed, added to a standing campaign.

    The same records, plan and scheduled jobs as a row of `create`, in one transaction,
    with where it came from; the caller makes sure the campaign exists. Into `pipeline`
    when given (the caller executes it), so the booking is written with its tracking.
    """
    appt = Appointment(
        id=new_id()[:12], patient=row.phone, test=row.test, at=row.at.astimezone(UTC).isoformat(),
        location=row.location, name=row.name, campaign=campaign_id, created_at=now.isoformat(),
        source=source, source_ref=source_ref,
    )
    reminders = appointments.reminders_for(appt, row.plan, now)
    p = pipeline if pipeline is not None else scheduling.rq_connection(r).pipeline(transaction=True)
    p.eval(_COUNT_PATIENT, 2, keys.campaign_patients(campaign_id), Campaign.key_for(campaign_id),
           row.phone)
    p.hsetnx(Patient.key_for(row.phone), "created_at", now.isoformat())
    p.hset(Patient.key_for(row.phone), "id", row.phone)
    if row.channel == "call":
        appointments.set_channel(p, row.phone, "call")
    appointments.store(appt, reminders, p)
    p.rpush(Campaign.appointments_key(campaign_id), appt.id)
    p.hincrby(Campaign.key_for(campaign_id), "reminders", len(reminders))
    p.hincrby(Campaign.key_for(campaign_id), "segments", row.plan.segments)
    scheduling.schedule(r, reminders, pipeline=p)
    if pipeline is None:
        p.execute()
    return appt, reminders


_COUNT_PATIENT = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then redis.call('HINCRBY', KEYS[2], 'patients', 1) end
"""


def all_campaigns(r: redis.Redis, limit: int = 100) -> list[Campaign]:
    """Campaigns, newest first."""
    ids = [str(x) for x in r.zrevrange(INDEX, 0, limit - 1)]
    return Campaign.fetch_many(r, ids)


def find(r: redis.Redis, campaign_id: str) -> Campaign | None:
    """One campaign by id."""
    return Campaign.fetch(r, campaign_id)


@dataclass
class Detail:
    """A campaign with its appointments and every reminder (plan and one-off)."""

    campaign: Campaign
    appointments: list[Appointment]
    reminders: dict[str, list[Reminder]]  # appointment id -> its current reminders
    messages: list[Reminder]  # one-off messages to the campaign

    def counts(self) -> dict[str, int]:
        """How many reminders and messages are in each status."""
        every = [x for xs in self.reminders.values() for x in xs] + self.messages
        return dict(Counter(x.status for x in every))


def detail(r: redis.Redis, campaign: Campaign) -> Detail:
    """Everything about one campaign, read in a few round trips."""
    appts = Appointment.fetch_many(r, campaign.appointment_ids(r))
    ids = [rid for a in appts for rid in a.reminder_ids]
    by_id = {x.id: x for x in Reminder.fetch_many(r, ids)}
    reminders = {a.id: [by_id[i] for i in a.reminder_ids if i in by_id] for a in appts}
    message_ids = [str(x) for x in r.lrange(keys.campaign_messages(campaign.id), 0, -1)]
    return Detail(campaign, appts, reminders, Reminder.fetch_many(r, message_ids))


def cancel(r: redis.Redis, campaign: Campaign, progress: Progress = _nothing) -> int:
    """Cancel a campaign: every appointment's pending reminders stop; returns how many."""
    r.hset(campaign.key, "status", "cancelled")
    campaign.status = "cancelled"
    appts = Appointment.fetch_many(r, campaign.appointment_ids(r))
    stopped = 0
    for n, appt in enumerate(appts, 1):
        if appt.status != "cancelled":
            stopped += appointments.cancel(r, appt)
        progress(n, len(appts))
    return stopped


def message(
    r: redis.Redis, campaign: Campaign, text: str, now: datetime, progress: Progress = _nothing,
    *, per_second: float = 0.0,
) -> list[Reminder]:
    """A one-off text, from now, to every patient with an active appointment who has not
    opted out; spread over the minutes with room in the sending capacity `per_second`
    (0: no limit, all queued now), after the reminders already planned in them.

    Raises PlanError, and queues nothing, when the first line would tell a lock screen
    what the text is about: every path that makes a group text comes through here.
    """
    check_private(text)
    appts = Appointment.fetch_many(r, campaign.appointment_ids(r))
    numbers = list(dict.fromkeys(a.patient for a in appts if a.status != "cancelled"))
    p = r.pipeline(transaction=False)
    for number in numbers:
        p.hexists(keys.OPTOUTS, number)
    wanted = [n for n, out in zip(numbers, p.execute(), strict=True) if not out]
    made = [
        Reminder(id=new_id(), to=number, body=text, kind="message", send_at=now.isoformat(),
                 expires_at=(now + TEXT_LIFETIME).isoformat(), campaign=campaign.id,
                 created_at=now.isoformat())
        for number in wanted
    ]
    with planning.slots_lock(r):
        # Not held over quiet hours by the send job, so not kept out of them here either.
        planning.fit(r, made, per_second, ZoneInfo("UTC"), planning.NO_QUIET)
        for start in range(0, len(made), CHUNK):
            chunk = made[start:start + CHUNK]
            p = scheduling.rq_connection(r).pipeline(transaction=True)
            p.multi()  # RQ switches a caller's pipeline to MULTI only if it is not already
            for reminder in chunk:
                reminder.save(p)
            p.rpush(keys.campaign_messages(campaign.id), *(x.id for x in chunk))
            # What fits in the first minute goes now; the rest waits on the scheduler for
            # its minute, where every later plan counts it.
            later = [x for x in chunk if x.send_at_dt - now >= _MOVED]
            scheduling.schedule(r, later, pipeline=p)
            for reminder in chunk:
                if reminder.send_at_dt - now < _MOVED:
                    scheduling.send_now(r, reminder, pipeline=p)
            p.execute()
            progress(min(start + CHUNK, len(made)), len(made))
    return made
