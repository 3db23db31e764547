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
    [
        "no",
        "not",
        "never",
        "without",
        "don't",
        "doesn't",
        "didn't",
        "haven't",
        "hasn't",
        "hadn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "nor",
        "none",
        "denies",
    ]
)
# "not sure if I have a temperature" is doubt, not denial.
DOUBT_AFTER = frozenset(["sure", "certain"])
HYPOTHETICAL = frozenset(["if", "incase", "whether"])
DOUBT_BEFORE = frozenset(["sure", "certain", "know", "wonder", "wondering"])
# A sentence about the past ("a fit years ago") is history, not a warning sign now.
PAST = tuple(
    tx.phrase(p)
    for p in (
        "years ago",
        "year ago",
        "months ago",
        "month ago",
        "weeks ago",
        "week ago",
        "in the past",
        "when i was first diagnosed",
        "back in",
    )
)
# Long ago is history even if the sentence goes on in the present ("a seizure years
# ago, is an MRI still ok?").
LONG_AGO = tuple(tx.phrase(p) for p in ("years ago", "year ago", "months ago", "back in"))
# Otherwise, a sentence that also says what is happening now is about now ("started
# it weeks ago, now a cough").
NOW = tuple(
    tx.phrase(p)
    for p in (
        "now",
        "today",
        "tonight",
        "still",
        "again",
        "this morning",
        "this afternoon",
        "this evening",
        "since",
        "currently",
        "at the moment",
        "getting",
        "keep",
        "worse",
        "yesterday",
        "last night",
    )
)
AGAIN = tuple(tx.phrase(p) for p in ("again", "today", "tonight", "this morning", "right now"))
RESOLVED = tuple(
    tx.phrase(p)
    for p in (
        "fine now",
        "all fine",
        "better now",
        "gone now",
        "all good now",
        "nothing since",
        "settled now",
        "ok now",
        "okay now",
        "cleared up",
        "all sorted",
        "sorted now",
    )
)
_YEAR = re.compile(r"\b(?:19[5-9]\d|20[0-2]\d)\b")
QUESTION_WORDS = frozenset(
    tx.stem(w)
    for w in (
        [
            "what",
            "is",
            "are",
            "can",
            "could",
            "does",
            "do",
            "should",
            "how",
            "when",
            "which",
            "why",
            "will",
            "would",
            "who",
            "where",
        ]
    )
)
WH_WORDS = frozenset(tx.stem(w) for w in ["what", "which", "how", "when", "why", "who", "where"])
# Words that show the sender is describing something happening to someone now; a
# question without them ("is chest pain a side effect?") asks for information.
EXPERIENCE = tuple(
    tx.phrase(p)
    for p in (
        "i'm",
        "i've",
        "i have",
        "i am",
        "i feel",
        "i keep",
        "i got",
        "i can't",
        "i had",
        "been",
        "since",
        "now",
        "today",
        "tonight",
        "this morning",
        "last night",
        "still",
        "she",
        "he",
        "she's",
        "he's",
        "mum",
        "dad",
        "wife",
        "husband",
        "feel",
        "feeling",
        "got a",
        "my",
        "me",
        "currently",
        "at the moment",
        "getting",
        "worse",
        "keep",
    )
)

CLAUSE_BREAK = re.compile(
    r"(?<!\d)[.,;:!?\n]|[.,;:!?\n](?!\d)|\b(?:but|although|though|however|except)\b"
)
_END_MARKS = ".,;:!?\n"
SENTENCE_BREAK = re.compile(r"(?<!\d)[.!?\n]|[.!?\n](?!\d)")

