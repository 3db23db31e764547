"""Reminder campaigns: made from checked rows, listed, shown, cancelled and messaged."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import redis

from bot import appointments, records, scheduling
from bot.appointments import Appointment, Patient
from bot.hashes import HashRecord
from bot.reminders import TEXT_LIFETIME, Reminder, new_id
from flows.reminders import Plan, check_private

log = logging.getLogger(__name__)

INDEX = "campaigns"
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


@dataclass
class Campaign(HashRecord):
    """A named batch of appointments whose reminders a nurse scheduled together."""

    PREFIX: ClassVar[str] = "campaign"

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
        return f"campaign:{campaign_id}:appointments"

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
            for row in rows[start:start + CHUNK]:
                written.extend(_add_row(r, campaign, row, now, p))
            p.execute()
            progress(min(start + CHUNK, len(rows)), len(rows))
    except Exception:
        log.exception("campaign %s failed part way; cancelling what was written", campaign.id)
        scheduling.unschedule(r, written)
        r.hset(campaign.key, "status", "failed")
        raise
    campaign.patients = len({row.phone for row in rows})
    campaign.reminders = len(written)
    campaign.segments = sum(p.segments for row in rows for p in row.plan.reminders)
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


def add_booking(
    r: redis.Redis, campaign_id: str, row: Row, now: datetime, *, source: str, source_ref: str
) -> tuple[Appointment, list[Reminder]]:
    """One checked booking from the hospital's feed, added to a standing campaign.

    The same records, plan and scheduled jobs as a row of `create`, in one transaction,
    with where it came from; the caller makes sure the campaign exists.
    """
    appt = Appointment(
        id=new_id()[:12], patient=row.phone, test=row.test, at=row.at.astimezone(UTC).isoformat(),
        location=row.location, name=row.name, campaign=campaign_id, created_at=now.isoformat(),
        source=source, source_ref=source_ref,
    )
    reminders = appointments.reminders_for(appt, row.plan, now)
    p = scheduling.rq_connection(r).pipeline(transaction=True)
    p.eval(_COUNT_PATIENT, 2, f"campaign:{campaign_id}:patients", Campaign.key_for(campaign_id),
           row.phone)
    p.hsetnx(Patient.key_for(row.phone), "created_at", now.isoformat())
    p.hset(Patient.key_for(row.phone), "id", row.phone)
    appointments.store(appt, reminders, p)
    p.rpush(Campaign.appointments_key(campaign_id), appt.id)
    p.hincrby(Campaign.key_for(campaign_id), "reminders", len(reminders))
    p.hincrby(Campaign.key_for(campaign_id), "segments", row.plan.segments)
    scheduling.schedule(r, reminders, pipeline=p)
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
    message_ids = [str(x) for x in r.lrange(f"campaign:{campaign.id}:messages", 0, -1)]
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
    r: redis.Redis, campaign: Campaign, text: str, now: datetime, progress: Progress = _nothing
) -> list[Reminder]:
    """A one-off text, now, to every patient with an active appointment who has not opted out.

    Raises PlanError, and queues nothing, when the first line would tell a lock screen
    what the text is about: every path that makes a group text comes through here.
    """
    check_private(text)
    appts = Appointment.fetch_many(r, campaign.appointment_ids(r))
    numbers = list(dict.fromkeys(a.patient for a in appts if a.status != "cancelled"))
    sent: list[Reminder] = []
    for n, number in enumerate(numbers, 1):
        if not records.is_opted_out(r, number):
            reminder = Reminder(
                id=new_id(),
                to=number,
                body=text,
                kind="message",
                send_at=now.isoformat(),
                expires_at=(now + TEXT_LIFETIME).isoformat(),
                campaign=campaign.id,
                created_at=now.isoformat(),
            )
            reminder.save(r)
            r.rpush(f"campaign:{campaign.id}:messages", reminder.id)
            scheduling.send_now(r, reminder)
            sent.append(reminder)
        progress(n, len(numbers))
    return sent
