"""Numbers: messages per day, topics asked about, delivery and alerts, over a chosen period."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from flask import render_template, request

from bot.console import charts
from bot.console.blueprint import bp, clinic_tz, db
from bot.console.today import LEVEL_LABELS
from bot.lines import textline
from bot.store import stats
from bot.web.clock import now
from flows.knowledge import default_knowledge

DEFAULT_DAYS = 14
MESSAGE_SERIES = (
    ("in:sms", "Texts received", "s-in"),
    ("out:sms", "Texts sent", "s-out"),
    ("in:voice", "Calls answered", "s-call"),
)
OUTCOMES = (
    ("delivered", "Delivered", "s-delivered"),
    ("undelivered", "Not delivered", "s-undelivered"),
    ("failed", "Failed", "s-failed"),
)
ALERT_LEVELS = ("emergency", "urgent", "same_day")


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def period(args: Any, today: dt.date) -> tuple[dt.date, dt.date, str]:
    """The chosen period from the query string, or the last fortnight, with any problem."""
    default = (today - dt.timedelta(days=DEFAULT_DAYS - 1), today)
    start, end = _date(args.get("from")), _date(args.get("to"))
    if (args.get("from") and start is None) or (args.get("to") and end is None):
        return *default, "Dates must be real days, written like 2026-11-23."
    start, end = start or default[0], end or default[1]
    if end < start:
        return *default, "The period must end on or after the day it starts."
    if (end - start).days + 1 > stats.MAX_DAYS:
        return *default, f"Choose a period of at most {stats.MAX_DAYS} days."
    return start, end, ""


def topic_title(topic_id: str) -> str:
    """A topic's title for people, or its id if the content has no such topic."""
    topic = default_knowledge().topics.get(topic_id)
    return topic.title if topic else topic_id


def figures(days: dict[dt.date, Counter[str]]) -> dict[str, Any]:
    """Everything the page draws, worked out from the daily counters."""
    total = stats.total(days)
    outcomes = {k: total.get(f"delivery:{k}", 0) for k, _, _ in OUTCOMES}
    final = sum(outcomes.values())
    topics = sorted(stats.with_prefix(total, "topic").items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "total": total,
        "outcomes": outcomes,
        "final": final,
        "rate": round(100 * outcomes["delivered"] / final) if final else None,
        "topics": [(topic_title(t), n) for t, n in topics],
        "alerts": {level: total.get(f"alert:{level}", 0) for level in ALERT_LEVELS},
        "retries": total.get(textline.RETRIES, 0),
        "gave_up": total.get(textline.GAVE_UP, 0),
        "series": [s for s in MESSAGE_SERIES if total.get(s[0], 0) or s[0].endswith(":sms")],
    }


@bp.get("/numbers")
def numbers() -> tuple[str, int]:
    """The charts for a period (default: the last fortnight, in the clinic's days)."""
    tz = clinic_tz()
    today = now().astimezone(tz).date()
    start, end, error = period(request.args, today)
    days = stats.daily(db(), start, end, tz)
    f = figures(days)
    labels = [d.strftime("%-d %b") for d in days]
    span = f"{start:%-d %B %Y} to {end:%-d %B %Y}"
    messages = charts.columns(
        "chart-messages",
        "Messages per day",
        f"Texts received and sent each day from {span}.",
        labels,
        [charts.Series(name, [days[d].get(k, 0) for d in days], css)
         for k, name, css in f["series"]],
    )
    topics = charts.bars(
        "chart-topics",
        "Topics asked about",
        f"How many questions were about each topic from {span}.",
        [(title, n, "s-topic") for title, n in f["topics"]],
    )
    delivery = charts.bars(
        "chart-delivery",
        "Delivery of texts sent",
        f"Final delivery outcomes of the texts sent from {span}.",
        [(name, f["outcomes"][k], css) for k, name, css in OUTCOMES],
        total=f["final"] or None,
    )
    alerts = charts.bars(
        "chart-alerts",
        "Alerts by level",
        f"Red-flag alerts raised at each level from {span}.",
        [(LEVEL_LABELS[level], f["alerts"][level], f"s-{level}") for level in ALERT_LEVELS],
    )
    html = render_template(
        "console/numbers.html",
        start=start,
        end=end,
        span=span,
        error=error,
        days=days,
        f=f,
        charts={"messages": messages, "topics": topics, "delivery": delivery, "alerts": alerts},
        levels=LEVEL_LABELS,
        alert_levels=ALERT_LEVELS,
        outcomes=OUTCOMES,
        max_attempts=textline.MAX_ATTEMPTS,
    )
    return html, 400 if error else 200
