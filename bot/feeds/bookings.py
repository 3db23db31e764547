"""A booking from the feed applied to the reminder pipeline: book, move, cancel, did not attend.

Every change goes through the code a campaign import and the console use (checks and
plan: bot.importer; records and jobs: bot.campaigns, bot.appointments), so quiet hours,
privacy, late bookings and exactly-once sending are theirs. What is the feed's own: the
hospital's appointment id mapped to ours, and the order of messages by their time.
"""

from __future__ import annotations

import contextlib
import time as _time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis

from bot import config, phones
from bot.outbound import appointments, campaigns, importer, planning, scheduling
from bot.outbound.appointments import Appointment
from bot.outbound.campaigns import Campaign
from bot.outbound.texts import Reminder, new_id
from bot.store import keys, records
from bot.store.scripts import script
from flows.feed import CANCEL, NO_SHOW, Booking, Codes, CodesError, load_codes, unmapped_key
from flows.gsm import cost
from flows.reminders import (
    PlanError,
    after_quiet,
    check_private,
    format_date,
    format_time,
    in_quiet,
)

CAMPAIGN = "feed"  # the standing campaign every feed appointment belongs to
CAMPAIGN_NAME = "From the hospital's system"
LIVE = frozenset(["booked", "confirmed", "rearrange"])
NOTICE_LIFETIME = timedelta(hours=12)
LOCK_SECONDS = 30
NO_MOBILE = keys.FEED_NO_MOBILE


class FeedError(ValueError):
    """The feed's settings cannot work (the codes file, the cancellation text)."""


@dataclass
class Outcome:
    """What became of one booking: applied, ignored (with why) or failed (AE, with why)."""

    status: str  # "applied", "ignored" or "failed"
    note: str = ""
    error: str = ""
    appointment: str = ""
    unmapped: str = ""
    track: dict[str, str] = field(default_factory=dict)  # what to remember of it


@dataclass
class Feed:
    """The deployment's settings for the feed."""

    tz: ZoneInfo
    quiet: tuple[time, time]
    codes: Codes = field(default_factory=Codes)
    calling: config.Calling = field(default_factory=lambda: config.calling({}))
    cancel_text: str = ""  # sent when the hospital cancels, if the team wants that
    per_second: float = 0.0  # the sending capacity its texts are fitted within (0: none)


def codes_path(settings: Mapping[str, Any]) -> Path:
    """FEED_CODES, or feed-codes.yaml in the instance folder."""
    raw = settings.get("FEED_CODES")
    return Path(str(raw)) if raw else Path(str(settings["INSTANCE_PATH"])) / "feed-codes.yaml"


def check_cancel_text(text: str) -> None:
    """Refuse a cancellation text a lock screen would give away, or too long, or not GSM-7."""
    try:
        check_private(text)
    except PlanError as exc:
        raise FeedError(f"FEED_CANCEL_TEXT: {exc}") from None
    sample = text.format(date="Wed 25 Nov", time="10.30am")
    c = cost(sample)
    if c.encoding != "GSM-7" or c.segments > 2:
        raise FeedError("FEED_CANCEL_TEXT must be plain text (GSM-7) of at most 2 segments")
    if "cancel" in text.lower():
        raise FeedError("FEED_CANCEL_TEXT must not use the word cancel (Twilio reads a reply "
                        "of CANCEL as an opt-out); say the appointment is not going ahead")


def from_settings(settings: Mapping[str, Any]) -> Feed:
    """The feed's settings, checked: FeedError says what to fix."""
    try:
        codes = load_codes(codes_path(settings))
    except CodesError as exc:
        raise FeedError(str(exc)) from None
    cancel_text = str(settings.get("FEED_CANCEL_TEXT") or "").replace("\\n", "\n").strip()
    if cancel_text:
        try:
            check_cancel_text(cancel_text)
        except (KeyError, IndexError, ValueError) as exc:
            raise FeedError(f"FEED_CANCEL_TEXT: {exc}") from None
    return Feed(
        tz=config.clinic_tz(settings),
        quiet=appointments.quiet_hours(settings),
        codes=codes,
        cancel_text=cancel_text,
        calling=config.calling(settings),
        per_second=config.send_capacity(settings),
    )


