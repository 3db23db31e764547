"""Outbound SMS transport: Twilio's REST API through a local stand-in, and the local outbox."""

from __future__ import annotations

import re
import socket
import time
from datetime import datetime

import pytest
import redis
import requests

from bot.outbound.transport import (
    OUTBOX_LIMIT,
    OutboxTransport,
    SendError,
    TwilioTransport,
    outbox,
    transport_for,
)
from tests.support.base import PATIENT
from tests.support.twilio_standin import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    MESSAGING_SERVICE_SID,
    StandinProcess,
    TwilioStandin,
)

CALLBACK = "https://support.example.org/sms/status"
BODY = "Reminder: your appointment is on Tue 24 Nov at 10:30, Outpatients B. Reply C to confirm."
SID = re.compile(r"^SM[0-9a-f]{32}$")
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def twilio(standin: TwilioStandin, **kwargs: object) -> TwilioTransport:
    options: dict[str, object] = {"from_number": FROM_NUMBER, "base_url": standin.base_url}
    options.update(kwargs)
    return TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, **options)  # type: ignore[arg-type]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Sending through Twilio


def test_send_posts_the_message_with_the_account_credentials(standin: TwilioStandin) -> None:
    sent = twilio(standin).send(PATIENT, BODY, CALLBACK)

    [req] = standin.message_requests
    assert req.path == MESSAGES_PATH
    assert req.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert req.form == {"To": PATIENT, "From": FROM_NUMBER, "Body": BODY,
                        "StatusCallback": CALLBACK}
    [message] = standin.messages
    assert sent.sid == message["sid"] and SID.match(sent.sid)
    assert sent.status == "queued"
    assert message["to"] == PATIENT and message["body"] == BODY


def test_no_status_callback_field_without_a_callback(standin: TwilioStandin) -> None:
    twilio(standin).send(PATIENT, "See you on Tuesday.")

    assert standin.message_requests[0].form == {
        "To": PATIENT, "From": FROM_NUMBER, "Body": "See you on Tuesday."
    }


def test_text_outside_ascii_arrives_unchanged(standin: TwilioStandin) -> None:
    body = "Café opens at 8:00 - £2 for a tea. ¿Dónde? Ground floor."
    twilio(standin).send(PATIENT, body)

    assert standin.messages[0]["body"] == body


def test_messaging_service_sends_without_a_from_number(standin: TwilioStandin) -> None:
    transport = twilio(standin, from_number=None, messaging_service_sid=MESSAGING_SERVICE_SID)
    sent = transport.send(PATIENT, BODY, CALLBACK)

    form = standin.message_requests[0].form
    assert form["MessagingServiceSid"] == MESSAGING_SERVICE_SID
    assert "From" not in form
    assert sent.status == "accepted"  # what Twilio says until the service picks a sender


def test_messaging_service_wins_over_a_from_number(standin: TwilioStandin) -> None:
    twilio(standin, messaging_service_sid=MESSAGING_SERVICE_SID).send(PATIENT, BODY)

    form = standin.message_requests[0].form
    assert form["MessagingServiceSid"] == MESSAGING_SERVICE_SID and "From" not in form


def test_a_sender_is_required() -> None:
    with pytest.raises(ValueError, match="TWILIO_FROM_NUMBER"):
        TwilioTransport(ACCOUNT_SID, AUTH_TOKEN)


def test_wrong_auth_token_is_a_final_error(standin: TwilioStandin) -> None:
    transport = TwilioTransport(ACCOUNT_SID, "not-the-token", FROM_NUMBER,
                                base_url=standin.base_url)
    with pytest.raises(SendError) as caught:
        transport.send(PATIENT, BODY)

    assert (caught.value.status, caught.value.code, caught.value.retryable) == (401, 20003, False)
    assert standin.messages == []


# Failures: which may be tried again


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_busy_or_broken_api_is_retryable(standin: TwilioStandin, status: int, code: int
                                         ) -> None:
    standin.fail_next(status)
    with pytest.raises(SendError) as caught:
        twilio(standin).send(PATIENT, BODY)

    assert (caught.value.status, caught.value.code, caught.value.retryable) == (
        status, code, True)
    assert standin.messages == []


