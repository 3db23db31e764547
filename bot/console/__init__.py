"""The nurses' console: web pages for alerts, call-backs, patients, content and numbers."""

from __future__ import annotations

from flask import Flask

from bot.console import (  # noqa: F401 (routes)
    admin,
    auth,
    content,
    feed,
    numbers,
    patients,
    today,
)
from bot.console.blueprint import bp, csrf
from bot.console.campaigns import listing, pages  # noqa: F401 (routes)


def init_app(app: Flask) -> None:
    """Register the console with its cookie settings and CSRF protection.

    CSRF is checked on every console POST (and by every Flask-WTF form), never on the
    Twilio webhooks, which carry signatures instead.
    """
    https = str(app.config.get("PUBLIC_BASE_URL") or "").startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
    )
    # Opt-in checking: a webhook blueprint added later cannot be broken by a missing token.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # The server-side session decides how long a page's forms stay usable.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.register_blueprint(bp)
