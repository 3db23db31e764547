"""The Redis connection: REDIS_URL when set, else the embedded server, one per app."""

from __future__ import annotations

import atexit
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot import config
from bot.dev.embedded import EmbeddedRedis
from bot.store.breaker import OPEN_SECONDS, Breaker

# Timeouts: Twilio waits 15 seconds for a webhook; a sick Redis must fail fast so the
# patient still gets the safe fallback reply. redis-py 8 retries a timeout ten times with
# backoff by default, which turned one hung Redis into minutes per request: the retries
# are set here, small, on purpose.
SOCKET_TIMEOUT = 2.0
WEBHOOK_TIMEOUT = 0.5


def connect(url: str, timeout: float = SOCKET_TIMEOUT, retries: int = 2) -> redis.Redis:
    """A client with timeouts, a bounded retry on a dropped connection, and string replies."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        decode_responses=True,
        # A dropped connection (Redis restarted) is worth one more try; a timeout is not.
        retry=Retry(NoBackoff(), retries, supported_errors=(redis.ConnectionError,)),
    )


def url(settings: Mapping[str, Any]) -> str:
    """REDIS_URL, else the embedded server's address: started unless it is running already,
    and stopped (its data saved) when this process exits, if this process started it."""
    configured = settings.get("REDIS_URL")
    if configured:
        return str(configured)
    server = EmbeddedRedis(Path(settings["INSTANCE_PATH"]))
    started = server.start()
    atexit.register(server.stop)
    return started


def init_app(app: Flask) -> None:
    """Attach a Redis client to the app, starting the embedded server if needed."""
    app.config["REDIS_URL"] = url(app.config)
    app.extensions["redis"] = connect(app.config["REDIS_URL"])
    # Twilio's webhooks get their own client with a short timeout, and a breaker.
    timeout = float(app.config.get("REDIS_WEBHOOK_TIMEOUT") or WEBHOOK_TIMEOUT)
    app.extensions["redis_webhook"] = connect(app.config["REDIS_URL"], timeout=timeout, retries=1)
    app.extensions["redis_breaker"] = Breaker(
        float(app.config.get("REDIS_BREAKER_SECONDS") or OPEN_SECONDS)
    )


def get_redis(app: Flask | None = None) -> redis.Redis:
    """The app's Redis client."""
    target: Any = app or current_app
    return cast(redis.Redis, target.extensions["redis"])


def webhook_redis(app: Flask | None = None) -> redis.Redis:
    """The client Twilio's webhooks use: short timeouts, so a hung Redis fails fast."""
    target: Any = app or current_app
    return cast(redis.Redis, target.extensions["redis_webhook"])


def breaker(app: Flask | None = None) -> Breaker:
    """The app's Redis breaker for the webhooks."""
    target: Any = app or current_app
    return cast(Breaker, target.extensions["redis_breaker"])


@contextmanager
def cli_redis() -> Iterator[redis.Redis]:
    """For a command: the configured Redis, or the embedded one (see `url`)."""
    client = connect(url(config.load()))
    try:
        yield client
    finally:
        client.close()
