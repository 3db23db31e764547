"""Retention for the hospital feed: kept messages and the standing campaign's old bookings.

The feed's campaign never ends, so, unlike a nurse's campaign, its appointments go one by
one once they are RETENTION_DAYS past; the messages the hospital sent (names, NHS
numbers, dates of birth in their text) go once that old too, whatever became of them.
"""

from __future__ import annotations

from datetime import datetime

import redis

from bot.feeds import messages
from bot.feeds.bookings import CAMPAIGN, NO_MOBILE
from bot.feeds.messages import FeedMessage
from bot.masking import mask
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.campaigns import Campaign
from bot.outbound.texts import Reminder
from bot.store import keys

REMOVED = "[removed]"


def purge_messages(r: redis.Redis, cutoff: datetime, anonymise: bool, dry_run: bool) -> int:
    """Messages received before `cutoff`: deleted, or kept with their text removed."""
    ids = [str(x) for x in r.zrangebyscore(messages.INDEX, "-inf", cutoff.timestamp())]
    if dry_run:
        return len(ids)
    for kept in FeedMessage.fetch_many(r, ids):
        p = r.pipeline()
        if anonymise:
            p.hset(kept.key, "raw", REMOVED)
        else:
            p.delete(kept.key)
            p.zrem(messages.INDEX, kept.id)
            p.zrem(messages.PROBLEMS, kept.id)
            if kept.control_id:
                p.delete(keys.feed_seen(kept.source, kept.sender, kept.control_id))
        p.execute()
    return len(ids)


def purge_bookings(r: redis.Redis, cutoff: datetime, anonymise: bool, dry_run: bool
                   ) -> tuple[int, int, int]:
    """The feed campaign's appointments before `cutoff`, with their reminders and the
    patients who have nothing else booked: (appointments, reminders, patients)."""
    ids = [str(x) for x in r.lrange(Campaign.appointments_key(CAMPAIGN), 0, -1)]
    old = [a for a in Appointment.fetch_many(r, ids) if a.at_dt <= cutoff]
    reminder_ids = [i for a in old for i in a.reminder_ids]
    if dry_run or not old:
        return len(old), len(reminder_ids), 0
    going = {a.id for a in old}
    tracked = [
        str(k) for k in r.scan_iter(keys.FEED_APPOINTMENTS + "*") if not str(k).endswith(keys.LOCK)
    ]
    p = r.pipeline()
    for key in tracked:
        p.hget(key, "appointment")
    stale = [key for key, appt in zip(tracked, p.execute(), strict=True) if appt in going]
    patients = 0
    p = r.pipeline()
    for appt in old:
        Patient.forget_appointment(p, appt.patient, appt.id)
    p.execute()
    for number in sorted({a.patient for a in old}):
        if not Patient.appointment_ids(r, number):
            patients += 1
            r.delete(Patient.key_for(number), Patient.appointments_key(number))
    p = r.pipeline()
    if anonymise:
        for appt in old:
            p.hset(appt.key, mapping={Appointment.field("patient"): mask(appt.patient),
                                      Appointment.field("location"): REMOVED})
        for reminder_id in reminder_ids:
            p.hdel(Reminder.key_for(reminder_id), Reminder.field("body"), "body")
    else:
        for appt in old:
            p.lrem(Campaign.appointments_key(CAMPAIGN), 0, appt.id)
            p.srem(keys.campaign_patients(CAMPAIGN), appt.patient)
        p.delete(*(a.key for a in old), *(Reminder.key_for(i) for i in reminder_ids))
        for key in stale:
            p.delete(key)
            p.srem(NO_MOBILE, key.removeprefix(keys.FEED_APPOINTMENTS))
    p.execute()
    return len(old), len(reminder_ids), patients
