"""A phone for local use: texts the app through the real signed webhook."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from bot import create_app
from bot.web.signatures import sign


def replies(xml: str) -> list[str]:
    """The text of each <Message> in a TwiML response."""
    root = ET.fromstring(xml)
    return [m.text or "" for m in root.iter("Message")]


@dataclass
class LocalPhone:
    """Sends texts as one number to an app, signing each request like Twilio does."""

    client: FlaskClient
    token: str
    number: str
    base_url: str = "http://localhost"

    @classmethod
    def in_process(cls, number: str, settings: dict[str, Any] | None = None) -> LocalPhone:
        """A phone wired to an app built here, on the configured (or embedded) Redis."""
        app = create_app(settings)
        return cls(
            app.test_client(),
            app.config["AUTH_TOKEN"],
            number,
            str(app.config.get("PUBLIC_BASE_URL") or "http://localhost").rstrip("/"),
        )

    def send(self, body: str, media: int = 0) -> list[str]:
        """Text the line; return the replies."""
        form = {
            "From": self.number,
            "To": "+447700900000",
            "Body": body,
            "MessageSid": "SM" + uuid.uuid4().hex,
            "NumMedia": str(media),
            "AccountSid": "AC" + "0" * 32,
        }
        url = f"{self.base_url}/sms"
        response = self.client.post(
            "/sms",
            data=form,
            base_url=self.base_url,
            headers={"X-Twilio-Signature": sign(self.token, url, form)},
        )
        if response.status_code != 200:
            raise RuntimeError(f"the app answered {response.status_code}")
        return replies(response.get_data(as_text=True))
