"""The console's sections, in menu order: the one list of them, so no import order matters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """One menu entry: the endpoint it opens and its label."""

    endpoint: str
    label: str
    admin_only: bool = False


SECTIONS: list[Section] = [
    Section("console.today", "Today"),
    Section("console.campaigns", "Campaigns"),
    Section("console.patients", "Patients"),
    Section("console.content", "Content"),
    Section("console.numbers", "Numbers"),
    Section("console.feed", "Hospital feed"),
    Section("console.nurses", "Nurses", admin_only=True),
    Section("console.audit_trail", "Audit trail", admin_only=True),
]


def visible(admin: bool) -> list[Section]:
    """The sections a nurse sees."""
    return [s for s in SECTIONS if admin or not s.admin_only]
