"""Trying a kept feed message again, whichever way it came."""

from __future__ import annotations

from datetime import datetime

import redis

from bot.feeds import fhir, hl7feed
from bot.feeds.bookings import Feed
from bot.feeds.messages import FeedMessage


def replay(r: redis.Redis, feed: Feed, kept: FeedMessage, now: datetime) -> FeedMessage:
    """Apply a kept message again with today's codes file; the record says what happened."""
    if kept.source == "fhir":
        return fhir.replay(r, feed, kept, now)
    return hl7feed.replay(r, feed, kept, now)