def test_429_then_success_sends_once(standin: TwilioStandin) -> None:
    transport = twilio(standin)
    standin.fail_next(429)
    with pytest.raises(SendError):
        transport.send(PATIENT, BODY)
    sent = transport.send(PATIENT, BODY)

    assert len(standin.message_requests) == 2
    assert [m["sid"] for m in standin.messages] == [sent.sid]


@pytest.mark.parametrize(
    ("code", "words"),
    [(21610, "unsubscribed"), (21211, "is not a valid phone number"),
     (21614, "not a valid mobile")],
)
def test_recipient_errors_are_final_and_carry_the_code(
    standin: TwilioStandin, code: int, words: str
) -> None:
    standin.fail_next(400, code=code)
    with pytest.raises(SendError) as caught:
        twilio(standin).send(PATIENT, BODY)

    assert (caught.value.status, caught.value.code, caught.value.retryable) == (400, code, False)
    assert words in str(caught.value)


def test_refused_connection_is_retryable() -> None:
    transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER,
                                base_url=f"http://127.0.0.1:{closed_port()}", timeout=2)
    with pytest.raises(SendError) as caught:
        transport.send(PATIENT, BODY)

    assert caught.value.retryable is True
    assert caught.value.status is None and caught.value.code is None


def test_read_timeout_is_final_because_the_message_may_have_gone(
    standin: TwilioStandin,
) -> None:
    standin.hang_next(1.2)
    started = time.monotonic()
    with pytest.raises(SendError) as caught:
        twilio(standin, timeout=0.3).send(PATIENT, BODY)

    assert time.monotonic() - started < 1.0  # the timeout cut the wait short
    assert caught.value.retryable is False
    assert "may have been sent" in str(caught.value)
    # The API did create it: sending again would text the patient twice.
    assert len(standin.wait_for_messages(1, timeout=5)) == 1


def test_connection_dropped_after_the_request_is_final(standin: TwilioStandin) -> None:
    standin.close_next(sent=True)
    with pytest.raises(SendError) as caught:
        twilio(standin).send(PATIENT, BODY)

    assert caught.value.retryable is False
    assert len(standin.messages) == 1


def test_stand_in_latency_slows_each_send(standin: TwilioStandin) -> None:
    standin.latency = 0.05
    transport = twilio(standin)
    started = time.monotonic()
    transport.send(PATIENT, BODY)
    transport.send(PATIENT, BODY)

    assert time.monotonic() - started >= 0.1


# Choosing a transport


def test_without_an_account_messages_stay_in_the_outbox(r: redis.Redis) -> None:
    transport = transport_for({"TWILIO_AUTH_TOKEN": "webhook-token-only"}, r)

    assert isinstance(transport, OutboxTransport)
    sent = transport.send(PATIENT, BODY, CALLBACK)
    assert [m["sid"] for m in outbox(r)] == [sent.sid]


def test_with_an_account_messages_go_to_the_configured_api(
    r: redis.Redis, standin: TwilioStandin
) -> None:
    transport = transport_for(standin.settings(), r)

    assert isinstance(transport, TwilioTransport)
    sent = transport.send(PATIENT, BODY)
    assert standin.messages[0]["sid"] == sent.sid
    assert outbox(r) == []


def test_configured_timeout_is_used(r: redis.Redis, standin: TwilioStandin) -> None:
    transport = transport_for(standin.settings(TWILIO_TIMEOUT="0.3"), r)
    standin.hang_next(3.0)
    started = time.monotonic()
    with pytest.raises(SendError):
        transport.send(PATIENT, BODY)

    assert time.monotonic() - started < 2.0


def test_configured_messaging_service_is_used(r: redis.Redis, standin: TwilioStandin) -> None:
    settings = standin.settings(TWILIO_FROM_NUMBER="",
                                TWILIO_MESSAGING_SERVICE_SID=MESSAGING_SERVICE_SID)
    transport_for(settings, r).send(PATIENT, BODY)

    form = standin.message_requests[0].form
    assert form["MessagingServiceSid"] == MESSAGING_SERVICE_SID and "From" not in form


