"""Nurse console access: sign-in, CSRF, lockout, session timeout, audit trail, accounts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import check_password_hash

from bot.cli.main import main
from bot.console import accounts, audit
from bot.dev.localclient import LocalPhone
from bot.store import records
from tests.support.base import Clock
from tests.support.console import (
    ADMIN,
    NURSE,
    PASSWORD,
    add_nurse,
    csrf_token,
    page,
    post_form,
    sign_in,
    text,
)


def actions(r: redis.Redis) -> list[tuple[str, str]]:
    """(who, action) of every audit entry, oldest first."""
    return [(e.who, e.action) for e in reversed(audit.entries(r, 0, 1000))]


def console_urls(app: Flask) -> list[tuple[str, str]]:
    """(method, url) for every console route except sign-in, with made-up arguments."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint == "console.login":
            continue
        url = rule.rule
        url = re.sub(r"<any\([^)]*\):kind>", "alerts", url)
        url = re.sub(r"<[^>]+>", "0123456789abcdef", url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, url))
    return out


# --- anonymous ----------------------------------------------------------------------------


def test_every_console_page_refuses_the_anonymous(app: Flask) -> None:
    client = app.test_client()
    urls = console_urls(app)
    gets = [u for m, u in urls if m == "GET"]
    assert {"/console/today", "/console/patients", "/console/content", "/console/numbers",
            "/console/nurses", "/console/audit"} <= set(gets)
    for method, url in urls:
        response = client.open(url, method=method)
        if method == "GET":
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/console/login"), url
        else:
            # No token: refused before anything else is looked at.
            assert response.status_code == 400, url
        assert "Signed in as" not in response.get_data(as_text=True)


def test_anonymous_post_with_a_valid_login_page_token_is_still_refused(
    app: Flask, r: redis.Redis
) -> None:
    alert = records.Alert(number="+447700900123", level="urgent", reason="Fever",
                          text="temp 38.5", created_at="2026-11-23T09:00:00+00:00")
    alert.save(r)
    client = app.test_client()
    token = csrf_token(page(client, "/console/login"))
    response = client.post(f"/console/alerts/{alert.id}/acknowledge", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login")
    assert records.Alert.fetch(r, alert.id).status == "open"  # type: ignore[union-attr]


def test_the_poll_endpoint_answers_401_json_to_the_anonymous(app: Flask) -> None:
    response = app.test_client().get("/console/today/updates",
                                     headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert "sign in" in response.get_json()["error"].lower()


def test_asking_for_a_page_comes_back_to_it_after_signing_in(app: Flask, r: redis.Redis) -> None:
    add_nurse(r)
    client = app.test_client()
    first = client.get("/console/content?show=overdue")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    token = csrf_token(page(client, login_url))
    response = client.post(login_url, data={"csrf_token": token, "email": NURSE,
                                            "password": PASSWORD})
    assert response.headers["Location"] == "/console/content?show=overdue"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/sms",
                                    "/\\evil.example"])
