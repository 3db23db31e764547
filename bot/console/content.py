"""Content: every text the bot can send or say, its sources, cost and review dates."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from flask import current_app, render_template, request

from bot.console.blueprint import bp, clinic_tz
from bot.lines.textline import directory_for
from bot.web.clock import now
from flows.catalogue import Entry, entries
from flows.knowledge import default_knowledge
from flows.triage import default_rulebook

DUE_SOON = dt.timedelta(days=60)  # time enough to get a clinician to review it
SHOW = {
    "all": "All texts",
    "overdue": "Overdue for review",
    "due_soon": "Review due within 60 days",
    "problems": "Texts with a problem",
}
CHANNELS = {"all": "Text and voice", "sms": "Text messages", "voice": "Voice prompts"}


def catalogue(settings: Mapping[str, Any] | None = None) -> tuple[Entry, ...]:
    """Every text, as this deployment's settings (numbers, nurse hours) make it."""
    s = settings or {}
    return _catalogue(
        s.get("ACUTE_ONCOLOGY_NUMBER"), s.get("BANK_HOLIDAY_REGION"), s.get("NURSE_HOURS")
    )


@functools.lru_cache(maxsize=4)
def _catalogue(acute: str | None, region: str | None, hours: str | None) -> tuple[Entry, ...]:
    # Built once per set of settings: the content does not change while the app runs.
    directory = directory_for(
        {"ACUTE_ONCOLOGY_NUMBER": acute, "BANK_HOLIDAY_REGION": region, "NURSE_HOURS": hours}
    )
    return tuple(entries(default_knowledge(), default_rulebook(), directory))


def rows(today: dt.date) -> list[dict[str, Any]]:
    """Each text checked as of `today`, with its review state; overdue first."""
    out = []
    for e in catalogue(current_app.config):
        c = e.check(today)
        due = e.review_due
        c["overdue"] = bool(due and due < today)
        c["due_soon"] = bool(due and today <= due <= today + DUE_SOON)
        c["problems"] = [b for b in c["breaches"] if not b.startswith("review overdue")]
        out.append(c)
    out.sort(key=lambda c: (not c["overdue"], not c["due_soon"], c["source"], c["channel"]))
    return out


@bp.get("/content")
def content() -> str:
    """The content page, filtered by review state and channel."""
    today = now().astimezone(clinic_tz()).date()
    show = request.args.get("show", "all")
    show = show if show in SHOW else "all"
    channel = request.args.get("channel", "all")
    channel = channel if channel in CHANNELS else "all"
    every = rows(today)
    counts = {
        "all": len(every),
        "overdue": sum(1 for c in every if c["overdue"]),
        "due_soon": sum(1 for c in every if c["due_soon"]),
        "problems": sum(1 for c in every if c["problems"]),
    }
    shown = [
        c for c in every
        if (show == "all" or c[show]) and (channel == "all" or c["channel"] == channel)
    ]
    return render_template(
        "console/content.html",
        rows=shown,
        counts=counts,
        today=today,
        show=show,
        channel=channel,
        shows=SHOW,
        channels=CHANNELS,
    )
