"""Patients: find a number, see its opt-out state and its messages by text and by phone."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request

from bot import phones
from bot.console.blueprint import bp, db, record
from bot.console.today import KIND_RULE, KINDS, national, revealed_refs
from bot.store import keys, records

HISTORY_SHOWN = 500  # everything records keep (records.HISTORY_LIMIT)


def _view(number: str, *, typed: bool, revealed: bool, ref: str = "") -> dict[str, Any]:
    """What the patient page shows for a number."""
    r = db()
    opted_out_at = r.hget(keys.OPTOUTS, number)
    history = records.history(r, number)[-HISTORY_SHOWN:]
    history.reverse()  # newest first: the nurse wants what happened last
    return {
        "number": number,
        "show_number": typed or revealed,
        "display": national(number),
        "opted_out_at": str(opted_out_at) if opted_out_at else "",
        "history": history,
        "ref": ref,
    }


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
