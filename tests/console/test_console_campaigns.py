"""Campaigns in the nurse console: upload or one patient, preview, schedule, watch, change."""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import redis
from flask import Flask
from flask.testing import FlaskClient
from rq.registry import ScheduledJobRegistry
from werkzeug.test import TestResponse

from bot.console import audit
from bot.console.campaigns import tasks
from bot.console.campaigns.shared import SYNC_LINES
from bot.dev.localclient import LocalPhone
from bot.outbound import appointments, campaigns, scheduling
from bot.outbound.appointments import Appointment
from bot.outbound.texts import Reminder
from bot.outbound.transport import OutboxTransport, outbox
from bot.store import records
from tests.support.base import PUBLIC_BASE_URL, TOKEN, Clock, must
from tests.support.console import ADMIN, NURSE, add_nurse, csrf_token, page, sign_in, text
from workers.send import deliver

LONDON = ZoneInfo("Europe/London")
ANN, BEN, CAT, DAN = "+447700900101", "+447700900102", "+447700900103", "+447700900104"
# The clock fixture says Monday 23 November 2026, 10:00 in London: all of these are ahead.
GOOD = (
    "phone,test,appointment,location,name\n"
    "07700 900101,CT scan,2026-11-30 09:30,Imaging Dept,Ann\n"
    "+447700900102,pet-ct,2026-11-24 11:00,PET Centre,\n"
    "+447700900103,bloods,2026-11-26 14:00,,\n"
)
BAD = (
    "phone,test,appointment,location\n"
    "+447700900101,CT scan,2026-11-30 09:30,Imaging Dept\n"
    "01632 96000,CT scan,2026-11-30 10:30,Imaging Dept\n"
    "+447700900103,CT scan,2026-11-20 09:30,Imaging Dept\n"
    "+447700900104,colonoscopy,2026-11-30 09:30,Imaging Dept\n"
    "+447700900105,MRI,2026-11-31 09:30,Imaging Dept\n"
)


