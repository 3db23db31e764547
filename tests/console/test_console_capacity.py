"""The console's campaign preview shows how texts are spread within the sending capacity,
and warns before anything is scheduled when some cannot go out in time."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.outbound import campaigns
from tests.console.test_console_campaigns import press, scheduled_jobs, upload
from tests.support.base import must
from tests.support.console import add_nurse, page, sign_in, text

# The clock fixture says Monday 23 November 2026, 10:00 in London.
HEADER = "phone,test,appointment,location\n"


def ct_scans(count: int, first: int = 0, when: str = "2026-11-30 09:30") -> str:
    """`count` CT scans at one time: their fasting texts all fall due at 20:30 the night
    before, with half an hour to go before the quiet hours."""
    return HEADER + "".join(f"+447700900{n:03d},CT,{when},Imaging\n"
                            for n in range(first, first + count))


@pytest.fixture
def slow_line(make_app: Callable[..., Flask], r: redis.Redis) -> FlaskClient:
    """A signed-in nurse on a line that sends 6 texts a minute (one number at 0.1 a second)."""
    app = make_app(SMS_PER_SECOND="0.1", QUIET_HOURS="21:00-08:00")
    add_nurse(r)
    client = app.test_client()
    assert sign_in(client).status_code == 302
    return client


def preview(client: FlaskClient, csv_text: str, name: str) -> tuple[str, str]:
    response = upload(client, csv_text, name=name)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location, page(client, response.location)


def test_a_campaign_too_big_for_the_capacity_is_warned_about_before_it_is_scheduled(
    slow_line: FlaskClient, r: redis.Redis
) -> None:
    path, html = preview(slow_line, ct_scans(200), "Too many CT scans")
    words = text(html)

    assert "20 texts cannot go out in time." in words
    assert "The line sends at most 6 texts a minute" in words
    warning = text(must(re.search(
        r'<div class="banner" role="alert" id="capacity-warning">.*?</div>', html, flags=re.S
    )).group(0))
    assert "lines 182, 183," in warning and "201" in warning
    assert "may go late or not at all" in warning
    assert "of 600 texts go a minute or more later than their usual moment" in words
    assert "Fasting reminders go first" in words
    # A fasting text that fits still goes before the quiet hours; the spread shows on it.
    first = text(must(re.search(r'<li id="preview-line-3".*?</li>\s*</ol>', html,
                                flags=re.S)).group(0))
    assert "Fasting · sent Sun 29 Nov 2026, 20:30" in first
    assert "after its usual moment, to share the sending" in words
    assert scheduled_jobs(r) == {}  # nothing until the nurse presses Schedule

    response = press(slow_line, path, "confirm-form")
    assert response.status_code == 302
    [made] = campaigns.all_campaigns(r)
    assert made.reminders == 600


def test_a_second_campaign_goes_in_the_minutes_the_first_left_free(
    slow_line: FlaskClient, r: redis.Redis
) -> None:
    first_path, _ = preview(slow_line, ct_scans(30), "First list")
    assert press(slow_line, first_path, "confirm-form").status_code == 302

    path, html = preview(slow_line, ct_scans(30, first=30), "Second list")
    words = text(html)
    assert "capacity-warning" not in html
    assert "90 of 90 texts go a minute or more later than their usual moment" in words
    hours = text(must(re.search(r'<table class="table" id="spread-hours">.*?</table>', html,
                           flags=re.S)).group(0))
    assert "Sun 29 Nov 2026, 20:00 30 30" in hours  # the second's 30, beside the first's

    assert press(slow_line, path, "confirm-form").status_code == 302
    assert len(campaigns.all_campaigns(r)) == 2
    minutes = Counter(int(at) // 60 for at in scheduled_jobs(r).values())
    assert sum(minutes.values()) == 180 and max(minutes.values()) == 6


def test_while_another_import_is_scheduling_a_confirm_says_so_and_can_be_pressed_again(
    slow_line: FlaskClient, r: redis.Redis
) -> None:
    path, _ = preview(slow_line, ct_scans(3), "Three CT scans")
    held = r.lock("campaigns:planning", timeout=60)
    assert held.acquire(blocking=False)  # another import, scheduling a big file
    try:
        response = press(slow_line, path, "confirm-form")
        words = text(page(slow_line, response.location))
        assert "Another campaign is being scheduled right now" in words
        assert scheduled_jobs(r) == {}
    finally:
        held.release()
    again = press(slow_line, path, "confirm-form")
    assert "/console/campaigns/" in again.location and len(scheduled_jobs(r)) == 9


def test_the_planning_lock_is_kept_for_as_long_as_the_import_takes(r: redis.Redis) -> None:
    # Held three times its time-to-live, it is renewed, never taken by a second import,
    # and let go cleanly at the end.
    with campaigns.planning_lock(r, ttl=0.6):
        time.sleep(1.8)
        with pytest.raises(campaigns.PlanningBusy), campaigns.planning_lock(r, wait=0.1):
            pass
    with campaigns.planning_lock(r, wait=0.1):
        pass
