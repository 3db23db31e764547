"""Bookings from the hospital's system, whatever the format, and the local codes file.

An HL7v2 SIU message and a FHIR Appointment both become a Booking; which of the
hospital's procedure or clinic codes is which test comes from a file each deployment
writes for its own trust. Nothing here guesses: an unmapped code is no test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from flows.reminders import TESTS, PlanError, check_private_field

# What a message asks for, in the words of both formats.
BOOK = "book"  # SIU^S12, FHIR booked
MOVE = "move"  # SIU^S13 (rescheduled), S14 (modified), a FHIR update
CANCEL = "cancel"  # SIU^S15, FHIR cancelled or entered-in-error
NO_SHOW = "no_show"  # SIU^S26, FHIR noshow
EVENTS = (BOOK, MOVE, CANCEL, NO_SHOW)


class FieldError(ValueError):
    """A field of the message is missing or wrong; the text says which, for a person."""

    def __init__(self, reason: str, missing: bool = False) -> None:
        super().__init__(reason)
        self.missing = missing  # empty, rather than there and wrong


class CodesError(ValueError):
    """The local codes file cannot be used."""


@dataclass(frozen=True)
class Booking:
    """One appointment event from the hospital's system, in neither format's terms."""

    source: str  # "hl7" or "fhir"
    event: str  # one of EVENTS
    appointment_id: str  # the hospital's id for the appointment (filler, placer or FHIR id)
    message_time: datetime  # aware: when the hospital's system made the message
    start: datetime | None = None  # aware appointment time; None for a cancel
    procedures: tuple[str, ...] = ()  # procedure / service codes (AIS-3, serviceType)
    clinics: tuple[str, ...] = ()  # clinic / location codes (AIL-3, Location)
    # (number as sent, marked as a mobile): mobiles first, then home, then work numbers
    phones: tuple[tuple[str, bool], ...] = ()
    label: str = ""  # the message's kind for people, e.g. "SIU^S12" or "Appointment booked"


@dataclass(frozen=True)
class Clinic:
    """A clinic or location code: the test it stands for (if it decides), and the place."""

    test: str | None = None
    place: str = ""


@dataclass(frozen=True)
class Codes:
    """A deployment's local codes: procedures and clinics to tests, clinics to places."""

    procedures: dict[str, str] = field(default_factory=dict)
    clinics: dict[str, Clinic] = field(default_factory=dict)

    def test_for(self, booking: Booking) -> str | None:
        """The test the booking is for: by procedure code first, then by clinic; else None."""
        for code in booking.procedures:
            if code in self.procedures:
                return self.procedures[code]
        for code in booking.clinics:
            clinic = self.clinics.get(code)
            if clinic is not None and clinic.test:
                return clinic.test
        return None

    def place_for(self, booking: Booking) -> str:
        """The patient-facing place for the booking's clinic, or "" (the texts then say
        "the place on your letter"). Never the hospital's own description, which may
        name the specialty on a lock screen."""
        for code in booking.clinics:
            clinic = self.clinics.get(code)
            if clinic is not None and clinic.place:
                return clinic.place
        return ""


def unmapped_key(booking: Booking) -> str:
    """How an unmapped booking is counted: its codes, as the hospital sent them."""
    procedures = ",".join(booking.procedures) or "-"
    clinics = ",".join(booking.clinics) or "-"
    return f"procedure {procedures} / clinic {clinics}"


def _test(value: Any, where: str) -> str:
    test = str(value).strip()
    if test not in TESTS:
        raise CodesError(f"{where}: {test!r} is not a test (one of: {', '.join(TESTS)})")
    return test


def parse_codes(raw: Any, where: str = "codes") -> Codes:
    """Check a codes mapping already read from YAML."""
    if raw is None:
        return Codes()
    if not isinstance(raw, dict) or set(raw) - {"procedures", "clinics"}:
        raise CodesError(f"{where}: expected the sections procedures and clinics")
    procedures = {
        str(code).strip(): _test(test, f"{where} procedures {code}")
        for code, test in (raw.get("procedures") or {}).items()
    }
    clinics: dict[str, Clinic] = {}
    for code, body in (raw.get("clinics") or {}).items():
        at = f"{where} clinics {code}"
        if isinstance(body, str):
            body = {"test": body}
        if not isinstance(body, dict) or set(body) - {"test", "place"}:
            raise CodesError(f"{at}: give a test, a place, or both")
        test = _test(body["test"], at) if body.get("test") else None
        place = " ".join(str(body.get("place") or "").split())
        try:
            check_private_field(place, "place")
        except PlanError as exc:
            raise CodesError(f"{at}: {exc}") from None
        clinics[str(code).strip()] = Clinic(test, place)
    return Codes(procedures, clinics)


def load_codes(path: Path) -> Codes:
    """Read and check a deployment's codes file (YAML); a missing file maps nothing."""
    if not path.exists():
        return Codes()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CodesError(f"{path.name}: not YAML: {exc}") from None
    return parse_codes(raw, path.name)
