"""Alerts, call-back requests, opt-outs and message history: what the nurses work from."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import redis

from bot.store import keys
from bot.store.hashes import pack_time, unpack_time
from flows.triage import RANK

HISTORY_LIMIT = 500
HISTORY_TTL_SECONDS = 90 * 24 * 3600


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


R = TypeVar("R", bound="Record")


@dataclass(kw_only=True)
class Record:
    """Shared by the nurses' records: stored as JSON under "<PREFIX>:<id>", indexed in OPEN.

    The fields every record has are keyword-only, after each kind's own.
    """

    PREFIX: ClassVar[str]
    OPEN: ClassVar[str]
    RESOLVED: ClassVar[str]
    channel: str = "sms"
    created_at: str = ""
    status: str = "open"
    id: str = field(default_factory=_new_id)
    acknowledged_by: str = ""
    acknowledged_at: str = ""
    resolved_by: str = ""
    resolved_at: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        # Every field is a plain string: a shallow copy, not asdict's deep one.
        return dict(vars(self))

    def _store(self, p: Any, score: float) -> None:
        p.set(f"{self.PREFIX}:{self.id}", json.dumps(self.to_dict()))
        if self.status != "resolved":  # saving a late detail must not reopen a closed record
            p.zadd(self.OPEN, {self.id: score})

    @classmethod
    def fetch(cls: type[R], r: redis.Redis, record_id: str) -> R | None:
        """Load one record by id."""
        raw = r.get(f"{cls.PREFIX}:{record_id}")
        return cls(**json.loads(str(raw))) if raw else None

    @classmethod
    def open(cls: type[R], r: redis.Redis, limit: int = 100) -> list[R]:
        """Open records in their queue's order."""
        found = (cls.fetch(r, str(i)) for i in r.zrange(cls.OPEN, 0, limit - 1))
        return [f for f in found if f]

    @classmethod
    def resolved(cls: type[R], r: redis.Redis, limit: int = 50) -> list[R]:
        """Resolved records, most recently resolved first."""
        found = (cls.fetch(r, str(i)) for i in r.zrevrange(cls.RESOLVED, 0, limit - 1))
        return [f for f in found if f]

    @classmethod
    def acknowledge(
        cls: type[R], r: redis.Redis, record_id: str, by: str, at: str
    ) -> tuple[R | None, bool]:
        """Mark an open record as taken on by a nurse: (the record or None, whether it changed)."""

        def change(record: Record) -> bool:
            if record.status != "open":
                return False
            record.status, record.acknowledged_by, record.acknowledged_at = "acknowledged", by, at
            return True

        return cls._change(r, record_id, change)

    @classmethod
    def resolve(
        cls: type[R], r: redis.Redis, record_id: str, by: str, at: str, note: str
    ) -> tuple[R | None, bool]:
        """Close a record with the nurse's note: (the record or None, whether it changed)."""

        def change(record: Record) -> bool:
            if record.status == "resolved":
                return False
            record.status, record.resolved_by, record.resolved_at = "resolved", by, at
            record.note = note
            return True

        return cls._change(r, record_id, change)

    @classmethod
    def _change(
        cls: type[R], r: redis.Redis, record_id: str, change: Callable[[Record], bool]
    ) -> tuple[R | None, bool]:
        """Apply `change` to the stored record atomically (retrying if it moved meanwhile)."""
        key = f"{cls.PREFIX}:{record_id}"
        with r.pipeline() as p:
            while True:
                try:
                    p.watch(key)  # type: ignore[no-untyped-call]
                    raw = p.get(key)
                    if not raw:
                        return None, False
                    record = cls(**json.loads(str(raw)))
                    if not change(record):
                        return record, False
                    p.multi()
                    p.set(key, json.dumps(record.to_dict()))
                    if record.status == "resolved":
                        p.zrem(cls.OPEN, record.id)
                        resolved_at = datetime.fromisoformat(record.resolved_at).timestamp()
                        p.zadd(cls.RESOLVED, {record.id: resolved_at})
                    p.execute()
                    return record, True
                except redis.WatchError:
                    continue


