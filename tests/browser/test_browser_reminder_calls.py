"""Reminder calls in a real headless Chromium: the simulator's phone rings, a person answers
and confirms, and the nurse console shows it and can switch a patient to calls."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import redis
from playwright.sync_api import Page, expect

from bot.outbound.appointments import Appointment, Patient
from tests.support.base import must
from tests.support.calls import call_appointment, landline, now

if TYPE_CHECKING:
    from tests.support.browser import LiveServer, NurseLogin

pytest_plugins = ["tests.support.browser"]
Shot = Callable[..., object]
SignIn = Callable[[Page, "NurseLogin"], None]


def test_a_reminder_call_rings_the_simulator_and_the_console_shows_the_outcome(
    page: Page, live: LiveServer, r: redis.Redis, nurse: NurseLogin, sign_in: SignIn,
    screenshot: Shot,
) -> None:
    number = landline(77)
    appt, _ = call_appointment(r, to=number, at=now() + timedelta(days=2),
                               send_at=now() - timedelta(seconds=1), name="Ann")
    live.run_worker()

    page.goto("/simulator/")
    ringing = page.locator("#ringing li")
    expect(ringing).to_contain_text(f"The line is calling {number}.")
    ringing.get_by_role("button", name="Answer", exact=True).click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("recorded call from your hospital team")
    expect(transcript).not_to_contain_text("CT scan")
    page.locator('.key[data-key="1"]').click()
    expect(transcript).to_contain_text("Your CT scan is on")
    screenshot(page, "simulator-reminder-call")
    page.locator('.key[data-key="1"]').click()
    expect(transcript).to_contain_text("is confirmed")
    expect(page.locator("#call-status")).to_contain_text("Call ended")
    assert must(Appointment.fetch(r, appt.id)).status == "confirmed"

    sign_in(page, nurse)
    page.goto("/console/patients?number=01632960077")
    expect(page.locator("#channel-state")).to_contain_text("phone call")
    expect(page.get_by_label("Text messages")).to_be_disabled()
    expect(page.locator(".call-outcomes")).to_contain_text("confirmed")
    screenshot(page, "console-patient-calls")

    page.goto("/console/patients?number=07700900123")
    expect(page.locator("#channel-state")).to_contain_text("text message")
    page.get_by_label("Phone calls").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("now go by phone call"))).to_be_visible()
    assert must(Patient.fetch(r, "+447700900123")).channel == "call"