_CACHE: dict[tuple[Any, ...], Feed] = {}


def current(settings: Mapping[str, Any]) -> Feed:
    """The feed's settings, read again when the codes file changes (no restart needed)."""
    path = codes_path(settings)
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        stamp = 0
    key = (str(path), stamp, settings.get("FEED_CANCEL_TEXT"), settings.get("QUIET_HOURS"),
           settings.get("CLINIC_TZ"), settings.get("CALL_HOURS"),
           settings.get("CALL_PRICE_PER_MINUTE"), config.send_capacity(settings))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = from_settings(settings)
    return _CACHE[key]


def ensure_campaign(r: redis.Redis, now: datetime) -> str:
    """The feed's standing campaign, made the first time a booking comes; its status."""
    key = Campaign.key_for(CAMPAIGN)
    if r.hsetnx(key, "id", CAMPAIGN):
        r.hset(key, mapping={"name": CAMPAIGN_NAME, "created_at": now.isoformat(),
                             "created_by": "the hospital's system", "status": "active"})
        r.zadd(campaigns.INDEX, {CAMPAIGN: now.timestamp()})
    return str(r.hget(key, "status") or "")


def reachable(booking: Booking) -> str | None:
    """The number reminders go to: the first sent that can get texts (those sent as
    mobiles first), else the first landline, whose reminders are calls; None if neither."""
    found = [phones.reachable(raw) for raw, _ in booking.phones]
    for channel in ("sms", "call"):
        for number, how, _why in found:
            if number is not None and how == channel:
                return number
    return None


def _key(booking: Booking) -> str:
    return keys.feed_appointment(booking.source, booking.appointment_id)


def tracked(r: redis.Redis, source: str, appointment_id: str) -> dict[str, str]:
    """What the feed knows of one of the hospital's appointments."""
    found = r.hgetall(keys.feed_appointment(source, appointment_id))
    return {str(k): str(v) for k, v in found.items()}


# Releases the appointment's lock only if this apply still holds it.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
LOCK_WAIT = 0.005


Record = Callable[[Any, Outcome], None]


def apply(r: redis.Redis, feed: Feed, booking: Booking, message_id: str, now: datetime,
          record: Record | None = None) -> Outcome:
    """Apply one booking, one at a time per appointment, in the order of message time.

    The appointment is locked (SET NX with an expiry) in the same round trip that reads
    what is known of it, and unlocked in the one that writes what was learnt, with
    `record(pipeline, outcome)` (the message's outcome) and a new booking's records and
    jobs in the same transaction: a resend after a failed write finds nothing booked.
    """
    lock = keys.feed_appointment_lock(booking.source, booking.appointment_id)
    key, token = _key(booking), new_id()
    deadline = _time.monotonic() + LOCK_SECONDS
    while True:
        p = r.pipeline(transaction=False)
        p.set(lock, token, nx=True, px=LOCK_SECONDS * 1000)
        p.hgetall(key)
        p.hget(Campaign.key_for(CAMPAIGN), "status")
        got, raw, campaign_status = p.execute()
        if got:
            break
        if _time.monotonic() > deadline:
            raise TimeoutError(f"appointment {booking.appointment_id} stayed locked")
        _time.sleep(LOCK_WAIT)  # another message about the same appointment is being applied
    p = scheduling.rq_connection(r).pipeline(transaction=True)
    # The sending minutes a booking or a move takes are read and written under this lock.
    with planning.slots_lock(r):
        try:
            known = {str(k): str(v) for k, v in raw.items()}
            ours = Appointment.fetch(r, known["appointment"]) if known.get("appointment") else None
            outcome = _decide(r, feed, booking, known, ours, message_id, now,
                              str(campaign_status or ""), p)
            track: dict[Any, Any] = dict(outcome.track)
            if outcome.status == "applied":
                track["message_time"] = max(filter(None, [known.get("message_time", ""),
                                                          booking.message_time.isoformat()]))
                track["message"] = message_id
            if track:
                p.hset(key, mapping=track)
                member = f"{booking.source}:{booking.appointment_id}"
                if track.get("state") == "no_mobile":
                    p.sadd(NO_MOBILE, member)
                elif "state" in track:
                    p.srem(NO_MOBILE, member)
            if record is not None:
                record(p, outcome)
            # A plain EVAL: a registered script in a pipeline costs a SCRIPT EXISTS round trip.
            p.eval(_UNLOCK, 1, lock, token)
            p.execute()
        except BaseException:
            p.reset()
            # So a resend need not wait out the lock; if Redis is gone the lock expires anyway.
            with contextlib.suppress(redis.RedisError):
                script(r, _UNLOCK)(keys=[lock], args=[token])
            raise
    return outcome


