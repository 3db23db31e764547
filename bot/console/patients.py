"""Patients: find a number, see its opt-out state and its messages by text and by phone."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot import phones
from bot.console.blueprint import bp, db, record
from bot.console.today import KIND_RULE, KINDS, national, revealed_refs
from bot.outbound.appointments import CHANNELS, Patient, set_channel
from bot.store import keys, records

HISTORY_SHOWN = 500  # everything records keep (records.HISTORY_LIMIT)


def _view(number: str, *, typed: bool, revealed: bool, ref: str = "") -> dict[str, Any]:
    """What the patient page shows for a number."""
    r = db()
    opted_out_at = r.hget(keys.OPTOUTS, number)
    history = records.history(r, number)[-HISTORY_SHOWN:]
    history.reverse()  # newest first: the nurse wants what happened last
    patient = Patient.fetch(r, number)
    _, kind, _ = phones.reachable(number)
    return {
        "number": number,
        "show_number": typed or revealed,
        "display": national(number),
        "opted_out_at": str(opted_out_at) if opted_out_at else "",
        "history": history,
        "ref": ref,
        "known": patient is not None,
        "can_text": kind == "sms",
        "channel": (patient.channel if patient and patient.channel else
                    "sms" if kind == "sms" else "call"),
        "calls": [m for m in history if str(m.get("event", "")).startswith("reminder call")],
    }


@bp.post("/patients/channel")
def patient_channel() -> Response:
    """A nurse sets how a patient gets reminders: texts or phone calls (a landline: calls)."""
    number = phones.e164((request.form.get("number") or "").strip()[:40])
    channel = request.form.get("channel", "")
    if number is None or channel not in CHANNELS:
        abort(400)
    if channel == "sms" and phones.reachable(number)[1] != "sms":
        flash("This number is not a mobile, so it cannot get texts: its reminders stay as "
              "phone calls.", "error")
    else:
        set_channel(db(), number, channel)
        record("reminder_channel", number, channel)
        flash("Reminders for this number now go by "
              f"{'phone call' if channel == 'call' else 'text message'}.", "success")
    return redirect(url_for("console.patients", number=number))


@bp.get("/patients")
def patients() -> tuple[str, int]:
    """Search by phone number, in any usual form (07700 900123, +44 7700 900123)."""
    raw = (request.args.get("number") or "").strip()[:40]
    if not raw:
        return render_template("console/patients.html", query="", found=None, error=""), 200
    number = phones.e164(raw)
    if number is None:
        error = (f"\u201c{raw}\u201d is not a phone number we can read. "
                 "Type it as you would dial it, for example 07700 900123.")
        return render_template("console/patients.html", query=raw, found=None, error=error), 400
    record("view_patient", number)
    found = _view(number, typed=True, revealed=True)
    return render_template("console/patients.html", query=raw, found=found, error=""), 200


@bp.get(f"/patients/{KIND_RULE}/<record_id>")
def patient_for(kind: str, record_id: str) -> tuple[str, int]:
    """The messages of the number behind an alert or call-back (number masked until revealed)."""
    found_record = KINDS[kind].fetch(db(), record_id)
    if found_record is None:
        abort(404)
    ref = f"{kind}/{record_id}"
    record("view_patient", ref)
    found = _view(found_record.number, typed=False, revealed=ref in revealed_refs(), ref=ref)
    return render_template("console/patients.html", query="", found=found, error=""), 200
