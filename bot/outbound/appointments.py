"""Patients and their appointments, and the reminders each appointment's plan makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import redis

from bot.outbound import planning, scheduling
from bot.outbound.texts import PENDING, Reminder, advance
from bot.store import keys, records
from bot.store.hashes import HashRecord
from flows import reminder_call
from flows.reminders import Plan, PlanError, plan, texts_for

APPOINTMENT_FIELD = "a:"  # a patient hash's fields "a:<appointment id>" list their appointments
APPOINTMENT_STATUSES = ("booked", "confirmed", "rearrange", "cancelled", "did_not_attend")


@dataclass
class Patient(HashRecord):
    """Someone who gets reminders, keyed by E.164 number; opt-outs live in records."""

    PREFIX: ClassVar[str] = keys.PATIENT

    id: str  # the E.164 number
    name: str = ""
    created_at: str = ""
    invalid: str = ""  # why texts to this number cannot be delivered, if they cannot
    channel: str = ""  # "call": reminders by phone call (a landline, or asked); else texts

    @staticmethod
    def appointments_key(number: str) -> str:
        """The set of a patient's appointment ids, as kept before they moved into the
        patient's hash (read, and emptied, for records written then)."""
        return keys.patient_appointments(number)

    @staticmethod
    def appointment_field(appointment_id: str) -> str:
        """The patient hash's field that lists one appointment of theirs.

        In the hash rather than a set of their own: a small set of strings costs 250
        bytes a patient in Redis before 7.2, a field about 20.
        """
        return f"{APPOINTMENT_FIELD}{appointment_id}"

    @staticmethod
    def appointment_ids(r: redis.Redis, number: str) -> set[str]:
        """The ids of a patient's appointments."""
        p = r.pipeline(transaction=False)
        p.hkeys(Patient.key_for(number))
        p.smembers(Patient.appointments_key(number))
        fields, old = p.execute()
        return {str(f).removeprefix(APPOINTMENT_FIELD) for f in fields
                if str(f).startswith(APPOINTMENT_FIELD)} | {str(x) for x in old}

    @staticmethod
    def forget_appointment(p: Any, number: str, appointment_id: str) -> None:
        """Take an appointment off its patient's list (into a pipeline)."""
        p.hdel(Patient.key_for(number), Patient.appointment_field(appointment_id))
        p.srem(Patient.appointments_key(number), appointment_id)


@dataclass
class Appointment(HashRecord):
    """A test at a time and place, and the reminders planned for it."""

    PREFIX: ClassVar[str] = keys.APPOINTMENT
    STORED: ClassVar[dict[str, str]] = {
        "patient": "p", "location": "l", "name": "n", "campaign": "c", "reminders": "r",
        "created_at": "m", "replied_at": "re", "source": "src", "source_ref": "ref",
    }
    TIMES: ClassVar[frozenset[str]] = frozenset(["at", "created_at", "replied_at"])
    WHOLE_SECONDS: ClassVar[frozenset[str]] = frozenset(["created_at", "replied_at"])
    ID_IN_KEY: ClassVar[bool] = True

    id: str
    patient: str
    test: str
    at: str  # aware UTC ISO 8601
    location: str = ""
    name: str = ""
    status: str = "booked"
    campaign: str = ""
    version: int = 1
    reminders: str = ""  # comma-separated ids of the current version's reminders
    created_at: str = ""
    replied_at: str = ""
    source: str = ""  # "hl7" or "fhir" from the hospital's feed; empty from a campaign
    source_ref: str = ""  # the feed message that last set it

    @property
    def at_dt(self) -> datetime:
        """The appointment time, aware."""
        return datetime.fromisoformat(self.at)

    @property
    def reminder_ids(self) -> list[str]:
        """Ids of the current reminders."""
        return [x for x in self.reminders.split(",") if x]

    def planned_ids(self, count: int) -> list[str]:
        """The ids reminders_for gives this version's plan of `count` reminders."""
        return [f"{self.id}-{self.version}-{n}" for n in range(1, count + 1)]

    def to_hash(self) -> dict[str, Any]:
        """As stored: the reminders as their count when their ids are the plan's own."""
        mapping = super().to_hash()
        ids = self.reminder_ids
        if ids and ids == self.planned_ids(len(ids)):
            mapping[self.field("reminders")] = len(ids)
        return mapping

    @classmethod
    def from_hash(cls, raw: dict[str, str], record_id: str = "") -> Appointment:
        """As HashRecord reads it, with a count of reminders made back into their ids."""
        appt = super().from_hash(raw, record_id)
        if appt.reminders.isdigit():
            appt.reminders = ",".join(appt.planned_ids(int(appt.reminders)))
        return appt