# The local outbox


def test_outbox_records_segments_and_encoding_newest_first(r: redis.Redis) -> None:
    transport = OutboxTransport(r)
    short = transport.send("+447700900101", "Your blood test is at 9:00.")
    long_gsm = transport.send("+447700900102", "Please bring a list of your medicines. " * 5)
    curly = transport.send("+447700900103", "It\u2019s on Monday.")

    entries = outbox(r)
    assert [e["sid"] for e in entries] == [curly.sid, long_gsm.sid, short.sid]
    assert [(e["to"], e["segments"], e["encoding"]) for e in entries] == [
        ("+447700900103", 1, "UCS-2"),
        ("+447700900102", 2, "GSM-7"),
        ("+447700900101", 1, "GSM-7"),
    ]
    newest = entries[0]
    assert newest["body"] == "It\u2019s on Monday." and newest["status"] == "sent"
    assert newest["from"] == "support line"
    assert SID.match(newest["sid"])
    assert datetime.fromisoformat(newest["at"]).utcoffset() is not None


def test_outbox_keeps_the_newest_thousand(r: redis.Redis) -> None:
    transport = OutboxTransport(r)
    sids = [transport.send(f"+447700900{i % 1000:03d}", f"Message {i}").sid
            for i in range(OUTBOX_LIMIT + 5)]

    assert r.llen("outbox") == OUTBOX_LIMIT
    assert [e["sid"] for e in outbox(r, limit=3)] == sids[:-4:-1]
    assert outbox(r, limit=OUTBOX_LIMIT + 5)[-1]["sid"] == sids[5]


# The stand-in itself answers like Twilio


def test_stand_in_refuses_requests_without_credentials(standin: TwilioStandin) -> None:
    resp = requests.post(standin.base_url + MESSAGES_PATH,
                         data={"To": PATIENT, "From": FROM_NUMBER, "Body": BODY}, timeout=5)

    assert resp.status_code == 401
    assert resp.json() == {"code": 20003, "message": "Authenticate", "status": 401,
                           "more_info": "https://www.twilio.com/docs/errors/20003"}
    assert standin.messages == []


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": FROM_NUMBER, "Body": BODY}, 21604),
        # A digit short of the drama range: nobody's number, and not a number at all.
        ({"To": "+44770090012", "From": FROM_NUMBER, "Body": BODY}, 21211),
        ({"To": PATIENT, "Body": BODY}, 21603),
        ({"To": PATIENT, "From": FROM_NUMBER}, 21602),
        ({"To": PATIENT, "From": FROM_NUMBER, "Body": BODY, "StatusCallback": "nowhere"},
         21609),
    ],
)
def test_stand_in_rejects_what_twilio_rejects(
    standin: TwilioStandin, form: dict[str, str], code: int
) -> None:
    resp = requests.post(standin.base_url + MESSAGES_PATH, data=form,
                         auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)

    assert (resp.status_code, resp.json()["code"]) == (400, code)
    assert standin.messages == []


def test_stand_in_answers_quickly_enough_for_benchmarks(standin: TwilioStandin) -> None:
    # Fifty sends in well under a second: a stand-in that stalled each reply (Nagle's
    # algorithm against delayed ACKs costs 40 ms a time) would distort any send figure.
    transport = twilio(standin)
    started = time.monotonic()
    for i in range(50):
        transport.send(f"+447700900{i:03d}", BODY)

    assert time.monotonic() - started < 1.0
    assert len(standin.messages) == 50


def test_stand_in_as_a_process_counts_what_it_sent() -> None:
    with StandinProcess(latency=0.001) as proc:
        transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER,
                                    base_url=proc.base_url)
        sids = {transport.send(PATIENT, f"Message {i}").sid for i in range(3)}
        stats = proc.stats()

    assert len(sids) == 3
    assert stats["messages"] == 3 and stats["answered"] == {"201": 3}