def upload(client: FlaskClient, csv_text: str | bytes, name: str = "PET-CT week 48",
           filename: str = "week48.csv") -> TestResponse:
    """Fill in the upload form as a browser would: its token, a name, a file."""
    token = csrf_token(page(client, "/console/campaigns/new"))
    data = csv_text.encode() if isinstance(csv_text, str) else csv_text
    return client.post(
        "/console/campaigns/new/file",
        data={"upload-csrf_token": token, "upload-name": name,
              "upload-file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def form_token(html: str, form_id: str) -> str:
    """The CSRF token inside one form of a page (its field may carry the form's prefix)."""
    m = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, flags=re.S)
    assert m, f"no form {form_id}"
    found = re.search(r'name="(?:[\w]+-)?csrf_token"[^>]*value="([^"]+)"', m.group(0))
    assert found, f"no CSRF token in the form {form_id}"
    return found.group(1)


def press(client: FlaskClient, path: str, form_id: str,
          data: dict[str, str] | None = None) -> TestResponse:
    """Load the page at `path` and submit its form `form_id` to that form's action."""
    html = page(client, path)
    m = re.search(rf'<form[^>]*id="{form_id}"[^>]*>', html)
    assert m, f"no form {form_id} on {path}"
    action = re.search(r'action="([^"]+)"', m.group(0))
    target = action.group(1) if action else path
    fields = {"csrf_token": form_token(html, form_id), **(data or {})}
    return client.post(target, data=fields)


def tight(html: str) -> str:
    """The visible words with no space before punctuation (tags leave one behind)."""
    return re.sub(r" ([:,.)])", r"\1", text(html))


def keys(r: redis.Redis, pattern: str) -> list[str]:
    return sorted(str(k) for k in r.scan_iter(pattern))


def scheduled_jobs(r: redis.Redis) -> dict[str, float]:
    """RQ's scheduled job ids with the moment each runs."""
    registry = ScheduledJobRegistry(queue=scheduling.queue(r))  # type: ignore[no-untyped-call]
    conn = scheduling.rq_connection(r)
    rows = cast(list[tuple[bytes, float]], conn.zrange(registry.key, 0, -1, withscores=True))
    return {k.decode(): s for k, s in rows}


def queued_jobs(r: redis.Redis) -> list[str]:
    return list(scheduling.queue(r).get_job_ids())


def audit_actions(r: redis.Redis) -> list[tuple[str, str, str]]:
    return [(e.who, e.action, e.target) for e in reversed(audit.entries(r, 0, 1000))]


def wait_for(client: FlaskClient, task_url: str, timeout: float = 60.0) -> dict[str, object]:
    """Poll a task's progress as the page's script does until it has finished."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        response = client.get(task_url + "/progress", headers={"Accept": "application/json"})
        assert response.status_code == 200
        data = response.get_json()
        seen.append(data)
        if data["state"] != "running":
            data["seen"] = seen
            return data  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"the task did not finish: {seen[-1] if seen else None}")


def preview_of(client: FlaskClient, csv_text: str = GOOD) -> str:
    """Upload a small file and follow on to its preview; the preview's path."""
    response = upload(client, csv_text)
    assert response.status_code == 302
    assert "/console/campaigns/uploads/" in response.location
    return response.location


def scheduled_campaign(client: FlaskClient, r: redis.Redis) -> campaigns.Campaign:
    """The GOOD file, previewed and scheduled."""
    response = press(client, preview_of(client), "confirm-form")
    assert response.status_code == 302
    [made] = campaigns.all_campaigns(r)
    assert response.location == f"/console/campaigns/{made.id}"
    return made


def appointment_of(r: redis.Redis, c: campaigns.Campaign, number: str) -> Appointment:
    d = campaigns.detail(r, c)
    [appt] = [a for a in d.appointments if a.patient == number]
    return appt


# --- Access ---------------------------------------------------------------------------------


def test_every_campaign_page_refuses_the_anonymous(app: Flask, r: redis.Redis) -> None:
    client = app.test_client()
    for path in ("/console/campaigns", "/console/campaigns/new", "/console/campaigns/abc",
                 "/console/campaigns/uploads/abc", "/console/campaigns/abc/message"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/console/login"), path
    progress = client.get("/console/campaigns/tasks/abc/progress",
                          headers={"Accept": "application/json"})
    assert progress.status_code == 401
    # A post from elsewhere has no token: refused before anything is read or stored.
    refused = client.post("/console/campaigns/new/file", data={
        "upload-name": "x", "upload-file": (io.BytesIO(GOOD.encode()), "x.csv")},
        content_type="multipart/form-data")
    assert refused.status_code == 400
    assert keys(r, "console:upload:*") == [] and keys(r, "campaign*") == []


def test_campaigns_sits_after_today_in_the_menu(nurse: FlaskClient) -> None:
    html = page(nurse, "/console/campaigns")
    menu = re.search(r'<nav class="console-nav".*?</nav>', html, flags=re.S)
    assert menu
    labels = re.findall(r">([^<>]+)</a>", menu.group(0))
    assert labels[:3] == ["Today", "Campaigns", "Patients"]
    assert 'aria-current="page">Campaigns' in menu.group(0)
    assert "No campaigns yet." in text(html)


# --- Bad rows ---------------------------------------------------------------------------------


def test_bad_rows_are_shown_by_line_number_and_nothing_is_kept(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    response = upload(nurse, BAD)
    assert response.status_code == 302
    preview = nurse.get(response.location)
    assert preview.status_code == 422
    html = preview.get_data(as_text=True)
    words = text(html)
    assert "Nothing was scheduled: 4 rows have a problem" in words
    assert "The other 1 row is fine." in words
    bad = dict(re.findall(r'<tr id="bad-line-(\d+)"><th scope="row">\d+</th><td>(.*?)</td>',
                          html))
    assert sorted(bad) == ["3", "4", "5", "6"]
    assert "01632 96000" in bad["3"]
    assert "in the past" in bad["4"]
    assert "colonoscopy" in bad["5"] and "is not a test we send reminders for" in bad["5"]
    assert "2026-11-31" in bad["6"]
    assert 'id="confirm-form"' not in html  # nothing to schedule
    # Nothing from the file is stored: no campaign, patient, appointment, reminder or job,
    # and the file itself is dropped.
    for pattern in ("campaign*", "patient:*", "appointment:*", "reminder:*", "rq:*",
                    "console:upload:*:csv", "console:upload:*:rows"):
        assert keys(r, pattern) == [], pattern
    assert "No campaigns yet." in text(page(nurse, "/console/campaigns"))
    # A second look still shows the problems; confirming anyway does nothing.
    token = response.location.rsplit("/", 1)[1]
    forced = nurse.post(f"/console/campaigns/uploads/{token}/confirm",
                        data={"csrf_token": csrf_token(page(nurse, "/console/campaigns/new"))})
    assert forced.status_code == 302 and keys(r, "campaign*") == []


def test_a_file_with_only_a_header_or_wrong_columns_is_explained(nurse: FlaskClient) -> None:
    response = upload(nurse, "number,when\n+447700900101,2026-11-30 09:30\n")
    words = text(nurse.get(response.location).get_data(as_text=True))
    assert "the first line must name the columns phone, test, appointment" in words
    response = upload(nurse, "phone,test,appointment\n")
    words = text(nurse.get(response.location).get_data(as_text=True))
    assert "the file has no appointments" in words


def test_upload_form_errors_are_labelled_and_keep_nothing(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    token = csrf_token(page(nurse, "/console/campaigns/new"))
    response = nurse.post("/console/campaigns/new/file",
                          data={"upload-csrf_token": token, "upload-name": ""},
                          content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<a href="#upload-name">Give the campaign a name you will recognise.</a>' in html
    assert '<a href="#upload-file">Choose the CSV file to upload.</a>' in html
    assert 'aria-invalid="true"' in html
    assert keys(r, "console:upload:*") == []


# --- Preview and schedule ---------------------------------------------------------------------


def test_preview_shows_every_text_with_time_and_cost_and_schedules_nothing(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    response = nurse.get(preview_of(nurse))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    words = text(html)
    # 3 patients, 7 texts of 2 segments each; the PET-CT's few-days-before one is too late.
    assert re.search(r"Patients 3 .*Appointments 3 .*Texts 7 .*Total cost 14 SMS segments",
                     words)
    assert "Sent between Mon 23 Nov 2026, 10:00 and Sun 29 Nov 2026, 20:30" in words
    ann = text(must(re.search(r'<li id="preview-line-2".*?</li>\s*</ol>', html,
                              flags=re.S)).group(0))
    assert ann.startswith("Line 2: CT scan, Mon 30 Nov 2026, 09:30")
    assert "+44*******101 (Ann)" in ann and "at Imaging Dept" in ann
    assert "Few days before · sent Fri 27 Nov 2026, 10:00 · 2 segments (GSM-7)" in ann
    assert ("Hello Ann. Your CT scan is on Mon 30 Nov at 9.30am at Imaging Dept." in ann)
    assert "Fasting · sent Sun 29 Nov 2026, 20:30" in ann
    assert "moved earlier, out of quiet hours" in ann
    assert "Not sent: the few days before reminder, because its moment has passed." in words
    cat = text(must(re.search(r'<li id="preview-line-4".*?</li>\s*</ol>', html,
                              flags=re.S)).group(0))
    assert "no place given" in cat and "at the place on your letter." in cat
    assert "07700 900101" not in html and ANN not in html  # numbers stay masked
    assert 'id="schedule-button">Schedule 7 texts</button>' in html
    # Only the upload itself is kept, for a short while; nothing is scheduled yet.
    for pattern in ("campaign*", "patient:*", "appointment:*", "reminder:*", "rq:*"):
        assert keys(r, pattern) == [], pattern
    [csv_key] = keys(r, "console:upload:*:csv")
    assert 0 < r.ttl(csv_key) <= 30 * 60


def test_confirming_schedules_every_text_on_rqs_scheduler_and_is_audited(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    made = scheduled_campaign(nurse, r)
    assert (made.status, made.patients, made.reminders, made.segments) == ("active", 3, 7, 14)
    assert made.created_by == NURSE
    d = campaigns.detail(r, made)
    every = [x for xs in d.reminders.values() for x in xs]
    jobs = scheduled_jobs(r)
    assert sorted(jobs) == sorted(x.job_id for x in every)
    for x in every:
        assert jobs[x.job_id] == x.send_at_dt.timestamp()
    # The flash says what happened, on the campaign's page.
    words = text(page(nurse, f"/console/campaigns/{made.id}"))
    assert ("“PET-CT week 48” is scheduled: 7 reminders to 3 patients, 14 segments in all."
            in words)
    assert "7 scheduled" in words
    # The file is gone from the server once imported.
    assert keys(r, "console:upload:*:csv") == [] and keys(r, "console:upload:*:rows") == []
    actions = [(who, action) for who, action, _ in audit_actions(r)]
    assert (NURSE, "campaign_upload") in actions
    assert (NURSE, "campaign_created") in actions
    trail = audit.entries(r)
    created = next(e for e in trail if e.action == "campaign_created")
    assert created.target == f"campaigns/{made.id}"
    assert "3 patients, 7 reminders, 14 segments" in created.detail
    assert created.label == "Scheduled a campaign"


def test_two_clicks_on_schedule_import_the_file_once(nurse: FlaskClient, r: redis.Redis) -> None:
    path = preview_of(nurse)
    html = page(nurse, path)
    token = form_token(html, "confirm-form")
    action = path + "/confirm"
    first = nurse.post(action, data={"csrf_token": token})
    second = nurse.post(action, data={"csrf_token": token})
    assert first.status_code == second.status_code == 302
    assert len(campaigns.all_campaigns(r)) == 1
    assert len(scheduled_jobs(r)) == 7
    # The second click lands on the campaign made by the first.
    made = campaigns.all_campaigns(r)[0]
    assert nurse.get(second.location).location == f"/console/campaigns/{made.id}"


def test_confirm_checks_the_file_again_and_schedules_nothing_if_it_changed(
    nurse: FlaskClient, r: redis.Redis, clock: Clock
) -> None:
    path = preview_of(nurse)
    clock.now += timedelta(days=1, hours=2)  # the PET-CT on Tuesday 11:00 has passed
    sign_in(nurse)  # a new day, a new sign-in; the upload waits on the server meanwhile
    html = page(nurse, path)
    response = nurse.post(path + "/confirm", data={"csrf_token": form_token(html, "confirm-form")})
    assert response.status_code == 302 and response.location == path
    after = nurse.get(path)
    words = text(after.get_data(as_text=True))
    assert after.status_code == 422
    assert "Checking the file again found problems, so nothing was scheduled." in words
    assert "in the past" in words
    for pattern in ("campaign*", "reminder:*", "rq:*"):
        assert keys(r, pattern) == [], pattern


def test_confirm_shows_a_fresh_plan_when_time_has_moved_on(
    nurse: FlaskClient, r: redis.Redis, clock: Clock
) -> None:
    path = preview_of(nurse)
    clock.now += timedelta(hours=9)  # 19:00: the PET-CT day-before text can only go late
    sign_in(nurse)
    html = page(nurse, path)
    nurse.post(path + "/confirm", data={"csrf_token": form_token(html, "confirm-form")})
    fresh = page(nurse, path)
    assert "the plan has changed. Check the new plan below before you schedule it." in text(fresh)
    assert keys(r, "campaign*") == []
    # Scheduling the fresh plan works.
    response = press(nurse, path, "confirm-form")
    assert response.location.startswith("/console/campaigns/")
    assert len(campaigns.all_campaigns(r)) == 1


def test_discard_forgets_the_upload(nurse: FlaskClient, r: redis.Redis) -> None:
    path = preview_of(nurse)
    response = press(nurse, path, "discard-form")
    assert response.status_code == 302 and response.location == "/console/campaigns/new"
    assert keys(r, "console:upload:*") == []
    assert "“PET-CT week 48” was discarded. Nothing was scheduled." in text(
        page(nurse, "/console/campaigns/new"))
    assert nurse.get(path).status_code == 404
    assert (NURSE, "campaign_discard") in [(w, a) for w, a, _ in audit_actions(r)]


def test_an_upload_is_only_for_the_nurse_who_made_it(
    app: Flask, nurse: FlaskClient, r: redis.Redis
) -> None:
    path = preview_of(nurse)
    add_nurse(r, ADMIN, admin=True)
    other = app.test_client()
    assert sign_in(other, ADMIN).status_code == 302
    assert other.get(path).status_code == 404
    response = other.post(path + "/confirm",
                          data={"csrf_token": csrf_token(page(other, "/console/campaigns"))})
    assert response.status_code == 404
    assert keys(r, "campaign*") == []


def test_a_file_saved_by_excel_on_windows_is_read_with_a_note(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    data = ("phone,test,appointment,location\n"
            "+447700900101,CT scan,2026-11-30 09:30,St Mary’s Imaging\n").encode("cp1252")
    html = page(nurse, preview_of(nurse, data))  # type: ignore[arg-type]
    assert "The file was not saved as UTF-8, so it was read as Windows text." in text(html)
    assert "at St Mary's Imaging." in text(html)  # the curly quote becomes a plain one


# --- One patient ------------------------------------------------------------------------------


def single(client: FlaskClient, **fields: str) -> TestResponse:
    html = page(client, "/console/campaigns/new")
    data = {"single-csrf_token": form_token(html, "single-form"), "single-phone": "07700 900104",
            "single-test": "mri_scan", "single-date": "2026-12-02", "single-time": "14:15",
            "single-place": "MRI Unit, Level 1", "single-patient_name": "Dan",
            "single-name": ""}
    data.update({f"single-{k}": v for k, v in fields.items()})
    return client.post("/console/campaigns/new/patient", data=data)


def test_a_late_mri_booking_previews_the_metal_question_it_would_have_missed(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    # The app's clock is Monday 23 November, 10:00: an MRI on Tuesday is booked late.
    response = single(nurse, date="2026-11-24", time="14:15")
    words = text(page(nurse, response.location))
    assert "pacemaker" in words and "worked with metal" in words
    assert "safety words" in words  # the preview says why the words are there


def test_one_patient_from_the_form_is_previewed_then_scheduled(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    html = page(nurse, "/console/campaigns/new")
    assert '<label for="single-test">Test</label>' in html
    assert '<option value="pet_ct_scan">PET-CT scan</option>' in html
    assert 'type="date"' in html and 'type="time"' in html
    response = single(nurse)
    assert response.status_code == 302
    preview = page(nurse, response.location)
    words = text(preview)
    assert "Check “MRI scan, Wed 2 Dec: one patient” before it is scheduled" in words
    # One patient typed in has no file and no "Line 2".
    assert "MRI scan, Wed 2 Dec 2026, 14:15" in words and "Line 2" not in words
    assert "Hello Dan." in words and "MRI Unit, Level 1" in words
    assert keys(r, "reminder:*") == []
    done = press(nurse, response.location, "confirm-form")
    [made] = campaigns.all_campaigns(r)
    assert done.location == f"/console/campaigns/{made.id}"
    appt = appointment_of(r, made, DAN)
    assert appt.at_dt == datetime(2026, 12, 2, 14, 15, tzinfo=UTC)
    assert appt.location == "MRI Unit, Level 1" and appt.name == "Dan"
    assert len(scheduled_jobs(r)) == made.reminders > 0


def test_one_patient_form_problems_are_said_plainly_and_keep_nothing(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    response = single(nurse, phone="01632 96000")
    assert response.status_code == 400
    assert "'01632 96000' is not a valid phone number." in text(response.get_data(as_text=True))
    # 01:30 on the last Sunday of March does not happen in London.
    response = single(nurse, date="2027-03-28", time="01:30")
    assert response.status_code == 400
    assert "2027-03-28 01:30 does not exist in" in text(response.get_data(as_text=True))
    response = single(nurse, test="", date="")
    html = response.get_data(as_text=True)
    assert '<a href="#single-test">Choose the test.</a>' in html
    assert '<a href="#single-date">' in html
    for pattern in ("console:upload:*", "campaign*", "reminder:*", "rq:*"):
        assert keys(r, pattern) == [], pattern


# --- Big files: progress ------------------------------------------------------------------------


def big_file(rows: int) -> str:
    lines = ["phone,test,appointment,location"]
    for i in range(rows):
        lines.append(f"+447700900{i % 1000:03d},CT scan,2026-12-{1 + i // 100:02d} "
                     f"{9 + i % 8:02d}:30,Clinic {i % 7}")
    return "\n".join(lines) + "\n"


def test_a_big_file_is_checked_and_imported_in_the_background_with_progress(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    rows = SYNC_LINES + 150
    response = upload(nurse, big_file(rows), name="December CT")
    task_url = response.location
    assert task_url.startswith("/console/campaigns/tasks/")
    checked = wait_for(nurse, task_url)
    assert checked["state"] == "done"
    assert checked["text"] == "The file is checked. Look through the plan before you schedule it."
    # The task page moves on to the preview, which is paged.
    preview = nurse.get(task_url)
    assert preview.status_code == 302 and "/uploads/" in preview.location
    html = page(nurse, preview.location)
    assert f"Patients 1 to 50 of {rows} (page 1 of {-(-rows // 50)})." in text(html)
    assert len(re.findall(r'<li id="preview-line-', html)) == 50
    page_2 = page(nurse, preview.location + "?page=2")
    assert 'id="preview-line-52"' in page_2 and 'id="preview-line-51"' not in page_2
    assert keys(r, "reminder:*") == []

    started = press(nurse, preview.location, "confirm-form")
    assert started.location.startswith("/console/campaigns/tasks/")
    done = wait_for(nurse, started.location)
    assert done["state"] == "done" and done["percent"] == 100
    stages = {str(s["stage"]) for s in done["seen"]}  # type: ignore[attr-defined]
    assert stages <= {"Waiting to start", "Checking the file again", "Scheduling reminders"}
    [made] = campaigns.all_campaigns(r)
    assert done["next"] == f"/console/campaigns/{made.id}"
    assert made.patients == rows and made.status == "active"
    assert len(scheduled_jobs(r)) == made.reminders == rows * 3
    landing = nurse.get(started.location)
    assert landing.location == f"/console/campaigns/{made.id}"
    assert (NURSE, "campaign_created") in [(w, a) for w, a, _ in audit_actions(r)]


def test_the_progress_page_shows_a_bar_with_words_and_notices_a_stopped_task(
    app: Flask, nurse: FlaskClient, r: redis.Redis, clock: Clock
) -> None:
    task = tasks.new(r, NURSE, "import", "Scheduling “December CT”", "tok", clock.now)
    report = tasks.Reporter(r, task, clock)
    report.stage("Scheduling reminders", 400)
    report(120, 400)
    html = page(nurse, f"/console/campaigns/tasks/{task.id}")
    assert '<label for="task-progress" id="task-stage">Scheduling reminders</label>' in html
    assert re.search(r'<progress id="task-progress" max="400" value="120"[^>]*>30%</progress>',
                     html)
    assert "Scheduling reminders: 120 of 400 (30%)" in text(html)
    assert 'aria-live="polite"' in html
    data = nurse.get(f"/console/campaigns/tasks/{task.id}/progress",
                     headers={"Accept": "application/json"}).get_json()
    assert data["done"] == 120 and data["total"] == 400 and data["percent"] == 30
    assert data["state"] == "running" and data["stalled"] is False
    # Someone else's task is not there for another nurse.
    add_nurse(r, ADMIN, admin=True)
    other = app.test_client()
    sign_in(other, ADMIN)
    assert other.get(f"/console/campaigns/tasks/{task.id}").status_code == 404
    # Silent for minutes: the page says it stopped instead of spinning for ever.
    clock.now += timedelta(minutes=3)
    html = page(nurse, f"/console/campaigns/tasks/{task.id}")
    assert "It stopped part way" in text(html)
    assert "data-progress-url" not in html


# --- One campaign -------------------------------------------------------------------------------


def test_the_campaign_page_shows_patients_masked_reminders_replies_and_statuses(
    app: Flask, nurse: FlaskClient, r: redis.Redis, clock: Clock
) -> None:
    made = scheduled_campaign(nurse, r)
    ct = appointment_of(r, made, ANN)
    blood = appointment_of(r, made, CAT)
    # The blood test's first reminder is due now: the worker sends it to the outbox.
    [first] = [x for x in campaigns.detail(r, made).reminders[blood.id]
               if x.kind == "blood_tests:few_days_before"]
    assert deliver(r, first.id, first.version, OutboxTransport(r), clock.now) == "sent"
    assert outbox(r)[0]["to"] == CAT
    # The patient replies C; another replies R after the CT's first reminder.
    LocalPhone(app.test_client(), TOKEN, CAT, PUBLIC_BASE_URL).send("C")
    [ct_first] = [x for x in campaigns.detail(r, made).reminders[ct.id]
                  if x.kind == "ct_scan:few_days_before"]
    clock.now = ct_first.send_at_dt
    assert deliver(r, ct_first.id, ct_first.version, OutboxTransport(r), clock.now) == "sent"
    LocalPhone(app.test_client(), TOKEN, ANN, PUBLIC_BASE_URL).send("R")

    sign_in(nurse)  # days later
    html = page(nurse, f"/console/campaigns/{made.id}")
    words = text(html)
    assert "2 sent" in words and "5 scheduled" in words
    assert "1 confirmed by the patient" in words and "1 asked to rearrange" in words
    row = tight(must(re.search(rf'<tr id="appointment-{ct.id}".*?</tr>', html,
                               flags=re.S)).group(0))
    assert row.startswith("+44*******101 Show number")
    assert "CT scan Mon 30 Nov 2026, 09:30 Imaging Dept" in row
    assert "Asked to rearrange" in row
    assert "Few days before, Fri 27 Nov 2026, 10:00: Sent" in row
    assert "Day before, Sun 29 Nov 2026, 18:00: Scheduled" in row
    for number in (ANN, BEN, CAT, "07700 900101"):
        assert number not in html
    # Only those who asked to rearrange.
    only = text(page(nurse, f"/console/campaigns/{made.id}?show=rearrange"))
    assert "1 appointment." in only and "+44*******101" in only and "+44*******103" not in only

    # The list shows the campaign with its counts.
    listed = text(page(nurse, "/console/campaigns"))
    assert "PET-CT week 48 Active" in listed
    assert "Scheduled: 5" in listed and "Sent: 2" in listed


def test_revealing_a_number_is_audited_and_shown_in_place(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    made = scheduled_campaign(nurse, r)
    ct = appointment_of(r, made, ANN)
    path = f"/console/campaigns/{made.id}"
    token = csrf_token(page(nurse, path))
    response = nurse.post(f"{path}/appointments/{ct.id}/reveal", data={"csrf_token": token},
                          headers={"Accept": "application/json"})
    assert response.get_json() == {"number": ANN, "display": "07700 900101"}
    assert (NURSE, "reveal_number", f"appointments/{ct.id}") in audit_actions(r)
    html = page(nurse, path)
    assert "07700 900101" in html and "07700 900102" not in html
    # Without script the form posts and comes back to the row.
    response = nurse.post(f"{path}/appointments/{ct.id}/reveal",
                          data={"csrf_token": token, "next": path})
    assert response.status_code == 302 and response.location == path


def test_cancel_the_campaign_after_a_confirm_step(nurse: FlaskClient, r: redis.Redis) -> None:
    made = scheduled_campaign(nurse, r)
    path = f"/console/campaigns/{made.id}"
    ask = page(nurse, path + "/cancel")
    assert "Cancel “PET-CT week 48”?" in text(ask)
    assert "7 reminders still to be sent will not be sent." in text(ask)
    assert must(campaigns.find(r, made.id)).status == "active"  # asking changes nothing
    forged = nurse.post(path + "/cancel")  # no token: a form from another site
    assert forged.status_code == 400
    assert must(campaigns.find(r, made.id)).status == "active"
    response = press(nurse, path + "/cancel", "cancel-campaign-form")
    assert response.status_code == 302 and response.location == path
    assert must(campaigns.find(r, made.id)).status == "cancelled"
    assert scheduled_jobs(r) == {}
    counts = campaigns.detail(r, must(campaigns.find(r, made.id))).counts()
    assert counts == {"cancelled": 7}
    words = text(page(nurse, path))
    assert "“PET-CT week 48” is cancelled: 7 reminders will not be sent." in words
    assert 'id="message-link"' not in page(nurse, path)
    assert (NURSE, "campaign_cancelled", f"campaigns/{made.id}") in audit_actions(r)
    # Cancelling again changes nothing and says so.
    response = nurse.post(path + "/cancel", data={"csrf_token": csrf_token(page(nurse, path))})
    assert "was already cancelled" in text(page(nurse, response.location))


def test_reschedule_one_appointment_replaces_its_reminders(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    made = scheduled_campaign(nurse, r)
    ct = appointment_of(r, made, ANN)
    path = f"/console/campaigns/{made.id}/appointments/{ct.id}"
    html = page(nurse, path)
    assert 'value="2026-11-30"' in html and 'value="09:30"' in html  # the current time
    old = list(campaigns.detail(r, made).reminders[ct.id])
    response = press(nurse, path, "reschedule-form", {
        "reschedule-date": "2026-12-07", "reschedule-time": "11:45",
        "reschedule-place": "Scanner 2, Imaging Dept"})
    assert response.status_code == 302 and response.location == path
    moved = must(Appointment.fetch(r, ct.id))
    assert moved.at_dt == datetime(2026, 12, 7, 11, 45, tzinfo=UTC)
    assert moved.location == "Scanner 2, Imaging Dept" and moved.version == 2
    for x in Reminder.fetch_many(r, [x.id for x in old]):
        assert x.status == "cancelled"
    jobs = scheduled_jobs(r)
    assert not any(x.job_id in jobs for x in old)
    new = Reminder.fetch_many(r, moved.reminder_ids)
    assert new and all(x.job_id in jobs for x in new)
    words = text(page(nurse, path))
    assert "The appointment is moved to Mon 7 Dec 2026, 11:45." in words
    assert "Your CT scan is on Mon 7 Dec at 11.45am at Scanner 2, Imaging Dept." in words
    [entry] = [e for e in audit.entries(r) if e.action == "appointment_rescheduled"]
    assert entry.detail == ("Mon 30 Nov 2026, 09:30 -> Mon 7 Dec 2026, 11:45, "
                            "at Scanner 2, Imaging Dept")


def test_a_reschedule_that_cannot_be_planned_is_said_plainly_and_changes_nothing(
    nurse: FlaskClient, r: redis.Redis
) -> None:
    made = scheduled_campaign(nurse, r)
    ct = appointment_of(r, made, ANN)
    path = f"/console/campaigns/{made.id}/appointments/{ct.id}"
    before = scheduled_jobs(r)
    for fields, said in (
        ({"reschedule-date": "2026-11-20", "reschedule-time": "09:30"},
         "The new date and time have already passed."),
        ({"reschedule-date": "2026-12-07", "reschedule-time": "09:30",
          "reschedule-place": "Ward 🙂"},
         "The place has characters a text message cannot carry"),
        ({"reschedule-date": "2027-03-28", "reschedule-time": "01:15"},
         "2027-03-28 01:15 does not exist in"),
    ):
        response = press(nurse, path, "reschedule-form", fields)
        assert response.status_code == 400
        assert said in text(response.get_data(as_text=True))
    assert Appointment.fetch(r, ct.id) == ct
    assert scheduled_jobs(r) == before
    assert not [e for e in audit.entries(r) if e.action == "appointment_rescheduled"]


def test_cancel_one_appointment(nurse: FlaskClient, r: redis.Redis) -> None:
    made = scheduled_campaign(nurse, r)
    ct = appointment_of(r, made, ANN)
    path = f"/console/campaigns/{made.id}/appointments/{ct.id}"
    ask = page(nurse, path + "/cancel")
    assert "Cancel the CT scan on Mon 30 Nov 2026, 09:30?" in text(ask)
    response = press(nurse, path + "/cancel", "cancel-appointment-form")
    assert response.location == path
    assert must(Appointment.fetch(r, ct.id)).status == "cancelled"
    jobs = scheduled_jobs(r)
    assert not any(x.job_id in jobs for x in campaigns.detail(r, made).reminders[ct.id])
    assert len(jobs) == 4  # the other two patients' reminders stay
    assert "The appointment is cancelled: 3 reminders will not be sent." in text(page(nurse, path))
    assert (NURSE, "appointment_cancelled", f"appointments/{ct.id}") in audit_actions(r)


# --- Texting everyone -----------------------------------------------------------------------------


def test_a_one_off_message_queues_one_text_per_active_patient(
    nurse: FlaskClient, r: redis.Redis, clock: Clock
) -> None:
    made = scheduled_campaign(nurse, r)
    appointments.cancel(r, appointment_of(r, made, BEN))
    records.set_opted_out(CAT, True, clock.now.isoformat(), pipeline=r)
    path = f"/console/campaigns/{made.id}/message"
    html = page(nurse, path)
    assert "It goes now to 1 patient" in text(html)  # Ann; not Ben (cancelled) or Cat
    assert "1 who opted out of texts is left out." in text(html)
    assert '<label for="message-text">Message</label>' in html
    assert 'id="send-message-button">Send now to 1 patient</button>' in html
    body = ("Message from your hospital\n"
            "The car park on Elm Road is closed on Monday. Use the one on Ash Street.")
    response = press(nurse, path, "message-form", {"message-text": body})
    assert response.status_code == 302
    assert response.location == f"/console/campaigns/{made.id}"
    queued = queued_jobs(r)
    d = campaigns.detail(r, must(campaigns.find(r, made.id)))
    assert [m.to for m in d.messages] == [ANN]
    assert queued == [m.job_id for m in d.messages]
    assert d.messages[0].body == body and d.messages[0].kind == "message"
    words = text(page(nurse, f"/console/campaigns/{made.id}"))
    assert "The message is on its way to 1 patient (1 segment each)." in words
    assert "to 1 patient · 1 segment each · scheduled 1" in words
    [entry] = [e for e in audit.entries(r) if e.action == "campaign_message"]
    assert entry.who == NURSE and entry.detail == "to 1 patients, 1 segments each"


def test_a_message_must_keep_its_first_line_plain(nurse: FlaskClient, r: redis.Redis) -> None:
    made = scheduled_campaign(nurse, r)
    path = f"/console/campaigns/{made.id}/message"
    response = press(nurse, path, "message-form",
                     {"message-text": "Your cancer clinic has moved\nSee your letter."})
    assert response.status_code == 400
    assert "The first line shows on a locked phone" in text(response.get_data(as_text=True))
    response = press(nurse, path, "message-form", {"message-text": "   "})
    assert response.status_code == 400
    assert "Write the message first." in text(response.get_data(as_text=True))
    assert queued_jobs(r) == []


def test_the_live_counter_reports_segments_and_encoding(nurse: FlaskClient, r: redis.Redis) -> None:
    made = scheduled_campaign(nurse, r)
    html = page(nurse, f"/console/campaigns/{made.id}/message")
    token = form_token(html, "message-form")

    def ask(draft: str) -> dict[str, object]:
        response = nurse.post("/console/campaigns/segments",
                              data={"csrf_token": token, "text": draft},
                              headers={"Accept": "application/json"})
        assert response.status_code == 200
        return response.get_json()  # type: ignore[no-any-return]

    plain = ask("a" * 161)
    assert (plain["segments"], plain["encoding"]) == (2, "GSM-7")
    assert plain["summary"] == "161 characters: 2 segments per patient."
    curly = ask("Don’t forget")
    assert (curly["segments"], curly["encoding"], curly["others"]) == (1, "UCS-2", ["’"])
    assert "These characters make every segment shorter (70 characters, not 160): ’" in str(
        curly["summary"])
    assert ask("Cancer clinic news\nhello")["private"] is False
    # Without the page's token it is refused like any other post.
    assert nurse.post("/console/campaigns/segments", data={"text": "x"},
                      headers={"Accept": "application/json"}).status_code == 400


def test_an_import_still_running_cannot_be_cancelled_but_a_dead_one_can(
    nurse: FlaskClient, r: redis.Redis, clock: Clock
) -> None:
    half = campaigns.Campaign(id="half0001", name="Half made", created_by=NURSE,
                              created_at=clock.now.isoformat())  # status "importing"
    half.save(r)
    r.zadd(campaigns.INDEX, {half.id: clock.now.timestamp()})
    path = f"/console/campaigns/{half.id}"
    html = page(nurse, path)
    assert "This campaign is still being saved" in text(html)
    assert 'id="cancel-campaign-link"' not in html
    # Cancelling now would be undone when the import finishes: refused.
    response = nurse.post(path + "/cancel", data={"csrf_token": csrf_token(html)})
    assert response.location == path
    assert must(campaigns.find(r, half.id)).status == "importing"
    assert "is still being saved. Cancel it once that has finished." in text(page(nurse, path))
    # Half an hour later nothing is writing it any more: it can be tidied away.
    clock.now += timedelta(minutes=31)
    sign_in(nurse)
    assert "Saving this campaign stopped part way" in text(page(nurse, path))
    response = press(nurse, path + "/cancel", "cancel-campaign-form")
    assert must(campaigns.find(r, half.id)).status == "cancelled"


def test_an_excel_workbook_is_refused_with_what_to_do(nurse: FlaskClient, r: redis.Redis) -> None:
    response = upload(nurse, b"PK\x03\x04\x14\x00\x06\x00binary workbook", filename="week.xlsx")
    assert response.status_code == 400
    assert "This is an Excel workbook, not a CSV file." in text(response.get_data(as_text=True))
    assert keys(r, "console:upload:*") == []
