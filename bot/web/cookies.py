"""Cookie sessions only where people browse: Twilio's webhooks carry none and get none."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

# The pages a person signs in to or clicks through; everything else is a machine calling.
PAGE_PREFIXES = ("/console", "/simulator", "/static")


class PagesOnlySessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened only for pages.

    A webhook gets Flask's null session, so one that tried to store something would fail
    loudly, and no request from Twilio pays for unsigning a cookie it never sends.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The session for a page; None (a null session) for anything else."""
        if not request.path.startswith(PAGE_PREFIXES):
            return None
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Use page-only sessions in this app."""
    app.session_interface = PagesOnlySessionInterface()
