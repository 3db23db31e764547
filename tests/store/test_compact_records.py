"""Records stored compactly (short field names, epoch times) read back as they were written,
and records written before in the long form still load."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import redis

from bot.outbound.appointments import Appointment, Patient, for_patient
from bot.outbound.texts import Reminder
from bot.store import keys, records
from bot.store.hashes import pack_time, unpack_time
from tests.support.base import PATIENT

AT = "2026-11-25T10:00:00+00:00"


def test_times_round_trip_to_the_microsecond_and_a_naive_one_is_left_for_its_reader() -> None:
    exact = "2026-11-25T10:00:00.000001+00:00"
    assert unpack_time(pack_time(exact)) == exact
    half = "2026-11-25T10:00:00.5+00:00"
    assert unpack_time(pack_time(half)) == "2026-11-25T10:00:00.500000+00:00"
    assert unpack_time(pack_time("2026-11-25T10:00:00+00:00")) == AT
    local = datetime(2026, 6, 1, 9, 30, tzinfo=UTC).astimezone().isoformat()
    assert datetime.fromisoformat(unpack_time(pack_time(local))) == datetime.fromisoformat(local)
    assert pack_time("2026-11-25T10:00:00") == "2026-11-25T10:00:00"
    assert unpack_time("2026-11-25T10:00:00") == "2026-11-25T10:00:00"


def _reminder() -> Reminder:
    return Reminder(id="abc123abc123-2-1", to=PATIENT, body="", kind="ct_scan:day_before",
                    send_at="2026-11-24T18:00:00.250000+00:00",
                    expires_at="2026-11-25T06:00:00+00:00",
                    status="sent", sid="SM" + "1" * 32, attempts=1, appointment="abc123abc123",
                    campaign="c1", version=2, created_at="2026-11-20T09:00:00+00:00",
                    sent_at="2026-11-24T18:00:01+00:00")


def test_a_reminder_reads_back_as_saved_with_neither_its_id_nor_long_names_stored(
    r: redis.Redis,
) -> None:
    rem = _reminder()
    rem.save(r)
    stored = r.hgetall(rem.key)
    assert "id" not in stored and "send_at" not in stored and "expires_at" not in stored
    assert Reminder.fetch(r, rem.id) == rem
    assert Reminder.fetch_many(r, [rem.id, "gone"]) == [rem]


def test_records_written_in_the_long_form_before_still_load(r: redis.Redis) -> None:
    rem = _reminder()
    r.hset(rem.key, mapping={k: v for k, v in rem.to_dict().items() if v not in ("", None)})
    assert Reminder.fetch(r, rem.id) == rem

    appt = Appointment(id="abc123abc123", patient=PATIENT, test="ct_scan", at=AT,
                       location="Imaging", version=2,
                       reminders="abc123abc123-2-1,abc123abc123-2-2", created_at=AT)
    r.hset(appt.key, mapping={k: v for k, v in appt.to_dict().items() if v not in ("", None)})
    r.sadd(Patient.appointments_key(PATIENT), appt.id)  # the index as it was kept before
    assert Appointment.fetch(r, appt.id) == appt
    assert for_patient(r, PATIENT) == [appt]


def test_an_appointment_keeps_its_plans_reminders_as_a_count_and_others_as_ids(
    r: redis.Redis,
) -> None:
    planned = Appointment(id="abc123abc123", patient=PATIENT, test="ct_scan", at=AT, version=3,
                          reminders="abc123abc123-3-1,abc123abc123-3-2,abc123abc123-3-3")
    planned.save(r)
    assert r.hget(planned.key, Appointment.field("reminders")) == "3"
    assert Appointment.fetch(r, planned.id) == planned

    other = Appointment(id="def456def456", patient=PATIENT, test="ct_scan", at=AT,
                        reminders="def456def456-1-2,someone-else")
    other.save(r)
    assert Appointment.fetch(r, other.id) == other


def test_history_reads_back_entries_of_both_forms(r: redis.Redis) -> None:
    r.rpush(keys.history(PATIENT), json.dumps(
        {"at": AT, "direction": "in", "channel": "sms", "text": "hello", "sid": "SM1"}))
    records.log_message(
        r, PATIENT,
        {"at": "2026-11-25T10:00:05.123456+00:00", "direction": "out", "channel": "sms",
         "text": "Appointment reminder", "kind": "ct_scan:fasting", "topic": ""},
        {"at": AT, "direction": "in", "channel": "voice", "text": "(phone call)", "sid": "CA1"},
    )
    assert records.history(r, PATIENT) == [
        {"at": AT, "direction": "in", "channel": "sms", "text": "hello", "sid": "SM1"},
        {"at": "2026-11-25T10:00:05+00:00", "direction": "out", "channel": "sms",
         "text": "Appointment reminder", "kind": "ct_scan:fasting"},
        {"at": AT, "direction": "in", "channel": "voice", "text": "(phone call)", "sid": "CA1"},
    ]
