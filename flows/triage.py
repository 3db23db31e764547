"""Red-flag triage: decide how urgently a message needs a person, from rules in YAML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from flows import text as tx

LEVELS = ("emergency", "urgent", "same_day", "none")
RANK = {level: i for i, level in enumerate(LEVELS)}  # lower is more urgent

RULES_FILE = Path(__file__).parent / "content" / "triage.yaml"

FEVER_C, LOW_C = 37.5, 36.0

NEGATORS = frozenset(
    "no not never without don't doesn't didn't haven't hasn't hadn't isn't aren't "
    "wasn't weren't nor none denies".split()
)
# "not sure if I have a temperature" is doubt, not denial.
DOUBT_AFTER = frozenset("sure certain".split())
HYPOTHETICAL = frozenset("if incase whether".split())
DOUBT_BEFORE = frozenset("sure certain know wonder wondering".split())
# A sentence about the past ("a fit years ago") is history, not a warning sign now.
PAST = tuple(tx.phrase(p) for p in (
    "ago", "last year", "last month", "years", "used to", "in the past", "previously",
    "when i was first diagnosed", "back in",
))
QUESTION_WORDS = frozenset(tx.stem(w) for w in (
    "what is are can could does do should how when which why will would who where".split()
))
# Words that show the sender is describing something happening to someone now; a
# question without them ("is chest pain a side effect?") asks for information.
EXPERIENCE = tuple(tx.phrase(p) for p in (
    "i'm", "i've", "i have", "i am", "i feel", "i keep", "i got", "i can't", "i had",
    "been", "since", "now", "today", "tonight", "this morning", "last night", "still",
    "she", "he", "she's", "he's", "mum", "dad", "wife", "husband", "feel", "feeling",
    "got a", "my", "me", "currently", "at the moment",
))

CLAUSE_BREAK = re.compile(r"(?<!\d)[.,;:!?\n]|[.,;:!?\n](?!\d)|\b(?:but|although|though|however|except)\b")
SENTENCE_BREAK = re.compile(r"(?<!\d)[.!?\n]|[.!?\n](?!\d)")

_NUMBER = r"(\d{2,3}(?:[.,]\d{1,2})?)"
_TEMP_UNIT = re.compile(
    _NUMBER + r"\s*(?:°|º|degrees?|deg)?\s*(c|f|celsius|centigrade|fahrenheit)?\b(?!\s*(?:%|am|pm|mins?|minutes|hours?|years?|yrs?|kg|lbs?|weeks?))"
)
_TEMP_CONTEXT = re.compile(r"temp|temperature|fever|thermometer|degrees|°|º|\d\s*[cf]\b|hot|cold")


@dataclass(frozen=True)
class Rule:
    """One red-flag rule: every entry in `all` must be present for it to fire."""

    id: str
    level: str
    all: tuple[frozenset[str], ...]
    reason: str
    advice: str


@dataclass(frozen=True)
class Result:
    """The outcome of triage for one message."""

    level: str
    reason: str
    rule: str | None = None
    advice: str = ""
    concepts: tuple[str, ...] = ()
    temperatures: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape: level and reason."""
        return {"level": self.level, "reason": self.reason}

    @property
    def worrying(self) -> bool:
        """True when a person should see this message."""
        return self.level != "none"