@dataclass
class Alert(Record):
    """A red-flag message for the nurses: its level, reason, text and sender."""

    PREFIX: ClassVar[str] = keys.ALERT
    OPEN: ClassVar[str] = keys.ALERTS_OPEN
    RESOLVED: ClassVar[str] = keys.ALERTS_RESOLVED

    number: str
    level: str
    reason: str
    text: str
    rule: str = ""

    def save(self, r: Any) -> None:
        """Store the alert into a client, pipeline or batch, most urgent then newest first."""
        created = datetime.fromisoformat(self.created_at).timestamp()
        self._store(r, RANK[self.level] * 1e11 - created)
        r.zadd(keys.ALERTS_ALL, {self.id: created})


def open_alerts(r: redis.Redis, limit: int = 100) -> list[Alert]:
    """Open alerts, most urgent and newest first."""
    return Alert.open(r, limit)


@dataclass
class CallbackRequest(Record):
    """A patient's request for a breast care nurse to call them back."""

    PREFIX: ClassVar[str] = keys.CALLBACK
    OPEN: ClassVar[str] = keys.CALLBACKS_OPEN
    RESOLVED: ClassVar[str] = keys.CALLBACKS_RESOLVED

    number: str
    reason: str
    recording_url: str = ""

    def save(self, r: Any) -> None:
        """Store the request in the nurses' queue (client, pipeline or batch), oldest first."""
        self._store(r, datetime.fromisoformat(self.created_at).timestamp())


def open_callbacks(r: redis.Redis, limit: int = 100) -> list[CallbackRequest]:
    """Open call-back requests, oldest first."""
    return CallbackRequest.open(r, limit)


def set_opted_out(number: str, opted_out: bool, at: str, pipeline: Any) -> None:
    """Record, into a client, pipeline or batch, that a number opted out (or back in)."""
    p = pipeline
    if opted_out:
        p.hset(keys.OPTOUTS, number, at)
    else:
        p.hdel(keys.OPTOUTS, number)


def is_opted_out(r: redis.Redis, number: str) -> bool:
    """True when the number has opted out."""
    return bool(r.hexists(keys.OPTOUTS, number))


# A history entry's fields as stored: short names, the time as epoch seconds, a text's
# channel left out. Every reminder sent stays in a history for 90 days; these names and
# the ISO time were a third of each entry.
_SHORT = {"at": "@", "direction": "d", "channel": "c", "text": "x", "sid": "s", "kind": "k",
          "topic": "p", "triage": "g", "event": "e"}
_LONG = {v: k for k, v in _SHORT.items()}
_COMPACT = (",", ":")


def history_entry(entry: dict[str, Any]) -> str:
    """One history entry as stored."""
    out: dict[str, Any] = {}
    for name, value in entry.items():
        if value in ("", None) or (name == "channel" and value == "sms"):
            continue
        if name == "at":
            packed = pack_time(value, whole=True)
            value = int(packed) if packed.isdigit() else packed
        out[_SHORT.get(name, name)] = value
    return json.dumps(out, separators=_COMPACT)


def read_history_entry(raw: str) -> dict[str, Any]:
    """A stored history entry with its full names (entries stored before are already so)."""
    data: dict[str, Any] = json.loads(raw)
    if "@" not in data:
        return data
    entry = {_LONG.get(k, k): v for k, v in data.items()}
    entry["at"] = unpack_time(str(entry["at"]))
    entry.setdefault("channel", "sms")
    return entry


def log_message(r: Any, number: str, *entries: dict[str, Any], pipeline: Any = None) -> None:
    """Append messages, in or out and oldest first, to the number's history."""
    if not entries:
        return
    p = pipeline or r
    k = keys.history(number)
    p.rpush(k, *(history_entry(e) for e in entries))
    p.ltrim(k, -HISTORY_LIMIT, -1)
    p.expire(k, HISTORY_TTL_SECONDS)


def history(r: redis.Redis, number: str) -> list[dict[str, Any]]:
    """The number's message history, oldest first."""
    return [read_history_entry(str(x)) for x in r.lrange(keys.history(number), 0, -1)]
