"""GET /healthz: is the app up and can it reach Redis."""

from __future__ import annotations

import redis
from flask import Blueprint, Response, jsonify

from bot.store.client import get_redis

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 with redis "ok" when Redis answers; 503 otherwise."""
    try:
        get_redis().ping()
    except (redis.RedisError, OSError) as exc:
        return jsonify(status="unavailable", redis="unreachable", error=type(exc).__name__), 503
    return jsonify(status="ok", redis="ok"), 200