CHANNELS = ("sms", "call")


def set_channel(p: Any, number: str, channel: str) -> None:
    """How this patient's reminders go from now on, "sms" or "call" (client or pipeline)."""
    if channel not in CHANNELS:
        raise ValueError(f"a channel is sms or call, not {channel!r}")
    p.hset(Patient.key_for(number), mapping={"id": number, "channel": channel})


def quiet_hours(settings: Mapping[str, Any]) -> tuple[time, time]:
    """QUIET_HOURS as "21:00-08:00" (the default)."""
    raw = str(settings.get("QUIET_HOURS") or "21:00-08:00")
    start, _, end = raw.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def make_plan(appt: Appointment, tz: ZoneInfo, quiet: tuple[time, time], now: datetime,
              call_hours: tuple[time, time] | None = None) -> Plan:
    """The appointment's reminder plan as of `now`: texts outside `quiet`, or, given
    `call_hours`, calls within them, one at a time (as the importer plans a landline)."""
    if call_hours is not None:
        closed = (call_hours[1], call_hours[0])  # outside calling hours is "quiet"
        return reminder_call.spaced(plan(appt.test, appt.at_dt, appt.location, tz,
                                         name=appt.name or None, quiet=closed, now=now))
    return plan(
        appt.test, appt.at_dt, appt.location, tz, name=appt.name or None, quiet=quiet, now=now
    )


def reminders_for(appt: Appointment, planned: Plan, now: datetime) -> list[Reminder]:
    """Reminder records for a plan: ids fixed by appointment, version and position."""
    out = []
    for n, p in enumerate(planned.reminders, 1):
        out.append(
            Reminder(
                id=f"{appt.id}-{appt.version}-{n}",
                to=appt.patient,
                body="",  # made from the appointment when it goes: see text_of
                kind=p.kind,
                send_at=p.send_at.isoformat(),
                expires_at=p.expires_at.isoformat(),
                appointment=appt.id,
                campaign=appt.campaign,
                version=appt.version,
                created_at=now.isoformat(),
            )
        )
    return out


def text_of(r: redis.Redis, reminder: Reminder, tz: ZoneInfo) -> str:
    """A reminder's words: its own for a one-off text, else made from its appointment now.

    Appointment reminders store no text (a quarter of their memory): the words come from
    the appointment and the reviewed content, so a corrected leaflet fact reaches every
    reminder still to go.
    """
    fetch = bool(reminder.appointment) and not reminder.body
    return words(reminder, Appointment.fetch(r, reminder.appointment) if fetch else None, tz)


def words(reminder: Reminder, appt: Appointment | None, tz: ZoneInfo) -> str:
    """A reminder's words, its appointment already read (None: it has none, or it is gone)."""
    if reminder.body or appt is None:
        return reminder.body
    return words_for(appt, reminder.kind, tz)


def words_for(appt: Appointment, kind: str, tz: ZoneInfo) -> str:
    """The words of the appointment's reminder of this kind ("ct_scan:day_before")."""
    texts = texts_for(appt.test, appt.at_dt, appt.location, tz, name=appt.name or None)
    return texts.get(kind.partition(":")[2], "")


def store(appt: Appointment, reminders: list[Reminder], p: Any) -> None:
    """Write an appointment and its reminders into a pipeline (RQ's connection)."""
    appt.reminders = ",".join(x.id for x in reminders)
    appt.save(p)
    p.hset(Patient.key_for(appt.patient), Patient.appointment_field(appt.id), 1)
    for reminder in reminders:
        reminder.save(p)


def _stop_pending(r: redis.Redis, appt: Appointment, status: str, error: str = "") -> int:
    """Move the appointment's pending reminders to `status` and off the scheduler."""
    pending = [x for x in Reminder.fetch_many(r, appt.reminder_ids) if x.status in PENDING]
    for reminder in pending:
        advance(r, reminder.id, status, error)
    scheduling.unschedule(r, pending)
    return len(pending)


def cancel(r: redis.Redis, appt: Appointment) -> int:
    """Cancel an appointment and its pending reminders; returns how many were stopped."""
    r.hset(appt.key, Appointment.field("status"), "cancelled")
    appt.status = "cancelled"
    return _stop_pending(r, appt, "cancelled")


def did_not_attend(r: redis.Redis, appt: Appointment) -> int:
    """The hospital says the patient did not come: record it and stop what is pending."""
    r.hset(appt.key, "status", "did_not_attend")
    appt.status = "did_not_attend"
    return _stop_pending(r, appt, "cancelled", "the patient did not attend")