def test_signing_in_never_redirects_off_the_console(
    app: Flask, r: redis.Redis, target: str
) -> None:
    add_nurse(r)
    response = sign_in(app.test_client(), next_path=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/today"


# --- signing in and out -------------------------------------------------------------------


def test_sign_in_then_every_section_is_reachable_and_sign_out_ends_it(
    app: Flask, r: redis.Redis
) -> None:
    add_nurse(r)
    client = app.test_client()
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/console/today"
    html = page(client, "/console/today")
    assert f"Signed in as {NURSE}" in text(html)
    for label, url in [("Today", "/console/today"), ("Patients", "/console/patients"),
                       ("Content", "/console/content"), ("Numbers", "/console/numbers")]:
        assert f'href="{url}"' in html and f">{label}</a>" in html
        assert "<h1>" + label + "</h1>" in page(client, url)
    # Administrators' sections are not offered to a nurse.
    assert "/console/audit" not in html and "/console/nurses" not in html

    cookie = client.get_cookie("session")
    assert cookie is not None
    response = post_form(client, "/console/today", "/console/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/console/login"
    assert "You have signed out." in text(page(client, "/console/login"))
    assert client.get("/console/today").status_code == 302

    # The old cookie, replayed after signing out, is worth nothing: the session is gone.
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    assert replay.get("/console/today").status_code == 302
    assert actions(r) == [(NURSE, "login"), (NURSE, "logout")]


def test_session_cookie_is_httponly_lax_and_secure_over_https(
    make_app: Callable[..., Flask], r: redis.Redis
) -> None:
    add_nurse(r)
    for base, secure in [("https://support.example.org", True), ("http://localhost:5000", False)]:
        client = make_app(PUBLIC_BASE_URL=base).test_client()
        response = sign_in(client)
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("; Secure" in cookie) is secure


def test_a_wrong_password_says_so_and_how_many_tries_are_left(
    app: Flask, r: redis.Redis
) -> None:
    add_nurse(r)
    client = app.test_client()
    response = sign_in(client, password="wrong password entirely")
    assert response.status_code == 400
    said = text(response.get_data(as_text=True))
    assert "The email or password is wrong. 4 more tries before the account is locked" in said
    assert client.get("/console/today").status_code == 302
    assert actions(r) == [(NURSE, "login_failed")]


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(
    app: Flask, r: redis.Redis
) -> None:
    add_nurse(r)
    said = text(sign_in(app.test_client(), email="nobody@example.nhs.uk")
                .get_data(as_text=True))
    assert "The email or password is wrong. 4 more tries" in said


def test_email_is_matched_whatever_its_case_and_spaces(app: Flask, r: redis.Redis) -> None:
    add_nurse(r)
    response = sign_in(app.test_client(), email="  Sam.Nurse@Example.NHS.uk ")
    assert response.status_code == 302


def test_empty_fields_are_named_and_labelled(app: Flask) -> None:
    client = app.test_client()
    html = page(client, "/console/login")
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    token = csrf_token(html)
    response = client.post("/console/login", data={"csrf_token": token, "email": "",
                                                   "password": ""})
    assert response.status_code == 400
    said = text(response.get_data(as_text=True))
    assert "Enter your email." in said and "Enter your password." in said
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


# --- lockout ------------------------------------------------------------------------------


def from_address(app: Flask, address: str) -> FlaskClient:
    """A browser at this network address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_five_failures_lock_the_account_for_fifteen_minutes(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    add_nurse(r)
    client = app.test_client()
    for _ in range(4):
        clock.now += timedelta(minutes=2)
        assert sign_in(client, password="not my password").status_code == 400
    clock.now += timedelta(minutes=2)
    fifth = text(sign_in(client, password="not my password").get_data(as_text=True))
    assert "This account is locked for 15 minutes after 5 wrong passwords in a row" in fifth
    assert "Try again after 10:25" in fifth  # 10:10 + 15 minutes, London time

    # Locked: even the right password is refused, and the refusal is audited.
    clock.now += timedelta(minutes=14)
    response = sign_in(client)
    assert response.status_code == 400
    assert "This account is locked" in text(response.get_data(as_text=True))
    assert client.get("/console/today").status_code == 302

    clock.now += timedelta(minutes=1, seconds=1)
    assert sign_in(client).status_code == 302
    assert actions(r) == [(NURSE, "login_failed")] * 5 + [
        (NURSE, "account_locked"), (NURSE, "login_locked"), (NURSE, "login")]


def test_a_lock_from_one_address_does_not_lock_the_nurse_out_elsewhere(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    add_nurse(r)
    attacker = from_address(app, "203.0.113.7")
    for _ in range(5):
        sign_in(attacker, password="guess")
    assert "This account is locked" in text(sign_in(attacker).get_data(as_text=True))
    # Five wrong guesses from somewhere else are no switch that locks the nurse out.
    nurse = from_address(app, "198.51.100.20")
    assert sign_in(nurse).status_code == 302


def test_password_spraying_from_one_address_is_throttled(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    add_nurse(r)
    sprayer = from_address(app, "203.0.113.9")
    for n in range(20):
        response = sign_in(sprayer, email=f"nurse{n}@example.org", password="Winter2026!")
        assert response.status_code == 400
    response = sign_in(sprayer)  # even a right password, from this address, waits
    assert response.status_code == 429
    assert "Too many wrong passwords from this address" in text(response.get_data(as_text=True))
    assert (NURSE, "login_throttled") in actions(r)
    other = from_address(app, "198.51.100.21")
    assert sign_in(other).status_code == 302
    clock.now += timedelta(minutes=15, seconds=1)
    assert sign_in(sprayer).status_code == 302


def test_every_console_page_sends_security_headers(app: Flask, r: redis.Redis) -> None:
    add_nurse(r)
    client = app.test_client()
    pages = [client.get("/console/login")]
    sign_in(client)
    pages += [client.get("/console/today"), client.get("/console/patients")]
    for response in pages:
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("evil", ["/console/today%0d%0aSet-Cookie:%20x=1", "/console/today%0a"])
def test_a_line_break_in_next_is_ignored_not_a_server_error(
    app: Flask, r: redis.Redis, evil: str
) -> None:
    add_nurse(r)
    response = sign_in(app.test_client(), next_path=evil)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/today")
    assert "Set-Cookie: x" not in str(response.headers)


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    add_nurse(r)
    client = app.test_client()
    for _ in range(8):
        assert sign_in(client, password="not my password").status_code == 400
        clock.now += timedelta(minutes=4)
    assert sign_in(client).status_code == 302


def test_a_good_sign_in_clears_earlier_failures(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    add_nurse(r)
    client = app.test_client()
    for _ in range(4):
        sign_in(client, password="not my password")
    assert sign_in(client).status_code == 302
    post_form(client, "/console/today", "/console/logout")
    for _ in range(4):
        sign_in(client, password="not my password")
    assert sign_in(client).status_code == 302


# --- CSRF ---------------------------------------------------------------------------------


def test_sign_in_without_the_forms_token_fails(app: Flask, r: redis.Redis) -> None:
    add_nurse(r)
    client = app.test_client()
    page(client, "/console/login")  # the browser has a session, but the post lacks the token
    response = client.post("/console/login", data={"email": NURSE, "password": PASSWORD})
    assert response.status_code == 400
    assert "nothing was changed" in text(response.get_data(as_text=True))
    assert client.get("/console/today").status_code == 302
    assert actions(r) == []


def test_console_posts_need_this_sessions_token(app: Flask, r: redis.Redis) -> None:
    add_nurse(r)
    add_nurse(r, ADMIN, admin=True)
    alert = records.Alert(number="+447700900123", level="urgent", reason="Fever",
                          text="temp 38.5", created_at="2026-11-23T09:00:00+00:00")
    alert.save(r)
    other = app.test_client()
    sign_in(other, ADMIN)
    foreign_token = csrf_token(page(other, "/console/today"))

    client = app.test_client()
    sign_in(client)
    url = f"/console/alerts/{alert.id}/acknowledge"
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": "made-up"}).status_code == 400
    assert client.post(url, data={"csrf_token": foreign_token}).status_code == 400
    assert client.post("/console/logout").status_code == 400
    assert records.Alert.fetch(r, alert.id).status == "open"  # type: ignore[union-attr]
    # The same post with the page's own token works.
    assert post_form(client, "/console/today", url).status_code == 302
    assert records.Alert.fetch(r, alert.id).status == "acknowledged"  # type: ignore[union-attr]


def test_twilio_webhooks_need_no_csrf_token(app: Flask, r: redis.Redis, phone: LocalPhone) -> None:
    assert app.config["WTF_CSRF_ENABLED"] is True
    replies = phone.send("chest pain")
    assert replies and replies[0].startswith("Call 999 now")
    assert len(records.open_alerts(r)) == 1


# --- session timeout ----------------------------------------------------------------------


def test_thirty_idle_minutes_sign_the_nurse_out(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    add_nurse(r)
    client = app.test_client()
    sign_in(client)
    # Activity keeps the session alive: a page every 29 minutes for two hours.
    for _ in range(4):
        clock.now += timedelta(minutes=29)
        page(client, "/console/today")
    clock.now += timedelta(minutes=30, seconds=1)
    response = client.get("/console/patients")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login")
    said = text(page(client, "/console/login"))
    assert "You were signed out after 30 minutes without activity" in said
    assert client.get("/console/today").status_code == 302  # and it stays ended
    assert actions(r)[-1] == (NURSE, "session_timeout")


def test_polling_for_new_alerts_does_not_keep_a_session_alive(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    add_nurse(r)
    client = app.test_client()
    sign_in(client)
    json_accept = {"Accept": "application/json"}
    for _ in range(6):
        clock.now += timedelta(minutes=5)
        assert client.get("/console/today/updates", headers=json_accept).status_code == 200
    clock.now += timedelta(minutes=1)
    assert client.get("/console/today/updates", headers=json_accept).status_code == 401


def test_a_session_ends_after_twelve_hours_however_busy(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    add_nurse(r)
    client = app.test_client()
    sign_in(client)
    for _ in range(47):  # a page every 15 minutes for 11 hours 45 minutes
        clock.now += timedelta(minutes=15)
        page(client, "/console/today")
    clock.now += timedelta(minutes=15, seconds=1)  # 12 hours and a second after signing in
    assert client.get("/console/today").status_code == 302


# --- administrators -----------------------------------------------------------------------


def test_only_administrators_see_the_audit_trail_and_nurses(app: Flask, r: redis.Redis) -> None:
    add_nurse(r)
    client = app.test_client()
    sign_in(client)
    for url in ("/console/audit", "/console/nurses"):
        response = client.get(url)
        assert response.status_code == 403
        assert "This page is for administrators" in text(response.get_data(as_text=True))


def test_the_audit_trail_shows_who_did_what_and_when(
    app: Flask, r: redis.Redis, clock: Clock
) -> None:
    add_nurse(r, ADMIN, admin=True)
    add_nurse(r)
    nurse = app.test_client()
    sign_in(nurse, password="a wrong one")
    clock.now += timedelta(minutes=1)
    sign_in(nurse)
    admin = app.test_client()
    clock.now += timedelta(minutes=1)
    sign_in(admin, ADMIN)
    html = page(admin, "/console/audit")
    rows = re.findall(r"<tr class=\"audit-(\w+)\">(.*?)</tr>", html, flags=re.S)
    assert [(a, text(cells).split(" ")[5]) for a, cells in rows] == [
        ("login", ADMIN), ("login", NURSE), ("login_failed", NURSE)]
    first = text(rows[-1][1])
    assert first.startswith("Mon 23 Nov 2026, 10:00:00 " + NURSE + " Failed sign-in")


def test_an_administrator_adds_a_nurse_who_can_then_sign_in(
    app: Flask, r: redis.Redis
) -> None:
    add_nurse(r, ADMIN, admin=True)
    admin = app.test_client()
    sign_in(admin, ADMIN)
    html = page(admin, "/console/nurses")
    for field, label in [("email", "Email"), ("password", "Password"),
                         ("confirm", "Password again")]:
        assert f'<label for="{field}">{label}</label>' in html
    new = {"email": "new.nurse@example.nhs.uk", "password": "a long enough password",
           "confirm": "a long enough password"}
    mismatch = post_form(admin, "/console/nurses", "/console/nurses",
                         {**new, "confirm": "something else entirely"})
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in text(mismatch.get_data(as_text=True))
    short = post_form(admin, "/console/nurses", "/console/nurses",
                      {**new, "password": "short", "confirm": "short"})
    assert "at least 12 characters" in text(short.get_data(as_text=True))
    assert accounts.get(r, "new.nurse@example.nhs.uk") is None

    added = post_form(admin, "/console/nurses", "/console/nurses", new)
    assert added.status_code == 302
    listing = text(page(admin, "/console/nurses"))
    assert "new.nurse@example.nhs.uk Nurse" in listing
    again = post_form(admin, "/console/nurses", "/console/nurses", new)
    assert "There is already an account for new.nurse@example.nhs.uk" in text(
        again.get_data(as_text=True))
    assert sign_in(app.test_client(), "new.nurse@example.nhs.uk",
                   "a long enough password").status_code == 302
    assert (ADMIN, "nurse_added") in actions(r)


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str) -> CliRunner:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    return CliRunner()


def test_nurse_add_asks_twice_and_stores_only_a_hash(
    cli: CliRunner, r: redis.Redis, app: Flask
) -> None:
    result = cli.invoke(main, ["nurse", "add", "Lead.Nurse@Example.NHS.uk", "--admin"],
                        input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Added lead.nurse@example.nhs.uk (administrator)" in result.output
    nurse = accounts.get(r, "lead.nurse@example.nhs.uk")
    assert nurse is not None and nurse.admin
    stored = r.hgetall("nurse:lead.nurse@example.nhs.uk")
    assert PASSWORD not in str(stored)
    assert check_password_hash(str(stored["password_hash"]), PASSWORD)
    assert sign_in(app.test_client(), "lead.nurse@example.nhs.uk").status_code == 302


def test_nurse_add_repeats_the_question_when_the_passwords_differ_or_are_short(
    cli: CliRunner, r: redis.Redis
) -> None:
    result = cli.invoke(main, ["nurse", "add", NURSE],
                        input=f"short\n{PASSWORD}\nnot the same thing\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "at least 12 characters" in result.output
    assert "do not match" in result.output
    nurse = accounts.get(r, NURSE)
    assert nurse is not None and not nurse.admin


def test_nurse_add_refuses_an_existing_account_and_a_bad_email(
    cli: CliRunner, r: redis.Redis
) -> None:
    add_nurse(r)
    result = cli.invoke(main, ["nurse", "add", NURSE], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code != 0 and "already an account" in result.output
    result = cli.invoke(main, ["nurse", "add", "not-an-email"])
    assert result.exit_code != 0 and "not an email address" in result.output


def test_nurse_password_sets_a_new_one_and_lifts_a_lockout(
    cli: CliRunner, r: redis.Redis, app: Flask
) -> None:
    add_nurse(r)
    client = app.test_client()
    for _ in range(5):
        sign_in(client, password="not my password")
    assert "locked" in text(sign_in(client).get_data(as_text=True))
    new = "a brand new passphrase"
    result = cli.invoke(main, ["nurse", "password", NURSE], input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    assert sign_in(client, password=new).status_code == 302
    listed = cli.invoke(main, ["nurse", "list"])
    assert NURSE in listed.output
