"""Signing in and out, with a lockout after repeated failures."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from bot.console import accounts, lockout, sessions
from bot.console.blueprint import (
    SESSION_KEY,
    bp,
    clinic_time,
    db,
    record,
    safe_next,
)
from bot.console.forms import LoginForm
from bot.web.clock import now

LOCK_MINUTES = int(lockout.LOCK.total_seconds() // 60)


def _locked_message(until_text: str) -> str:
    return (
        f"This account is locked for {LOCK_MINUTES} minutes after {lockout.MAX_FAILURES} "
        f"wrong passwords in a row. Try again after {until_text}, or ask an administrator "
        "to reset the password."
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """The sign-in page; a good sign-in starts a new session and goes to `next` or Today."""
    form = LoginForm()
    error = ""
    status = 200
    if form.validate_on_submit():
        r = db()
        moment = now()
        client = request.remote_addr or "unknown"
        email = accounts.normalise_email(form.email.data) or (form.email.data or "")[:254]
        blocked = lockout.client_blocked_until(r, client, moment)
        until = lockout.locked_until(r, email, moment, client)
        if blocked:
            record("login_throttled", who=email)
            error = (
                f"Too many wrong passwords from this address. Try again after "
                f"{clinic_time(blocked, '%H:%M')}."
            )
            status = 429
        elif until:
            record("login_locked", who=email)
            error = _locked_message(clinic_time(until, "%H:%M"))
        else:
            nurse = accounts.verify(r, accounts.normalise_email(email), form.password.data or "")
            if nurse:
                lockout.clear(r, nurse.email, client)
                session.clear()  # a fresh session, and a fresh CSRF secret, for every sign-in
                session[SESSION_KEY] = sessions.start(r, nurse.email, moment)
                record("login", who=nurse.email)
                target = safe_next(request.args.get("next"))
                return redirect(target or url_for("console.today"))
            failure = lockout.record_failure(r, email, moment, client)
            record("login_failed", who=email)
            if failure.locked_until:
                record("account_locked", who=email)
                error = _locked_message(clinic_time(failure.locked_until, "%H:%M"))
            else:
                tries = "try" if failure.tries_left == 1 else "tries"
                error = (
                    f"The email or password is wrong. {failure.tries_left} more {tries} "
                    f"before the account is locked for {LOCK_MINUTES} minutes."
                )
    if status == 200 and (error or form.errors):
        status = 400
    return render_template("console/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Response:
    """Sign out: the session ends on the server too."""
    record("logout")
    sessions.end(db(), str(session.get(SESSION_KEY, "")))
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("console.login"))
