"""Personal circumstances and hard questions: what to say, found by their words.

A pacemaker before an MRI, diabetes before a fast, a grandchild after a radioactive
injection: the answer depends on the test, so each circumstance has an answer per test
and a default. Feelings and hard questions ("how long have I got", "I feel so alone")
get a kind, honest reply with who to talk to, never "not sure".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flows import text as tx
from flows.knowledge import CONTENT_DIR, Text, load_yaml

PERSONAL_FILE = CONTENT_DIR / "personal.yaml"


@dataclass(frozen=True)
class Circumstance:
    """Something about the person that matters for a test or treatment."""

    id: str
    answers: dict[str, str]  # topic id (or "default") -> the answer, SMS wording
    covers: frozenset[str] = frozenset()  # parts of a test its answer already gives

    def answer(self, topic: str | None) -> str:
        """The answer for this test or treatment, else the general one."""
        return self.answers.get(topic or "", self.answers["default"])


@dataclass(frozen=True)
class Feeling:
    """A feeling or hard question, and the reply with its {placeholders}."""

    id: str
    reply: str
    first: bool  # answered even when the message also names a test or treatment
    aspect: str | None = None  # the part of a test it asks about too ("company": who)


@dataclass(frozen=True)
class Personal:
    """Circumstances and feelings, and the phrases that find them."""

    circumstances: dict[str, Circumstance]
    feelings: dict[str, Feeling]
    phrases: dict[tuple[str, ...], tuple[str, str]]  # stemmed phrase -> (kind, id)
    corrector: tx.Corrector
    # A feeling said by words that only mean it together ("will my daughter" ... "get
    # it"): each entry's groups must all be in the message, in any order.
    # A word group `unless` any of whose phrases is there, they mean something else.
    together: tuple[
        tuple[str, tuple[frozenset[tuple[str, ...]], ...], frozenset[tuple[str, ...]]], ...
    ] = ()

    @classmethod
    def load(cls, path: Path = PERSONAL_FILE) -> Personal:
        """Read and check the file."""
        raw = load_yaml(path)
        circumstances, feelings = {}, {}
        phrases: dict[tuple[str, ...], tuple[str, str]] = {}
        words: set[str] = set()
        for cid, c in raw["circumstances"].items():
            answers = {str(k): " ".join(str(v).split()) for k, v in c["answers"].items()}
            if "default" not in answers:
                raise ValueError(f"circumstance {cid}: needs a default answer")
            circumstances[cid] = Circumstance(
                cid, answers, frozenset(str(a) for a in c.get("covers") or ())
            )
            for w in c["words"]:
                phrases.setdefault(tx.phrase(str(w)), ("circumstance", cid))
                words.update(tx.tokens(tx.clean(str(w))))
        together = []
        for fid, f in raw["feelings"].items():
            feelings[fid] = Feeling(
                fid, " ".join(str(f["reply"]).split()), bool(f["first"]), f.get("aspect")
            )
            for w in f["words"]:
                phrases.setdefault(tx.phrase(str(w)), ("feeling", fid))
                words.update(tx.tokens(tx.clean(str(w))))
            for entry in f.get("together") or ():
                groups = tuple(frozenset(tx.phrase(str(w)) for w in g) for g in entry["all"])
                unless = frozenset(tx.phrase(str(w)) for w in entry.get("unless") or ())
                together.append((fid, groups, unless))
                words.update(
                    t for g in entry["all"] for w in g for t in tx.tokens(tx.clean(str(w)))
                )
        return cls(circumstances, feelings, phrases, tx.Corrector.of(words), tuple(together))

    def find(self, message: str) -> tuple[Circumstance | None, Feeling | None]:
        """The circumstance and the feeling a message names, longest phrase first."""
        # "Is it like a pregnancy scan with the cold jelly": a likeness, not a pregnancy.
        cleaned = tx.without_likeness(tx.clean(message))
        words = [w for w in self.corrector.words(cleaned) if w not in _EMPHASIS]
        found: dict[str, tuple[tuple[bool, int], str]] = {}
        longest = max((len(p) for p in self.phrases), default=0)
        for i in range(len(words)):
            for n in range(min(longest, len(words) - i), 0, -1):
                hit = self.phrases.get(tuple(words[i : i + n]))
                if hit is None or _denied(words, i):
                    continue
                kind, pid = hit
                # A hard question ("money") says more than a feeling said with it
                # ("worried"); then the longer phrase.
                rank = (self.feelings[pid].first if kind == "feeling" else True, n)
                if kind not in found or found[kind][0] < rank:
                    found[kind] = (rank, pid)
                break
        for fid, groups, unless in self.together:
            if all(_has_any(words, g) for g in groups) and not _has_any(words, unless):
                rank = (self.feelings[fid].first, len(groups))
                if "feeling" not in found or found["feeling"][0] < rank:
                    found["feeling"] = (rank, fid)
        circumstance = found.get("circumstance")
        feeling = found.get("feeling")
        return (
            self.circumstances[circumstance[1]] if circumstance else None,
            self.feelings[feeling[1]] if feeling else None,
        )


# Said between words without changing them ("who can I actually talk to", "um").
_EMPHASIS = frozenset(["actual", "actually", "just", "realli", "really", "um", "umm", "erm",
                       "er", "uh", "uhm"])
_NOT = frozenset(["no", "not", "never", "without", "don't", "dont", "isn't", "haven't"])
_KNOWING = frozenset(["know", "sure", "knowing"])


def _denied(words: list[str], i: int) -> bool:
    """ "no pacemaker", "not worried": a circumstance or feeling denied is not there.
    "Don't know who to talk to" denies the knowing, not the wish to talk."""
    if i > 0 and words[i - 1] in _KNOWING:
        return False
    return any(w in _NOT for w in words[max(0, i - 2) : i])


def _has_any(words: list[str], phrases: frozenset[tuple[str, ...]]) -> bool:
    """True when one of the phrases is in the words, not denied."""
    return any(
        tuple(words[i : i + len(p)]) == p and not _denied(words, i)
        for p in phrases
        for i in range(len(words) - len(p) + 1)
    )


def fill(template: str, values: dict[str, str]) -> Text:
    """A reply with its numbers filled in, the same words for text and voice."""
    said = template.format(**values)
    return Text(said, said)


@lru_cache(maxsize=1)
def default_personal() -> Personal:
    """The shipped circumstances and feelings, loaded once."""
    return Personal.load()
