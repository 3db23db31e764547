"""POST /sms/status: Twilio's delivery reports, signed, in any order, never moving backwards."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.outbound.appointments import Patient
from bot.outbound.texts import Reminder
from bot.outbound.transport import OutboxTransport, Sent, TwilioTransport
from bot.store import records
from bot.web.signatures import sign
from tests.support.base import PATIENT, PUBLIC_BASE_URL, TOKEN
from tests.support.reminders import (
    STATUS_URL,
    drama,
    fetch,
    make_appointment,
    make_reminder,
    post_status,
    report,
    scheduled,
    statuses,
    utc_now,
)
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandin
from workers.send import deliver


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sent(r: redis.Redis, to: str = PATIENT) -> Reminder:
    """A reminder the send job has just sent through the outbox."""
    rem = make_reminder(r, to=to, send_at=utc_now(), schedule=False)
    assert deliver(r, rem.id, 1, OutboxTransport(r), rem.send_at_dt) == "sent"
    return fetch(r, rem)


# --- Signed or refused ---------------------------------------------------------------


def test_unsigned_or_tampered_reports_are_refused_and_change_nothing(
    r: redis.Redis, client: FlaskClient
) -> None:
    rem = sent(r)
    form = report(rem.sid, "delivered", PATIENT)
    signed_for_sent = sign(TOKEN, STATUS_URL, report(rem.sid, "sent", PATIENT))

    assert client.post("/sms/status", data=form, base_url=PUBLIC_BASE_URL).status_code == 403
    assert post_status(client, form, signature=signed_for_sent) == 403
    assert post_status(client, form, signature=sign("not-the-token", STATUS_URL, form)) == 403

    assert fetch(r, rem).status == "sent"


# --- In order and out of order ---------------------------------------------------------


def test_sent_then_delivered_and_a_late_sent_never_undoes_it(
    r: redis.Redis, client: FlaskClient
) -> None:
    rem = sent(r)

    assert post_status(client, report(rem.sid, "sent", PATIENT)) == 204
    assert fetch(r, rem).status == "sent"
    assert post_status(client, report(rem.sid, "delivered", PATIENT)) == 204
    assert fetch(r, rem).status == "delivered"

    assert post_status(client, report(rem.sid, "sent", PATIENT)) == 204
    assert fetch(r, rem).status == "delivered"
    for late in ("queued", "sending", "undelivered", "failed"):
        assert post_status(client, report(rem.sid, late, PATIENT)) == 204
        assert fetch(r, rem).status == "delivered"


def test_an_undelivered_report_is_recorded_with_its_error(
    r: redis.Redis, client: FlaskClient
) -> None:
    rem = sent(r)

    assert post_status(client, report(rem.sid, "undelivered", PATIENT, "30003")) == 204

    stored = fetch(r, rem)
    assert (stored.status, stored.error) == ("undelivered", "Twilio error 30003")
    assert not records.is_opted_out(r, PATIENT)  # an unreachable phone is not an opt-out


def test_a_report_for_a_message_we_never_sent_is_accepted_and_ignored(
    r: redis.Redis, client: FlaskClient
) -> None:
    assert post_status(client, report("SM" + "9" * 32, "queued", PATIENT)) == 204
    assert post_status(client, {"MessageStatus": "delivered"}) == 204  # no sid at all
    assert r.keys("reminder:*") == []


class CallbackFirst:
    """Twilio, but its delivery report arrives before the send job has stored the sid."""

    def __init__(self, inner: TwilioTransport, client: FlaskClient, statuses: list[str]):
        self.inner = inner
        self.client = client
        self.statuses = statuses

    def send(self, to: str, body: str, status_callback: str | None = None) -> Sent:
        result = self.inner.send(to, body, status_callback)
        for status in self.statuses:
            assert post_status(self.client, report(result.sid, status, to),
                               url=status_callback or STATUS_URL) == 204
        return result


@pytest.mark.parametrize("callback", [None, STATUS_URL], ids=["sid-index", "named"])
@pytest.mark.parametrize("reports", [["delivered"], ["sent", "delivered", "sent"]])
def test_a_report_that_beats_the_send_job_is_applied_when_the_sid_is_stored(
    r: redis.Redis, client: FlaskClient, reports: list[str], callback: str | None
) -> None:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now(), schedule=False)
    with TwilioStandin() as standin:
        twilio = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, base_url=standin.base_url)

        assert deliver(r, rem.id, 1, CallbackFirst(twilio, client, reports),
                       rem.send_at_dt, status_callback=callback) == "sent"

        [message] = standin.messages
    stored = fetch(r, rem)
    assert (stored.sid, stored.status) == (message["sid"], "delivered")


class Recorded:
    """The outbox, remembering the delivery report address each text was given."""

    def __init__(self, r: redis.Redis) -> None:
        self.outbox = OutboxTransport(r)
        self.callbacks: list[str | None] = []

    def send(self, to: str, body: str, status_callback: str | None = None) -> Sent:
        self.callbacks.append(status_callback)
        return self.outbox.send(to, body, status_callback)


def test_reports_find_their_reminder_by_its_address_with_no_index_of_sids(
    r: redis.Redis, client: FlaskClient
) -> None:
    first = make_reminder(r, to=PATIENT, send_at=utc_now(), schedule=False)
    second = make_reminder(r, to=drama(701), send_at=utc_now(), schedule=False)
    transport = Recorded(r)
    for rem in (first, second):
        assert deliver(r, rem.id, 1, transport, rem.send_at_dt,
                       status_callback=STATUS_URL) == "sent"
    assert transport.callbacks == [f"{STATUS_URL}?r={first.id}", f"{STATUS_URL}?r={second.id}"]
    assert r.keys("sid:*") == []

    one, two = fetch(r, first), fetch(r, second)
    assert post_status(client, report(one.sid, "delivered", PATIENT),
                       url=f"{STATUS_URL}?r={one.id}") == 204
    assert post_status(client, report(two.sid, "undelivered", drama(701), "30003"),
                       url=f"{STATUS_URL}?r={two.id}") == 204
    assert (fetch(r, first).status, fetch(r, second).status) == ("delivered", "undelivered")
    # The address is signed: a report moved to another reminder's address is refused.
    form = report(one.sid, "failed", PATIENT)
    assert post_status(client, form, url=f"{STATUS_URL}?r={two.id}",
                       signature=sign(TOKEN, f"{STATUS_URL}?r={one.id}", form)) == 403
    assert fetch(r, second).status == "undelivered"


# --- Reports that change what we may send ----------------------------------------------


def test_error_21610_in_a_report_opts_the_patient_out(
    r: redis.Redis, client: FlaskClient
) -> None:
    now = utc_now()
    _, (first, later) = make_appointment(
        r, to=PATIENT, at=now + timedelta(days=3), sends=[now, now + timedelta(days=1)])
    _, (other,) = make_appointment(r, to=drama(700), at=now + timedelta(days=3),
                                   sends=[now + timedelta(days=1)])
    assert deliver(r, first.id, 1, OutboxTransport(r), now) == "sent"
    sid = fetch(r, first).sid

    assert post_status(client, report(sid, "undelivered", PATIENT, "21610")) == 204

    assert records.is_opted_out(r, PATIENT)
    assert statuses(r, [first, later]) == ["undelivered", "opted_out"]
    assert later.job_id not in scheduled(r) and other.job_id in scheduled(r)
    assert deliver(r, later.id, 1, OutboxTransport(r), later.send_at_dt) == "opted_out"


def test_a_landline_in_a_report_is_flagged_and_its_reminders_stop(
    r: redis.Redis, client: FlaskClient
) -> None:
    now = utc_now()
    _, (first, later) = make_appointment(
        r, to=PATIENT, at=now + timedelta(days=3), sends=[now, now + timedelta(days=1)])
    assert deliver(r, first.id, 1, OutboxTransport(r), now) == "sent"

    assert post_status(client, report(fetch(r, first).sid, "failed", PATIENT, "30006")) == 204

    assert "30006" in str(r.hget(Patient.key_for(PATIENT), "invalid"))
    assert statuses(r, [first, later]) == ["failed", "failed"]
    assert later.job_id not in scheduled(r)


# --- When Redis is down --------------------------------------------------------------


def test_a_report_that_cannot_be_recorded_gets_503_so_twilio_shows_it(
    make_app: Callable[..., Flask],
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{port}/0")

    assert post_status(app.test_client(), report("SM" + "1" * 32, "delivered", PATIENT)) == 503
