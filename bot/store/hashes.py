"""A record stored as one Redis hash: explicit to_dict and to_hash, save into a client or
pipeline, fetch.

A record may store its fields under shorter names (`STORED`), its times as seconds since
the epoch (`TIMES`) and leave its id out (`ID_IN_KEY`): a hash of many reminders is mostly
field names and ISO times, and small hashes stay in Redis's compact encoding. Reading
accepts the long names and ISO times too, so records written before still load.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

import redis

H = TypeVar("H", bound="HashRecord")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def pack_time(iso: str, whole: bool = False) -> str:
    """An aware ISO time as seconds since the epoch ("1796021760", "1796021760.5"), exact
    to the microsecond: Redis keeps a whole number in 5 bytes, an ISO time takes 32. A
    time with no offset is kept as it is, for whoever reads it to refuse. `whole`: to
    the second below, for a time people read (when a text was made or sent)."""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        return iso
    gap = moment - _EPOCH
    micros = gap // timedelta(microseconds=1)
    seconds, rest = divmod(micros, 1_000_000)
    return str(seconds) if not rest or whole else f"{seconds}.{rest:06d}".rstrip("0")


def unpack_time(raw: str) -> str:
    """pack_time's answer as an ISO time in UTC; an ISO time is returned as it is."""
    if not raw or "T" in raw or "-" in raw[1:]:
        return raw
    seconds, _, fraction = raw.partition(".")
    micros = int((fraction + "000000")[:6]) if fraction else 0
    return (_EPOCH + timedelta(seconds=int(seconds), microseconds=micros)).isoformat()


class HashRecord:
    """Dataclass records under "<PREFIX>:<id>"; empty fields are not stored (memory)."""

    PREFIX: ClassVar[str]
    STORED: ClassVar[dict[str, str]] = {}  # field -> its name in the hash, where shorter
    TIMES: ClassVar[frozenset[str]] = frozenset()  # ISO time fields, stored as epoch seconds
    WHOLE_SECONDS: ClassVar[frozenset[str]] = frozenset()  # of those, kept to the second
    ID_IN_KEY: ClassVar[bool] = False  # the id is not repeated inside the hash
    id: str

    @classmethod
    def key_for(cls, record_id: str) -> str:
        """The Redis key of the record with this id."""
        return f"{cls.PREFIX}:{record_id}"

    @classmethod
    def field(cls, name: str) -> str:
        """The hash field a record field is stored under (for HGET, HSET and scripts)."""
        return cls.STORED.get(name, name)

    @classmethod
    def stored_value(cls, name: str, value: Any) -> Any:
        """A field's value as the hash holds it."""
        if name in cls.TIMES and value:
            return pack_time(value, whole=name in cls.WHOLE_SECONDS)
        return value

    @property
    def key(self) -> str:
        """This record's Redis key."""
        return self.key_for(self.id)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def to_hash(self) -> dict[str, Any]:
        """The non-empty fields as the hash stores them: short names, packed times."""
        return {
            self.field(k): self.stored_value(k, v)
            for k, v in self.to_dict().items()
            if v not in ("", None) and not (k == "id" and self.ID_IN_KEY)
        }

    def save(self, r: Any) -> None:
        """Write every non-empty field into a client, pipeline or batch."""
        r.hset(self.key, mapping=self.to_hash())

    @classmethod
    def from_hash(cls: type[H], raw: dict[str, str], record_id: str = "") -> H:
        """Build a record from HGETALL's answer (and its id, if the hash leaves it out),
        converting int fields."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            short = cls.STORED.get(f.name, f.name)
            value = raw.get(short, raw.get(f.name))  # the long name: written before
            if f.name == "id" and value is None and record_id:
                value = record_id
            if value is not None:
                if f.type in ("int", int):
                    values[f.name] = int(value)
                elif f.name in cls.TIMES:
                    values[f.name] = unpack_time(value)
                else:
                    values[f.name] = value
            elif f.type in ("str", str) and f.default is dataclasses.MISSING:
                values[f.name] = ""  # save() leaves empty fields out; they come back empty
        return cls(**values)

    @classmethod
    def fetch(cls: type[H], r: redis.Redis, record_id: str) -> H | None:
        """Load one record, or None."""
        raw = r.hgetall(cls.key_for(record_id))
        return cls.from_hash(raw, record_id) if raw else None  # type: ignore[arg-type]

    @classmethod
    def fetch_many(cls: type[H], r: redis.Redis, ids: list[str]) -> list[H]:
        """Load many records in one round trip, skipping any that are gone."""
        p = r.pipeline(transaction=False)
        for record_id in ids:
            p.hgetall(cls.key_for(record_id))
        return [cls.from_hash(raw, i) for raw, i in zip(p.execute(), ids, strict=True) if raw]
