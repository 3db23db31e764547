"""What the Campaigns section's pages share: status words, labels, the clock and limits."""

from __future__ import annotations

from typing import Any

from flask import current_app

from bot import config
from bot.console.blueprint import bp
from bot.outbound.appointments import quiet_hours

# Files up to this many lines are checked and imported inside the request (well under a
# second); bigger ones go to a background thread and the page shows a progress bar.
SYNC_LINES = 300
SYNC_WAIT = 5.0  # seconds a confirm in the request waits for another import

CAMPAIGN_STATUS = {
    "importing": "Importing",
    "active": "Active",
    "cancelled": "Cancelled",
    "failed": "Import failed: nothing was sent",
}
REMINDER_STATUS = {
    "scheduled": "Scheduled",
    "sending": "Sending",
    "sent": "Sent",
    "delivered": "Delivered",
    "undelivered": "Not delivered",
    "failed": "Failed",
    "expired": "Too late to send",
    "cancelled": "Cancelled",
    "opted_out": "Opted out",
    "answered": "Call answered by a person",
    "voicemail": "Call: message left on a machine",
    "unanswered": "Call not answered",
}


def quiet() -> Any:
    """The quiet hours reminders keep out of."""
    return quiet_hours(current_app.config)


def calling() -> config.Calling:
    """The deployment's calling hours and call price (CALL_HOURS, CALL_PRICE_PER_MINUTE)."""
    return config.calling(current_app.config)


def capacity() -> float:
    """Texts a second the line can send: SMS_PER_SECOND times SMS_SENDERS."""
    return config.send_capacity(current_app.config)


def kind_label(kind: str) -> str:
    """"ct_scan:day_before" -> "Day before"; a late booking's carried words say so."""
    base, _, carried = (kind.partition(":")[2] or kind).partition("+")
    if base.endswith("~carry"):
        return f"{_words(base.removesuffix('~carry'))} (its safety words, sent apart)"
    label = _words(base)
    if not carried:
        return label
    return f"{label}, with the safety words of the {_words(carried).lower()} reminder"


def _words(kind: str) -> str:
    return kind.replace("+", ", ").replace("_", " ").capitalize()


@bp.app_template_filter("thousands")
def thousands(n: int) -> str:
    """12500 -> "12,500"."""
    return f"{n:,}"


@bp.app_template_global("reminder_status")
def reminder_status(status: str) -> str:
    """A reminder's status in words."""
    return REMINDER_STATUS.get(status, status)
