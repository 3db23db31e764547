"""How a patient gets reminders: a nurse sets texts or calls on the patient page, a caller
chooses on the phone line, and the console shows what became of reminder calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.console import audit
from bot.console.campaigns import uploads
from bot.outbound import campaigns
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.texts import Reminder
from bot.store import records
from tests.console.test_console_campaigns import press, preview_of
from tests.support.base import MONDAY_10AM, PATIENT, must
from tests.support.calls import landline
from tests.support.console import add_nurse, page, post_form, signed_in, text
from tests.support.reminders import LONDON
from tests.support.voice import Caller

FIND = "/console/patients?number="


def test_a_nurse_switches_a_mobile_to_reminder_calls(nurse: FlaskClient, r: redis.Redis
                                                     ) -> None:
    before = text(page(nurse, FIND + "07700900123"))
    assert "Reminders go by text message" in before

    done = post_form(nurse, FIND + "07700900123", "/console/patients/channel",
                     {"number": PATIENT, "channel": "call"}, follow_redirects=True)

    assert "Reminders for this number now go by phone call" in text(done.get_data(as_text=True))
    assert "Reminders go by phone call" in text(done.get_data(as_text=True))
    assert must(Patient.fetch(r, PATIENT)).channel == "call"
    assert "reminder_channel" in [e.action for e in audit.entries(r, 0, 5)]


def test_a_landline_cannot_be_switched_to_texts(nurse: FlaskClient, r: redis.Redis) -> None:
    number = landline(44)
    shown = text(page(nurse, FIND + "01632960044"))
    assert "Reminders go by phone call (this number is not a mobile" in shown

    done = post_form(nurse, FIND + "01632960044", "/console/patients/channel",
                     {"number": number, "channel": "sms"}, follow_redirects=True)

    assert "cannot get texts" in text(done.get_data(as_text=True))
    assert Patient.fetch(r, number) is None


def test_the_patient_page_lists_reminder_call_outcomes(nurse: FlaskClient, r: redis.Redis
                                                       ) -> None:
    number = landline(45)
    at = MONDAY_10AM.isoformat()
    records.log_message(r, number,
                        {"at": at, "direction": "out", "channel": "voice", "text": "(call)",
                         "event": "reminder call placed (attempt 1)"},
                        {"at": at, "direction": "out", "channel": "voice", "text": "Hello",
                         "event": "reminder call: answering machine"},
                        {"at": at, "direction": "out", "channel": "voice", "text": "Thanks",
                         "event": "reminder call: confirmed"})
    shown = text(page(nurse, FIND + "01632960045"))
    assert "Reminder calls" in shown
    for outcome in ("call placed (attempt 1)", "answering machine", "confirmed"):
        assert outcome in shown


def test_a_caller_chooses_reminder_calls_on_the_phone_line(app: Flask, r: redis.Redis) -> None:
    caller = Caller(app.test_client())
    caller.ring()
    menu = caller.press("8")
    assert "by text message, press 1" in menu.said and "by phone call, press 2" in menu.said
    chosen = caller.press("2")

    assert "We will phone you with your appointment reminders" in chosen.said
    assert must(Patient.fetch(r, PATIENT)).channel == "call"
    caller.press("8")
    caller.press("1")
    assert must(Patient.fetch(r, PATIENT)).channel == "sms"


def test_the_preview_shows_a_landlines_call_words_and_an_estimated_cost(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    csv = ("phone,test,appointment,location,name\n"
           "07700 900101,CT scan,2026-11-30 09:30,Imaging Dept,Ann\n"
           "01632 960101,PET-CT,2026-11-30 11:00,Imaging Dept,Bob\n")
    html = page(nurse, preview_of(nurse, csv))
    words = text(html)

    assert "Your CT scan is on Mon 30 Nov at 9.30am" in words  # the mobile's text
    assert "phone call (not a mobile)" in words
    assert "It is for Bob, about an appointment." in words
    assert "Your PET-CT scan is on Monday 30 November at 11am at Imaging Dept." in words
    assert "press 2" in words and "estimated cost £0.02 if answered (an estimate)" in words
    # CALL_PRICE_PER_MINUTE is not set here: the price is said to be a placeholder.
    assert "at a placeholder price" in words
    assert "placeholder price of £0.02 a minute, not your account's rate" in words


def test_an_upload_plans_and_schedules_a_landlines_calls_in_the_deployments_calling_hours(
    make_app: Callable[..., Flask], r: redis.Redis
) -> None:
    add_nurse(r)
    nurse = signed_in(make_app(CALL_HOURS="14:00-15:30", CALL_PRICE_PER_MINUTE="0.07"))
    csv = ("phone,test,appointment,location,name\n"
           "01632 960101,PET-CT,2026-11-30 11:00,Imaging Dept,Bob\n")
    path = preview_of(nurse, csv)
    token = path.rstrip("/").rsplit("/", 1)[-1]
    [row] = uploads.rows(r, token, 0, 10)
    assert row["channel"] == "call" and row["reminders"]
    planned = [datetime.fromisoformat(x["send_at"]).astimezone(LONDON)
               for x in row["reminders"]]
    assert all(time(14) <= at.time() <= time(15, 30) for at in planned), planned
    shown = text(page(nurse, path))
    assert "estimated cost £0.07" in shown  # a minute at the set price, which is no placeholder
    assert "placeholder" not in shown

    assert press(nurse, path, "confirm-form").status_code == 302
    [made] = campaigns.all_campaigns(r)
    sends = [x.send_at_dt.astimezone(LONDON) for x in
             Reminder.fetch_many(r, [str(k).removeprefix("reminder:")
                                     for k in r.scan_iter("reminder:*")])]
    assert made.reminders == len(planned) and sorted(sends) == sorted(planned)


def test_moving_a_landlines_appointment_replans_its_calls_in_calling_hours(
    make_app: Callable[..., Flask], r: redis.Redis
) -> None:
    add_nurse(r)
    nurse = signed_in(make_app(CALL_HOURS="14:00-15:30"))
    csv = ("phone,test,appointment,location,name\n"
           "01632 960101,PET-CT,2026-11-30 11:00,Imaging Dept,Bob\n")
    assert press(nurse, preview_of(nurse, csv), "confirm-form").status_code == 302
    [made] = campaigns.all_campaigns(r)
    [appt_id] = made.appointment_ids(r)
    path = f"/console/campaigns/{made.id}/appointments/{appt_id}"

    response = press(nurse, path, "reschedule-form", {
        "reschedule-date": "2026-12-07", "reschedule-time": "11:45"})
    assert response.status_code == 302
    moved = must(Appointment.fetch(r, appt_id))
    new = Reminder.fetch_many(r, moved.reminder_ids)
    assert moved.version == 2 and new
    assert all(time(14) <= x.send_at_dt.astimezone(LONDON).time() <= time(15, 30)
               for x in new), [x.send_at for x in new]
