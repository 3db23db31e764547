"""Alerts, call-back requests, opt-outs and message history: what the nurses work from."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import redis

from flows.triage import RANK

HISTORY_LIMIT = 500
HISTORY_TTL_SECONDS = 90 * 24 * 3600


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class Alert:
    """A red-flag message for the nurses: its level, reason, text and sender."""

    number: str
    level: str
    reason: str
    text: str
    rule: str = ""
    channel: str = "sms"
    created_at: str = ""
    status: str = "open"
    id: str = field(default_factory=_new_id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def save(self, r: Any) -> None:
        """Store the alert and index it by urgency, then time (newest first).

        `r` is a client, a pipeline or a batch: whatever the caller wants it written into.
        """
        p = r
        p.set(f"alert:{self.id}", json.dumps(self.to_dict()))
        created = datetime.fromisoformat(self.created_at).timestamp()
        # Most urgent first, newest first within a level.
        p.zadd("alerts:open", {self.id: RANK[self.level] * 1e11 - created})
        p.zadd("alerts:all", {self.id: created})

    @classmethod
    def fetch(cls, r: redis.Redis, alert_id: str) -> Alert | None:
        """Load one alert by id."""
        raw = r.get(f"alert:{alert_id}")
        return cls(**json.loads(str(raw))) if raw else None


def open_alerts(r: redis.Redis, limit: int = 100) -> list[Alert]:
    """Open alerts, most urgent and newest first."""
    ids = r.zrange("alerts:open", 0, limit - 1)
    alerts = (Alert.fetch(r, str(i)) for i in ids)
    return [a for a in alerts if a]


@dataclass
class CallbackRequest:
    """A patient's request for a breast care nurse to call them back."""

    number: str
    reason: str
    channel: str = "sms"
    created_at: str = ""
    status: str = "open"
    recording_url: str = ""
    id: str = field(default_factory=_new_id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def save(self, r: Any) -> None:
        """Store the request in the nurses' queue, oldest first (client, pipeline or batch)."""
        p = r
        p.set(f"callback:{self.id}", json.dumps(self.to_dict()))
        p.zadd("callbacks:open", {self.id: datetime.fromisoformat(self.created_at).timestamp()})

    @classmethod
    def fetch(cls, r: redis.Redis, callback_id: str) -> CallbackRequest | None:
        """Load one request by id."""
        raw = r.get(f"callback:{callback_id}")
        return cls(**json.loads(str(raw))) if raw else None


def open_callbacks(r: redis.Redis, limit: int = 100) -> list[CallbackRequest]:
    """Open call-back requests, oldest first."""
    ids = r.zrange("callbacks:open", 0, limit - 1)
    found = (CallbackRequest.fetch(r, str(i)) for i in ids)
    return [c for c in found if c]


def set_opted_out(number: str, opted_out: bool, at: str, pipeline: Any) -> None:
    """Record, into a client, pipeline or batch, that a number opted out (or back in)."""
    p = pipeline
    if opted_out:
        p.hset("optouts", number, at)
    else:
        p.hdel("optouts", number)


def is_opted_out(r: redis.Redis, number: str) -> bool:
    """True when the number has opted out."""
    return bool(r.hexists("optouts", number))


def log_message(r: Any, number: str, entry: dict[str, Any], pipeline: Any = None) -> None:
    """Append one message, in or out, to the number's history."""
    p = pipeline or r
    k = f"history:{number}"
    p.rpush(k, json.dumps(entry))
    p.ltrim(k, -HISTORY_LIMIT, -1)
    p.expire(k, HISTORY_TTL_SECONDS)


def history(r: redis.Redis, number: str) -> list[dict[str, Any]]:
    """The number's message history, oldest first."""
    return [json.loads(str(x)) for x in r.lrange(f"history:{number}", 0, -1)]
