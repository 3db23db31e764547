"""Conversation state: plain data, stored as JSON (never pickled)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

WORRY_WINDOW = timedelta(hours=24)
# Escalation needs only which signs came within the window: one record per set of signs
# (the newest), and at most this many, however many messages a day brings.
MAX_WORRIES = 20


@dataclass
class Conversation:
    """Where one phone number is in the conversation."""

    state: str = "start"
    back: list[str] = field(default_factory=list)  # states to return to with BACK
    pages: list[str] = field(default_factory=list)  # the rest of a long answer, for MORE
    worries: list[str] = field(default_factory=list)  # "<ISO time> <categories>" of signs
    last_topic: str | None = None
    turns: int = 0
    alerted: str | None = None  # "<ISO time> <level> [category]" of the last urgent reply
    last_aspect: str | None = None  # the part of last_topic last answered ("eat_drink")
    earlier_topic: str | None = None  # the topic before last_topic, for "back to the scan"
    last_circumstance: str | None = None  # the circumstance just answered ("metal")
    # The last two tests or treatments talked about, in the order they came up, for "the
    # first one", "the second" and "the other one".
    pair: list[str] = field(default_factory=list)

    def remember(self, topic: str | None) -> None:
        """Make `topic` the one being talked about, keeping the one before it."""
        if topic != self.last_topic and self.last_topic is not None:
            self.earlier_topic = self.last_topic
        self.last_topic = topic

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        # Written out rather than dataclasses.asdict: this runs on every message.
        return {"state": self.state, "back": list(self.back), "pages": list(self.pages),
                "worries": list(self.worries), "last_topic": self.last_topic, "turns": self.turns,
                "alerted": self.alerted, "last_aspect": self.last_aspect,
                "earlier_topic": self.earlier_topic, "last_circumstance": self.last_circumstance,
                "pair": list(self.pair)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Conversation:
        """Rebuild from `to_dict` output; unknown or malformed state starts afresh."""
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(
                state=str(data.get("state") or "start"),
                back=[str(s) for s in data.get("back") or []][-10:],
                pages=[str(p) for p in data.get("pages") or []],
                worries=[str(w) for w in data.get("worries") or []][-MAX_WORRIES:],
                last_topic=data.get("last_topic"),
                turns=int(data.get("turns") or 0),
                alerted=str(data["alerted"]) if data.get("alerted") else None,
                last_aspect=str(data["last_aspect"]) if data.get("last_aspect") else None,
                earlier_topic=str(data["earlier_topic"]) if data.get("earlier_topic") else None,
                last_circumstance=(
                    str(data["last_circumstance"]) if data.get("last_circumstance") else None
                ),
                pair=[str(t) for t in data.get("pair") or []][-2:],
            )
        except (TypeError, ValueError):
            return cls()

    def recent_worries(self, now: datetime) -> list[str]:
        """Records of warning signs from the last 24 hours."""
        return recent(self.worries, now)


def recent(worries: list[str], now: datetime) -> list[str]:
    """The records in `worries` from the last 24 hours of `now` (unreadable ones dropped).

    A record is "<ISO time>" or "<ISO time> <categories>"; the bare form is what was
    stored before categories were kept. Of records naming the same signs only the newest
    is kept, and at most MAX_WORRIES, so a flood of messages cannot grow the state.
    """
    newest: dict[str, str] = {}
    for w in worries:
        when, _, cats = w.partition(" ")
        try:
            t = datetime.fromisoformat(when)
        except ValueError:
            continue
        if t.tzinfo is not None and now - t <= WORRY_WINDOW:
            newest.pop(cats, None)  # re-inserted last: the dict keeps oldest-first order
            newest[cats] = w
    return list(newest.values())[-MAX_WORRIES:]
