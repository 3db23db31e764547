"""Retention: how long the line keeps what it knows about patients, and purging the rest.

Kept until a nurse has dealt with it and then for RETENTION_DAYS (default 400: a year
of audits and complaints, and a margin): resolved alerts and call-back requests, and
campaigns whose appointments are all that long past, with their reminders and the
patients who have nothing else booked. Open alerts and call-backs are never purged.
Opt-outs are never purged: a patient who said STOP must stay opted out. Message
history and conversations already expire by themselves (90 days, 24 hours).

Anonymising instead keeps the records (for counts and the audit of what was sent) with
phone numbers masked and every free text a patient or nurse wrote removed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import redis

from bot.feeds import retention as feed_retention
from bot.feeds.bookings import CAMPAIGN as FEED_CAMPAIGN
from bot.masking import mask
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.campaigns import INDEX, Campaign
from bot.outbound.texts import Reminder
from bot.store import keys, records

DEFAULT_DAYS = 400
REMOVED = "[removed]"
_FREE_TEXT = ("text", "reason", "note", "recording_url")


@dataclass
class Report:
    """How many of each kind were (or, in a dry run, would be) purged or anonymised."""

    alerts: int = 0
    callbacks: int = 0
    campaigns: int = 0
    appointments: int = 0
    reminders: int = 0
    patients: int = 0
    feed_messages: int = 0

    def to_dict(self) -> dict[str, int]:
        """A JSON-ready dict."""
        return asdict(self)


def days(settings: dict[str, Any]) -> int:
    """RETENTION_DAYS, or the default."""
    raw = settings.get("RETENTION_DAYS")
    return int(raw) if raw not in (None, "") else DEFAULT_DAYS


def purge(
    r: redis.Redis,
    now: datetime,
    keep_days: int = DEFAULT_DAYS,
    *,
    anonymise: bool = False,
    dry_run: bool = False,
) -> Report:
    """Purge (or anonymise) everything older than `keep_days` that may go."""
    if keep_days < 1:
        raise ValueError("keep at least one day")
    cutoff = now - timedelta(days=keep_days)
    report = Report()
    report.alerts = _records(r, records.Alert, cutoff, anonymise, dry_run)
    report.callbacks = _records(r, records.CallbackRequest, cutoff, anonymise, dry_run)
    for campaign_id in [str(x) for x in r.zrange(INDEX, 0, -1)]:
        campaign = Campaign.fetch(r, campaign_id)
        if campaign is not None and campaign_id != FEED_CAMPAIGN:
            _campaign(r, campaign, cutoff, anonymise, dry_run, report)
    # The hospital feed's campaign never ends: its bookings go one by one.
    appts, reminders, patients = feed_retention.purge_bookings(r, cutoff, anonymise, dry_run)
    report.appointments += appts
    report.reminders += reminders
    report.patients += patients
    report.feed_messages = feed_retention.purge_messages(r, cutoff, anonymise, dry_run)
    return report


def _records(
    r: redis.Redis, cls: type[records.Record], cutoff: datetime, anonymise: bool, dry_run: bool
) -> int:
    ids = [str(x) for x in r.zrangebyscore(cls.RESOLVED, "-inf", cutoff.timestamp())]
    if dry_run:
        return len(ids)
    for record_id in ids:
        key = f"{cls.PREFIX}:{record_id}"
        if anonymise:
            raw = r.get(key)
            if raw:
                data = json.loads(str(raw))
                data["number"] = mask(data.get("number", ""))
                data.update({k: REMOVED for k in _FREE_TEXT if data.get(k)})
                r.set(key, json.dumps(data))
            continue
        p = r.pipeline()
        p.delete(key)
        p.zrem(cls.RESOLVED, record_id)
        p.zrem(keys.ALERTS_ALL, record_id)
        p.execute()
    return len(ids)


def _campaign(
    r: redis.Redis,
    campaign: Campaign,
    cutoff: datetime,
    anonymise: bool,
    dry_run: bool,
    report: Report,
) -> None:
    appts = Appointment.fetch_many(r, campaign.appointment_ids(r))
    if any(a.at_dt > cutoff for a in appts):
        return  # something in it is recent or still to come
    if not appts and (not campaign.created_at or
                      datetime.fromisoformat(campaign.created_at) > cutoff):
        return
    message_ids = [str(x) for x in r.lrange(keys.campaign_messages(campaign.id), 0, -1)]
    reminder_ids = [i for a in appts for i in a.reminder_ids] + message_ids
    report.campaigns += 1
    report.appointments += len(appts)
    report.reminders += len(reminder_ids)
    patients = sorted({a.patient for a in appts})
    if dry_run:
        report.patients += sum(_last_booking(r, n, {a.id for a in appts}) for n in patients)
        return
    p = r.pipeline()
    for appt in appts:
        Patient.forget_appointment(p, appt.patient, appt.id)
    p.execute()
    for number in patients:
        if not Patient.appointment_ids(r, number):
            report.patients += 1
            r.delete(Patient.key_for(number), Patient.appointments_key(number))
    p = r.pipeline()
    if anonymise:
        for appt in appts:
            p.hset(appt.key, mapping={Appointment.field("patient"): mask(appt.patient),
                                      Appointment.field("name"): REMOVED,
                                      Appointment.field("location"): REMOVED})
        for reminder_id in reminder_ids:
            p.hset(Reminder.key_for(reminder_id), "to", mask(_to(r, reminder_id)))
            p.hdel(Reminder.key_for(reminder_id), Reminder.field("body"), "body")
    else:
        p.delete(*(a.key for a in appts), *(Reminder.key_for(i) for i in reminder_ids))
        p.delete(campaign.key, Campaign.appointments_key(campaign.id),
                 keys.campaign_messages(campaign.id))
        p.zrem(INDEX, campaign.id)
    p.execute()


def _to(r: redis.Redis, reminder_id: str) -> str:
    return str(r.hget(Reminder.key_for(reminder_id), "to") or "")


def _last_booking(r: redis.Redis, number: str, going: set[str]) -> bool:
    """True when every appointment this patient has is among those going."""
    return Patient.appointment_ids(r, number) <= going
