"""The phone line from the simulator's keypad, in a real headless Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import redis
from playwright.sync_api import Locator, Page, expect

from bot.outbound import transport
from bot.store import records
from tests.support.base import MONDAY_10AM, PATIENT

if TYPE_CHECKING:
    from tests.support.browser import LiveServer

pytest_plugins = ["tests.support.browser"]
Shot = Callable[..., object]


def transcript(page: Page) -> Locator:
    return page.get_by_role("log", name="What the line says")


def key(page: Page, label: str) -> Locator:
    return page.get_by_role("group", name="Keypad").get_by_role("button", name=label, exact=True)


def ring(page: Page) -> None:
    page.goto("/simulator/")
    page.get_by_role("button", name="Call", exact=True).click()
    expect(transcript(page)).to_contain_text("If you are very unwell, hang up and call 9 9 9.")
    expect(page.get_by_role("status").filter(has_text="On a call")).to_contain_text(
        "press a key or say something"
    )


def test_walking_the_menu_from_the_keypad_and_getting_a_text(
    page: Page, live: LiveServer, r: redis.Redis, screenshot: Shot
) -> None:
    ring(page)
    # Ringing puts the keyboard on the keypad, so keys can be typed as well as clicked.
    expect(key(page, "1")).to_be_focused()
    key(page, "1").click()
    expect(transcript(page)).to_contain_text("For CT scan, press 5.")
    page.keyboard.press("5")
    expect(transcript(page).locator(".you").last).to_have_text("You pressed 5.")
    expect(transcript(page)).to_contain_text("To hear how to get ready, press 2.")
    key(page, "2").click()
    expect(transcript(page)).to_contain_text("To get this as a text message, press 2.")
    screenshot(page, "simulator-call", full_page=True)
    key(page, "2").click()
    expect(transcript(page).locator(".you")).to_have_count(4)
    expect(transcript(page)).to_contain_text("I have sent that to you as a text message.")
    # The text goes through the worker, like every text the line sends.
    live.work_until(lambda: bool(transport.outbox(r)))
    [sent] = transport.outbox(r)
    assert sent["to"] == PATIENT
    expect(page.locator(".bubble.outbound")).to_contain_text(sent["body"])
    expect(page.locator("#outbox li")).to_have_count(1)
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#call-status")).to_have_text("Call ended. You hung up.")
    expect(page.get_by_role("button", name="Call", exact=True)).to_be_enabled()


def test_saying_a_warning_sign_gets_urgent_advice(page: Page, live: LiveServer) -> None:
    ring(page)
    page.get_by_label("Say something").fill("I have a temperature of 39 and I feel shivery")
    page.get_by_role("button", name="Say it").click()
    expect(transcript(page).locator(".you")).to_have_text(
        "You said: I have a temperature of 39 and I feel shivery"
    )
    expect(transcript(page)).to_contain_text("Call the 24-hour number your hospital gave you now")


def test_put_through_to_nobody_then_leaving_a_message(
    page: Page, live: LiveServer, r: redis.Redis
) -> None:
    live.clock.fixed = MONDAY_10AM  # the nurse line is open
    ring(page)
    key(page, "6").click()
    dial = page.locator("#dial")
    expect(dial).to_be_visible()
    expect(dial).to_contain_text("Ringing oncology breast care nurses (+44")
    expect(key(page, "1")).to_be_hidden()
    dial.get_by_role("button", name="No answer").click()
    expect(transcript(page)).to_contain_text("Nobody took the call (no answer).")
    dial.get_by_role("button", name="Busy").click()
    record = page.locator("#record")
    expect(record).to_be_visible()
    expect(record.get_by_role("button", name="Leave a message and press #")).to_be_focused()
    record.get_by_role("button", name="Leave a message and hang up").click()
    expect(page.locator("#call-status")).to_have_text("Call ended. You hung up.")
    [request] = records.open_callbacks(r)
    assert request.number == PATIENT and "/simulator/recordings/RE" in request.recording_url


def test_the_prompts_are_spoken_only_when_sound_is_on(page: Page, live: LiveServer) -> None:
    # Record what would be spoken instead of speaking it (a test machine has no speakers).
    page.add_init_script(
        "window.__spoken = [];"
        "if (window.speechSynthesis) {"
        "  window.speechSynthesis.speak = (u) => window.__spoken.push([u.text, u.lang]);"
        "}"
    )
    ring(page)
    assert page.evaluate("window.__spoken.length") == 0
    page.get_by_label("Speak the prompts aloud").check()
    key(page, "1").click()
    expect(transcript(page)).to_contain_text("For CT scan, press 5.")
    spoken = page.evaluate("window.__spoken")
    assert ["For CT scan, press 5.", "en-GB"] in spoken
