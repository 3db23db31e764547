"""Today: alerts and call-back requests from real texts; acknowledge, resolve, reveal, updates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.console import audit
from bot.dev.localclient import LocalPhone
from bot.store import records
from tests.support.base import PATIENT, PUBLIC_BASE_URL, TOKEN, Clock
from tests.support.console import (
    ADMIN,
    NURSE,
    add_nurse,
    csrf_token,
    page,
    post_form,
    sign_in,
    text,
)

OTHER = "+447700900456"
THIRD = "+447700900789"


def phone_for(app: Flask, number: str) -> LocalPhone:
    return LocalPhone(app.test_client(), TOKEN, number, PUBLIC_BASE_URL)


def item(html: str, dom_id: str) -> str:
    """One alert or call-back's HTML on the Today page."""
    m = re.search(rf'<li id="{dom_id}".*?</li>', html, flags=re.S)
    assert m, f"{dom_id} is not on the page"
    return m.group(0)


def list_ids(html: str, kind: str) -> list[str]:
    """The ids of the items in a queue, top to bottom."""
    m = re.search(rf'<ol class="items" id="{kind}-list".*?</ol>', html, flags=re.S)
    assert m
    return re.findall(r'<li id="([\w-]+)"', m.group(0))


def audit_actions(r: redis.Redis) -> list[tuple[str, str, str]]:
    return [(e.who, e.action, e.target) for e in reversed(audit.entries(r, 0, 1000))]


def test_red_flag_texts_show_most_urgent_then_newest_first(
    app: Flask, r: redis.Redis, nurse: FlaskClient, clock: Clock
) -> None:
    phone_for(app, PATIENT).send("I feel sick and cant eat")  # same_day
    clock.now += timedelta(minutes=5)
    phone_for(app, OTHER).send("temp 38.4")  # urgent
    clock.now += timedelta(minutes=5)
    phone_for(app, THIRD).send("i have chest pain")  # emergency, newest
    clock.now += timedelta(minutes=5)
    phone_for(app, "+447700900321").send("my temperature is 39")  # urgent, newer

    html = page(nurse, "/console/today")
    alerts = records.open_alerts(r)
    by_number = {a.number: a for a in alerts}
    order = [by_number[n].id for n in (THIRD, "+447700900321", OTHER, PATIENT)]
    assert list_ids(html, "alerts") == [f"alerts-{i}" for i in order]

    chest = text(item(html, f"alerts-{by_number[THIRD].id}"))
    assert chest.startswith("Emergency Chest pain")
    assert "i have chest pain" in chest
    assert "Mon 23 Nov 2026, 10:10 (5 minutes ago)" in chest
    assert "A text message" in chest
    assert "+44*******789" in chest
    assert "Open: nobody has taken this on yet" in chest
    for number in (PATIENT, OTHER, THIRD, "07700 900789", "7700900789"):
        assert number not in html  # numbers stay masked until a nurse asks
    assert "4 open alerts (3 emergency or urgent) and 0 call-back requests." in text(html)


def test_times_are_shown_in_the_clinic_time_zone(
    app: Flask, r: redis.Redis, nurse: FlaskClient, clock: Clock
) -> None:
    clock.now = datetime(2026, 7, 6, 9, 30, tzinfo=UTC)  # 10:30 in London (BST)
    phone_for(app, PATIENT).send("chest pain")
    clock.now += timedelta(hours=2)
    html = text(page(nurse, "/console/today"))
    assert "Mon 6 Jul 2026, 10:30 (2 hours ago)" in html


def test_revealing_a_number_shows_it_to_that_nurse_and_is_audited(
    app: Flask, r: redis.Redis, nurse: FlaskClient, clock: Clock
) -> None:
    phone_for(app, PATIENT).send("chest pain")
    (alert,) = records.open_alerts(r)
    response = post_form(nurse, "/console/today", f"/console/alerts/{alert.id}/reveal")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/console/today#alerts-{alert.id}"
    mine = item(page(nurse, "/console/today"), f"alerts-{alert.id}")
    assert "07700 900123" in mine and "Show number" not in mine

    # Another nurse has not asked: still masked for them.
    add_nurse(r, ADMIN, admin=True)
    other = app.test_client()
    sign_in(other, ADMIN)
    theirs = item(page(other, "/console/today"), f"alerts-{alert.id}")
    assert "07700 900123" not in theirs and "+44*******123" in theirs

    # console.js asks for JSON and puts the number in place.
    data = post_form(other, "/console/today", f"/console/alerts/{alert.id}/reveal",
                     headers={"Accept": "application/json"}).get_json()
    assert data == {"number": PATIENT, "display": "07700 900123"}

    # A revealed number hides again after ten minutes.
    clock.now += timedelta(minutes=10, seconds=1)
    assert "07700 900123" not in item(page(nurse, "/console/today"), f"alerts-{alert.id}")
    assert [(w, a, t) for w, a, t in audit_actions(r) if a == "reveal_number"] == [
        (NURSE, "reveal_number", f"alerts/{alert.id}"),
        (ADMIN, "reveal_number", f"alerts/{alert.id}"),
    ]


