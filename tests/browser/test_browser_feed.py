"""The hospital feed in a real headless Chromium: messages, a failure and a replay, and where
each appointment came from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import redis
from playwright.sync_api import Page, expect

from tests.support.feed import CODES, RunningListener, ack_of, code, siu

if TYPE_CHECKING:
    from tests.support.browser import LiveServer, NurseLogin

pytest_plugins = ["tests.support.browser"]
Shot = Callable[..., object]
SignIn = Callable[[Page, "NurseLogin"], None]
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def hospital(live: LiveServer, r: redis.Redis) -> Iterator[RunningListener]:
    """The MLLP listener on the live app's Redis, instance folder and clock."""
    codes = Path(live.instance) / "feed-codes.yaml"
    codes.write_text(CODES)
    running = RunningListener(r, dict(live.app.config), live.clock).start()
    yield running
    running.stop()
    codes.unlink()


def test_the_feed_page_shows_each_message_and_a_fixed_one_can_be_tried_again(
    page: Page, live: LiveServer, r: redis.Redis, nurse: NurseLogin, sign_in: SignIn,
    hospital: RunningListener, screenshot: Shot,
) -> None:
    now = datetime.now(UTC)
    day = (now + timedelta(days=5)).astimezone(LONDON).replace(hour=10, minute=30, second=0,
                                                               microsecond=0)
    with hospital.client() as c:
        booked = ack_of(c.send_message(siu("S12", "PAS000101", "APT9001", start=day, made=now)))
        unmapped = ack_of(c.send_message(siu("S12", "PAS000102", "APT9002", start=day,
                                             made=now, procedure="XRCHEST", clinic="XR-1")))
        no_time = ack_of(c.send_message(siu("S13", "PAS000103", "APT9001", start=None,
                                            made=now + timedelta(minutes=1))))
    assert [code(booked), code(unmapped), code(no_time)] == ["AA", "AA", "AE"]

    sign_in(page, nurse)
    page.get_by_role("link", name="Hospital feed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hospital feed")
    rows = page.locator("#feed-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Failed (AE)")
    expect(rows.nth(0)).to_contain_text("SCH-11.4")
    expect(page.locator("#unmapped-table")).to_contain_text("procedure XRCHEST / clinic XR-1")
    screenshot(page, "console-feed", full_page=True)

    # The trust adds the chest X-ray code; the ignored booking is tried again.
    codes = Path(live.instance) / "feed-codes.yaml"
    codes.write_text(CODES.replace("procedures:\n", "procedures:\n  XRCHEST: xray\n"))
    page.get_by_role("combobox", name="Show").select_option("problems")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(2)
    rows.filter(has_text="PAS000102").get_by_role("link", name="Details, try again").click()
    expect(page.locator("#feed-message-raw")).to_contain_text("XRCHEST")
    expect(page.locator("#feed-message-raw")).not_to_contain_text("+447700900123")
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("#feed-message-status")).to_contain_text("Applied")
    page.get_by_role("link", name="Its reminders").click()
    expect(page.locator("#appointment-source")).to_contain_text("The hospital's system (HL7")
    expect(page.locator("#appointment-reminders li").first).to_contain_text("Scheduled")

    # The hospital cancels it: every reminder stops, and the page says so.
    with hospital.client() as c:
        cancelled = ack_of(c.send_message(siu("S15", "PAS000104", "APT9002", start=day,
                                              made=now + timedelta(minutes=2), procedure="XRCHEST",
                                              clinic="XR-1", status="Cancelled")))
    assert code(cancelled) == "AA"
    page.reload()
    expect(page.locator("#appointment-status")).to_have_text("Cancelled")
    states = page.locator("#appointment-reminders li")
    for n in range(states.count()):
        expect(states.nth(n)).to_have_attribute("data-status", "cancelled")
