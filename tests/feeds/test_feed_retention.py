"""Retention reaches the hospital feed: old bookings of its never-ending campaign, and the
messages the hospital sent, go after RETENTION_DAYS; newer ones stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import redis

from bot.feeds import bookings, hl7feed, messages
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.texts import Reminder
from bot.store import retention
from tests.support.base import MONDAY_10AM
from tests.support.feed import LONDON, feed_settings, siu


def book(r: redis.Redis, settings: dict[str, str], control: str, hospital_id: str,
         days_ahead: int, number: str) -> Appointment:
    start = (MONDAY_10AM + timedelta(days=days_ahead)).astimezone(LONDON).replace(hour=10)
    reply = hl7feed.handle(r, bookings.current(settings), str(
        siu("S12", control, hospital_id, start=start, made=MONDAY_10AM, mobile=number)),
        MONDAY_10AM)
    assert "MSA|AA|" in reply
    found = Appointment.fetch(r, bookings.tracked(r, "hl7", hospital_id)["appointment"])
    assert found is not None
    return found


def test_old_feed_bookings_and_messages_go_and_newer_ones_stay(
    r: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    settings = feed_settings(redis_url, tmp_path / "instance")
    old = book(r, settings, "MSG0100", "APT2100", 9, "+447700900201")
    new = book(r, settings, "MSG0101", "APT2101", 300, "+447700900202")
    later = MONDAY_10AM + timedelta(days=9 + 401)

    assert retention.purge(r, later, 400, dry_run=True).feed_messages == 2
    report = retention.purge(r, later, 400)

    assert (report.appointments, report.patients, report.feed_messages) == (1, 1, 2)
    assert Appointment.fetch(r, old.id) is None
    assert Reminder.fetch_many(r, old.reminder_ids) == []
    assert not r.exists(Patient.key_for("+447700900201"))
    assert bookings.tracked(r, "hl7", "APT2100") == {}
    assert Appointment.fetch(r, new.id) is not None
    assert r.lrange("campaign:feed:appointments", 0, -1) == [new.id]
    assert messages.recent(r) == []


def test_anonymising_keeps_the_feed_records_without_the_hospital_text(
    r: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    settings = feed_settings(redis_url, tmp_path / "instance")
    old = book(r, settings, "MSG0102", "APT2102", 9, "+447700900203")
    retention.purge(r, MONDAY_10AM + timedelta(days=9 + 401), 400, anonymise=True)
    [kept] = messages.recent(r)
    assert kept.raw == retention.REMOVED and "TESTPATIENT" not in str(r.hgetall(kept.key))
    stored = Appointment.fetch(r, old.id)
    assert stored is not None and stored.patient != "+447700900203"
