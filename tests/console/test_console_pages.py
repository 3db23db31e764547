"""Patients, Content and Numbers pages, and the counters behind Numbers."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.console import audit
from bot.console.charts import nice_step
from bot.console.content import catalogue
from bot.dev.localclient import LocalPhone
from bot.store import records, stats
from tests.support.base import PATIENT, PUBLIC_BASE_URL, TOKEN, Clock
from tests.support.console import NURSE, add_nurse, page, post_form, signed_in, text

LONDON = ZoneInfo("Europe/London")
SVG = "{http://www.w3.org/2000/svg}"


def phone_for(app: Flask, number: str) -> LocalPhone:
    return LocalPhone(app.test_client(), TOKEN, number, PUBLIC_BASE_URL)


def section(html: str, element_id: str, tag: str) -> str:
    m = re.search(rf'<{tag}[^>]*id="{element_id}".*?</{tag}>', html, flags=re.S)
    assert m, element_id
    return m.group(0)


# --- Patients -----------------------------------------------------------------------------


def test_find_a_patient_by_number_as_typed_and_see_texts_and_calls(
    app: Flask, r: redis.Redis, nurse: FlaskClient, phone: LocalPhone, clock: Clock
) -> None:
    phone.send("can i eat before my ct scan")
    clock.now += timedelta(minutes=7)
    records.log_message(r, PATIENT, {"at": clock.now.isoformat(), "direction": "in",
                                     "channel": "voice", "text": "pressed 2: scans"})
    phone_for(app, "+447700900456").send("hello")  # someone else: not shown

    for typed in ("07700 900123", "+44 7700 900123", "07700900123"):
        html = page(nurse, "/console/patients?number=" + typed.replace("+", "%2B"))
        assert 'id="patient-number">07700 900123<' in html
    words = text(section(html, "patient", "section"))
    assert "Receives texts (has not opted out)." in words
    entries = re.findall(r'<li class="msg (msg-\w+) (channel-\w+)">(.*?)</li>', html, flags=re.S)
    assert [(d, c) for d, c, _ in entries] == [
        ("msg-in", "channel-voice"), ("msg-out", "channel-sms"), ("msg-in", "channel-sms")]
    call, answer, question = (text(e) for _, _, e in entries)
    assert call == "Mon 23 Nov 2026, 10:07 · Call · from the patient pressed 2: scans"
    assert question == ("Mon 23 Nov 2026, 10:00 · Text · from the patient · topic: ct scan "
                        "can i eat before my ct scan")
    assert answer.startswith("Mon 23 Nov 2026, 10:00 · Text · from the line CT scan:")
    assert "hello" not in words
    assert [(e.who, e.action, e.target) for e in audit.entries(r)][0] == (
        NURSE, "view_patient", PATIENT)


def test_a_number_that_is_not_one_is_explained(nurse: FlaskClient) -> None:
    response = nurse.get("/console/patients?number=0770+abc")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is not a phone number we can read" in text(html)
    assert 'aria-invalid="true"' in html and 'aria-describedby="number-hint number-error"' in html
    assert '<label for="number">Phone number</label>' in html


def test_opt_out_state_follows_stop_and_start(
    app: Flask, nurse: FlaskClient, phone: LocalPhone, clock: Clock
) -> None:
    phone.send("STOP")
    said = text(page(nurse, "/console/patients?number=07700900123"))
    assert "Opted out of texts since Mon 23 Nov 2026, 10:00" in said
    clock.now += timedelta(days=1)
    phone.send("START")
    said = text(page(signed_in(app), "/console/patients?number=07700900123"))
    assert "Receives texts (has not opted out)." in said


def test_a_number_with_no_messages_says_so(nurse: FlaskClient) -> None:
    said = text(page(nurse, "/console/patients?number=07700900999"))
    assert "No messages from or to this number in the last 90 days." in said


def test_from_an_alert_the_number_stays_masked_until_revealed(
    r: redis.Redis, nurse: FlaskClient, phone: LocalPhone
) -> None:
    phone.send("chest pain")
    (alert,) = records.open_alerts(r)
    url = f"/console/patients/alerts/{alert.id}"
    html = page(nurse, url)
    assert 'id="patient-number">+44*******123<' in html
    assert "chest pain" in text(section(html, "patient", "section"))
    response = post_form(nurse, url, f"/console/alerts/{alert.id}/reveal", {"next": url})
    assert response.headers["Location"] == url
    assert 'id="patient-number">07700 900123<' in page(nurse, url)
    assert [e.action for e in audit.entries(r)][:3] == [
        "view_patient", "reveal_number", "view_patient"]


# --- Content ------------------------------------------------------------------------------


def test_content_lists_every_text_with_sources_segments_and_review_dates(
    nurse: FlaskClient,
) -> None:
    html = page(nurse, "/console/content")
    rows = re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", html, flags=re.S)
    assert len(rows) == len(catalogue()) > 100
    topic = next(e for e in catalogue() if e.source == "topic ct_scan" and e.channel == "sms")
    row = text(next(r for r in rows
                    if re.search(r'class="source">topic ct_scan\s*<p', r) and "<td>Text</td>" in r))
    assert row.startswith("topic ct_scan " + topic.text.split("\n")[0])
    assert topic.sources and all(s in row for s in topic.sources)
    assert f"{topic.reviewed} {topic.review_due}" in row
    assert re.search(r"\d segments?, GSM-7", row)
    assert "0 overdue for review" in text(section(html, "content-counts", "ul"))


def test_overdue_reviews_stand_out_and_come_first(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    dues = sorted({e.review_due for e in catalogue() if e.review_due})
    clock.now = datetime.combine(dues[0] + timedelta(days=1), dt.time(12), UTC)
    overdue = [e for e in catalogue() if e.review_due and e.review_due < clock.now.date()]
    assert 0 < len(overdue) < len(catalogue())
    add_nurse(r)
    nurse = signed_in(app)

    html = page(nurse, "/console/content")
    counts = text(section(html, "content-counts", "ul"))
    assert f"{len(overdue)} overdue for review" in counts
    assert '<li class="overdue"><strong>' in html
    classes = re.findall(r"<tr class=\"([^\"]*)\">", html)
    assert all("overdue" in c for c in classes[: len(overdue)])
    assert not any("overdue" in c for c in classes[len(overdue):])
    first = text(re.findall(r"<tr class=\"overdue[^\"]*\">(.*?)</tr>", html, flags=re.S)[0])
    assert f"Overdue since {dues[0]}" in first

    only = page(nurse, "/console/content?show=overdue&channel=sms")
    shown = re.findall(r"<tr class=\"([^\"]*)\">", only)
    sms_overdue = [e for e in overdue if e.channel == "sms"]
    assert len(shown) == len(sms_overdue) and all("overdue" in c for c in shown)
    assert '<option value="overdue" selected>' in only


def test_reviews_due_soon_are_flagged(app: Flask, r: redis.Redis, clock: Clock) -> None:
    dues = sorted({e.review_due for e in catalogue() if e.review_due})
    clock.now = datetime.combine(dues[0] - timedelta(days=30), dt.time(12), UTC)
    add_nurse(r)
    html = page(signed_in(app), "/console/content?show=due_soon")
    assert "Due soon" in html and "Overdue" not in text(section(html, "content-table", "table"))


# --- Numbers ------------------------------------------------------------------------------


def svg(html: str, chart_id: str) -> ET.Element:
    m = re.search(rf'<svg class="chart" id="{chart_id}".*?</svg>', html, flags=re.S)
    assert m, chart_id
    return ET.fromstring(m.group(0))  # well-formed XML, or this raises


def bar_titles(chart: ET.Element) -> list[str]:
    return [t.text or "" for rect in chart.iter(f"{SVG}rect") for t in rect.iter(f"{SVG}title")]


def test_numbers_draws_counts_from_real_texts(
    app: Flask, r: redis.Redis, nurse: FlaskClient, phone: LocalPhone, clock: Clock
) -> None:
    phone.send("can i eat before my ct scan")
    phone.send("i have chest pain")
    phone_for(app, "+447700900456").send("temp 38.5")
    clock.now += timedelta(days=1)
    phone.send("what is a bone scan")
    stats.delivery(r, clock.now, "delivered")
    stats.delivery(r, clock.now, "delivered")
    stats.delivery(r, clock.now, "delivered")
    stats.delivery(r, clock.now, "undelivered")

    html = page(signed_in(app), "/console/numbers?from=2026-11-22&to=2026-11-24")
    messages = svg(html, "chart-messages")
    assert messages.get("role") == "img"
    assert messages.find(f"{SVG}title").text == "Messages per day"  # type: ignore[union-attr]
    titles = bar_titles(messages)
    assert "23 Nov: 3 Texts received" in titles and "24 Nov: 1 Texts received" in titles
    assert "22 Nov: 0 Texts received" in titles
    sent_23 = next(t for t in titles if t.startswith("23 Nov:") and t.endswith("Texts sent"))
    assert int(sent_23.split()[2]) >= 3

    topics = bar_titles(svg(html, "chart-topics"))
    assert "CT scan: 1" in topics and "Bone scan: 1" in topics
    alerts = bar_titles(svg(html, "chart-alerts"))
    assert alerts == ["Emergency: 1", "Urgent: 1", "Same day: 0"]
    delivery = bar_titles(svg(html, "chart-delivery"))
    assert delivery == ["Delivered: 3 (75%)", "Not delivered: 1 (25%)", "Failed: 0 (0%)"]

    headline = text(section(html, "headline", "ul"))
    assert "4 texts received" in headline and "2 alerts" in headline
    assert "75% delivered (3 of 4 with a final status)" in headline
    table = text(section(html, "messages-table", "table"))
    assert "Mon 23 Nov 2026 3" in table and "Tue 24 Nov 2026 1" in table


def test_numbers_defaults_to_the_last_fortnight(nurse: FlaskClient) -> None:
    html = page(nurse, "/console/numbers")
    assert "From 10 November 2026 to 23 November 2026" in text(html)
    table = section(html, "messages-table", "table")
    assert len(re.findall(r"<tr><th scope=\"row\">", table)) == 14
    assert 'id="from" name="from" type="date" value="2026-11-10"' in html


@pytest.mark.parametrize("query,problem", [
    ("from=2026-11-20&to=2026-11-01", "The period must end on or after the day it starts."),
    ("from=2026-02-30", "Dates must be real days"),
    ("from=2024-01-01&to=2026-01-01", "Choose a period of at most 366 days."),
])
def test_a_bad_period_is_explained(nurse: FlaskClient, query: str, problem: str) -> None:
    response = nurse.get("/console/numbers?" + query)
    assert response.status_code == 400
    said = text(response.get_data(as_text=True))
    assert problem in said and "Showing the last fortnight instead." in said


def test_days_are_clinic_days_across_the_clock_change(r: redis.Redis) -> None:
    # Clocks go back at 01:00 UTC on Sunday 25 October 2026.
    stats.message(r, datetime(2026, 10, 24, 22, 59, tzinfo=UTC), "in", "sms")  # 23:59 BST, 24th
    stats.message(r, datetime(2026, 10, 24, 23, 30, tzinfo=UTC), "in", "sms")  # 00:30 BST, 25th
    stats.message(r, datetime(2026, 10, 25, 23, 30, tzinfo=UTC), "in", "sms")  # 23:30 GMT, 25th
    stats.message(r, datetime(2026, 10, 26, 0, 0, tzinfo=UTC), "in", "sms")  # 00:00 GMT, 26th
    days = stats.daily(r, dt.date(2026, 10, 24), dt.date(2026, 10, 26), LONDON)
    assert [days[d]["in:sms"] for d in sorted(days)] == [1, 2, 1]
    # Spring forward: Sunday 29 March 2026 has 23 hours; an 00:30 GMT text is that day's.
    stats.message(r, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "in", "sms")
    stats.message(r, datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "in", "sms")  # 00:30 BST, 30th
    days = stats.daily(r, dt.date(2026, 3, 29), dt.date(2026, 3, 30), LONDON)
    assert [days[d]["in:sms"] for d in sorted(days)] == [1, 1]


def test_counters_refuse_naive_times_and_expire(r: redis.Redis) -> None:
    with pytest.raises(ValueError):
        stats.topic(r, datetime(2026, 11, 23, 10, 0), "ct_scan")
    stats.topic(r, "2026-11-23T10:00:00+00:00", "ct_scan")
    key = stats.bucket(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert r.hget(key, "topic:ct_scan") == "1"
    assert 0 < r.ttl(key) <= stats.BUCKET_TTL_SECONDS


def test_counters_go_into_a_pipeline_only_when_it_runs(r: redis.Redis) -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    p = r.pipeline()
    stats.alert(r, at, "urgent", pipeline=p)
    assert stats.daily(r, at.date(), at.date(), LONDON)[at.date()]["alert:urgent"] == 0
    p.execute()
    assert stats.daily(r, at.date(), at.date(), LONDON)[at.date()]["alert:urgent"] == 1


def test_a_retried_webhook_is_counted_once(app: Flask, r: redis.Redis) -> None:
    from bot.web.signatures import sign

    client = app.test_client()
    form = {"From": PATIENT, "To": "+447700900000", "Body": "chest pain",
            "MessageSid": "SM" + "1" * 32, "NumMedia": "0", "AccountSid": "AC" + "0" * 32}
    headers = {"X-Twilio-Signature": sign(TOKEN, f"{PUBLIC_BASE_URL}/sms", form)}
    for _ in range(3):
        assert client.post("/sms", data=form, base_url=PUBLIC_BASE_URL,
                           headers=headers).status_code == 200
    day = dt.date(2026, 11, 23)
    counts = stats.daily(r, day, day, LONDON)[day]
    assert counts["in:sms"] == 1 and counts["alert:emergency"] == 1


def test_a_question_is_counted_in_out_and_by_topic(app: Flask, r: redis.Redis) -> None:
    from bot.web.signatures import sign

    form = {"From": PATIENT, "To": "+447700900000", "Body": "can i eat before my ct scan",
            "MessageSid": "SM" + "2" * 32, "NumMedia": "0", "AccountSid": "AC" + "0" * 32}
    headers = {"X-Twilio-Signature": sign(TOKEN, f"{PUBLIC_BASE_URL}/sms", form)}
    assert app.test_client().post("/sms", data=form, base_url=PUBLIC_BASE_URL,
                                  headers=headers).status_code == 200
    day = dt.date(2026, 11, 23)
    counts = stats.daily(r, day, day, LONDON)[day]
    assert (counts["in:sms"], counts["out:sms"], counts["topic:ct_scan"]) == (1, 1, 1)


def test_texts_that_clash_are_counted_and_a_nurse_sees_it(
    app: Flask, r: redis.Redis, redis_url: str, clock: Clock
) -> None:
    # Two texts from one number handled at the same moment (two web workers): the one that
    # loses the race is read again. Real concurrency on a real Redis, as in production.
    from bot.lines.textline import Inbound, context, handle

    ctx = context(dict(app.config), clock.now)
    sent = 0
    counts: dict[str, int] = {}
    deadline = time.monotonic() + 20
    while not counts.get("commit:retry:sms") and time.monotonic() < deadline:
        def send_one(n: int) -> str:
            client = redis.Redis.from_url(redis_url, decode_responses=True)
            return handle(client, Inbound(PATIENT, "what is a bone scan", f"SM{n:032d}"), ctx)

        with ThreadPoolExecutor(max_workers=4) as pool:
            replies = list(pool.map(send_one, range(sent, sent + 40)))
        assert all("<Message>" in x for x in replies)
        sent += 40
        counts = stats.total(stats.daily(r, dt.date(2026, 11, 23), dt.date(2026, 11, 23), LONDON))
    retries = counts["commit:retry:sms"]
    assert retries > 0, "no two texts clashed in 20 s"
    assert counts["in:sms"] == sent  # every text answered and counted once

    add_nurse(r)
    html = page(signed_in(app), "/console/numbers?from=2026-11-23&to=2026-11-23")
    said = text(section(html, "clashes", "p"))
    assert f"{retries} time{'s' if retries != 1 else ''} a text was read again" in said
    assert "could not be answered" not in said


def test_chart_steps_are_round_numbers() -> None:
    assert [nice_step(v) for v in (0, 3, 7, 12, 45, 100, 980)] == [1, 1, 2, 5, 10, 20, 200]


# --- records: status changes are atomic -----------------------------------------------------


def test_two_nurses_resolving_at_once_one_wins(r: redis.Redis, redis_url: str) -> None:
    alert = records.Alert(number=PATIENT, level="urgent", reason="Fever", text="temp 39",
                          created_at="2026-11-23T10:00:00+00:00")
    alert.save(r)
    results: list[bool] = []

    def resolve(who: str) -> None:
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        _, changed = records.Alert.resolve(client, alert.id, who, "2026-11-23T10:05:00+00:00",
                                           f"done by {who}")
        results.append(changed)

    threads = [threading.Thread(target=resolve, args=(f"nurse{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    stored = records.Alert.fetch(r, alert.id)
    assert stored is not None and stored.note == f"done by {stored.resolved_by}"
    assert records.Alert.resolved(r) == [stored]


# --- nurse hours not yet set ---------------------------------------------------------------


def test_the_console_warns_while_patients_are_told_the_shipped_nurse_hours(
    nurse: FlaskClient,
) -> None:
    banner = section(page(nurse, "/console/patients"), "placeholder-hours", "p")
    assert "Monday to Friday, 9am to 5pm" in banner
    assert "NURSE_HOURS" in banner


def test_with_the_teams_own_hours_there_is_no_warning_and_patients_hear_them(
    make_app: Callable[..., Flask], r: redis.Redis
) -> None:
    app = make_app(NURSE_HOURS="mon-fri 08:30-16:30")
    add_nurse(r)
    nurse = signed_in(app)
    assert 'id="placeholder-hours"' not in page(nurse, "/console/patients")
    # The content review shows the texts as patients get them: with the team's hours.
    review = page(nurse, "/console/content")
    assert "(Monday to Friday, 8.30am to 4.30pm)" in review
    assert "(Monday to Friday, 9am to 5pm)" not in review
    # Monday 10am: a new cough is for the team today, at the team's own hours.
    (reply,) = phone_for(app, PATIENT).send("I have a new cough")
    assert "(Monday to Friday, 8.30am to 4.30pm)" in reply
