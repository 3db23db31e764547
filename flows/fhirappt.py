"""FHIR R4 Appointments (alone or in a transaction Bundle) read into Bookings.

Validated with `fhir.resources` (its R4B models: R4B changed nothing in Appointment,
Patient or Bundle that this reads). Pure: the endpoint in bot.feeds.fhir does the rest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from flows.feed import BOOK, CANCEL, NO_SHOW, Booking, FieldError

# Appointment.status (R4): what each means for the reminders.
STATUSES = {
    "booked": BOOK, "arrived": BOOK, "checked-in": BOOK, "fulfilled": BOOK,
    "cancelled": CANCEL, "entered-in-error": CANCEL, "noshow": NO_SHOW,
    "proposed": "", "pending": "", "waitlist": "",  # not booked yet: nothing to plan
}


class Invalid(ValueError):
    """The body is not a valid Appointment or transaction Bundle; the text says where."""


@dataclass(frozen=True)
class Entry:
    """One Appointment to apply: its JSON, the Patients it names, and its dedupe id."""

    resource: dict[str, Any]
    patients: list[dict[str, Any]]
    control_id: str


def _problems(exc: ValidationError, where: str) -> str:
    parts = []
    for e in exc.errors()[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()))
        parts.append(f"{where}{'.' + loc if loc else ''}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


def _validate(resource: dict[str, Any], where: str) -> Appointment:
    try:
        return Appointment.model_validate(resource)
    except ValidationError as exc:
        raise Invalid(_problems(exc, where)) from None


def entries(body: Any) -> list[Entry]:
    """Every Appointment in the body, each validated, with its Patients; Invalid if any
    part is wrong (then nothing is applied)."""
    if not isinstance(body, dict) or "resourceType" not in body:
        raise Invalid("The body must be a FHIR resource in JSON, with a resourceType.")
    kind = body["resourceType"]
    if kind == "Appointment":
        _validate(body, "Appointment")
        return [Entry(body, [], control_of(body))]
    if kind != "Bundle":
        raise Invalid(f"Send an Appointment or a transaction Bundle, not a {kind}.")
    try:
        bundle = Bundle.model_validate(body)
    except ValidationError as exc:
        raise Invalid(_problems(exc, "Bundle")) from None
    if bundle.type not in ("transaction", "batch"):
        raise Invalid(f"A Bundle here must be a transaction (or batch), not {bundle.type}.")
    raw_entries = body.get("entry") or []
    patients: dict[str, dict[str, Any]] = {}
    for e in raw_entries:
        res = e.get("resource") or {}
        if res.get("resourceType") == "Patient":
            for ref in (e.get("fullUrl"), f"Patient/{res.get('id')}"):
                if ref:
                    patients[ref] = res
    out = []
    for n, e in enumerate(raw_entries):
        res = e.get("resource") or {}
        if res.get("resourceType") != "Appointment":
            continue
        _validate(res, f"Bundle.entry[{n}].resource")
        named = [patients[ref] for ref in _patient_refs(res) if ref in patients]
        out.append(Entry(res, named, control_of(res)))
    if not out:
        raise Invalid("The Bundle has no Appointment in it.")
    return out


def control_of(resource: dict[str, Any]) -> str:
    """What makes a resend the same message: id and version, or the content itself."""
    version = (resource.get("meta") or {}).get("versionId")
    if resource.get("id") and version:
        return f"Appointment/{resource['id']}/_history/{version}"
    digest = hashlib.sha256(json.dumps(resource, sort_keys=True).encode()).hexdigest()[:24]
    return f"sha256:{digest}"


def _patient_refs(resource: dict[str, Any]) -> list[str]:
    refs = []
    for p in resource.get("participant") or []:
        ref = str(((p.get("actor") or {}).get("reference")) or "")
        if ref.startswith(("Patient/", "#", "urn:uuid:")) or "/Patient/" in ref:
            refs.append(ref)
    return refs


def _codes(concepts: list[Any]) -> list[str]:
    out = []
    for concept in concepts:
        for coding in concept.coding or []:
            if coding.code:
                out.append(str(coding.code))
    return out


def _phones(patients: list[Patient]) -> tuple[tuple[str, bool], ...]:
    found: list[tuple[str, bool]] = []
    for patient in patients:
        for t in patient.telecom or []:
            # "old": a number the patient no longer has; never ring or text it.
            if t.system in ("phone", "sms") and t.value and t.use != "old":
                found.append((str(t.value), t.use == "mobile" or t.system == "sms"))
    return tuple(sorted(found, key=lambda x: not x[1]))


def booking(entry: Entry, received: datetime) -> Booking:
    """The booking an Appointment carries; FieldError says what is missing."""
    appt = Appointment.model_validate(entry.resource)
    event = STATUSES.get(str(appt.status))
    if event is None:
        raise FieldError(f"Appointment.status {appt.status!r} is not an R4 status")
    ident = next((f"{i.system or ''}|{i.value}" for i in appt.identifier or [] if i.value), "")
    appointment_id = ident or (f"Appointment/{appt.id}" if appt.id else "")
    if not appointment_id:
        raise FieldError("The Appointment has neither an identifier nor an id, so a later "
                         "change could not be matched to it")
    updated = appt.meta.lastUpdated if appt.meta and appt.meta.lastUpdated else None
    made = updated.astimezone(UTC) if isinstance(updated, datetime) else received
    start = appt.start.astimezone(UTC) if isinstance(appt.start, datetime) else None
    if event == BOOK and start is None:
        raise FieldError("Appointment.start is missing: a booked appointment needs its time")
    contained = [c for c in appt.contained or [] if isinstance(c, Patient)]
    named = contained + [Patient.model_validate(p) for p in entry.patients]
    clinics = []
    for p in appt.participant or []:
        ref = str(p.actor.reference) if p.actor and p.actor.reference else ""
        if ref.startswith("Location/"):
            clinics.append(ref.removeprefix("Location/"))
    procedures = _codes(list(appt.serviceType or [])) + _codes(
        [appt.appointmentType] if appt.appointmentType else [])
    return Booking(
        source="fhir",
        event=event or BOOK,
        appointment_id=appointment_id,
        message_time=made,
        start=start,
        procedures=tuple(dict.fromkeys(procedures)),
        clinics=tuple(dict.fromkeys(clinics)),
        phones=_phones(named),
        label=f"Appointment {appt.status}",
    )


def waiting(entry: Entry) -> bool:
    """True for an appointment not booked yet (proposed, pending, waitlist)."""
    return STATUSES.get(str(entry.resource.get("status"))) == ""
