"""The Redis connection: REDIS_URL when set, else the embedded server, one per app."""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import Any, cast

import redis
from flask import Flask, current_app

from bot.embedded import EmbeddedRedis

# Short timeouts: Twilio waits 15 seconds for a webhook; a sick Redis must fail fast so
# the patient still gets the safe fallback reply.
SOCKET_TIMEOUT = 2.0


def connect(url: str) -> redis.Redis:
    """A client with timeouts and string replies."""
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        health_check_interval=30,
        decode_responses=True,
    )


def init_app(app: Flask) -> None:
    """Attach a Redis client to the app, starting the embedded server if needed."""
    url = app.config.get("REDIS_URL")
    if not url:
        server = EmbeddedRedis(Path(app.config["INSTANCE_PATH"]))
        url = server.start()
        atexit.register(server.stop)
        app.config["REDIS_URL"] = url
    app.extensions["redis"] = connect(str(url))


def get_redis(app: Flask | None = None) -> redis.Redis:
    """The app's Redis client."""
    target: Any = app or current_app
    return cast(redis.Redis, target.extensions["redis"])
