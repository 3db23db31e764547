"""The support line's Flask app: create_app is the only way to make one."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot import config

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `settings` keys are named like the environment variables and win."""
    # Imported here, not at the top: the CLI's triage and ask, and the worker, import `bot`
    # without needing Flask, the console or its libraries (textstat, password hashing).
    from flask import Flask

    from bot import console, masking
    from bot.dev import simclock, simulator
    from bot.store import client as store
    from bot.web import cookies, health, reminder_call, sms, status, voice

    values = config.load(settings)
    config.check(values)
    config.check_web(values)
    app = Flask(__name__, instance_path=values["INSTANCE_PATH"])
    app.config.update(values)
    app.config.setdefault("CLOCK", lambda: datetime.now(UTC))
    if simclock.enabled(values):
        # The local stack's clock can be moved ahead from the simulator page.
        app.config["CLOCK"] = simclock.Clock(app.config, app.config["CLOCK"])
    app.config["AUTH_TOKEN"] = config.auth_token(values)
    app.config["SECRET_KEY"] = values.get("SECRET_KEY") or app.config["AUTH_TOKEN"]
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    masking.install()
    store.init_app(app)
    cookies.init_app(app)
    app.register_blueprint(sms.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(voice.bp)
    console.init_app(app)
    simulator.register(app)
    app.register_blueprint(status.bp)
    app.register_blueprint(reminder_call.bp)
    _feeds(app, values)
    _warm_up()
    return app


def _feeds(app: Flask, values: Mapping[str, Any]) -> None:
    """The FHIR endpoint (off unless FEED_TOKEN is set) and the feed's checked settings."""
    # Imported here for the same reason as in create_app: `import bot` stays light.
    from bot.feeds import bookings, fhir

    try:
        bookings.current(values)
    except bookings.FeedError as exc:
        raise config.ConfigError(str(exc)) from None
    app.register_blueprint(fhir.bp)


def _warm_up() -> None:
    """Load the content, rules, word lists, prompts and this year's bank holidays now,
    rather than on a patient's first text or a caller's first call."""
    # Imported here so that `import bot` does not load the content and word lists.
    from flows import calls
    from flows.conversation import Conversation
    from flows.engine import Context, step

    ctx = Context.default(datetime.now(UTC))
    step(Conversation(), "can i eat before my ct, temp 36.8", ctx)
    calls.step(calls.Call.new(ctx.now), calls.Heard("call"), ctx)
    for line in ctx.directory.lines.values():
        line.is_open(ctx.now, ctx.tz)
