"""Helpers for reminder-call tests: a landline's appointment, and Twilio's side of the call
(what it posts when the call is answered, a key is pressed, or the call ends), signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import redis
from flask.testing import FlaskClient

from bot.outbound import appointments, scheduling
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.texts import Reminder, new_id
from bot.web.signatures import sign
from tests.support.base import PUBLIC_BASE_URL, TOKEN
from tests.support.voice import Twiml

LINE = "+447700900001"  # the stand-in's FROM_NUMBER


def landline(n: int) -> str:
    """An Ofcom drama landline, +441632960000 to +441632960999: never a real person."""
    assert 0 <= n <= 999
    return f"+441632960{n:03d}"


def call_appointment(
    r: redis.Redis, *, to: str, at: datetime, send_at: datetime, test: str = "ct_scan",
    kind: str = "day_before", location: str = "Imaging, Level 2", name: str = "",
    channel: str = "call",
) -> tuple[Appointment, Reminder]:
    """An appointment with one real reminder kind due at `send_at`, for a patient whose
    reminders go by `channel`; stored and on RQ's scheduler."""
    appt = Appointment(id=new_id()[:12], patient=to, test=test,
                       at=at.astimezone(UTC).isoformat(), location=location, name=name,
                       created_at=send_at.isoformat())
    rem = Reminder(id=f"{appt.id}-1-1", to=to, body="", kind=f"{test}:{kind}",
                   send_at=send_at.isoformat(),
                   expires_at=(at - timedelta(hours=2)).isoformat(), appointment=appt.id,
                   created_at=send_at.isoformat())
    p = scheduling.rq_connection(r).pipeline()
    p.hset(Patient.key_for(to), "id", to)
    appointments.set_channel(p, to, channel)
    appointments.store(appt, [rem], p)
    scheduling.schedule(r, [rem], pipeline=p)
    p.execute()
    return appt, rem


def post(client: FlaskClient, url: str, form: dict[str, str], signed: bool = True
         ) -> tuple[int, str]:
    """POST `form` to an absolute URL of the app, signed as Twilio signs it."""
    assert url.startswith(PUBLIC_BASE_URL), url
    parts = urlsplit(url)
    headers = {"X-Twilio-Signature": sign(TOKEN, url, form) if signed else "bad"}
    response = client.post(parts.path, query_string=parts.query, data=form,
                           base_url=PUBLIC_BASE_URL, headers=headers)
    return response.status_code, response.get_data(as_text=True)


class TwilioCall:
    """Twilio's side of one placed call: the form it posts, from the Calls request."""

    def __init__(self, client: FlaskClient, request_form: dict[str, str], sid: str) -> None:
        self.client = client
        self.form = request_form
        self.sid = sid
        self.twiml: Twiml | None = None

    def _base(self, status: str) -> dict[str, str]:
        return {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.form["From"],
                "To": self.form["To"], "Direction": "outbound-api", "CallStatus": status,
                "ApiVersion": "2010-04-01"}

    def answer(self, answered_by: str = "human") -> Twiml:
        """The phone was picked up: Twilio asks the call's Url what to say."""
        self.twiml = self._post(self.form["Url"],
                                self._base("in-progress") | {"AnsweredBy": answered_by})
        return self.twiml

    def _post(self, url: str, form: dict[str, str]) -> Twiml:
        parts = urlsplit(url)
        response = self.client.post(parts.path, query_string=parts.query, data=form,
                                    base_url=PUBLIC_BASE_URL,
                                    headers={"X-Twilio-Signature": sign(TOKEN, url, form)})
        return Twiml.of(response)

    def press(self, digits: str) -> Twiml:
        """Press a key (or "" for silence) at the <Gather> the call is waiting on."""
        assert self.twiml is not None
        gather = self.twiml.root.find("Gather")
        action = gather.get("action") if gather is not None else None
        if action is None:
            redirect = self.twiml.root.find("Redirect")
            assert redirect is not None, self.twiml.xml
            action = (redirect.text or "").strip()
        form = self._base("in-progress") | ({"Digits": digits} if digits else {})
        self.twiml = self._post(action, form)
        return self.twiml

    def ends(self, status: str, answered_by: str = "", duration: int = 0) -> int:
        """Twilio's status callback as the call ends ("completed", "no-answer", "busy")."""
        form = self._base(status) | {"CallDuration": str(duration)}
        if answered_by:
            form["AnsweredBy"] = answered_by
        code, _ = post(self.client, self.form["StatusCallback"], form)
        return code


def now() -> datetime:
    """The real time, as the RQ job reads it."""
    return datetime.now(UTC)