def test_acknowledging_marks_who_has_it_and_a_second_nurse_is_told(
    app: Flask, r: redis.Redis, nurse: FlaskClient, clock: Clock
) -> None:
    phone_for(app, PATIENT).send("temp 38.6")
    (alert,) = records.open_alerts(r)
    clock.now += timedelta(minutes=3)
    response = post_form(nurse, "/console/today", f"/console/alerts/{alert.id}/acknowledge")
    assert response.status_code == 302
    html = page(nurse, "/console/today")
    assert "Alert acknowledged." in text(html)
    mine = item(html, f"alerts-{alert.id}")
    assert f"Acknowledged by {NURSE} at 10:03" in text(mine)
    assert "/acknowledge" not in mine  # no second button
    stored = records.Alert.fetch(r, alert.id)
    assert stored is not None
    assert (stored.status, stored.acknowledged_by) == ("acknowledged", NURSE)
    assert stored.acknowledged_at == "2026-11-23T10:03:00+00:00"
    assert records.open_alerts(r)[0].id == alert.id  # still open until resolved

    add_nurse(r, ADMIN, admin=True)
    other = app.test_client()
    sign_in(other, ADMIN)
    token = csrf_token(page(other, "/console/today"))
    again = other.post(f"/console/alerts/{alert.id}/acknowledge", data={"csrf_token": token},
                       follow_redirects=True)
    assert f"Alert was already acknowledged by {NURSE}." in text(again.get_data(as_text=True))
    assert records.Alert.fetch(r, alert.id).acknowledged_by == NURSE  # type: ignore[union-attr]
    assert [a for _, a, _ in audit_actions(r)].count("acknowledge") == 1


def test_resolving_needs_a_note_then_closes_the_alert(
    app: Flask, r: redis.Redis, nurse: FlaskClient, clock: Clock
) -> None:
    phone_for(app, PATIENT).send("chest pain")
    (alert,) = records.open_alerts(r)
    url = f"/console/alerts/{alert.id}/resolve"
    missing = post_form(nurse, "/console/today", url, {"note": "   "})
    assert missing.status_code == 400
    mine = item(missing.get_data(as_text=True), f"alerts-{alert.id}")
    assert "Write a note of what was done before resolving." in text(mine)
    assert f'id="alerts-{alert.id}-note" name="note"' in mine and 'aria-invalid="true"' in mine
    assert f'<label for="alerts-{alert.id}-note">What was done' in mine
    assert records.Alert.fetch(r, alert.id).status == "open"  # type: ignore[union-attr]

    clock.now += timedelta(minutes=20)
    note = "Rang her: already in A&E with her partner."
    done = post_form(nurse, "/console/today", url, {"note": note})
    assert done.status_code == 302
    html = page(nurse, "/console/today")
    assert list_ids(html, "alerts") == []
    assert "No open alerts." in html and 'id="alerts-empty">' in html
    resolved = text(re.search(r'<table class="table" id="resolved-table">.*?</table>', html,
                              flags=re.S).group(0))  # type: ignore[union-attr]
    assert f"Emergency alert: Chest pain Mon 23 Nov 2026, 10:20 {NURSE} {note}" in resolved
    stored = records.Alert.fetch(r, alert.id)
    assert stored is not None
    assert (stored.status, stored.resolved_by, stored.note) == ("resolved", NURSE, note)
    assert records.open_alerts(r) == []
    assert (NURSE, "resolve", f"alerts/{alert.id}") in audit_actions(r)

    # Resolving twice changes nothing and says who did it.
    again = post_form(nurse, "/console/today", url, {"note": "second note"},
                      follow_redirects=True)
    assert f"Alert was already resolved by {NURSE}." in text(again.get_data(as_text=True))
    assert records.Alert.fetch(r, alert.id).note == note  # type: ignore[union-attr]


def test_resolve_without_acknowledging_first_is_fine(
    app: Flask, r: redis.Redis, nurse: FlaskClient
) -> None:
    phone_for(app, PATIENT).send("temp 38.6")
    (alert,) = records.open_alerts(r)
    post_form(nurse, "/console/today", f"/console/alerts/{alert.id}/resolve",
              {"note": "Advised to ring the acute oncology line; she has."})
    assert records.Alert.fetch(r, alert.id).status == "resolved"  # type: ignore[union-attr]


