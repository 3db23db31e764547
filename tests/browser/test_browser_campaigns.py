"""Reminder campaigns in a real headless Chromium: import, preview, schedule, and the outbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import redis
from playwright.sync_api import FilePayload, Page, expect

from bot.outbound import campaigns, transport
from tests.support.base import PATIENT, must

if TYPE_CHECKING:
    from tests.support.browser import LiveServer, NurseLogin

pytest_plugins = ["tests.support.browser"]
Shot = Callable[..., object]
SignIn = Callable[[Page, "NurseLogin"], None]

LONDON = ZoneInfo("Europe/London")
OTHER = "07700 900456"
LATE = "The clinic runs 30 minutes late today. Please come at your usual time."


def local(at: datetime) -> str:
    """An appointment time as a nurse types it in the file (clinic time)."""
    return at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")


def csv_file(name: str, lines: list[str]) -> FilePayload:
    body = "\n".join(["phone,test,appointment,location,name", *lines]) + "\n"
    return {"name": name, "mimeType": "text/csv", "buffer": body.encode()}


def upload(page: Page, name: str, file: FilePayload) -> None:
    form = page.get_by_role("form", name="From a spreadsheet")
    form.get_by_label("Campaign name").fill(name)
    form.get_by_label("CSV file").set_input_files(file)
    form.get_by_role("button", name="Upload and check").click()


def test_import_a_campaign_preview_schedule_and_watch_a_reminder_go_out(
    page: Page, live: LiveServer, r: redis.Redis, nurse: NurseLogin, sign_in: SignIn,
    screenshot: Shot,
) -> None:
    # The worker runs on the real clock, so the appointments are planned from it: one in a
    # few hours, whose day-before reminder is late but still useful and goes at once, and
    # one in four days, whose first reminder is tomorrow at the earliest.
    now = datetime.now(UTC)
    soon = (now + timedelta(hours=5)).replace(second=0, microsecond=0)
    later = (now + timedelta(days=4)).astimezone(LONDON).replace(
        hour=10, minute=30, second=0, microsecond=0
    )
    good_rows = [
        f"{PATIENT},blood test,{local(soon)},Outpatients Level 1,Jo",
        f"{OTHER},CT,{local(later)},X-ray Dept Level 2,",
    ]

    sign_in(page, nurse)
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()

    # A file with two bad rows: both reported by line, nothing imported.
    upload(page, "Bloods and scans", csv_file("bad.csv", [
        good_rows[0],
        f"07700 90012,CT,{local(later)},X-ray Dept,",
        f"{OTHER},colonoscopy,{local(later)},X-ray Dept,",
    ]))
    summary = page.get_by_role("alert").filter(has_text="Nothing was scheduled")
    expect(summary).to_contain_text("2 rows have a problem")
    expect(summary).to_contain_text("The other 1 row is fine.")
    bad = page.locator("#bad-rows tbody tr")
    expect(bad).to_have_count(2)
    expect(bad.nth(0).locator("th")).to_have_text("3")
    expect(bad.nth(1).locator("th")).to_have_text("4")
    expect(bad.nth(1)).to_contain_text("colonoscopy")
    expect(page.get_by_role("button", name=re.compile("^Schedule"))).to_have_count(0)
    assert campaigns.all_campaigns(r) == []
    assert not r.keys("reminder:*")

    # The corrected file: every text previewed with its time and cost before anything goes.
    page.get_by_role("link", name="Upload a corrected file").click()
    upload(page, "Bloods and scans", csv_file("good.csv", good_rows))
    expect(page.get_by_role("heading", level=1)).to_contain_text("before it is scheduled")
    expect(page.locator("#summary-patients")).to_have_text("2")
    expect(page.locator("#summary-appointments")).to_have_text("2")
    texts = page.locator("#preview-list .planned-text")
    count = texts.count()
    assert count >= 2
    expect(page.locator("#summary-reminders")).to_have_text(str(count))
    segments = sum(
        int(must(re.search(r"(\d) segments? \(GSM-7\)", t)).group(1))
        for t in texts.all_inner_texts()
    )
    expect(page.locator("#summary-segments")).to_have_text(f"{segments} SMS segments")
    first = page.locator("#preview-line-2 .planned-text").first
    expect(first).to_contain_text("sent now: its moment had passed")
    expect(first.locator("blockquote")).to_contain_text("Appointment reminder")
    expect(first.locator("blockquote")).to_contain_text("Outpatients Level 1")
    assert campaigns.all_campaigns(r) == []  # a preview schedules nothing
    screenshot(page, "console-campaign-preview", full_page=True)

    page.get_by_role("button", name=f"Schedule {count} texts").click()
    expect(page.locator("#campaign-name")).to_have_text("Bloods and scans")
    expect(page.locator("#campaign-status")).to_have_text("Active")
    expect(page.locator("#campaign-reminders")).to_contain_text(f"{count} ({segments} segments)")
    [campaign] = campaigns.all_campaigns(r)

    # The worker sends the one that is due; the others wait for their moments.
    live.work_until(lambda: any(m["to"] == PATIENT for m in transport.outbox(r)))
    [sent] = transport.outbox(r)
    assert sent["to"] == PATIENT
    assert sent["body"].startswith("Appointment reminder\n")  # says nothing on a lock screen
    page.reload()
    expect(page.locator('#status-counts li[data-status="sent"]')).to_have_text("1 sent")
    expect(page.locator('#status-counts li[data-status="scheduled"]')).to_have_text(
        f"{count - 1} scheduled"
    )
    screenshot(page, "console-campaign", full_page=True)

    # The reminder is in the simulator's outbox, and on the phone it was sent to.
    page.goto("/simulator/")
    outbox = page.locator("#outbox li")
    expect(outbox).to_have_count(1)
    expect(outbox).to_contain_text(f"To {PATIENT}")
    expect(outbox).to_contain_text("Appointment reminder")
    expect(outbox).to_contain_text("Hello Jo.")
    expect(page.locator(".bubble.outbound")).to_contain_text("Outpatients Level 1")
    assert campaign.status == "active"


def test_a_large_file_shows_a_progress_bar_and_is_scheduled_in_the_background(
    page: Page, live: LiveServer, r: redis.Redis, nurse: NurseLogin, sign_in: SignIn,
) -> None:
    day = (datetime.now(UTC) + timedelta(days=5)).astimezone(LONDON)
    rows = [
        f"+447700900{n:03d},bloods,{day:%Y-%m-%d} {9 + n % 8:02d}:{(n * 5) % 60:02d},Ward 3,"
        for n in range(100, 500)
    ]
    sign_in(page, nurse)
    page.goto("/console/campaigns/new")
    # More lines than are checked inside the request: the work goes to a background thread
    # and the nurse is shown a progress page that moves on by itself.
    with page.expect_response(re.compile(r"/console/campaigns/tasks/[^/?]+$")) as task_page:
        upload(page, "Ward 3 bloods", csv_file("ward3.csv", rows))
    assert "<progress" in task_page.value.text()
    expect(page.locator("#summary-appointments")).to_have_text("400")
    expect(page.locator("#summary-patients")).to_have_text("400")
    with page.expect_response(re.compile(r"/console/campaigns/tasks/[^/?]+$")) as task_page:
        page.get_by_role("button", name=re.compile(r"^Schedule \d+ texts$")).click()
    assert "<progress" in task_page.value.text()
    expect(page.locator("#campaign-name")).to_have_text("Ward 3 bloods")
    expect(page.locator("#campaign-patients")).to_have_text("400")
    [campaign] = campaigns.all_campaigns(r)
    assert campaign.patients == 400


def test_one_patient_then_a_message_to_everyone_with_its_cost_as_it_is_written(
    page: Page, live: LiveServer, r: redis.Redis, nurse: NurseLogin, sign_in: SignIn,
) -> None:
    day = (datetime.now(UTC) + timedelta(days=6)).astimezone(LONDON)
    sign_in(page, nurse)
    page.goto("/console/campaigns/new")
    form = page.get_by_role("form", name="For one patient")
    form.get_by_label("Mobile number").fill("07700 900123")
    form.get_by_label("Test").select_option("mri_scan")
    form.get_by_label("Date").fill(f"{day:%Y-%m-%d}")
    form.get_by_label("Time").fill("14:15")
    form.get_by_label("Place (optional)").fill("Scanner 2")
    form.get_by_role("button", name="Check the reminders").click()
    expect(page.locator("#summary-patients")).to_have_text("1")
    page.get_by_role("button", name=re.compile(r"^Schedule \d+ texts?$")).click()
    expect(page.locator("#campaign-status")).to_have_text("Active")

    page.get_by_role("link", name="Text everyone").click()
    box = page.get_by_label("Message", exact=True)
    cost = page.locator("#message-form p[aria-live=polite]")
    box.fill(LATE)
    expect(cost).to_have_text(f"{len(LATE)} characters: 1 segment per patient.")
    box.press_sequentially(" It\u2019s fine")  # a curly apostrophe, as phones type it
    expect(cost).to_contain_text("These characters make every segment shorter")
    box.fill(LATE + " " + LATE)
    expect(cost).to_have_text(f"{len(LATE) * 2 + 1} characters: 1 segment per patient.")
    box.fill(LATE * 3)
    expect(cost).to_have_text(f"{len(LATE) * 3} characters: 2 segments per patient.")
    box.fill(LATE)
    page.get_by_role("button", name="Send now to 1 patient").click()
    expect(page.get_by_text("The message is on its way to 1 patient")).to_be_visible()

    live.work_until(lambda: bool(transport.outbox(r)))
    [sent] = transport.outbox(r)
    assert sent["to"] == PATIENT
    assert LATE in sent["body"]


def test_the_preview_warns_when_the_line_cannot_send_a_campaign_in_time(
    page: Page, live: LiveServer, r: redis.Redis, nurse: NurseLogin, sign_in: SignIn,
) -> None:
    # One text a minute, and ten blood tests in a little over two hours: each one's last
    # useful moment (two hours before) leaves about six minutes, room for about six texts.
    soon = (datetime.now(UTC) + timedelta(hours=2, minutes=6)).replace(second=0, microsecond=0)
    rows = [f"+4477009002{n:02d},blood test,{local(soon)},Outpatients," for n in range(10)]
    before = live.app.config.get("SMS_PER_SECOND")
    live.app.config["SMS_PER_SECOND"] = str(1 / 60)
    try:
        sign_in(page, nurse)
        page.goto("/console/campaigns/new")
        upload(page, "Bloods this afternoon", csv_file("bloods.csv", rows))
        warning = page.locator("#capacity-warning")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("cannot go out in time")
        expect(warning).to_contain_text("The line sends at most 1 text a minute")
        spread = page.locator("#capacity-spread")
        expect(spread).to_have_attribute("open", "")
        expect(spread.locator("#spread-hours tbody tr").first).to_be_visible()
        # The nurse still chooses: nothing is scheduled until Schedule is pressed.
        expect(page.get_by_role("button", name="Schedule 10 texts")).to_be_visible()
        assert campaigns.all_campaigns(r) == []
    finally:
        live.app.config["SMS_PER_SECOND"] = before