def _decide(r: redis.Redis, feed: Feed, booking: Booking, known: dict[str, str],
            ours: Appointment | None, message_id: str, now: datetime,
            campaign_status: str, pipeline: Any) -> Outcome:
    live = ours is not None and ours.status in LIVE
    if ours is not None and ours.status == "cancelled" and known.get("state") != "cancelled":
        # A nurse cancelled it on the console: the feed does not bring it back either.
        return Outcome("ignored", "This appointment was cancelled on the console; a "
                       "cancelled appointment is never brought back.", appointment=ours.id)
    if known.get("state") == "cancelled":
        # Terminal in the hospital's system too: a rebooking there is a new appointment.
        return Outcome("ignored", "This appointment was already cancelled by an earlier "
                       "message; a cancelled appointment is never brought back.",
                       appointment=ours.id if ours else "")
    if booking.event == CANCEL:
        # Whatever its time: stopping texts is always the safe way round.
        stopped = appointments.cancel(r, ours) if ours is not None and live else 0
        told = _tell_cancelled(r, feed, ours, now) if ours is not None and live else False
        if ours is None:
            return Outcome("applied", "Cancelled before its booking arrived: a booking for "
                           "it will be ignored.", track={"state": "cancelled"})
        return Outcome("applied", f"Cancelled: {_reminders(stopped)} stopped; the patient "
                       + ("was sent the cancellation text." if told else "was not texted."),
                       appointment=ours.id, track={"state": "cancelled"})
    if booking.event == NO_SHOW:
        stopped = appointments.did_not_attend(r, ours) if ours is not None and live else 0
        return Outcome("applied", f"Did not attend: recorded; {_reminders(stopped)} stopped.",
                       appointment=ours.id if ours else "", track={"state": "did_not_attend"})
    last = known.get("message_time")
    # Strictly older only: MSH-7 is often to the second or minute, so on a tie the later
    # arrival wins (a true resend repeats its control id and is caught before this).
    if last and booking.message_time < datetime.fromisoformat(last):
        return Outcome("ignored", f"A newer message about this appointment (made "
                       f"{_local(last, feed.tz)}) was already applied; this one was made "
                       f"{_local(booking.message_time, feed.tz)}.",
                       appointment=ours.id if ours else "")
    return _book(r, feed, booking, ours if live else None, message_id, now, campaign_status,
                 pipeline)