def reschedule(
    r: redis.Redis,
    appt: Appointment,
    at: datetime,
    tz: ZoneInfo,
    quiet: tuple[time, time],
    now: datetime,
    location: str | None = None,
    per_second: float = 0.0,
    call_hours: tuple[time, time] | None = None,
) -> list[Reminder]:
    """Move an appointment: its old reminders are replaced by a plan for the new time,
    fitted within the sending capacity `per_second` (0: no limit); a patient whose
    reminders are calls gets them within `call_hours`, when given."""
    if at.tzinfo is None:
        raise ValueError("the new time needs a time zone")
    moved = Appointment(**{**appt.to_dict(), "at": at.astimezone(UTC).isoformat()})
    if location is not None:
        moved.location = location
    moved.version = appt.version + 1
    moved.status = "booked"
    calls = _calls_for(r, appt.patient, call_hours)
    planned = make_plan(moved, tz, quiet, now, calls)  # PlanError before anything changes
    _stop_pending(r, appt, "cancelled", "appointment moved")
    closed = quiet if calls is None else (calls[1], calls[0])  # calls: only in calling hours
    return _write_fitted(r, moved, reminders_for(moved, planned, now), per_second, tz, closed)


# Waited for by a webhook (START) at most: an import holds the minutes only while it
# spreads its texts, a few seconds for a large one.
FIT_WAIT = 5.0


def _write_fitted(
    r: redis.Redis, appt: Appointment, new: list[Reminder], per_second: float, tz: ZoneInfo,
    quiet: tuple[time, time],
) -> list[Reminder]:
    """Write an appointment and its new reminders, fitted within the sending capacity."""
    with planning.slots_lock(r, wait=FIT_WAIT):
        planning.fit(r, new, per_second, tz, quiet)
        p = scheduling.rq_connection(r).pipeline()
        store(appt, new, p)
        scheduling.schedule(r, new, pipeline=p)
        p.execute()
    return new


def for_patient(r: redis.Redis, number: str) -> list[Appointment]:
    """A patient's appointments, soonest first."""
    ids = sorted(Patient.appointment_ids(r, number))
    return sorted(Appointment.fetch_many(r, ids), key=lambda a: a.at)


def stop_all_for(r: redis.Redis, number: str, status: str, error: str) -> int:
    """Stop every pending reminder to a number (opted out, or the number is invalid)."""
    return sum(_stop_pending(r, a, status, error) for a in for_patient(r, number))


def opt_out(r: redis.Redis, number: str, at: datetime) -> int:
    """Twilio says this number has opted out: record it and stop everything pending."""
    records.set_opted_out(number, True, at.isoformat(), pipeline=r)
    return stop_all_for(r, number, "opted_out", "the patient opted out")


def restore(
    r: redis.Redis, number: str, tz: ZoneInfo, quiet: tuple[time, time], now: datetime,
    per_second: float = 0.0, call_hours: tuple[time, time] | None = None,
) -> list[Reminder]:
    """After START: plan again what opting out stopped, for appointments still to come.

    The stopped reminders stay in the history as opted out; a new version of the plan
    takes their place, so a reminder whose moment has passed is skipped (or sent now if
    it is still useful), exactly as for a late booking, fitted within the sending
    capacity `per_second` (0: no limit); a patient whose reminders are calls gets them
    within `call_hours`, when given, as a moved appointment does.
    """
    calls = _calls_for(r, number, call_hours)
    closed = quiet if calls is None else (calls[1], calls[0])
    restored: list[Reminder] = []
    for appt in for_patient(r, number):
        if appt.status == "cancelled" or appt.at_dt <= now:
            continue
        current = Reminder.fetch_many(r, appt.reminder_ids)
        if not any(x.status == "opted_out" for x in current):
            continue
        again = Appointment(**{**appt.to_dict(), "version": appt.version + 1})
        try:
            planned = make_plan(again, tz, quiet, now, calls)
        except PlanError:
            continue  # nothing can be sent in time any more
        restored += _write_fitted(r, again, reminders_for(again, planned, now), per_second,
                                  tz, closed)
    return restored


def _calls_for(
    r: redis.Redis, number: str, call_hours: tuple[time, time] | None
) -> tuple[time, time] | None:
    """The calling hours to plan within, if this patient's reminders are calls."""
    if call_hours and r.hget(Patient.key_for(number), "channel") == "call":
        return call_hours
    return None


def mark_invalid(r: redis.Redis, number: str, reason: str) -> int:
    """Twilio says texts cannot reach this number: flag it and stop everything pending."""
    r.hset(Patient.key_for(number), mapping={"id": number, "invalid": reason})
    return stop_all_for(r, number, "failed", reason)