def test_call_back_requests_newest_first_with_voicemail(
    app: Flask, r: redis.Redis, nurse: FlaskClient, clock: Clock
) -> None:
    patient = phone_for(app, PATIENT)
    patient.send("nurse")
    patient.send("about my scan results")
    clock.now += timedelta(minutes=10)
    voicemail = records.CallbackRequest(
        number=OTHER, reason="Left a voicemail on the phone line", channel="voice",
        created_at=clock.now.isoformat(),
        recording_url="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE0",
    )
    voicemail.save(r)
    bad = records.CallbackRequest(number=THIRD, reason="odd", channel="voice",
                                  created_at=clock.now.isoformat(),
                                  recording_url="javascript:alert(1)")
    bad.save(r)
    html = page(nurse, "/console/today")
    (texted,) = [c for c in records.open_callbacks(r) if c.number == PATIENT]
    ids = list_ids(html, "callbacks")
    assert ids[-1] == f"callbacks-{texted.id}"  # the oldest is last
    assert set(ids[:2]) == {f"callbacks-{voicemail.id}", f"callbacks-{bad.id}"}

    from_text = text(item(html, f"callbacks-{texted.id}"))
    assert from_text.startswith("Call back about my scan results")
    assert "Mon 23 Nov 2026, 10:00 (10 minutes ago)" in from_text
    assert "A text message" in from_text
    vm = item(html, f"callbacks-{voicemail.id}")
    assert f'<audio controls preload="none" src="{voicemail.recording_url}"' in vm
    assert "A phone call" in text(vm)
    assert "javascript:" not in item(html, f"callbacks-{bad.id}")
    assert "1 open alert" not in html and "3 call-back requests." in text(html)

    post_form(nurse, "/console/today", f"/console/callbacks/{voicemail.id}/resolve",
              {"note": "Called back, booked into clinic on Thursday."})
    assert voicemail.id not in [c.id for c in records.open_callbacks(r)]


def test_a_late_detail_saved_on_a_resolved_request_does_not_reopen_it(
    app: Flask, r: redis.Redis, nurse: FlaskClient
) -> None:
    request = records.CallbackRequest(number=OTHER, reason="voicemail", channel="voice",
                                      created_at="2026-11-23T09:00:00+00:00")
    request.save(r)
    post_form(nurse, "/console/today", f"/console/callbacks/{request.id}/resolve",
              {"note": "Called back."})
    stored = records.CallbackRequest.fetch(r, request.id)
    assert stored is not None
    stored.recording_url = "https://api.twilio.com/recording"  # the recording arrives late
    stored.save(r)
    assert records.open_callbacks(r) == []
    assert records.CallbackRequest.fetch(r, request.id).status == "resolved"  # type: ignore[union-attr]


def test_unknown_records_are_404(nurse: FlaskClient) -> None:
    for action in ("acknowledge", "resolve", "reveal"):
        response = post_form(nurse, "/console/today", f"/console/alerts/nosuchid/{action}",
                             {"note": "x"})
        assert response.status_code == 404
    assert nurse.get("/console/patients/callbacks/nosuchid").status_code == 404


def test_updates_bring_new_alerts_and_changes_without_a_reload(
    app: Flask, r: redis.Redis, nurse: FlaskClient, clock: Clock
) -> None:
    accept = {"Accept": "application/json"}
    empty = nurse.get("/console/today/updates", headers=accept).get_json()
    assert empty["counts"] == {"alerts": 0, "callbacks": 0}
    assert empty["sections"]["alerts"]["ids"] == []

    phone_for(app, PATIENT).send("temp 38.4")
    clock.now += timedelta(minutes=1)
    phone_for(app, OTHER).send("i cant breathe")
    data = nurse.get("/console/today/updates", headers=accept).get_json()
    urgent, emergency = (next(a for a in records.open_alerts(r) if a.level == level)
                         for level in ("urgent", "emergency"))
    assert data["sections"]["alerts"]["ids"] == [f"alerts-{emergency.id}",
                                                 f"alerts-{urgent.id}"]
    html = data["sections"]["alerts"]["items"][f"alerts-{emergency.id}"]
    assert "i cant breathe" in html and 'data-state="open"' in html
    assert csrf_token(html)  # its buttons work without reloading the page
    assert data["summary"] == "2 open alerts (2 emergency or urgent) and 0 call-back requests."

    post_form(nurse, "/console/today", f"/console/alerts/{urgent.id}/acknowledge")
    data = nurse.get("/console/today/updates", headers=accept).get_json()
    assert 'data-state="acknowledged"' in data["sections"]["alerts"]["items"][f"alerts-{urgent.id}"]


def test_the_today_page_says_how_it_updates_and_loads_the_script(nurse: FlaskClient) -> None:
    html = page(nurse, "/console/today")
    assert 'data-updates-url="/console/today/updates"' in html
    assert 'id="updates-live" class="visually-hidden" aria-live="polite"' in html
    assert '<script src="/static/console.js" defer></script>' in html
    js = nurse.get("/static/console.js")
    assert js.status_code == 200
    assert b"data-updates-url" in js.data and b"form[data-reveal]" in js.data
    js.close()
