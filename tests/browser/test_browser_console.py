"""The nurse console in a real headless Chromium, fed by the simulator's texts and calls."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import redis
from playwright.sync_api import BrowserContext, Page, expect

from bot.store import records
from tests.support.base import MONDAY_10AM, PATIENT

if TYPE_CHECKING:
    from tests.support.browser import LiveServer, NurseLogin

pytest_plugins = ["tests.support.browser"]
Shot = Callable[..., object]
SignIn = Callable[[Page, "NurseLogin"], None]

TEMPERATURE = "temp 38.5 and shivery"
POLL_MS = 15_000  # how often the Today page asks for new alerts (console.js)


def text_from_simulator(page: Page, body: str) -> None:
    page.goto("/simulator/")
    page.get_by_label("Message", exact=True).fill(body)
    page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator(".bubble.reply").last).to_be_visible()


def test_signing_in_and_out(page: Page, live: LiveServer, nurse: NurseLogin,
                            screenshot: Shot) -> None:
    page.goto("/console/today")
    expect(page).to_have_url(re.compile(r"/console/login"))
    screenshot(page, "console-login")
    page.get_by_label("Email").fill(nurse.email)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("The email or password is wrong.")).to_be_visible()
    page.get_by_label("Password").fill(nurse.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/today$"))
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/console/today")
    expect(page).to_have_url(re.compile(r"/console/login"))


def test_an_alert_from_a_simulated_text_appears_and_is_acknowledged(
    context: BrowserContext, live: LiveServer, r: redis.Redis, nurse: NurseLogin,
    sign_in: SignIn, screenshot: Shot,
) -> None:
    console = context.new_page()
    console.clock.install()  # the page polls every 15 s: move its clock on instead of waiting
    sign_in(console, nurse)
    expect(console.get_by_text("No open alerts.")).to_be_visible()

    phone = context.new_page()
    text_from_simulator(phone, TEMPERATURE)
    expect(phone.locator(".bubble.reply")).to_contain_text("Call the 24-hour number")

    console.bring_to_front()
    console.clock.run_for(POLL_MS + 1000)
    alerts = console.locator("#alerts-list > li")
    expect(alerts).to_have_count(1)  # no reload: the page fetched it
    alert = alerts.first
    expect(alert).to_contain_text(TEMPERATURE)
    expect(alert).to_contain_text("A text message")
    expect(alert).not_to_contain_text(PATIENT)  # masked until a nurse asks
    expect(console.locator("#updates-live")).to_have_text("1 new alert.")
    screenshot(console, "console-today")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(console.locator("#alerts-list > li").first).to_contain_text(
        f"Acknowledged by {nurse.email}"
    )
    [stored] = records.open_alerts(r)
    assert stored.status == "acknowledged" and stored.acknowledged_by == nurse.email


def test_a_voicemail_left_from_the_keypad_reaches_the_call_back_queue(
    context: BrowserContext, live: LiveServer, r: redis.Redis, nurse: NurseLogin,
    sign_in: SignIn,
) -> None:
    live.clock.fixed = MONDAY_10AM  # the nurse line is open, so the call goes to voicemail
    phone = context.new_page()
    phone.goto("/simulator/")
    phone.get_by_role("button", name="Call", exact=True).click()
    phone.get_by_role("group", name="Keypad").get_by_role("button", name="6").click()
    phone.get_by_role("button", name="No answer").click()
    phone.get_by_role("button", name="No answer").click()
    phone.get_by_role("button", name="Leave a message and hang up").click()
    expect(phone.locator("#call-status")).to_have_text("Call ended. You hung up.")

    console = context.new_page()
    sign_in(console, nurse)
    callbacks = console.locator("#callbacks-list > li")
    expect(callbacks).to_have_count(1)
    expect(callbacks.first).to_contain_text("Left a voicemail on the phone line")
    expect(callbacks.first).to_contain_text("A phone call")
    audio = callbacks.first.locator("audio")
    src = audio.get_attribute("src")
    assert src and "/simulator/recordings/RE" in src
    # The recording the nurse would play is served, and is audio the browser can decode.
    duration = console.evaluate(
        """async (src) => {
             const bytes = await (await fetch(src)).arrayBuffer();
             const ctx = new OfflineAudioContext(1, 8000, 8000);
             return (await ctx.decodeAudioData(bytes)).duration;
           }""",
        src,
    )
    assert duration > 0.5
    [request] = records.open_callbacks(r)
    assert request.number == PATIENT


def test_the_patient_history_shows_texts_and_calls(
    context: BrowserContext, live: LiveServer, nurse: NurseLogin, sign_in: SignIn,
    screenshot: Shot,
) -> None:
    phone = context.new_page()
    text_from_simulator(phone, "can i eat before my ct")
    phone.get_by_role("button", name="Call", exact=True).click()
    phone.get_by_role("group", name="Keypad").get_by_role("button", name="1").click()
    expect(phone.get_by_role("log", name="What the line says")).to_contain_text("CT scan")
    phone.get_by_role("button", name="Hang up").click()
    screenshot(phone, "simulator", full_page=True)

    console = context.new_page()
    sign_in(console, nurse)
    console.get_by_role("link", name="Patients").click()
    console.get_by_label("Phone number").fill("07700 900123")
    console.get_by_label("Phone number").press("Enter")
    history = console.locator("ol.history")
    expect(history).to_contain_text("can i eat before my ct")
    expect(history).to_contain_text("Do not eat or drink for at least 4 hours")
    expect(history).to_contain_text("pressed 1")
    expect(history).to_contain_text("Call · from the patient")
    screenshot(console, "console-patient")
    for section, name in (("Content", "console-content"), ("Numbers", "console-numbers")):
        console.get_by_role("link", name=section, exact=True).click()
        expect(console.get_by_role("heading", level=1)).to_be_visible()
        screenshot(console, name)


def test_content_review_shows_real_numbers_and_the_hours_still_to_confirm(
    page: Page, live: LiveServer, nurse: NurseLogin, sign_in: SignIn,
) -> None:
    sign_in(page, nurse)
    # Patients are told the shipped nurse hours until NURSE_HOURS is set: every page says so.
    expect(page.locator("#placeholder-hours")).to_contain_text("Monday to Friday, 9am to 5pm")
    page.get_by_role("link", name="Content", exact=True).click()
    main = page.locator("main")
    expect(main).to_contain_text("0808 808 00 00")  # Macmillan's own number
    expect(main).not_to_contain_text("0191 000 0000")
    expect(page.locator("#placeholder-hours")).to_be_visible()
