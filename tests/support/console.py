"""Helpers for the console tests: accounts, CSRF tokens taken from the pages, signing in."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bot.console import accounts

NURSE = "sam.nurse@example.nhs.uk"
ADMIN = "ada.admin@example.nhs.uk"
PASSWORD = "correct horse battery staple"

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def add_nurse(r: redis.Redis, email: str = NURSE, admin: bool = False) -> accounts.Nurse:
    """An account with PASSWORD."""
    return accounts.add(r, email, PASSWORD, admin=admin, at=datetime(2026, 1, 5, tzinfo=UTC))


def csrf_token(html: str) -> str:
    """The first CSRF token in a page's forms (as a browser would submit it)."""
    m = _TOKEN.search(html)
    if not m:
        raise AssertionError("no CSRF token in the page")
    return unescape(m.group(1) or m.group(2))


def page(client: FlaskClient, path: str) -> str:
    """GET a page that must answer 200; its HTML."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def sign_in(client: FlaskClient, email: str = NURSE, password: str = PASSWORD,
            next_path: str | None = None) -> TestResponse:
    """Fill in the sign-in form like a person: load it, post it with its token."""
    url = "/console/login" + (f"?next={next_path}" if next_path else "")
    token = csrf_token(page(client, url))
    return client.post(url, data={"csrf_token": token, "email": email, "password": password})


def post_form(client: FlaskClient, from_path: str, action: str,
              data: dict[str, str] | None = None, **kwargs: object) -> TestResponse:
    """POST to `action` with the token from the page at `from_path`, as its form would."""
    token = csrf_token(page(client, from_path))
    return client.post(action, data={"csrf_token": token, **(data or {})}, **kwargs)


def text(html: str) -> str:
    """The page's visible words, tags removed and spaces squeezed (for assertions)."""
    no_tags = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(no_tags)).strip()


def signed_in(app: Flask) -> FlaskClient:
    """A nurse's browser signed in now (on the app's clock); the nurse must exist."""
    client = app.test_client()
    assert sign_in(client).status_code == 302
    return client
