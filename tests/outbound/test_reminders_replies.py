"""Replies to a reminder through the signed /sms webhook: C or YES, R, STOP, or a worry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis
from flask import Flask

from bot import config
from bot.dev.localclient import LocalPhone
from bot.outbound import appointments, scheduling
from bot.outbound.appointments import Appointment
from bot.outbound.texts import Reminder
from bot.outbound.transport import OutboxTransport, TwilioTransport, outbox
from bot.store import records
from tests.support.base import PATIENT, PUBLIC_BASE_URL, TOKEN, Clock
from tests.support.reminders import LONDON, book, drama, fetch
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandin
from workers.send import AWAITING_GRACE, deliver

# Booked on Monday 23 November 2026 for an MRI on Friday 27 November at 10:00 (GMT).
BOOKED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MRI_AT = datetime(2026, 11, 27, 10, 0, tzinfo=LONDON)


@pytest.fixture
def booked(r: redis.Redis) -> tuple[Appointment, list[Reminder]]:
    return book(r, to=PATIENT, test="mri_scan", at=MRI_AT, now=BOOKED)


@pytest.fixture
def reminded(
    r: redis.Redis, clock: Clock, booked: tuple[Appointment, list[Reminder]]
) -> tuple[Appointment, list[Reminder]]:
    """The first reminder has just gone, through the send job, into the outbox."""
    appt, rems = booked
    clock.now = rems[0].send_at_dt
    assert deliver(r, rems[0].id, 1, OutboxTransport(r), clock.now) == "sent"
    [message] = outbox(r)
    assert message["to"] == PATIENT and "Fri 27 Nov at 10am" in message["body"]
    return appt, rems


def status(r: redis.Redis, appt: Appointment) -> str:
    stored = Appointment.fetch(r, appt.id)
    assert stored is not None
    return stored.status


@pytest.mark.parametrize("reply", ["C", "yes", " Yes ", "c."])
def test_c_or_yes_confirms_the_appointment(
    r: redis.Redis, phone: LocalPhone, clock: Clock,
    reminded: tuple[Appointment, list[Reminder]], reply: str,
) -> None:
    appt, _ = reminded

    [answer] = phone.send(reply)

    assert "confirmed" in answer and "Fri 27 Nov at 10am" in answer
    stored = Appointment.fetch(r, appt.id)
    assert stored is not None
    assert (stored.status, stored.replied_at) == ("confirmed", clock.now.isoformat())
    assert records.open_callbacks(r) == []


def test_r_asks_the_nurses_to_call_and_marks_the_appointment(
    r: redis.Redis, phone: LocalPhone, reminded: tuple[Appointment, list[Reminder]]
) -> None:
    appt, _ = reminded

    [answer] = phone.send("R")

    assert "call you" in answer and "new time" in answer
    assert status(r, appt) == "rearrange"
    [callback] = records.open_callbacks(r)
    assert callback.number == PATIENT
    assert "rearrange" in callback.reason.lower() and "MRI" in callback.reason


def test_stop_opts_out_and_the_later_reminders_are_skipped(
    r: redis.Redis, phone: LocalPhone, clock: Clock,
    reminded: tuple[Appointment, list[Reminder]],
) -> None:
    appt, rems = reminded
    assert len(rems) > 1

    assert phone.send("STOP") == []  # Twilio itself confirms an opt-out

    assert records.is_opted_out(r, PATIENT)
    assert status(r, appt) == "booked"
    for later in rems[1:]:  # off the scheduler at once, so the nurses' lists say so
        assert fetch(r, later).status == "opted_out"
        assert scheduling.scheduled_at(r, later) is None
    for later in rems[1:]:
        clock.now = later.send_at_dt
        assert deliver(r, later.id, 1, OutboxTransport(r), clock.now) == "opted_out"
        assert fetch(r, later).error == "the patient opted out"
    assert len(outbox(r)) == 1


def test_start_after_stop_brings_back_the_reminders_still_to_come(
    r: redis.Redis, phone: LocalPhone, clock: Clock,
    reminded: tuple[Appointment, list[Reminder]],
) -> None:
    appt, rems = reminded
    phone.send("STOP")
    assert all(fetch(r, x).status == "opted_out" for x in rems[1:])

    assert phone.send("START") == []  # Twilio itself confirms an opt-in

    assert not records.is_opted_out(r, PATIENT)
    again = Appointment.fetch(r, appt.id)
    assert again is not None and again.version == appt.version + 1
    back = Reminder.fetch_many(r, again.reminder_ids)
    assert back and all(x.status == "scheduled" for x in back)
    assert all(scheduling.scheduled_at(r, x) is not None for x in back)
    # What was stopped stays in the history as it was.
    assert all(fetch(r, x).status == "opted_out" for x in rems[1:])
    clock.now = back[0].send_at_dt
    assert deliver(r, back[0].id, again.version, OutboxTransport(r), clock.now) == "sent"


def test_start_plans_a_patient_who_gets_calls_within_calling_hours(
    r: redis.Redis, phone: LocalPhone, clock: Clock
) -> None:
    # A CT's fasting reminder goes at 8.30pm as a text: outside the default calling hours.
    appt, rems = book(r, to=PATIENT, test="ct_scan", at=MRI_AT, now=BOOKED)
    assert any(x.send_at_dt.astimezone(LONDON).hour >= 20 for x in rems)
    clock.now = BOOKED
    phone.send("STOP")
    appointments.set_channel(r, PATIENT, "call")  # the nurse set calls meanwhile

    phone.send("START")

    again = Appointment.fetch(r, appt.id)
    assert again is not None and again.version == appt.version + 1
    back = Reminder.fetch_many(r, again.reminder_ids)
    opens, closes = config.calling({}).hours
    assert back and all(opens <= x.send_at_dt.astimezone(LONDON).time() < closes for x in back)


def test_a_worrying_reply_goes_through_triage_not_the_appointment(
    r: redis.Redis, phone: LocalPhone, reminded: tuple[Appointment, list[Reminder]]
) -> None:
    appt, _ = reminded

    answer = " ".join(phone.send("I have a temperature of 38.5 and feel shivery"))

    [alert] = records.open_alerts(r)
    assert alert.number == PATIENT and alert.level in ("emergency", "urgent")
    assert "Call" in answer
    assert status(r, appt) == "booked"


def test_a_question_after_a_reminder_gets_the_ordinary_text_line(
    r: redis.Redis, phone: LocalPhone, reminded: tuple[Appointment, list[Reminder]]
) -> None:
    appt, _ = reminded

    answer = " ".join(phone.send("can I wear my wedding ring in the mri?"))

    assert "metal" in answer.lower()
    assert status(r, appt) == "booked"
    assert records.open_callbacks(r) == []


def test_c_means_nothing_from_a_number_that_was_not_reminded(
    r: redis.Redis, app: Flask, booked: tuple[Appointment, list[Reminder]]
) -> None:
    appt, _ = booked
    stranger = LocalPhone(app.test_client(), TOKEN, drama(800), PUBLIC_BASE_URL)
    own = LocalPhone(app.test_client(), TOKEN, PATIENT, PUBLIC_BASE_URL)

    stranger.send("C")
    own.send("C")  # booked, but no reminder has gone yet

    assert status(r, appt) == "booked"


def test_replies_are_understood_until_half_a_day_after_the_appointment(
    r: redis.Redis, clock: Clock, reminded: tuple[Appointment, list[Reminder]]
) -> None:
    expected = (MRI_AT + AWAITING_GRACE - clock.now).total_seconds()
    assert abs(r.ttl(f"awaiting:{PATIENT}") - expected) <= 5


def test_a_reminder_sent_through_twilio_also_waits_for_the_reply(
    r: redis.Redis, phone: LocalPhone, clock: Clock,
    booked: tuple[Appointment, list[Reminder]],
) -> None:
    appt, rems = booked
    clock.now = rems[0].send_at_dt
    with TwilioStandin() as standin:
        twilio = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, base_url=standin.base_url)
        assert deliver(r, rems[0].id, 1, twilio, clock.now) == "sent"
        assert len(standin.messages) == 1

    phone.send("yes")

    assert status(r, appt) == "confirmed"
