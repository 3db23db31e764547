"""The knowledge base: topics and fixed messages, loaded from YAML and checked."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONTENT_DIR = Path(__file__).parent / "content"
# libyaml's C loader reads the content about ten times faster; the same safe subset of YAML.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    """One YAML file, read with the safe loader (libyaml's when it is installed)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - safe

# The tests and scans, in menu order: topics with a sub-menu, and what reminders are for.
TEST_IDS = (
    "blood_tests",
    "xray",
    "bone_scan",
    "liver_ultrasound",
    "ct_scan",
    "pet_ct_scan",
    "mri_scan",
    "biopsy",
)
TOPIC_IDS = (
    "about",
    "diagnosis",
    *TEST_IDS,
    "receptors",
    "results",
    "treatment",
    "hormone_therapy",
    "chemotherapy",
    "targeted_therapy",
    "radiotherapy",
    "surgery",
    "bone_drugs",
    "steroids",
    "symptoms",
    "support",
    "nurse",
)
ASPECTS = ("what", "prepare", "duration", "after")  # every test has these; its sub-menu
# What patients also ask about a test, answered directly when asked (not in the menu).
EXTRA_ASPECTS = (
    "eat_drink", "pain", "radiation", "dye", "results", "who", "side_effects", "cure",
)
# A topic's own particular question ("money" under support) is named like an aspect and
# brings the words that ask it, since no shared list can know them.
_SECTION_NAME = re.compile(r"[a-z][a-z0-9_]{1,30}")
ASPECT_TITLES = {
    "what": "What it is",
    "prepare": "How to prepare",
    "duration": "How long it takes",
    "after": "What happens after",
}
MENUS = ("tests", "treatments", "none")


class ContentError(ValueError):
    """A content file is malformed."""


@dataclass(frozen=True)
class Text:
    """One thing the bot can say, in its SMS and its spoken wording."""

    sms: str
    voice: str


@dataclass(frozen=True)
class Topic:
    """A topic of the knowledge base."""

    id: str
    title: str
    menu: str
    keywords: tuple[str, ...]
    answer: Text
    sections: dict[str, Text]
    sources: tuple[str, ...]
    reviewed: dt.date
    review_due: dt.date
    # The words that ask for each of the topic's own sections (not the shared aspects).
    cues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # For a test, the sub-menu item each own section belongs to ("metal": "prepare").
    part_of: dict[str, str] = field(default_factory=dict)
    # An aspect this topic has no section for, and the section that answers it here
    # (results: "how long till I hear" is the wait, its duration section).
    asks_as: dict[str, str] = field(default_factory=dict)

    @property
    def is_test(self) -> bool:
        """True for a test or scan: its sections make a sub-menu."""
        return self.menu == "tests"


def _text(raw: Any, where: str) -> Text:
    if not isinstance(raw, dict) or not raw.get("sms") or not raw.get("voice"):
        raise ContentError(f"{where}: needs both sms and voice")
    return Text(" ".join(str(raw["sms"]).split()), " ".join(str(raw["voice"]).split()))


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ContentError(f"{where}: not a date: {value!r}") from exc


def _cues(raw: dict[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    out = {}
    for name, body in raw.items():
        words = body.get("cues") if isinstance(body, dict) else None
        if words is None:
            continue
        if name in ASPECTS or name in EXTRA_ASPECTS:
            raise ContentError(f"{where} section {name}: a shared aspect takes no cues")
        if not isinstance(words, list) or not words:
            raise ContentError(f"{where} section {name}: cues must be a list of phrases")
        out[str(name)] = tuple(str(w).lower() for w in words)
    return out


def load_topic(path: Path) -> Topic:
    """Read and check one topic file."""
    raw = load_yaml(path)
    where = path.name
    try:
        topic_id = str(raw["id"])
        if path.stem != topic_id:
            raise ContentError(f"{where}: id {topic_id!r} does not match the file name")
        menu = str(raw.get("menu", "none"))
        if menu not in MENUS:
            raise ContentError(f"{where}: menu must be one of {MENUS}")
        sections = {
            name: _text(body, f"{where} section {name}")
            for name, body in (raw.get("sections") or {}).items()
        }
        if menu == "tests" and not set(ASPECTS) <= set(sections):
            raise ContentError(f"{where}: a test needs sections {ASPECTS}")
        cues = _cues(raw.get("sections") or {}, where)
        part_of = {
            str(n): str(b["part_of"])
            for n, b in (raw.get("sections") or {}).items()
            if isinstance(b, dict) and "part_of" in b
        }
        if bad := sorted(n for n, a in part_of.items() if a not in ASPECTS or n not in cues):
            raise ContentError(f"{where}: part_of must name one of {ASPECTS}, for own sections")
        if menu == "tests" and (missing := sorted(set(cues) - set(part_of))):
            raise ContentError(f"{where}: a test's own sections need part_of: {missing}")
        if bad := sorted(n for n in sections if not _SECTION_NAME.fullmatch(n)):
            raise ContentError(f"{where}: section names must be lower_case words: {bad}")
        if unknown := set(sections) - set(ASPECTS) - set(EXTRA_ASPECTS) - set(cues):
            raise ContentError(
                f"{where}: sections {sorted(unknown)} are not shared aspects, so each needs cues"
            )
        asks_as = {str(a): str(b) for a, b in (raw.get("asks_as") or {}).items()}
        if bad := sorted(a for a, b in asks_as.items() if a in sections or b not in sections):
            raise ContentError(f"{where}: asks_as maps an aspect it lacks to a section: {bad}")
        return Topic(
            id=topic_id,
            title=str(raw["title"]),
            menu=menu,
            keywords=tuple(str(k).lower() for k in raw.get("keywords") or ()),
            answer=_text(raw, where),
            sections=sections,
            sources=tuple(str(s) for s in raw.get("sources") or ()),
            reviewed=_date(raw["reviewed"], where),
            review_due=_date(raw["review_due"], where),
            cues=cues,
            part_of=part_of,
            asks_as=asks_as,
        )
    except KeyError as exc:
        raise ContentError(f"{where}: missing field {exc}") from exc


@dataclass(frozen=True)
class Knowledge:
    """Every topic and fixed message the bot knows."""

    topics: dict[str, Topic]
    messages: dict[str, Text]
    # What the engine derives from the content (menus), kept for the content's lifetime.
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def menu(self, name: str) -> list[Topic]:
        """Topics listed in one SMS menu, in their contract order."""
        return [
            self.topics[t] for t in TOPIC_IDS if t in self.topics and self.topics[t].menu == name
        ]

    def message(self, key: str, **values: str) -> Text:
        """A fixed message with its {placeholders} filled in."""
        m = self.messages[key]
        return Text(m.sms.format(**values), m.voice.format(**values))


def load_messages(path: Path) -> dict[str, Text]:
    """Read the fixed messages file: key -> {sms, voice}."""
    raw = load_yaml(path)
    out = {}
    for key, body in raw.items():
        if isinstance(body, str):
            body = {"sms": body, "voice": body}
        out[key] = Text(str(body["sms"]).strip(), " ".join(str(body["voice"]).split()))
    return out


def load_knowledge(content_dir: Path = CONTENT_DIR) -> Knowledge:
    """Load every topic and message, checking that each contract topic id is present."""
    topics = {
        t.id: t for t in (load_topic(p) for p in sorted((content_dir / "topics").glob("*.yaml")))
    }
    missing = [t for t in TOPIC_IDS if t not in topics]
    if missing:
        raise ContentError(f"missing topics: {', '.join(missing)}")
    return Knowledge(topics, load_messages(content_dir / "messages.yaml"))


@lru_cache(maxsize=1)
def default_knowledge() -> Knowledge:
    """The shipped knowledge base, loaded once per process."""
    return load_knowledge()
