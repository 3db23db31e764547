"""The FHIR feed: POST /feeds/fhir with Appointments and transaction Bundles."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.feeds import bookings, messages
from bot.outbound import importer
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.texts import Reminder
from tests.support.base import MONDAY_10AM, PATIENT, must
from tests.support.console import add_nurse, page, signed_in, text
from tests.support.feed import CODES, LONDON
from tests.support.reminders import CALLING, QUIET, scheduled

TOKEN = "feed-token-for-tests-0123456789"
WEDNESDAY_930 = datetime(2026, 12, 2, 9, 30, tzinfo=LONDON)


@pytest.fixture
def client(make_app: Callable[..., Flask], tmp_path: Path) -> FlaskClient:
    (tmp_path / "instance").mkdir(exist_ok=True)
    (tmp_path / "instance" / "feed-codes.yaml").write_text(CODES)
    return make_app(FEED_TOKEN=TOKEN).test_client()


def appointment(status: str = "booked", start: datetime | None = WEDNESDAY_930, version: int = 1,
                updated: datetime = MONDAY_10AM, phone: str = PATIENT,
                service: str = "RCTCAP") -> dict[str, Any]:
    """A FHIR R4 Appointment as an EPR sends it, its Patient contained."""
    body: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": "appt-5501",
        "meta": {"versionId": str(version), "lastUpdated": updated.isoformat()},
        "identifier": [{"system": "https://pas.example.nhs.uk/appointment", "value": "5501"}],
        "status": status,
        "serviceType": [{"coding": [{"system": "https://pas.example.nhs.uk/procedure",
                                     "code": service, "display": "CT chest abdomen pelvis"}]}],
        "contained": [{
            "resourceType": "Patient", "id": "pat",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990001234"}],
            "telecom": [{"system": "phone", "value": "01632 960444", "use": "home"},
                        {"system": "phone", "value": phone, "use": "mobile"}],
        }],
        "participant": [
            {"actor": {"reference": "#pat"}, "status": "accepted"},
            {"actor": {"reference": "Location/RAD-CT", "display": "Freeman Imaging"},
             "status": "accepted"},
        ],
    }
    if start is not None:
        body["start"] = start.isoformat()
        body["end"] = (start + timedelta(minutes=30)).isoformat()
    return body


def post(client: FlaskClient, body: Any, token: str | None = TOKEN) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/feeds/fhir", json=body, headers=headers,
                           content_type="application/fhir+json")
    return response.status_code, response.get_json(force=True)


def ours(r: redis.Redis) -> Appointment:
    known = bookings.tracked(r, "fhir", "https://pas.example.nhs.uk/appointment|5501")
    found = Appointment.fetch(r, known["appointment"])
    assert found is not None
    return found


def pending(r: redis.Redis, appt: Appointment) -> list[Reminder]:
    fresh = Appointment.fetch(r, appt.id)
    assert fresh is not None
    return [x for x in Reminder.fetch_many(r, fresh.reminder_ids) if x.status == "scheduled"]


def test_the_endpoint_is_off_without_a_token_setting(make_app: Callable[..., Flask]) -> None:
    status, body = post(make_app().test_client(), appointment())
    assert status == 404
    assert body["resourceType"] == "OperationOutcome"
    assert "FEED_TOKEN" in body["issue"][0]["diagnostics"]


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_without_the_bearer_token_it_is_403_and_nothing_changes(
    client: FlaskClient, r: redis.Redis, token: str | None
) -> None:
    status, body = post(client, appointment(), token)
    assert status == 403 and body["issue"][0]["code"] == "security"
    assert not r.exists("campaign:feed:appointments")


def test_a_booked_appointment_is_planned_as_a_csv_row_would_be(
    client: FlaskClient, r: redis.Redis
) -> None:
    status, body = post(client, appointment())
    assert status == 200, body
    assert body["issue"][0]["severity"] == "information"
    appt = ours(r)
    assert (appt.patient, appt.test, appt.source, appt.at_dt) == (
        PATIENT, "ct_scan", "fhir", WEDNESDAY_930)
    csv = ("phone,test,appointment,location\n"
           f'{PATIENT},CT,{WEDNESDAY_930:%d/%m/%Y %H:%M},"{appt.location}"\n')
    row = importer.check(csv, LONDON, MONDAY_10AM, QUIET, calling=CALLING).rows[0]
    assert [(x.kind, x.send_at_dt) for x in pending(r, appt)] == [
        (p.kind, p.send_at) for p in row.plan.reminders]


def test_a_transaction_bundle_with_its_patient_books_and_a_resend_is_applied_once(
    client: FlaskClient, r: redis.Redis
) -> None:
    appt = appointment()
    appt.pop("contained")
    appt["participant"][0]["actor"]["reference"] = "urn:uuid:7d3c2a0e-0000-4000-8000-000000000001"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:7d3c2a0e-0000-4000-8000-000000000001",
         "resource": {"resourceType": "Patient",
                      "telecom": [{"system": "phone", "value": "07700 900456", "use": "mobile"}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": appt, "request": {"method": "PUT", "url": "Appointment/appt-5501"}},
    ]}
    assert post(client, bundle)[0] == 200
    assert post(client, bundle)[0] == 200
    assert ours(r).patient == "+447700900456"
    assert r.llen("campaign:feed:appointments") == 1
    assert messages.counts(r).get("duplicate") == 1


def test_an_update_moves_a_cancel_stops_and_nothing_brings_it_back(
    client: FlaskClient, r: redis.Redis
) -> None:
    post(client, appointment())
    first = ours(r)
    before = pending(r, first)
    friday = WEDNESDAY_930 + timedelta(days=2, hours=4)
    status, _ = post(client, appointment(start=friday, version=2,
                                         updated=MONDAY_10AM + timedelta(minutes=5)))
    assert status == 200
    moved = ours(r)
    assert moved.id == first.id and moved.at_dt == friday
    assert {x.status for x in Reminder.fetch_many(r, [x.id for x in before])} == {"cancelled"}
    assert pending(r, moved)

    post(client, appointment("cancelled", start=friday, version=3,
                             updated=MONDAY_10AM + timedelta(minutes=10)))
    assert ours(r).status == "cancelled" and pending(r, ours(r)) == [] and not scheduled(r)

    status, body = post(client, appointment(start=friday, version=4,
                                            updated=MONDAY_10AM + timedelta(minutes=20)))
    assert status == 200 and "never brought back" in body["issue"][0]["diagnostics"]
    assert ours(r).status == "cancelled" and not scheduled(r)


@pytest.mark.parametrize(("status", "became"), [("noshow", "did_not_attend"),
                                                 ("entered-in-error", "cancelled")])
def test_noshow_and_entered_in_error(client: FlaskClient, r: redis.Redis, status: str,
                                     became: str) -> None:
    post(client, appointment())
    post(client, appointment(status, version=2, updated=MONDAY_10AM + timedelta(hours=1)))
    assert ours(r).status == became
    assert pending(r, ours(r)) == []


@pytest.mark.parametrize(("body", "words"), [
    ({**appointment(), "start": "next Tuesday"}, "start"),
    ({**appointment(), "colour": "blue"}, "colour"),
    ({"resourceType": "Patient", "id": "x"}, "not a Patient"),
    ({"resourceType": "Bundle", "type": "searchset", "entry": []}, "transaction"),
    ([1, 2, 3], "resourceType"),
])
def test_an_invalid_resource_gets_an_operation_outcome_and_is_kept(
    client: FlaskClient, r: redis.Redis, body: Any, words: str
) -> None:
    status, outcome = post(client, body)
    assert status == 400
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"
    assert words in outcome["issue"][0]["diagnostics"]
    kept = messages.recent(r, problems=True)
    assert len(kept) == 1 and kept[0].status == "failed" and words in kept[0].error
    assert not r.exists("campaign:feed:appointments")


def test_a_booking_without_a_start_is_a_422_with_the_reason(
    client: FlaskClient, r: redis.Redis
) -> None:
    status, outcome = post(client, appointment(start=None))
    assert status == 422
    assert "Appointment.start" in outcome["issue"][0]["diagnostics"]
    assert messages.recent(r, problems=True)[0].error.startswith("Appointment.start")


def test_not_json_is_a_400_and_is_kept(client: FlaskClient, r: redis.Redis) -> None:
    response = client.post("/feeds/fhir", data="<Appointment/>",
                           headers={"Authorization": f"Bearer {TOKEN}"},
                           content_type="application/fhir+json")
    assert response.status_code == 400
    assert response.get_json(force=True)["issue"][0]["code"] == "structure"
    [kept] = messages.recent(r, problems=True)
    assert kept.raw == "<Appointment/>" and "not JSON" in kept.error


def test_the_feed_campaign_cannot_be_cancelled_from_the_console(
    client: FlaskClient, r: redis.Redis, make_app: Callable[..., Flask]
) -> None:
    from tests.support.console import add_nurse, sign_in

    post(client, appointment())
    add_nurse(r)
    console = client.application.test_client()
    assert sign_in(console).status_code == 302
    page = console.get("/console/campaigns/feed").get_data(as_text=True)
    assert "Cancel the campaign" not in page and "Messages from the hospital" in page
    response = console.get("/console/campaigns/feed/cancel")
    assert response.status_code == 302
    assert ours(r).status == "booked" and pending(r, ours(r))
    follow = console.get(response.headers["Location"]).get_data(as_text=True)
    assert "stays open while the hospital sends bookings" in follow


def test_settings_the_feed_cannot_use_stop_the_app(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    from bot.config import ConfigError

    bad = tmp_path / "codes.yaml"
    bad.write_text("procedures:\n  RCTCAP: cat_scan\n")
    with pytest.raises(ConfigError, match="cat_scan"):
        make_app(FEED_CODES=str(bad))
    with pytest.raises(ConfigError, match="cancel"):
        make_app(FEED_CANCEL_TEXT="Message from your hospital\\nWe had to cancel it.")


@pytest.mark.parametrize("declared", [True, False], ids=["with-length", "chunked"])
def test_a_body_over_the_limit_is_refused_whether_or_not_it_declares_its_length(
    client: FlaskClient, r: redis.Redis, declared: bool
) -> None:
    big = b'{"resourceType": "Appointment", "comment": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/fhir+json"}
    # A chunked body reaches the app as gunicorn gives it: no length, the input ends.
    response = client.post(
        "/feeds/fhir", input_stream=io.BytesIO(big), headers=headers,
        content_length=len(big) if declared else None,
        environ_overrides={} if declared else {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 413
    assert response.get_json(force=True)["issue"][0]["code"] == "too-costly"
    assert messages.recent(r, problems=True) == []


def _telecom(body: dict[str, Any], *numbers: dict[str, str]) -> dict[str, Any]:
    body["contained"][0]["telecom"] = list(numbers)
    return body


def test_a_patient_with_only_a_landline_gets_calls_and_an_old_number_is_never_used(
    make_app: Callable[..., Flask], tmp_path: Path, r: redis.Redis
) -> None:
    (tmp_path / "instance").mkdir(exist_ok=True)
    (tmp_path / "instance" / "feed-codes.yaml").write_text(CODES)
    client = make_app(FEED_TOKEN=TOKEN, CALL_HOURS="14:00-15:30").test_client()
    body = _telecom(appointment(),
                    {"system": "phone", "value": "07700 900777", "use": "old"},
                    {"system": "phone", "value": "01632 960321", "use": "home"})
    status, answer = post(client, body)
    assert status == 200, answer

    appt = ours(r)
    assert appt.patient == "+441632960321"  # not the mobile the patient no longer has
    assert must(Patient.fetch(r, appt.patient)).channel == "call"
    reminders = pending(r, appt)
    assert reminders and all(
        time(14) <= x.send_at_dt.astimezone(LONDON).time() <= time(15, 30) for x in reminders)
    assert r.scard(bookings.NO_MOBILE) == 0


def test_a_patient_with_no_phone_we_can_reach_gets_nothing_and_the_console_says_so(
    client: FlaskClient, r: redis.Redis, make_app: Callable[..., Flask]
) -> None:
    body = _telecom(appointment(), {"system": "email", "value": "jane@example.invalid"})
    assert post(client, body)[0] == 200
    assert r.llen("campaign:feed:appointments") == 0
    assert "No phone we can reach" in messages.recent(r)[0].note
    assert r.scard(bookings.NO_MOBILE) == 1

    add_nurse(r)
    words = text(page(signed_in(make_app()), "/console/feed"))
    assert "1 appointment from the hospital has no phone we can reach" in words
    assert "no mobile number" not in words.lower()


def test_a_landline_booking_is_not_counted_as_unreachable_on_the_console(
    client: FlaskClient, r: redis.Redis, make_app: Callable[..., Flask]
) -> None:
    body = _telecom(appointment(), {"system": "phone", "value": "01632 960321", "use": "home"})
    assert post(client, body)[0] == 200
    add_nurse(r)
    words = text(page(signed_in(make_app()), "/console/feed"))
    assert "no phone we can reach" not in words