@dataclass(frozen=True)
class Rulebook:
    """Concepts and rules loaded from the clinician-reviewed YAML."""

    concepts: dict[str, tuple[tuple[str, ...], ...]]
    rules: tuple[Rule, ...]
    corrector: tx.Corrector
    reviewed: str = ""
    review_due: str = ""
    _by_first: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> Rulebook:
        """Read and check the rules file."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        concepts = {
            name: tuple(tx.phrase(str(p)) for p in phrases)
            for name, phrases in raw["concepts"].items()
        }
        known = set(concepts) | {"abnormal_temperature", "normal_temperature"}
        rules = []
        for r in raw["rules"]:
            if r["level"] not in LEVELS[:-1]:
                raise ValueError(f"rule {r['id']}: unknown level {r['level']!r}")
            entries = tuple(frozenset(str(e).split("|")) for e in r["all"])
            for entry in entries:
                if missing := entry - known:
                    raise ValueError(f"rule {r['id']}: unknown concept {sorted(missing)}")
            rules.append(Rule(r["id"], r["level"], entries, r["reason"], r["advice"]))
        words = {w for phrases in raw["concepts"].values() for p in phrases
                 for w in tx.tokens(tx.clean(str(p)))}
        by_first: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for name, phrases in concepts.items():
            for p in phrases:
                if p:
                    by_first.setdefault(p[0], []).append((name, p))
        return cls(concepts, tuple(rules), tx.Corrector.of(words),
                   str(raw.get("reviewed", "")), str(raw.get("review_due", "")), by_first)

    def assess(self, message: str) -> Result:
        """Triage one message: the most urgent rule that fires, or level none."""
        cleaned = tx.clean(message or "")
        present: set[str] = set()
        temps = read_temperatures(cleaned)
        for sentence in SENTENCE_BREAK.split(cleaned):
            sent_tokens = self._words(sentence)
            if not sent_tokens:
                continue
            if _about_past(sent_tokens):
                continue
            general_question = _is_general_question(sent_tokens)
            for clause in CLAUSE_BREAK.split(sentence):
                if clause and not general_question:
                    present |= self._concepts_in(self._words(clause))
        readings = tuple(t for t, negated in temps if not negated)
        if any(t >= FEVER_C or t < LOW_C for t in readings):
            present.add("abnormal_temperature")
        elif readings:
            present.add("normal_temperature")
        for level in LEVELS[:-1]:
            for rule in self.rules:
                if rule.level == level and all(entry & present for entry in rule.all):
                    return Result(level, rule.reason, rule.id, rule.advice,
                                  tuple(sorted(present)), readings)
        return Result("none", "No warning signs found", None, "", tuple(sorted(present)), readings)

    def _words(self, fragment: str) -> list[str]:
        return [tx.stem(self.corrector.correct(t)) for t in tx.tokens(fragment)]

    def _concepts_in(self, words: list[str]) -> set[str]:
        found: set[str] = set()
        hypothetical_from = _hypothetical_start(words)
        for i, w in enumerate(words):
            for name, p in self._by_first.get(w, ()):
                if name in found or tuple(words[i : i + len(p)]) != p:
                    continue
                if i >= hypothetical_from or _negated(words, i):
                    continue
                found.add(name)
        return found


def _negated(words: list[str], start: int) -> bool:
    for j in range(max(0, start - 3), start):
        if words[j] in NEGATORS:
            after = words[j + 1] if j + 1 < len(words) else ""
            if after not in DOUBT_AFTER:
                return True
    return False


def _hypothetical_start(words: list[str]) -> int:
    for i, w in enumerate(words):
        if w in HYPOTHETICAL:
            before = words[max(0, i - 2) : i]
            if not any(b in DOUBT_BEFORE for b in before):
                return i
    return len(words) + 1


def _contains(words: list[str], seqs: tuple[tuple[str, ...], ...]) -> bool:
    return any(tx.find(words, s) for s in seqs)


def _about_past(words: list[str]) -> bool:
    return _contains(words, PAST)


def _is_general_question(words: list[str]) -> bool:
    return words[0] in QUESTION_WORDS and not _contains(words, EXPERIENCE)


def read_temperatures(cleaned: str) -> list[tuple[float, bool]]:
    """Temperatures in Celsius found in cleaned text, each with whether it is negated."""
    if not _TEMP_CONTEXT.search(cleaned) and not re.search(r"\b3[4-9][.,]\d\b|\b4[0-2][.,]\d\b", cleaned):
        return []
    found: list[tuple[float, bool]] = []
    for m in _TEMP_UNIT.finditer(cleaned):
        value = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "")[:1]
        if unit == "f" or (not unit and 93 <= value <= 110):
            value = round((value - 32) * 5 / 9, 1)
        if not 30 <= value <= 44:
            continue
        if not unit and "." not in m.group(1) and "," not in m.group(1):
            # A bare whole number is a temperature only beside a temperature word.
            window = cleaned[max(0, m.start() - 30) : m.end() + 12]
            if not re.search(r"temp|temperature|fever|thermometer|degrees|°|º", window):
                continue
        before = tx.tokens(cleaned[max(0, m.start() - 25) : m.start()])[-3:]
        found.append((value, any(b in NEGATORS for b in before)))
    return found


@lru_cache(maxsize=1)
def default_rulebook() -> Rulebook:
    """The rulebook shipped in flows/content/triage.yaml, loaded once."""
    return Rulebook.load()


def assess(message: str) -> Result:
    """Triage one message with the shipped rules."""
    return default_rulebook().assess(message)
