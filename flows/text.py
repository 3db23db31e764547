"""Text normalisation shared by triage and the question matcher."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from flows.frequency import zipf

# Text-speak and contractions patients use, mapped to the words the rules are written in.
SHORTHAND = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "y": "why",
    "n": "and",
    "b4": "before",
    "2day": "today",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tomoz": "tomorrow",
    "2nite": "tonight",
    "tonite": "tonight",
    "wot": "what",
    "wat": "what",
    "wht": "what",
    "abt": "about",
    "bc": "because",
    "coz": "because",
    "cos": "because",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thanks",
    "im": "i'm",
    "ive": "i've",
    "cant": "can't",
    "cannot": "can't",
    "dont": "don't",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "wont": "won't",
    "isnt": "isn't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "couldnt": "couldn't",
    "shes": "she's",
    "hes": "he's",
    "wouldnt": "wouldn't",
    "shouldnt": "shouldn't",
    "wasnt": "wasn't",
    "werent": "weren't",
    "arent": "aren't",
    "hadnt": "hadn't",
    "aint": "ain't",
    "shud": "should",
    "wen": "when",
    "hav": "have",
    "gd": "good",
    "v": "very",
    "temp": "temp",
    "temps": "temp",
    "approx": "about",
    "hrs": "hours",
    "hr": "hour",
    "mins": "minutes",
    "neg": "negative",
    "pos": "positive",
    "weds": "wednesday",
    "wed": "wednesday",
    "tues": "tuesday",
    "thurs": "thursday",
    "thur": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "mon": "monday",
    "scn": "scan",
    "sacn": "scan",
    "min": "minutes",
    "wk": "week",
    "wks": "weeks",
    "appt": "appointment",
    "appt's": "appointment",
    "docs": "doctor",
    # Scots and northern English ("they cannae do a biopsy", "can I gan in wi her").
    "cannae": "can't",
    "canna": "can't",
    "dinnae": "don't",
    "didnae": "didn't",
    "doesnae": "doesn't",
    "wouldnae": "wouldn't",
    "couldnae": "couldn't",
    "isnae": "isn't",
    "wasnae": "wasn't",
    "havenae": "haven't",
    "willnae": "won't",
    "gonnae": "going to",
    "gan": "go",
    "wi": "with",
    "doc": "doctor",
    "dr": "doctor",
}

_STEMMER = snowballstemmer.stemmer("english")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[a-z]+(?:'[a-z]+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_KEPT_SYMBOLS = "%+<>="  # symbols that carry meaning in a message ("temp > 38")
_ASCII_SYMBOLS = str.maketrans(
    "",
    "",
    "".join(
        chr(c)
        for c in range(128)
        if unicodedata.category(chr(c))[0] == "S" and chr(c) not in _KEPT_SYMBOLS
    ),
)


def clean(text: str) -> str:
    """Normalise Unicode, drop control characters and emoji, fold to lower case."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _CONTROL.sub(" ", text)
    if text.isascii():
        # Most texts are plain ASCII: drop its few symbols in one pass.
        return text.translate(_ASCII_SYMBOLS).lower()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "S" or ch in _KEPT_SYMBOLS)
    return text.lower()


# "Is it like a pregnancy scan with the cold jelly": a likeness, not a pregnancy or a baby.
_LIKENESS = re.compile(
    r"\b(?:like (?:a|an|the|when|with|you|your|ur)|same as|similar to)\b[^.?!]{0,25}?"
    r"\b(?:pregnan\w*|baby scans?)\b|\b(?:pregnancy|baby) scans?\b"
)


def without_likeness(cleaned: str) -> str:
    """Cleaned text without a likeness to pregnancy ("like a baby scan"), which names none."""
    return _LIKENESS.sub(" ", cleaned)


