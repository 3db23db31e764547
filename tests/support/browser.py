"""Live-server harness for the browser tests: the real app on a free port, an RQ worker, Chromium.

Test modules load it with `pytest_plugins = ["tests.support.browser"]`. The app is served by
werkzeug in a thread of the test process, on the test Redis, exactly as `make run` builds
it (no Twilio account, so the simulator and the outbox are on); the worker is a real
`rq worker --with-scheduler --burst` process; pages are driven in Debian's Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from werkzeug.serving import BaseWSGIServer, make_server

from bot import create_app
from bot.dev import simclock
from tests.support.base import use_dev_token
from tests.support.reminders import quiet_hours_away_from_now

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a broken page fails quickly.
TIMEOUT_MS = 15_000
WORKER_TIMEOUT_S = 60
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


expect.set_options(timeout=TIMEOUT_MS)


def chromium_path() -> str:
    """Debian's Chromium, or a clear failure saying how to get it."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    pytest.fail(
        "Chromium is not installed, and the browser tests need it. "
        "Run `make test`, which installs Debian's chromium package first.",
        pytrace=False,
    )


class LiveClock:
    """The live app's clock: the real time, unless a test fixes it (opening hours, say)."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)


@dataclass
class LiveServer:
    """The app being served, where to reach it, and its clock."""

    app: Flask
    url: str
    clock: LiveClock
    redis_url: str
    instance: Path
    worker_log: list[str] = field(default_factory=list)

    def worker_env(self) -> dict[str, str]:
        """The environment a worker for this app runs with: same Redis, instance and quiet
        hours, no Twilio credentials."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
        env.update(
            REDIS_URL=self.redis_url,
            INSTANCE_PATH=str(self.instance),
            QUIET_HOURS=str(self.app.config["QUIET_HOURS"]),
            CALL_HOURS="00:00-23:59",  # reminder calls ring whenever the test runs
        )
        return env

    def run_worker(self) -> None:
        """Run the Procfile's worker with --burst: enqueue due jobs, work them, exit."""
        rq = Path(sys.executable).parent / "rq"
        result = subprocess.run(
            # As the Procfile runs it, in burst mode: due jobs are enqueued, worked, then exit.
            [str(rq), "worker", "--burst", "--with-scheduler",
             "--worker-class", "workers.worker.SendWorker", "--url", self.redis_url, "default"],
            env=self.worker_env(),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
        self.worker_log.append(result.stdout + result.stderr)
        assert result.returncode == 0, f"rq worker failed:\n{result.stdout}\n{result.stderr}"

    def work_until(self, done: Callable[[], bool], timeout: float = 30.0) -> None:
        """Run burst workers until `done()` holds (a job may be scheduled a moment ahead)."""
        deadline = time.monotonic() + timeout
        while True:
            self.run_worker()
            if done():
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    "the worker never finished the job; its last output:\n"
                    + (self.worker_log[-1] if self.worker_log else "(none)")
                )
            time.sleep(0.2)  # a job scheduled a moment ahead becomes due


@pytest.fixture(scope="session")
def live_server(redis_url: str, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[LiveServer]:
    """The real app on a free local port, in a thread, for the whole session."""
    instance = tmp_path_factory.mktemp("live-instance")
    clock = LiveClock()
    use_dev_token(instance)
    app = create_app(
        {
            "REDIS_URL": redis_url,
            # No Twilio credentials: the simulator and the outbox are served.
            "TWILIO_AUTH_TOKEN": "",
            "TWILIO_ACCOUNT_SID": "",
            "PUBLIC_BASE_URL": "",  # like `make run`: the request URL is what gets signed
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "browser-tests-secret-key",
            "CLOCK": clock,
            "QUIET_HOURS": quiet_hours_away_from_now(),
        }
    )
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", clock, redis_url,
                         instance)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live(live_server: LiveServer, r: redis.Redis) -> Iterator[LiveServer]:
    """The live server on a clean database, on the real clock."""
    live_server.clock.fixed = None
    simclock.set_offset(live_server.app.config, timedelta(0))
    live_server.worker_log.clear()
    yield live_server
    live_server.clock.fixed = None
    simclock.set_offset(live_server.app.config, timedelta(0))


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the session."""
    chromium = playwright_session.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) pointed at the live server."""
    ctx = browser.new_context(
        base_url=live.url, viewport={"width": 1280, "height": 900}, locale="en-GB",
        timezone_id="Europe/London",
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab; any script error on the page fails the test."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    assert not errors, f"script errors on the page: {errors}"


def save_screenshot(page: Page, name: str, full_page: bool = False) -> Path | None:
    """Save the page for the README when UPDATE_SCREENSHOTS=1 (tests never touch docs/ else)."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        page.screenshot()  # still drawn, so a page that cannot be rendered fails the test
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # a click may have scrolled: show the page's top
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path | None]:
    """save_screenshot, for test modules that load this file only as a plugin."""
    return save_screenshot



@dataclass(frozen=True)
class NurseLogin:
    """A console account made for a test."""

    email: str
    password: str


@pytest.fixture
def nurse(live: LiveServer, r: redis.Redis) -> NurseLogin:
    """An administrator account on the clean database (as `supportline nurse add --admin`)."""
    from bot.console import accounts

    login = NurseLogin("sam.nurse@example.org", "a long enough test password")
    accounts.add(r, login.email, login.password, admin=True, at=datetime.now(UTC))
    return login


def sign_in_page(page: Page, login: NurseLogin, path: str = "/console/login") -> None:
    """Sign in through the login page, as a nurse would."""
    page.goto(path)
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {login.email}").wait_for()


@pytest.fixture
def sign_in() -> Callable[[Page, NurseLogin], None]:
    """sign_in_page, for test modules that load this file only as a plugin."""
    return sign_in_page
