"""A caller for tests: rings the app and follows its TwiML with signed requests, like Twilio."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bot.web.signatures import sign
from tests.support.base import PATIENT, PUBLIC_BASE_URL, TOKEN

LINE = "+447700900000"  # the support line's own number (Ofcom drama range)
ACUTE = "+447700900999"  # stands in for a deployment's 24-hour acute oncology line
VOICE = "Polly.Amy-Neural"
NURSE = "+441914453735"
NURSE_2 = "+441914458353"
MACMILLAN = "+448088080000"


@dataclass
class Twiml:
    """One TwiML answer, parsed."""

    status: int
    xml: str
    root: ET.Element

    @classmethod
    def of(cls, response: TestResponse) -> Twiml:
        body = response.get_data(as_text=True)
        assert response.status_code == 200, (response.status_code, body)
        assert response.mimetype == "text/xml", response.mimetype
        root = ET.fromstring(body)
        assert root.tag == "Response", body
        return cls(response.status_code, body, root)

    @property
    def verbs(self) -> list[ET.Element]:
        return list(self.root)

    @property
    def tags(self) -> list[str]:
        return [v.tag for v in self.root]

    def says(self) -> list[ET.Element]:
        """Every <Say>, in the order the caller hears them (inside a Gather too)."""
        return list(self.root.iter("Say"))

    def spoken(self) -> list[str]:
        """The words of every <Say>, in order."""
        return [s.text or "" for s in self.says()]

    @property
    def said(self) -> str:
        """Everything the caller hears, as one string."""
        return " ".join((s.text or "") for s in self.says())

    def first(self, tag: str) -> ET.Element | None:
        return next(iter(self.root.iter(tag)), None)

    @property
    def gather(self) -> ET.Element | None:
        return self.first("Gather")

    @property
    def dial(self) -> ET.Element | None:
        return self.first("Dial")

    @property
    def record(self) -> ET.Element | None:
        return self.first("Record")

    @property
    def dialled(self) -> list[str]:
        """The numbers a <Dial> rings."""
        return [(n.text or "").strip() for n in self.root.iter("Number")]

    @property
    def hangs_up(self) -> bool:
        return bool(self.verbs) and self.verbs[-1].tag == "Hangup"


@dataclass
class Caller:
    """One phone call to the app, signed like Twilio; follows the action URLs it is given."""

    client: FlaskClient
    token: str = TOKEN
    number: str = PATIENT
    to: str = LINE
    base_url: str = PUBLIC_BASE_URL
    sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    last: Twiml | None = None
    history: list[Twiml] = field(default_factory=list)

    def params(self, status: str = "in-progress") -> dict[str, str]:
        return {
            "AccountSid": "AC" + "0" * 32,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": status,
            "Direction": "inbound",
            "From": self.number,
            "Caller": self.number,
            "To": self.to,
            "Called": self.to,
        }

    def post(self, url: str, fields: dict[str, str] | None = None,
             status: str = "in-progress", signature: str | None = None) -> TestResponse:
        """POST to an absolute URL (or a path under base_url), signed over the URL and form."""
        if url.startswith("/"):
            url = self.base_url + url
        form = self.params(status) | (fields or {})
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sig = sign(self.token, url, form) if signature is None else signature
        return self.client.post(
            path, data=form, base_url=f"{parts.scheme}://{parts.netloc}",
            headers={"X-Twilio-Signature": sig},
        )

    def _follow(self, url: str, fields: dict[str, str] | None = None,
                status: str = "in-progress") -> Twiml:
        twiml = Twiml.of(self.post(url, fields, status))
        self.last = twiml
        self.history.append(twiml)
        return twiml

    def ring(self) -> Twiml:
        """The call arrives."""
        return self._follow("/voice", status="ringing")

    def _gather_action(self) -> str:
        assert self.last is not None and self.last.gather is not None, (
            "the line is not waiting for input", self.last and self.last.xml)
        return self.last.gather.get("action", "")

    def press(self, keys: str) -> Twiml:
        """Press keys at the menu the line is waiting at."""
        return self._follow(self._gather_action(), {"Digits": keys})

    def say(self, words: str, confidence: str = "0.87") -> Twiml:
        """Speak at the menu the line is waiting at."""
        return self._follow(self._gather_action(), {"SpeechResult": words,
                                                    "Confidence": confidence})

    def silence(self) -> Twiml:
        """Say nothing: the Gather times out and Twilio follows the <Redirect> after it."""
        assert self.last is not None
        self._gather_action()
        redirect = self.last.first("Redirect")
        assert redirect is not None, self.last.xml
        return self._follow((redirect.text or "").strip())

    def dial_ends(self, status: str) -> Twiml:
        """The <Dial> ends: completed, busy, no-answer, failed or canceled."""
        assert self.last is not None and self.last.dial is not None, self.last and self.last.xml
        return self._follow(self.last.dial.get("action", ""), {
            "DialCallStatus": status, "DialCallSid": "CA" + uuid.uuid4().hex,
            "DialCallDuration": "95" if status == "completed" else "0"})

    def leave_message(self, seconds: int = 14, hang_up: bool = False) -> tuple[Twiml, str]:
        """Record a voicemail: the Record action, then the recording status callback."""
        assert self.last is not None and self.last.record is not None, self.last and self.last.xml
        record = self.last.record
        rec_sid = "RE" + uuid.uuid4().hex
        url = f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/{rec_sid}"
        twiml = self._follow(record.get("action", ""), {
            "RecordingUrl": url, "RecordingSid": rec_sid, "RecordingDuration": str(seconds),
            "Digits": "hangup" if hang_up else "#"},
            status="completed" if hang_up else "in-progress")
        self.recording_status(record.get("recordingStatusCallback", ""), rec_sid, url, seconds)
        return twiml, url

    def recording_status(self, callback: str, rec_sid: str, url: str, seconds: int,
                         status: str = "completed") -> TestResponse:
        """Twilio's recording status callback for this call."""
        form = {
            "AccountSid": "AC" + "0" * 32, "CallSid": self.sid, "RecordingSid": rec_sid,
            "RecordingUrl": url, "RecordingStatus": status, "RecordingDuration": str(seconds),
            "RecordingChannels": "1", "RecordingSource": "RecordVerb",
        }
        parts = urlsplit(callback)
        response = self.client.post(
            parts.path, data=form, base_url=f"{parts.scheme}://{parts.netloc}",
            headers={"X-Twilio-Signature": sign(self.token, callback, form)},
        )
        assert response.status_code in (200, 204), response.status_code
        return response

    def say_nothing_in_record(self) -> Twiml:
        """Stay silent at the tone: Twilio skips the Record action and follows the Redirect."""
        assert self.last is not None and self.last.record is not None
        redirect = self.last.first("Redirect")
        assert redirect is not None
        return self._follow((redirect.text or "").strip())

    def status(self, status: str, duration: str = "") -> TestResponse:
        """Twilio's call status callback."""
        fields = {"CallDuration": duration} if duration else {}
        return self.post("/voice/status", fields, status=status)
