"""The console's sections, in menu order; other modules add theirs (Campaigns) with add()."""

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
    Section("console.patients", "Patients"),
    Section("console.content", "Content"),
    Section("console.numbers", "Numbers"),
    Section("console.nurses", "Nurses", admin_only=True),
    Section("console.audit_trail", "Audit trail", admin_only=True),
]


def add(section: Section, after: str | None = None) -> None:
    """Put a section in the menu after the one with endpoint `after` (default: last)."""
    if any(s.endpoint == section.endpoint for s in SECTIONS):
        return
    at = next((i + 1 for i, s in enumerate(SECTIONS) if s.endpoint == after), len(SECTIONS))
    SECTIONS.insert(at, section)


def visible(admin: bool) -> list[Section]:
    """The sections a nurse sees."""
    return [s for s in SECTIONS if admin or not s.admin_only]
