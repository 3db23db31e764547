"""Conversation state in Redis: JSON with a 24-hour expiry, one key per phone number."""

from __future__ import annotations

import json

import redis

from flows.conversation import Conversation

TTL_SECONDS = 24 * 3600


def key(number: str) -> str:
    """The Redis key for one number's conversation."""
    return f"conv:{number}"


def load(r: redis.Redis, number: str) -> Conversation:
    """The stored conversation, or a fresh one (expired, missing or unreadable)."""
    raw = r.get(key(number))
    if not raw:
        return Conversation()
    try:
        return Conversation.from_dict(json.loads(str(raw)))
    except ValueError:
        return Conversation()


def save(r: redis.Redis, number: str, conv: Conversation,
         pipeline: redis.client.Pipeline | None = None) -> None:
    """Store the conversation, restarting its 24-hour expiry."""
    (pipeline or r).set(key(number), json.dumps(conv.to_dict()), ex=TTL_SECONDS)
