"""The console blueprint: signed in on every page, CSRF on every form, shared helpers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import redis
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response as BaseResponse

from bot import config, masking
from bot.console import accounts, audit, nav, sessions
from bot.lines.textline import directory_for
from bot.store.client import get_redis
from bot.web.clock import now

bp = Blueprint("console", __name__, url_prefix="/console")
csrf = CSRFProtect()

SESSION_KEY = "console"
PUBLIC = frozenset(["console.login"])
# Polling for new alerts is not a person at the keyboard: it must not keep a session alive.
PASSIVE = frozenset(["console.today_updates"])
F = TypeVar("F", bound=Callable[..., Any])


def clinic_tz() -> ZoneInfo:
    """The clinic's time zone: what every time on the console is shown in."""
    return config.clinic_tz(current_app.config)


def db() -> redis.Redis:
    """The app's Redis."""
    return get_redis()


def current_nurse() -> accounts.Nurse:
    """The signed-in nurse (the guard has made sure there is one)."""
    nurse: accounts.Nurse = g.nurse
    return nurse


def record(action: str, target: str = "", detail: str = "", who: str | None = None) -> None:
    """Add an entry to the audit trail for the signed-in nurse (or `who`)."""
    audit.record(
        db(),
        now(),
        who if who is not None else current_nurse().email,
        action,
        target,
        detail,
        ip=request.remote_addr or "",
    )


def wants_json() -> bool:
    """True when the caller is console.js asking for data, not a page."""
    return request.accept_mimetypes.best == "application/json"


def safe_next(target: str | None) -> str | None:
    """`target` if it is a console path on this site; None for anything else."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(bp.url_prefix or "/"):
        return None
    if "\\" in target or target.startswith("//"):
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None  # a CR or LF would split the Location header
    return target


def admin_required(view: F) -> F:
    """Only administrators may use this page (403 for others)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_nurse().admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


# Pages with patient data: never framed, never cached, nothing run but our own files.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@bp.after_request
def security_headers(response: BaseResponse) -> BaseResponse:
    """Every console response: no framing, no sniffing, no caching, our scripts only."""
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.before_request
def guard() -> BaseResponse | None:
    """Check the CSRF token of every POST, then refuse anyone not signed in."""
    csrf.protect()
    if request.endpoint in PUBLIC:
        return None
    r = db()
    moment = now()
    found = sessions.load(r, str(session.get(SESSION_KEY, "")))
    nurse = accounts.get(r, found.email) if found else None
    if found and nurse and sessions.expired(found, moment):
        sessions.end(r, found.token)
        record("session_timeout", who=found.email)
        minutes = int(sessions.IDLE.total_seconds() // 60)
        flash(f"You were signed out after {minutes} minutes without activity. "
              "Sign in again to carry on.", "info")
        nurse = None
    if not found or not nurse:
        session.pop(SESSION_KEY, None)
        if wants_json():
            return _json_error("Signed out: sign in again to carry on.", 401)
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("console.login", next=safe_next(target)))
    g.nurse = nurse
    g.session_token = found.token
    if request.endpoint not in PASSIVE:
        sessions.touch(r, found.token, moment)
    return None


def _json_error(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> tuple[str | Response, int]:
    """A form without a valid token: explain, never act."""
    if wants_json():
        return _json_error("The page was out of date. Reload it and try again.", 400), 400
    return render_template("console/csrf_error.html", reason=error.description), 400


@bp.errorhandler(403)
def forbidden(error: Exception) -> tuple[str, int]:
    """A page for administrators only."""
    return render_template("console/forbidden.html"), 403


@bp.app_template_filter("clinic_time")
def clinic_time(value: str | datetime | None, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
    """An ISO time (UTC) as the clinic's local time, e.g. "Mon 23 Nov 2026, 10:00"."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(clinic_tz()).strftime(fmt)


@bp.app_template_filter("ago")
def ago(value: str | datetime | None) -> str:
    """How long before now, in words: "just now", "5 minutes ago", "3 hours ago"."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    seconds = max(0, int((now() - when).total_seconds()))
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


@bp.app_template_filter("masked")
def masked(number: str | None) -> str:
    """A phone number with the middle hidden."""
    return masking.mask(number)


@bp.context_processor
def menu() -> dict[str, Any]:
    """The menu and the signed-in nurse, for the console layout."""
    nurse = g.get("nurse")
    return {
        "nav_sections": nav.visible(bool(nurse and nurse.admin)) if nurse else [],
        "nurse": nurse,
        "idle_minutes": int(sessions.IDLE / timedelta(minutes=1)),
        "placeholder_hours": _placeholder_hours(),
    }


def _placeholder_hours() -> str:
    """A warning while patients are told the shipped nurse hours, not the team's own."""
    lines = directory_for(current_app.config).placeholders()
    if not lines:
        return ""
    return (
        f"Patients are told the nurse line is open {lines[0].describe_hours()}: these are "
        "the hours the line shipped with, not yet confirmed. Set NURSE_HOURS (for example "
        "'mon-fri 08:30-16:30') to your team's own."
    )
