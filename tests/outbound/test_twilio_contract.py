"""Every request we make to Twilio is one its API accepts: Prism serves Twilio's OpenAPI
description as a strict mock, and the requests our transport makes must pass it."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import requests
from rq import Worker
from rq.job import Job

from bot.outbound import scheduling
from bot.outbound.dialler import TwilioDialler
from bot.outbound.queue import queue_text
from bot.outbound.texts import Reminder
from bot.outbound.transport import SendError, TwilioTransport, outbox
from tests.support.base import PATIENT, PUBLIC_BASE_URL
from tests.support.prism import MESSAGES_PATH, PrismMock, load_spec
from tests.support.twilio_standin import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    MESSAGING_SERVICE_SID,
    TwilioStandin,
)

CALLBACK = "https://support.example.org/sms/status"
BODY = "Reminder: your appointment is on Tue 24 Nov at 10:30, Outpatients B. Reply C to confirm."
URL_PATH = MESSAGES_PATH.replace("{AccountSid}", ACCOUNT_SID)

# The ways we send: from our number or through a messaging service, with or without a
# delivery status callback.
SENDERS = {
    "from_number": {"from_number": FROM_NUMBER},
    "messaging_service": {"messaging_service_sid": MESSAGING_SERVICE_SID},
}


@pytest.fixture(scope="session")
def prism() -> Iterator[PrismMock]:
    """One Prism for the session (it takes a second or two to load the description)."""
    with PrismMock() as mock:
        print(f"\nPrism listening after {mock.startup_seconds:.2f}s")
        yield mock


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return load_spec()


def create_message(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec's operation for creating a message."""
    operation: dict[str, Any] = spec["paths"][MESSAGES_PATH]["post"]
    return operation


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref."""
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def post_raw(prism: PrismMock, form: dict[str, str], account: str = ACCOUNT_SID,
             auth: tuple[str, str] | None = (ACCOUNT_SID, AUTH_TOKEN)) -> requests.Response:
    return requests.post(
        prism.base_url + MESSAGES_PATH.replace("{AccountSid}", account),
        data=form, auth=auth, timeout=10,
    )


# Our requests pass the mock


@pytest.mark.parametrize("callback", [CALLBACK, None], ids=["callback", "no_callback"])
@pytest.mark.parametrize("sender", list(SENDERS))
def test_twilio_accepts_what_the_transport_sends(
    prism: PrismMock, spec: dict[str, Any], sender: str, callback: str | None
) -> None:
    transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, base_url=prism.base_url,
                                **SENDERS[sender])  # type: ignore[arg-type]
    sent = transport.send(PATIENT, BODY, callback)

    message = resolve(spec, create_message(spec)["responses"]["201"]["content"][
        "application/json"]["schema"])
    assert re.match(message["properties"]["sid"]["pattern"], sent.sid)
    assert sent.status in resolve(spec, message["properties"]["status"])["enum"]


def test_the_longest_text_we_send_is_accepted(prism: PrismMock) -> None:
    # Two full GSM-7 segments, the most a reminder may cost.
    body = ("Please bring your medicines list and a drink. " * 7)[:306]
    sent = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER,
                           base_url=prism.base_url).send(PATIENT, body, CALLBACK)

    assert sent.sid


@pytest.mark.parametrize("callback", [CALLBACK, None], ids=["callback", "no_callback"])
@pytest.mark.parametrize("sender", list(SENDERS))
def test_every_field_we_send_is_one_twilio_defines(
    spec: dict[str, Any], sender: str, callback: str | None
) -> None:
    # Prism ignores fields the description does not define, so a misspelt one
    # ("StatusCallBack") would pass it and be silently dropped by Twilio; check names here.
    schema = create_message(spec)["requestBody"]["content"][
        "application/x-www-form-urlencoded"]["schema"]
    with TwilioStandin() as standin:
        TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, base_url=standin.base_url,
                        **SENDERS[sender]).send(PATIENT, BODY, callback)  # type: ignore[arg-type]
        [req] = standin.message_requests

    assert set(req.form) <= set(schema["properties"])
    assert set(schema["required"]) <= set(req.form)
    assert ("StatusCallback" in req.form) == (callback is not None)


# The send job, run by a real RQ worker, against the mock


def run_send_job(r: redis.Redis, monkeypatch: pytest.MonkeyPatch, redis_url: str,
                 base_url: str, **env: str) -> tuple[Reminder, bool]:
    """Queue a text and let a burst RQ worker (forking, as `rq worker` does) send it."""
    settings = {
        "REDIS_URL": redis_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_BASE_URL": base_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_FROM_NUMBER": "",
        "TWILIO_MESSAGING_SERVICE_SID": "", "SMS_PER_SECOND": "",
    }
    settings.update(env)
    for key, value in settings.items():
        monkeypatch.setenv(key, value)  # the job reads the deployment's environment
    reminder = queue_text(r, PATIENT, BODY, kind="message", now=datetime.now(UTC))
    assert reminder is not None
    worker = Worker([scheduling.queue(r)], connection=scheduling.rq_connection(r))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.work(burst=True)
    finally:
        for sig, handler in handlers.items():  # RQ installs its own; give pytest its back
            signal.signal(sig, handler)
    # A job that finished is deleted with nothing kept (its outcome is the reminder's);
    # one that failed or waits for a retry stays.
    job_left = bool(scheduling.rq_connection(r).exists(
        Job.key_for(reminder.job_id), f"rq:results:{reminder.job_id}"))
    after = Reminder.fetch(r, reminder.id)
    assert after is not None
    return after, job_left


JOB_SENDERS = {
    "from_number": {"TWILIO_FROM_NUMBER": FROM_NUMBER},
    "messaging_service": {"TWILIO_MESSAGING_SERVICE_SID": MESSAGING_SERVICE_SID},
}


@pytest.mark.parametrize("sender", list(JOB_SENDERS))
def test_send_job_requests_are_accepted_by_twilio(
    r: redis.Redis, monkeypatch: pytest.MonkeyPatch, redis_url: str, prism: PrismMock,
    spec: dict[str, Any], sender: str,
) -> None:
    reminder, job_left = run_send_job(r, monkeypatch, redis_url, prism.base_url,
                                      **JOB_SENDERS[sender])

    assert not job_left  # the job finished
    assert reminder.status == "sent" and reminder.attempts == 1
    # The MessageSid is the mock's own example answer: the text went to the mock and was
    # accepted there, not to the local outbox.
    examples = create_message(spec)["responses"]["201"]["content"]["application/json"][
        "examples"]
    assert reminder.sid in {e["value"]["sid"] for e in examples.values()}
    assert outbox(r) == []


@pytest.mark.parametrize("sender", list(JOB_SENDERS))
def test_send_job_sends_only_fields_twilio_defines(
    r: redis.Redis, monkeypatch: pytest.MonkeyPatch, redis_url: str, spec: dict[str, Any],
    sender: str,
) -> None:
    # The same job through the stand-in, which shows the form Prism was sent above.
    schema = create_message(spec)["requestBody"]["content"][
        "application/x-www-form-urlencoded"]["schema"]
    with TwilioStandin() as standin:
        reminder, _ = run_send_job(r, monkeypatch, redis_url, standin.base_url,
                                   **JOB_SENDERS[sender])
        [req] = standin.message_requests

    assert reminder.status == "sent" and reminder.sid == standin.messages[0]["sid"]
    assert set(req.form) <= set(schema["properties"])
    assert req.form["To"] == PATIENT and req.form["Body"] == BODY
    assert req.form["StatusCallback"] == f"{PUBLIC_BASE_URL}/sms/status?r={reminder.id}"


def test_send_job_request_twilio_refuses_fails_without_a_retry(
    r: redis.Redis, monkeypatch: pytest.MonkeyPatch, redis_url: str, prism: PrismMock,
) -> None:
    # A malformed messaging service sid: the mock refuses it as Twilio would, and the
    # reminder is failed for a nurse to see, not retried and not sent.
    reminder, job_left = run_send_job(r, monkeypatch, redis_url, prism.base_url,
                                      TWILIO_MESSAGING_SERVICE_SID="MG-not-a-service")

    assert not job_left  # the job finished: it was not left to fail or to retry
    assert reminder.status == "failed" and reminder.sid == "" and reminder.attempts == 1
    assert "Unable to create record" in reminder.error


# The mock really checks


def test_mock_rejects_a_message_without_a_recipient(prism: PrismMock) -> None:
    resp = post_raw(prism, {"From": FROM_NUMBER, "Body": BODY})

    assert resp.status_code == 422
    assert "'To'" in resp.text


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"To": PATIENT, "From": FROM_NUMBER, "Body": BODY, "StatusCallback": "sms/status"},
         "StatusCallback"),
        ({"To": PATIENT, "MessagingServiceSid": "MG123", "Body": BODY}, "MessagingServiceSid"),
    ],
)
def test_mock_rejects_malformed_fields(prism: PrismMock, form: dict[str, str], field: str
                                       ) -> None:
    resp = post_raw(prism, form)

    assert resp.status_code == 422
    assert field in resp.text


def test_mock_rejects_a_malformed_account_and_missing_credentials(prism: PrismMock) -> None:
    form = {"To": PATIENT, "From": FROM_NUMBER, "Body": BODY}

    assert post_raw(prism, form, account="AC123").status_code == 422
    assert post_raw(prism, form, auth=None).status_code == 401
    assert post_raw(prism, form).status_code == 201


def test_a_request_twilio_would_refuse_fails_through_the_transport(prism: PrismMock) -> None:
    # The same path our sends take, with a callback address Twilio cannot use: the
    # mock's refusal reaches the caller as a final error, so the contract test would fail.
    transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, base_url=prism.base_url)
    with pytest.raises(SendError) as caught:
        transport.send(PATIENT, BODY, "status-callback")

    assert (caught.value.status, caught.value.retryable) == (422, False)


# The stand-in answers with Twilio's shape


def _conforms(spec: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    schema = resolve(spec, schema)
    if value is None:
        return [] if schema.get("nullable") else ["null where a value is required"]
    kinds: dict[str, type | tuple[type, ...]] = {
        "string": str, "integer": int, "object": dict, "number": (int, float),
        "boolean": bool, "array": list,
    }
    if not isinstance(value, kinds[schema["type"]]):
        return [f"{value!r} is not a {schema['type']}"]
    problems = []
    if "pattern" in schema and not re.match(schema["pattern"], str(value)):
        problems.append(f"{value!r} does not match {schema['pattern']}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{value!r} not in {schema['enum']}")
    return problems


@pytest.mark.parametrize("sender", list(SENDERS))
def test_stand_in_message_resource_matches_twilio_description(
    spec: dict[str, Any], sender: str
) -> None:
    schema = resolve(spec, create_message(spec)["responses"]["201"]["content"][
        "application/json"]["schema"])
    form = {"To": PATIENT, "Body": BODY}
    form.update({"From": FROM_NUMBER} if sender == "from_number"
                else {"MessagingServiceSid": MESSAGING_SERVICE_SID})
    with TwilioStandin() as standin:
        resp = requests.post(standin.base_url + URL_PATH, data=form,
                             auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    resource = resp.json()

    assert resp.status_code == 201
    assert set(resource) == set(schema["properties"])
    problems = {
        name: found for name, prop in schema["properties"].items()
        if (found := _conforms(spec, prop, resource[name]))
    }
    assert problems == {}


# Reminder calls: the Calls create request


CALLS_PATH = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
CALL_URL = "https://support.example.org/reminders/call?r=abc-1-1&a=1"
CALL_STATUS = "https://support.example.org/reminders/call/status?r=abc-1-1&a=1"
LANDLINE = "+441632960123"  # Ofcom drama landline


def test_twilio_accepts_the_call_the_dialler_places(
    prism: PrismMock, spec: dict[str, Any]
) -> None:
    placed = TwilioDialler(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER,
                           base_url=prism.base_url).place(LANDLINE, CALL_URL, CALL_STATUS)

    call = resolve(spec, spec["paths"][CALLS_PATH]["post"]["responses"]["201"]["content"][
        "application/json"]["schema"])
    assert re.match(call["properties"]["sid"]["pattern"], placed.sid)


def test_every_call_field_we_send_is_one_twilio_defines(spec: dict[str, Any]) -> None:
    schema = spec["paths"][CALLS_PATH]["post"]["requestBody"]["content"][
        "application/x-www-form-urlencoded"]["schema"]
    with TwilioStandin() as standin:
        TwilioDialler(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER,
                      base_url=standin.base_url).place(LANDLINE, CALL_URL, CALL_STATUS)
        [req] = standin.call_requests

    assert set(req.form) <= set(schema["properties"])
    assert set(schema["required"]) <= set(req.form)
    assert req.form["MachineDetection"] in ("Enable", "DetectMessageEnd")
    assert (req.form["Url"], req.form["StatusCallback"]) == (CALL_URL, CALL_STATUS)


def test_mock_refuses_calls_twilio_would_refuse(prism: PrismMock) -> None:
    url = prism.base_url + CALLS_PATH.replace("{AccountSid}", ACCOUNT_SID)
    good = {"To": LANDLINE, "From": FROM_NUMBER, "Url": CALL_URL}

    def post(form: dict[str, str]) -> int:
        return requests.post(url, data=form, auth=(ACCOUNT_SID, AUTH_TOKEN),
                             timeout=10).status_code

    assert post(good) == 201
    assert post({"From": FROM_NUMBER, "Url": CALL_URL}) == 422  # no To
    assert post({**good, "Method": "PUT"}) == 422
