"""Today: open red-flag alerts and call-back requests; acknowledge, resolve, reveal a number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers
from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot.console import sessions
from bot.console.blueprint import (
    bp,
    current_nurse,
    db,
    record,
    safe_next,
    wants_json,
)
from bot.console.forms import ResolveForm
from bot.store import records
from bot.web.clock import now

KINDS: dict[str, type[records.Alert] | type[records.CallbackRequest]] = {
    "alerts": records.Alert,
    "callbacks": records.CallbackRequest,
}
KIND_RULE = "<any(alerts, callbacks):kind>"
QUEUE_LIMIT = 200
RESOLVED_SHOWN = 10
LEVEL_LABELS = {
    "emergency": "Emergency",
    "urgent": "Urgent",
    "same_day": "Same day",
    "none": "No warning sign",
}
NOUN = {"alerts": "Alert", "callbacks": "Call-back request"}


@dataclass(frozen=True)
class Item:
    """An alert or call-back request as a nurse sees it."""

    kind: str
    record: Any
    revealed: bool = False

    @property
    def ref(self) -> str:
        """"alerts/<id>" or "callbacks/<id>": names the record in URLs and the audit trail."""
        return f"{self.kind}/{self.record.id}"

    @property
    def dom_id(self) -> str:
        """The element id of the item on the page."""
        return f"{self.kind}-{self.record.id}"

    @property
    def recording(self) -> str:
        """The voicemail's address when it is a web address, else ""."""
        url = str(getattr(self.record, "recording_url", "") or "")
        return url if url.startswith(("https://", "http://")) else ""


def national(number: str) -> str:
    """A UK number as nurses dial it ("07700 900123"); others in international form."""
    try:
        parsed = phonenumbers.parse(number, "GB")
    except phonenumbers.NumberParseException:
        return number
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if parsed.country_code == 44
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, fmt)


def revealed_refs() -> set[str]:
    """Records whose numbers this session has revealed recently."""
    return sessions.revealed(db(), g.session_token, now())


def queues() -> dict[str, list[Item]]:
    """The open alerts (most urgent, then newest, first) and call-backs (newest first)."""
    r = db()
    shown = revealed_refs()
    alerts = records.open_alerts(r, QUEUE_LIMIT)
    callbacks = list(reversed(records.open_callbacks(r, QUEUE_LIMIT)))
    return {
        "alerts": [Item("alerts", a, f"alerts/{a.id}" in shown) for a in alerts],
        "callbacks": [Item("callbacks", c, f"callbacks/{c.id}" in shown) for c in callbacks],
    }


def summary(q: dict[str, list[Item]]) -> str:
    """One sentence for the top of the page and the screen reader announcement."""
    alerts, callbacks = q["alerts"], q["callbacks"]
    worst = [i for i in alerts if i.record.level in ("emergency", "urgent")]
    parts = [f"{len(alerts)} open alert{'s' if len(alerts) != 1 else ''}"]
    if worst:
        parts[0] += f" ({len(worst)} emergency or urgent)"
    parts.append(f"{len(callbacks)} call-back request{'s' if len(callbacks) != 1 else ''}")
    return " and ".join(parts) + "."


def _page(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    q = queues()
    r = db()
    resolved = [Item("alerts", a) for a in records.Alert.resolved(r, RESOLVED_SHOWN)] + [
        Item("callbacks", c) for c in records.CallbackRequest.resolved(r, RESOLVED_SHOWN)
    ]
    resolved.sort(key=lambda i: i.record.resolved_at, reverse=True)
    html = render_template(
        "console/today.html",
        queues=q,
        summary=summary(q),
        resolved=resolved[:RESOLVED_SHOWN],
        errors=errors or {},
        levels=LEVEL_LABELS,
        national=national,
    )
    return html, status


@bp.get("/")
def home() -> Response:
    """The console starts at Today."""
    return redirect(url_for("console.today"))


@bp.get("/today")
def today() -> tuple[str, int]:
    """Open alerts and call-back requests."""
    return _page()


@bp.get("/today/updates")
def today_updates() -> Response:
    """The open queues as HTML items for console.js to merge in (does not count as activity)."""
    q = queues()
    sections = {}
    for kind, items in q.items():
        sections[kind] = {
            "ids": [i.dom_id for i in items],
            "items": {
                i.dom_id: render_template(
                    "console/_item.html", item=i, errors={}, levels=LEVEL_LABELS,
                    national=national,
                )
                for i in items
            },
        }
    counts = {kind: len(items) for kind, items in q.items()}
    return jsonify(sections=sections, counts=counts, summary=summary(q))


def _fetch(kind: str, record_id: str) -> Any:
    found = KINDS[kind].fetch(db(), record_id)
    if found is None:
        abort(404)
    return found


def _done(kind: str, record_id: str, message: str) -> Response:
    if wants_json():
        return jsonify(message=message)
    flash(message, "info")
    return redirect(url_for("console.today") + f"#{kind}-{record_id}")


def _taken(kind: str, updated: Any) -> str:
    if updated.status == "resolved":
        return f"{NOUN[kind]} was already resolved by {updated.resolved_by}."
    return f"{NOUN[kind]} was already acknowledged by {updated.acknowledged_by}."


@bp.post(f"/{KIND_RULE}/<record_id>/acknowledge")
def acknowledge(kind: str, record_id: str) -> Response:
    """Take an alert or call-back on: other nurses see who has it."""
    _fetch(kind, record_id)
    updated, changed = KINDS[kind].acknowledge(
        db(), record_id, current_nurse().email, now().isoformat()
    )
    if updated is None:
        abort(404)
    if not changed:
        return _done(kind, record_id, _taken(kind, updated))
    record("acknowledge", f"{kind}/{record_id}", getattr(updated, "level", "call-back"))
    return _done(kind, record_id, f"{NOUN[kind]} acknowledged.")


@bp.post(f"/{KIND_RULE}/<record_id>/resolve")
def resolve(kind: str, record_id: str) -> Response | tuple[str, int]:
    """Close an alert or call-back with a note of what was done."""
    _fetch(kind, record_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        message = str(next(iter(form.note.errors), "Write a note of what was done."))
        if wants_json():
            response = jsonify(error=message)
            response.status_code = 400
            return response
        return _page({f"{kind}-{record_id}": message}, 400)
    note = (form.note.data or "").strip()
    updated, changed = KINDS[kind].resolve(
        db(), record_id, current_nurse().email, now().isoformat(), note
    )
    if updated is None:
        abort(404)
    if not changed:
        return _done(kind, record_id, _taken(kind, updated))
    record("resolve", f"{kind}/{record_id}", getattr(updated, "level", "call-back"))
    return _done(kind, record_id, f"{NOUN[kind]} resolved.")


@bp.post(f"/{KIND_RULE}/<record_id>/reveal")
def reveal(kind: str, record_id: str) -> Response:
    """Show the full phone number of an alert or call-back; recorded in the audit trail."""
    found = _fetch(kind, record_id)
    ref = f"{kind}/{record_id}"
    sessions.reveal(db(), g.session_token, ref, now())
    record("reveal_number", ref)
    if wants_json():
        return jsonify(number=found.number, display=national(found.number))
    back = safe_next(request.form.get("next"))
    return redirect(back or url_for("console.today") + f"#{kind}-{record_id}")
