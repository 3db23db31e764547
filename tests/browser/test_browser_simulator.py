"""The phone simulator in a real headless Chromium: texts, the outbox, the keyboard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import redis
from playwright.sync_api import Page, expect

from bot.outbound import queue, transport
from bot.store import records
from tests.support.base import PATIENT

if TYPE_CHECKING:
    from tests.support.browser import LiveServer

pytest_plugins = ["tests.support.browser"]
Shot = Callable[..., object]

TEMPERATURE = "temp 38.5 and shivery"


def send(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def test_a_text_gets_the_bots_reply_with_its_segments(page: Page, live: LiveServer) -> None:
    page.goto("/simulator/")
    send(page, "can i eat before my ct")
    thread = page.get_by_role("log", name="Texts")
    expect(thread.locator(".bubble.you")).to_have_count(1)
    reply = thread.locator(".bubble.reply")
    expect(reply).to_contain_text("Do not eat or drink for at least 4 hours")
    expect(reply.locator(".meta")).to_have_text("2 segments, GSM-7")
    expect(page.get_by_label("Message", exact=True)).to_have_value("")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()


def test_a_red_flag_text_gets_urgent_advice_and_an_alert(
    page: Page, live: LiveServer, r: redis.Redis, screenshot: Shot
) -> None:
    page.goto("/simulator/")
    page.get_by_role("button", name="Send").click()
    # Said beside the message box (the clock has an alert of its own).
    expect(page.locator("#text-form + [role=alert]")).to_have_text("Type a message first.")
    send(page, TEMPERATURE)
    expect(page.locator(".bubble.reply")).to_contain_text("Call the 24-hour number")
    [alert] = records.open_alerts(r)
    assert (alert.number, alert.level) == (PATIENT, "urgent")
    screenshot(page, "simulator-texts")


def test_only_drama_numbers_can_be_used(page: Page, live: LiveServer, r: redis.Redis) -> None:
    page.goto("/simulator/")
    page.get_by_label("Your phone number").fill("999")
    send(page, "hello")
    expect(page.locator("#text-error")).to_contain_text("drama range")
    expect(page.locator(".bubble")).to_have_count(0)
    assert records.history(r, "999") == []


def test_a_text_the_worker_sends_reaches_the_outbox_and_the_phone(
    page: Page, live: LiveServer, r: redis.Redis
) -> None:
    page.goto("/simulator/")
    expect(page.locator("#outbox-summary")).to_have_text("Nothing sent yet.")
    body = "Your bone scan is on Tuesday at 9am. Reply STOP to stop these texts."
    queued = queue.queue_text(r, PATIENT, body, kind="message", now=datetime.now(UTC))
    assert queued is not None
    live.work_until(lambda: bool(transport.outbox(r)))
    sent = page.locator("#outbox li")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text(body)
    expect(sent).to_contain_text(f"To {PATIENT}")
    expect(page.locator("#outbox-summary")).to_have_text("1 text sent.")
    # The phone is this number, so the text arrives on it too.
    expect(page.locator(".bubble.outbound")).to_have_text(f"The line: {body}Sent by the line")


def test_moving_the_clock_a_day_on_sends_tomorrows_reminder_to_the_phone(
    page: Page, live: LiveServer, r: redis.Redis, screenshot: Shot
) -> None:
    from tests.support.reminders import make_reminder

    body = "Your CT scan is on Wednesday at 10am. Reply C to confirm."
    now = datetime.now(UTC)
    make_reminder(r, to=PATIENT, send_at=now + timedelta(hours=20),
                  expires_at=now + timedelta(hours=30), body=body)
    page.goto("/simulator/")
    expect(page.locator("#clock-now")).to_contain_text("(the real time)")
    page.get_by_role("button", name="+1 day").click()
    expect(page.locator("#clock-now")).to_contain_text("1 day ahead of the real time")
    expect(page.locator("#clock-now")).to_contain_text("1 reminder came due")
    live.work_until(lambda: bool(transport.outbox(r)))
    expect(page.locator(".bubble.outbound")).to_have_text(f"The line: {body}Sent by the line")
    screenshot(page, "simulator-clock")
    # A time it cannot read is explained where it was typed.
    page.get_by_label("Move the clock to").fill("next week sometime")
    page.get_by_role("button", name="Move clock").click()
    expect(page.locator("#clock-error")).to_contain_text("+1 hour")
    page.get_by_role("button", name="Real time").click()
    expect(page.locator("#clock-now")).to_contain_text("(the real time)")