def _book(r: redis.Redis, feed: Feed, booking: Booking, ours: Appointment | None,
          message_id: str, now: datetime, campaign_status: str, pipeline: Any) -> Outcome:
    test = feed.codes.test_for(booking)
    # The link to an appointment stopped here goes, so a later correction books afresh
    # (a cancelled appointment still linked reads as one a nurse cancelled).
    unlink = {"appointment": ""} if ours is not None else {}
    if test is None:
        gone = _dropped(r, ours)
        return Outcome("ignored", "No test in the codes file for "
                       f"{unmapped_key(booking)}: no reminders.{gone}",
                       unmapped=unmapped_key(booking), track={"state": "unmapped", **unlink})
    number = reachable(booking)
    if number is None:  # kept as "no_mobile" (its set's key): no mobile and no landline
        gone = _dropped(r, ours)
        return Outcome("applied", "No phone we can reach (no mobile or landline in PID-13, "
                       "PID-14 or Patient.telecom): no reminders will be sent for this "
                       f"appointment.{gone}",
                       track={"state": "no_mobile", "test": test, **unlink})
    assert booking.start is not None  # the readers refuse a booking without one
    if booking.start <= now:
        return Outcome("ignored", "The appointment time has already passed: nothing to plan.",
                       appointment=ours.id if ours else "")
    place = feed.codes.place_for(booking)
    if ours is not None and ours.patient == number and ours.test == test:
        if ours.at_dt == booking.start and ours.location == place:
            return Outcome("applied", "No change to the time or place: reminders as they were.",
                           appointment=ours.id)
        try:
            new = appointments.reschedule(r, ours, booking.start, feed.tz, feed.quiet, now,
                                          location=place, per_second=feed.per_second,
                                          call_hours=feed.calling.hours)
        except PlanError as exc:
            return Outcome("failed", error=str(exc), appointment=ours.id)
        r.hset(ours.key, Appointment.field("source_ref"), message_id)
        return Outcome("applied", f"Moved to {_local(booking.start, feed.tz)}: reminders not "
                       f"yet sent were replaced by {_reminders(len(new))} for the new time.",
                       appointment=ours.id)
    row = {"phone": number, "test": test, "appointment": booking.start.isoformat(),
           "location": place, "name": ""}
    try:
        checked = importer.check_one(row, feed.tz, now, feed.quiet, feed.calling)
    except (ValueError, PlanError) as exc:
        return Outcome("failed", error=str(exc))
    if not campaign_status:
        campaign_status = ensure_campaign(r, now)
    if campaign_status != "active":
        return Outcome("failed", error="The feed's campaign in the console is "
                       f"{campaign_status}, so no new reminders are planned.")
    replaced = f" It replaces {ours.id} (patient or test changed)." if ours else ""
    if ours is not None:
        _drop(r, ours)
    [checked], _ = campaigns.spread(r, [checked], feed.per_second, feed.tz, feed.quiet,
                                    call_hours=feed.calling.hours)
    appt, reminders = campaigns.add_booking(r, CAMPAIGN, checked, now, source=booking.source,
                                            source_ref=message_id, pipeline=pipeline)
    return Outcome("applied", f"Booked for {_local(booking.start, feed.tz)}: "
                   f"{_reminders(len(reminders))} planned.{replaced}", appointment=appt.id,
                   track={"appointment": appt.id, "state": "booked"})


def _drop(r: redis.Redis, ours: Appointment | None) -> int:
    return appointments.cancel(r, ours) if ours is not None else 0


def _dropped(r: redis.Redis, ours: Appointment | None) -> str:
    """Stop the appointment we had, if any, and say so."""
    if ours is None:
        return ""
    return f" The appointment we had stops: {_reminders(_drop(r, ours))} stopped."


def _tell_cancelled(r: redis.Redis, feed: Feed, appt: Appointment | None, now: datetime) -> bool:
    """The team's cancellation text, if they chose one, outside quiet hours."""
    if not feed.cancel_text or appt is None or appt.at_dt <= now:
        return False

    if records.is_opted_out(r, appt.patient):
        return False
    body = feed.cancel_text.format(date=format_date(appt.at_dt, feed.tz),
                                   time=format_time(appt.at_dt, feed.tz))
    send_at = after_quiet(now, feed.tz, feed.quiet) if in_quiet(now, feed.tz, feed.quiet) else now
    notice = Reminder(id=new_id(), to=appt.patient, body=body, kind="feed:cancelled",
                      send_at=send_at.isoformat(),
                      expires_at=(send_at + NOTICE_LIFETIME).isoformat(),
                      created_at=now.isoformat())
    planning.fit(r, [notice], feed.per_second, feed.tz, feed.quiet)
    p = scheduling.rq_connection(r).pipeline(transaction=True)
    notice.save(p)
    scheduling.schedule(r, [notice], pipeline=p)
    p.execute()
    return True


def _reminders(n: int) -> str:
    return f"{n} reminder{'s' if n != 1 else ''}"


def _local(value: str | datetime, tz: ZoneInfo) -> str:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(tz).strftime("%a %-d %b %Y %H:%M")