def tokens(text: str) -> list[str]:
    """Split cleaned text into word and number tokens, expanding text-speak."""
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        expanded = SHORTHAND.get(tok)
        if expanded is None:
            out.append(_g_restored(tok))
        else:
            out.extend(expanded.split())
    return out


@lru_cache(maxsize=50_000)
def _g_restored(word: str) -> str:
    # A dropped g ("feelin proper sick", "doin nothin") where the -ing word is far commoner
    # than the word as typed: "begin", "cabin" and "twin" stay as they are.
    if len(word) < 4 or not word.endswith("in"):
        return word
    full = word + "g"
    return full if zipf(full) >= 3.0 and zipf(full) - zipf(word) >= 1.5 else word


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem, so "scans", "scanning" and "scan" match."""
    if not word.isalpha():
        return word
    if word.startswith("personalit"):
        return "personality"  # Snowball gives "person": "can I go in person" is no change in her
    return str(_STEMMER.stemWord(word))


_SEEN_LIMIT = 50_000


@dataclass(frozen=True)
class Corrector:
    """Map misspelt words onto a known vocabulary, leaving real English words alone."""

    vocabulary: frozenset[str]
    # Common words of the vocabulary, corrected only from two swapped letters ("bowles").
    common: frozenset[str] = frozenset()
    # Join two tokens into a vocabulary word a speech recogniser split ("bye opsy"): for
    # finding a topic, where a wrong join costs little; triage reads the words as typed.
    joins: bool = False
    # Token -> corrected stem. Patients reuse a small vocabulary, so one dict lookup
    # replaces two cached calls per word; cleared when full, since typos are unbounded.
    _seen: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def of(cls, words: Iterable[str], joins: bool = False) -> Corrector:
        """Build a corrector for the given vocabulary's uncommon words.

        Common words ("going", "have") are left out: a misspelling is far more often of a
        medical or symptom word, and "cghing" must become "coughing", not "going".
        """
        words = {w for w in words if w.isalpha() and len(w) >= 4}
        common = frozenset(w for w in words if zipf(w) >= 5.0)
        # A misspelling listed among keywords ("ct scna") is not a word to correct to: as a
        # word of its own it would keep "bone scna" from being the bone scan.
        # One set for all: a swap never gives the word back, and _swapped's stems of the
        # set are then worked out once, not once a word.
        known = frozenset(words)
        typos = {w for w in words if _swapped(w, known) is not None}
        return cls(frozenset(words - common - typos), common, joins)

    def correct(self, word: str) -> str:
        """Return the vocabulary word `word` was most likely meant to be."""
        return _correct(self.vocabulary, word, self.common)

    def words(self, fragment: str) -> list[str]:
        """The corrected, stemmed tokens of cleaned text."""
        seen = self._seen
        out = []
        split = tokens(fragment)
        skip = False
        skip_to = 0
        for i, token in enumerate(split):
            if skip:
                skip = False
                continue
            if i < skip_to:
                continue
            if self.joins and (begun := self._begun(split, i)) is not None:
                out.append(stem(begun))
                skip = True  # the "something" that stood for the rest of the name
                continue
            if self.joins and (sounded := self._sounded(split, i)) is not None:
                name, taken = sounded
                out.append(stem(name))
                skip_to = i + taken
                continue
            if self.joins and i + 1 < len(split) and (joined := self._joined(token, split[i + 1])):
                out.append(stem(joined))
                skip = True
                continue
            word = seen.get(token)
            if word is None:
                if len(seen) >= _SEEN_LIMIT:
                    seen.clear()
                # "the nurse's number": a known word's possessive is the word.
                base = token[:-2] if token.endswith(("'s", "\u2019s")) else ""
                known = base and (base in self.vocabulary or base in self.common)
                word = seen[token] = stem(self.correct(base if known else token))
            out.append(word)
        return out

    def _begun(self, split: list[str], i: int) -> str | None:
        """The one long vocabulary word a name half-remembered begins ("deno something",
        "palbo something", "electro-something"), or None."""
        first = split[i]
        if i + 1 >= len(split) or split[i + 1] not in _FORGOTTEN_REST:
            return None
        if len(first) < 4 or not first.isalpha() or first in self.vocabulary:
            return None
        names = sorted(
            w for w in self.vocabulary if w.startswith(first) and len(w) >= len(first) + 3
        )
        # Spellings of one name ("tamoxifen", "tamoxifan") are one; two names are none.
        if not names or any(SequenceMatcher(None, names[0], w).ratio() < 0.8 for w in names):
            return None
        return max(names, key=lambda w: (zipf(w), -len(w)))

    def _sounded(self, split: list[str], i: int) -> tuple[str, int] | None:
        """A long vocabulary word a voice typist wrote as the words it sounds like ("tam ox
        if en", "bis fos fo nates", "pal bo sick lib"), and how many tokens it took; or None.

        Two to four short tokens joined sound like the word when their consonants match
        its consonants, as spoken (see `sound`), and they start with the same letter.
        """
        first = split[i]
        if first in _LEADS or len(first) > 6 or not first.isalpha() or zipf(first) >= 4.7:
            return None  # a name sounded out starts with an unusual piece: most tokens don't
        for n in (4, 3, 2):
            parts = split[i : i + n]
            if len(parts) < n or not all(p.isalpha() and len(p) <= 6 for p in parts):
                continue
            known = sum(p in self.vocabulary or p in self.common for p in parts)
            if known > (1 if n > 2 else 0):
                continue  # "bone scan is" is three words of its own
            word = _sounds_like(self.vocabulary, tuple(parts))
            if word is not None:
                return word, n
        return None

    def _joined(self, first: str, second: str) -> str | None:
        """The vocabulary word a speech recogniser split in two ("bye opsy", "radio
        therapy"), or None when the two are words of their own."""
        known = self.vocabulary
        if not (first.isalpha() and second.isalpha()) or len(first) + len(second) < 6:
            return None
        if first in known or second in known or first in self.common or second in self.common:
            return None
        if min(zipf(first), zipf(second)) >= 2.5:
            return None  # two words of their own ("any more"), not halves of one
        joined = _correct(known, first + second, self.common)
        return joined if joined in known else None


# Spelling to sound, in order: "ph" is "f", a soft "c" is "s", vowels and doubled letters go.
# What stands for the rest of a name half-remembered: "deno something".
_FORGOTTEN_REST = frozenset(["something", "sumthing", "sumthin", "somethin", "summat", "smthing",
                             "sth", "whatsit", "whatever", "summit", "somthing"])

_SOUND_STEPS = (
    (re.compile(r"ph"), "f"), (re.compile(r"ck|q"), "k"), (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"c"), "k"), (re.compile(r"x"), "ks"), (re.compile(r"z"), "s"),
    (re.compile(r"(?<=.)h"), ""), (re.compile(r"[aeiouy]"), ""), (re.compile(r"(.)\1+"), r"\1"),
)


# Words that begin a phrase, not a sounded-out drug or test ("the mri", "in the pet").
_LEADS = frozenset(["the", "a", "an", "in", "on", "my", "to", "of", "and", "is", "it", "for",
                    "at", "with", "her", "his", "your", "me", "i", "do", "does", "what"])


def sound(word: str) -> str:
    """A word's consonants as spoken: "palbociclib" and "palbosicklib" are both "plbsklb"."""
    word = word.lower()
    for pattern, plain in _SOUND_STEPS:
        word = pattern.sub(plain, word)
    return word


@lru_cache(maxsize=50_000)
def _sounds_like(vocabulary: frozenset[str], parts: tuple[str, ...]) -> str | None:
    """The long vocabulary word these tokens, joined, sound like; None if none does.

    Everyday words sounding like an everyday word ("sister had", "steroids") are what they
    say; a drug's name is rare, and so is a fragment of one ("roids").
    """
    joined = "".join(parts)
    if len(joined) < 6:
        return None
    word = _sounds_of(vocabulary).get((joined[0], sound(joined)))
    if word is not None and min(zipf(p) for p in [*parts, word]) < 3.0:
        return word
    return None


@lru_cache(maxsize=8)
def _sounds_of(vocabulary: frozenset[str]) -> dict[tuple[str, str], str]:
    """The vocabulary's long words by first letter and sound; of words that sound alike
    (a keyword and its listed misspelling), the commonest."""
    out: dict[tuple[str, str], str] = {}
    for w in sorted(vocabulary):
        if len(w) >= 7 and w.isalpha() and len(sound(w)) >= 4:
            key = (w[0], sound(w))
            if key not in out or zipf(w) > zipf(out[key]):
                out[key] = w
    return out


@lru_cache(maxsize=50_000)
def _correct(vocabulary: frozenset[str], word: str, common: frozenset[str] = frozenset()) -> str:
    if word in vocabulary or word in common or len(word) < 4 or not word.isalpha():
        return word
    swapped = _swapped(word, vocabulary | common if common else vocabulary)
    if swapped is not None:
        return swapped
    # A common English word is what the patient meant, even if it is one letter
    # from a medical word ("team" is not "temp").
    if zipf(word) >= 3.0:
        return word
    limit = 1 if len(word) <= 5 else 2
    candidates = [
        c
        for c in process.extract(
            word, vocabulary, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=8
        )
        # Two edits in a short word is a different word ("qwerty" is not "sweaty"),
        # unless the typed letters are the word with some left out ("cghing").
        if c[1] <= 1 or len(word) >= 7 or _subsequence(word, c[0])
    ]
    if not candidates:
        return word
    # Nearest first; among equals, one the typed letters could be an abbreviation of
    # (texters drop letters: "cghing"), then the same first letter, then a similar length.
    best = min(
        candidates,
        key=lambda c: (
            c[1],
            not _subsequence(word, c[0]),
            c[0][0] != word[0],
            abs(len(c[0]) - len(word)),
            c[0],
        ),
    )
    return str(best[0])


def _swapped(word: str, known: frozenset[str]) -> str | None:
    """A known word the typed one is, with two neighbouring letters swapped ("nubmer").

    Only when the typed word is rare, and rarer than the known one: "diary" stays "diary".
    """
    typed = zipf(word)
    if typed >= 3.5:
        return None
    for i in range(len(word) - 1):
        candidate = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if candidate == word:
            continue
        short = SHORTHAND.get(candidate, "")
        if short and " " not in short:
            return short  # "hvaent" is "havent", which is "haven't"
        if (candidate in known or stem(candidate) in _stems(known)) and zipf(candidate) > typed:
            return candidate
    return None


@lru_cache(maxsize=8)
def _stems(known: frozenset[str]) -> frozenset[str]:
    return frozenset(stem(w) for w in known)


def _subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(ch in rest for ch in short)


def phrase(text: str) -> tuple[str, ...]:
    """The stemmed token sequence a phrase is matched as."""
    return tuple(stem(t) for t in tokens(clean(text)))


def find(seq: list[str], target: tuple[str, ...]) -> list[int]:
    """Start positions of `target` as a contiguous run in `seq`."""
    n = len(target)
    if not n:
        return []
    first = target[0]
    return [i for i, t in enumerate(seq) if t == first and tuple(seq[i : i + n]) == target]


def looks_english(text: str) -> bool:
    """False when most words of a message are not English (or not in Latin letters)."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isascii() for c in letters) / len(letters) < 0.5:
        return False
    words = [t for t in tokens(clean(text)) if t.isalpha() and len(t) > 2]
    if len(words) < 3:
        return True
    known = sum(zipf(w) >= 3.0 for w in words)
    return known / len(words) >= 0.4