_NUMBER = r"(\d{2,3}(?:[.,]\d{1,2})?)"
_TEMP_UNIT = re.compile(
    _NUMBER
    + r"\s*(?:°|º|degrees?|deg)?\s*(c|f|celsius|centigrade|fahrenheit)?\b"
    # ...but not a dose, a time, an age or a weight.
    + r"(?!\s*(?:%|am|pm|mins?|minutes|hours?|years?|yrs?|kg|lbs?|weeks?|mg|ml))"
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
    compounds: dict[str, tuple[str, ...]]
    not_followed_by: dict[str, frozenset[str]]
    rules: tuple[Rule, ...]
    corrector: tx.Corrector
    reviewed: str = ""
    review_due: str = ""
    _by_first: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    # Indexes so a message is checked only against rules and compounds it could satisfy.
    _rules_by_concept: dict[str, tuple[int, ...]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )
    _compounds_by_part: dict[str, tuple[str, ...]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )
    _by_phrase: dict[tuple[str, ...], tuple[str, ...]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )
    _lengths_by_first: dict[str, tuple[int, ...]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_phrase: dict[tuple[str, ...], list[str]] = {}
        lengths: dict[str, set[int]] = {}
        for first, entries in self._by_first.items():
            for name, phrase in entries:
                by_phrase.setdefault(phrase, []).append(name)
                lengths.setdefault(first, set()).add(len(phrase))
        object.__setattr__(self, "_by_phrase", {k: tuple(v) for k, v in by_phrase.items()})
        object.__setattr__(
            self, "_lengths_by_first", {k: tuple(sorted(v)) for k, v in lengths.items()}
        )
        rules: dict[str, list[int]] = {}
        for i, rule in enumerate(self.rules):
            for concept in rule.all[0]:  # a rule fires only if its first entry is present
                rules.setdefault(concept, []).append(i)
        compounds: dict[str, list[str]] = {}
        for name, parts in self.compounds.items():
            compounds.setdefault(parts[0], []).append(name)
        object.__setattr__(self, "_rules_by_concept", {k: tuple(v) for k, v in rules.items()})
        object.__setattr__(
            self, "_compounds_by_part", {k: tuple(v) for k, v in compounds.items()}
        )

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> Rulebook:
        """Read and check the rules file."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        concepts = {
            name: tuple(tx.phrase(str(p)) for p in phrases)
            for name, phrases in raw["concepts"].items()
        }
        compounds = {
            name: tuple(str(c) for c in parts)
            for name, parts in (raw.get("compounds") or {}).items()
        }
        for name, parts in compounds.items():
            if missing := set(parts) - set(concepts):
                raise ValueError(f"compound {name}: unknown concept {sorted(missing)}")
        known = set(concepts) | set(compounds) | {"abnormal_temperature", "normal_temperature"}
        rules = []
        for r in raw["rules"]:
            if r["level"] not in LEVELS[:-1]:
                raise ValueError(f"rule {r['id']}: unknown level {r['level']!r}")
            entries = tuple(frozenset(str(e).split("|")) for e in r["all"] or ())
            if not entries:
                raise ValueError(f"rule {r['id']}: needs at least one concept in 'all'")
            for entry in entries:
                if missing := set(entry) - known:
                    raise ValueError(f"rule {r['id']}: unknown concept {sorted(missing)}")
            rules.append(Rule(r["id"], r["level"], entries, r["reason"], r["advice"]))
        words = {
            w
            for phrases in raw["concepts"].values()
            for p in phrases
            for w in tx.tokens(tx.clean(str(p)))
        }
        by_first: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for name, phrases in concepts.items():
            for p in phrases:
                if p:
                    by_first.setdefault(p[0], []).append((name, p))
        not_followed_by = {
            name: frozenset(tx.stem(str(w)) for w in ws)
            for name, ws in (raw.get("not_followed_by") or {}).items()
        }
        return cls(
            concepts,
            compounds,
            not_followed_by,
            # Most urgent first; within a level, the order the rules are listed in.
            tuple(sorted(rules, key=lambda rule: RANK[rule.level])),
            tx.Corrector.of(words),
            str(raw.get("reviewed", "")),
            str(raw.get("review_due", "")),
            by_first,
        )

    def assess(self, message: str) -> Result:
        """Triage one message: the most urgent rule that fires, or level none."""
        cleaned = words_to_digits(tx.clean(message or ""))
        present: set[str] = set()
        readings: list[float] = []
        for sentence in _sentences(cleaned):
            sent_tokens = self._words(sentence)
            if not sent_tokens or _about_past(sentence, sent_tokens):
                continue
            # A number is read even in a question: "is 37.8 high?" is usually asked
            # by someone whose thermometer says 37.8.
            for value, start in read_temperatures(sentence):
                clause_start = max(
                    (m.end() for m in CLAUSE_BREAK.finditer(sentence, 0, start)), default=0
                )
                lead = self._words(sentence[clause_start:start])
                if _hypothetical_start(lead) > len(lead):
                    readings.append(value)
            if _is_general_question(sentence, sent_tokens):
                continue
            clauses = [c for c in CLAUSE_BREAK.split(sentence) if c]
            for clause in clauses:
                # A sentence that is one clause, bar its end mark, is already in words.
                whole = len(clauses) == 1 and clause == sentence.strip(_END_MARKS)
                words = sent_tokens if whole else self._words(clause)
                found = self._concepts_in(words)
                if not found:
                    continue
                # Compounds are made of plain concepts only (checked at load): any order.
                for name in [n for f in found for n in self._compounds_by_part.get(f, ())]:
                    if all(p in found for p in self.compounds[name]):
                        found.add(name)
                present |= found
        if any(t >= FEVER_C or t < LOW_C for t in readings):
            present.add("abnormal_temperature")
        elif readings:
            present.add("normal_temperature")
        # Only rules whose first entry is present can fire; most urgent first (sorted at load).
        candidates = sorted({i for c in present for i in self._rules_by_concept.get(c, ())})
        for rule in (self.rules[i] for i in candidates):
            if all(entry & present for entry in rule.all):
                return Result(
                    rule.level,
                    rule.reason,
                    rule.id,
                    rule.advice,
                    tuple(sorted(present)),
                    tuple(readings),
                )
        return Result(
            "none", "No warning signs found", None, "", tuple(sorted(present)), tuple(readings)
        )

    def _words(self, fragment: str) -> list[str]:
        return self.corrector.words(fragment)

    def _concepts_in(self, words: list[str]) -> set[str]:
        found: set[str] = set()
        hypothetical_from = _hypothetical_start(words)
        for i, w in enumerate(words):
            lengths = self._lengths_by_first.get(w)
            if lengths is None:
                continue
            # One slice per phrase length, not one per phrase: "pain" starts dozens.
            for n in lengths:
                for name in self._by_phrase.get(tuple(words[i : i + n]), ()):
                    self._found_at(words, i, n, name, found, hypothetical_from)
        return found

    def _found_at(
        self, words: list[str], i: int, n: int, name: str, found: set[str], hypothetical_from: int
    ) -> None:
        """Add concept `name`, seen at words[i:i+n], unless negated, hypothetical or excluded."""
        if name in found or i >= hypothetical_from or _negated(words, i):
            return
        after = words[i + n] if i + n < len(words) else ""
        if after in self.not_followed_by.get(name, ()):
            return
        found.add(name)


def _sentences(cleaned: str) -> list[str]:
    """Sentences with their closing punctuation kept, so a "?" can be seen."""
    out, start = [], 0
    for m in SENTENCE_BREAK.finditer(cleaned):
        out.append(cleaned[start : m.end()])
        start = m.end()
    out.append(cleaned[start:])
    return out


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
    by_first = _first_words(seqs)
    return any(
        tx.find(words, s) for w in by_first.keys() & set(words) for s in by_first[w]
    )


@lru_cache(maxsize=16)
def _first_words(seqs: tuple[tuple[str, ...], ...]) -> dict[str, list[tuple[str, ...]]]:
    """The phrases of a list by their first word, so a message is checked for few of them."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for seq in seqs:
        if seq:
            out.setdefault(seq[0], []).append(seq)
    return out


def _about_past(sentence: str, words: list[str]) -> bool:
    if not (_contains(words, PAST) or _YEAR.search(sentence)):
        return False
    if (_contains(words, LONG_AGO) or _YEAR.search(sentence)) and not _contains(words, AGAIN):
        return True
    return _contains(words, RESOLVED) or not _contains(words, NOW)


def _is_general_question(sentence: str, words: list[str]) -> bool:
    # "can hardly breathe" is not a question: a yes/no opening counts only with a "?".
    asks = words[0] in WH_WORDS or (words[0] in QUESTION_WORDS and "?" in sentence)
    return asks and not _contains(words, EXPERIENCE)


_UNITS = {
    w: i
    for i, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
}
_WORD_NUMBER = re.compile(
    r"\b(thirty|forty|ninety|hundred)(?:[\s-]+(one|two|three|four|five|six|seven|eight|nine))?"
    r"(?:\s+point\s+((?:zero|one|two|three|four|five|six|seven|eight|nine)"
    r"(?:\s+(?:zero|one|two|three|four|five|six|seven|eight|nine))?))?\b"
)
_TENS = {"thirty": 30, "forty": 40, "ninety": 90, "hundred": 100}


def _digits(m: re.Match[str]) -> str:
    value = str(_TENS[m.group(1)] + (_UNITS[m.group(2)] if m.group(2) else 0))
    if m.group(3):
        value += "." + "".join(str(_UNITS[w]) for w in m.group(3).split())
    return value


def words_to_digits(cleaned: str) -> str:
    """'thirty eight point five' -> '38.5', so spoken and typed-out temperatures are read."""
    return _WORD_NUMBER.sub(_digits, cleaned)


_DECIMAL_TEMP = re.compile(r"\b3[4-9][.,]\d\b|\b4[0-2][.,]\d\b")


def read_temperatures(cleaned: str) -> list[tuple[float, int]]:
    """Temperatures in Celsius in cleaned text that are not negated, with their positions."""
    if not _TEMP_CONTEXT.search(cleaned) and not _DECIMAL_TEMP.search(cleaned):
        return []
    found: list[tuple[float, int]] = []
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
        if not any(b in NEGATORS for b in before):
            found.append((value, m.start()))
    return found


@lru_cache(maxsize=1)
def default_rulebook() -> Rulebook:
    """The rulebook shipped in flows/content/triage.yaml, loaded once."""
    return Rulebook.load()


def assess(message: str) -> Result:
    """Triage one message with the shipped rules."""
    return default_rulebook().assess(message)
