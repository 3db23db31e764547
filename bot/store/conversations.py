"""Conversation state in Redis: JSON with a 24-hour expiry, one key per phone number."""

from __future__ import annotations

import json
from typing import Any

import redis

from bot.store import keys
from flows.conversation import Conversation

TTL_SECONDS = 24 * 3600


def key(number: str) -> str:
    """The Redis key for one number's conversation."""
    return keys.conversation(number)


def parse(raw: str | bytes | None) -> Conversation:
    """A stored conversation, or a fresh one (expired, missing or unreadable)."""
    if not raw:
        return Conversation()
    try:
        return Conversation.from_dict(json.loads(raw))
    except ValueError:
        return Conversation()


def load(r: redis.Redis, number: str) -> Conversation:
    """The number's conversation."""
    return parse(r.get(key(number)))


def save(r: redis.Redis, number: str, conv: Conversation, pipeline: Any = None) -> None:
    """Store the conversation, restarting its 24-hour expiry (in `pipeline` if given)."""
    (pipeline or r).set(key(number), json.dumps(conv.to_dict()), ex=TTL_SECONDS)
