"""A record stored as one Redis hash: explicit to_dict, save into a client or pipeline, fetch."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

import redis

H = TypeVar("H", bound="HashRecord")


class HashRecord:
    """Dataclass records under "<PREFIX>:<id>"; empty fields are not stored (memory)."""

    PREFIX: ClassVar[str]
    id: str

    @classmethod
    def key_for(cls, record_id: str) -> str:
        """The Redis key of the record with this id."""
        return f"{cls.PREFIX}:{record_id}"

    @property
    def key(self) -> str:
        """This record's Redis key."""
        return self.key_for(self.id)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def save(self, r: Any) -> None:
        """Write every non-empty field into a client, pipeline or batch."""
        mapping = {k: v for k, v in self.to_dict().items() if v not in ("", None)}
        r.hset(self.key, mapping=mapping)

    @classmethod
    def from_hash(cls: type[H], raw: dict[str, str]) -> H:
        """Build a record from HGETALL's answer, converting int fields."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name in raw:
                values[f.name] = int(raw[f.name]) if f.type in ("int", int) else raw[f.name]
            elif f.type in ("str", str) and f.default is dataclasses.MISSING:
                values[f.name] = ""  # save() leaves empty fields out; they come back empty
        return cls(**values)

    @classmethod
    def fetch(cls: type[H], r: redis.Redis, record_id: str) -> H | None:
        """Load one record, or None."""
        raw = r.hgetall(cls.key_for(record_id))
        return cls.from_hash(raw) if raw else None  # type: ignore[arg-type]

    @classmethod
    def fetch_many(cls: type[H], r: redis.Redis, ids: list[str]) -> list[H]:
        """Load many records in one round trip, skipping any that are gone."""
        p = r.pipeline(transaction=False)
        for record_id in ids:
            p.hgetall(cls.key_for(record_id))
        return [cls.from_hash(raw) for raw in p.execute() if raw]
