"""Texts sent as soon as possible (a nurse's message, a leaflet asked for on a call): the
record and its send job written together, after one opt-out check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import redis

from bot.outbound import scheduling
from bot.outbound.texts import TEXT_LIFETIME, Reminder, new_id
from bot.store import records


def queue_text(
    r: redis.Redis,
    to: str,
    body: str,
    *,
    kind: str,
    now: datetime,
    settings: Mapping[str, Any] | None = None,
) -> Reminder | None:
    """Send a text as soon as possible through the send job; None if the number opted out."""
    queued = queue_texts(r, to, [body], kind=kind, now=now, settings=settings)
    return queued[0] if queued else None


def queue_texts(
    r: redis.Redis,
    to: str,
    bodies: Iterable[str],
    *,
    kind: str,
    now: datetime,
    settings: Mapping[str, Any] | None = None,
) -> list[Reminder] | None:
    """Send texts in order, as soon as possible; None if the number opted out.

    One opt-out check, then every text and its send job in one transaction: a caller
    waiting on the phone line pays for two round trips, not several per page.
    """
    if records.is_opted_out(r, to):
        return None
    made = [
        Reminder(
            id=new_id(),
            to=to,
            body=body,
            kind=kind,
            send_at=now.isoformat(),
            expires_at=(now + TEXT_LIFETIME).isoformat(),
            created_at=now.isoformat(),
        )
        for body in bodies
    ]
    with scheduling.rq_connection(r).pipeline() as pipe:
        pipe.multi()  # RQ switches a caller's pipeline to MULTI only if it is not already
        for reminder in made:
            reminder.save(pipe)
            scheduling.send_now(r, reminder, pipeline=pipe)
        pipe.execute()
    return made
