"""The question matcher: a patient's words to a topic (and, for tests, an aspect)."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flows import text as tx
from flows.frequency import zipf
from flows.knowledge import CONTENT_DIR, EXTRA_ASPECTS, Knowledge, default_knowledge, load_yaml

SETTINGS_FILE = CONTENT_DIR / "matcher.yaml"
# On a tie, the more particular aspect: "does the dye make you hot" is about the dye.
ASPECT_ORDER = (
    "dye", "radiation", "pain", "eat_drink", "side_effects", "cure", "results", "who",
    "prepare", "after", "duration", "what",
)
# Words a question shares with one section of a test's content say which it is about;
# common words say nothing (a word's weight falls with its frequency in English).
OVERLAP_WEIGHT = 1.5
# A word that names a particular aspect ("eat") says more than the same word as part of
# preparing in general: "can I eat before my biopsy" wants the eating answer.
PARTICULAR_WEIGHT = 1.6
# A topic's own section ("money" under support) is asked by its own cue words, which count
# as a particular aspect's do and win a tie.
OWN_SECTION_WEIGHT = PARTICULAR_WEIGHT
COMMON_ZIPF = 5.0
CONTEXT_WEIGHT = 0.25
CONTEXT_ALONE_WEIGHT = 0.75
GENERAL_WEIGHT = 0.4
MODIFIER_WEIGHT = 0.6
# "steroids with my chemo": a topic after one of these words qualifies the question.
MODIFIER_WORDS = frozenset(["with", "on", "during", "while", "alongside", "plus"])
DETERMINERS = frozenset(["my", "the", "a", "an", "her", "his", "their", "your", "this", "that"])
FIRST_MENTION_BONUS = 0.3
# "The nurse mentioned electrochemotherapy": who said it is where it came from, not what
# the question is about.
REPORTING = frozenset(tx.stem(w) for w in [
    "said", "says", "say", "mentioned", "told", "tells", "wants", "wanted", "thinks",
    "thought", "suggested", "recommended", "explained", "reckons", "asked", "talked",
    "spoke", "put", "gave", "started", "sent", "referred", "booked", "arranged", "ordered"])
_REPORTING_LEAD = frozenset(tx.stem(w) for w in ["has", "had", "just", "have", "also", "then"])
_ASK_THEM = frozenset(tx.stem(w) for w in ["nurse", "nurses", "team", "doctor", "gp", "cns"])
_WHO_REPORTS = frozenset(tx.stem(w) for w in [
    "nurse", "nurses", "cns", "bcn", "worker", "keyworker", "doctor", "doctors", "dr", "gp",
    "onc", "oncologist", "consultant", "surgeon", "specialist", "team", "radiographer",
    "radiologist", "registrar"])
TAKING = frozenset(tx.stem(w) for w in ["am", "i", "im", "is", "are", "was", "been", "be", "being",
                                         "stay", "staying", "still", "go", "start", "started",
                                         "put", "keep", "kept", "she", "he", "shes", "hes"])

THRESHOLD = 0.45
# How much outright asking a second part of a topic needs before the reply answers it too:
# one cue word of its own in its own clause ("does a ct hurt and how long is it"). At 2.0
# (a two-word phrase) the blind sets lost 30 facts asked as a second part; at 1.6 about one
# reply in seventeen gets a second text, most of them asked for.
SECOND_ASPECT_EVIDENCE = 1.6
WHOSE_LENGTH = frozenset(["results", "eat_drink"])
TIMED_BY_LONG = frozenset(["after", "prepare"])
_CLAUSE = re.compile(r"[,.;?!]+|\b(?:and|but|also|plus)\b")
_CLAUSE_KEEP = re.compile(r"([,.;?!]+|\b(?:and|but|also|plus)\b)")
# Words that open a question, "?" or not.
_QUESTION_OPENERS = frozenset(
    ["what", "whats", "how", "when", "why", "who", "where", "which", "can", "could", "will",
     "would", "should", "do", "does", "is", "are", "am", "may", "shall", "did", "have", "has",
     "any", "anything", "whens", "hows", "wot", "wat"]
)
TOLD_WEIGHT = 0.5


def opens_a_question(text: str) -> bool:
    """True when a message opens as a question does, "?" or not ("does the mri hurt ...")."""
    return _asks(tx.clean(text), "")


def asks_how_it_works(text: str) -> bool:
    """True for "how does it work", "what does it do": what a thing is for."""
    return _MECHANISM.search(text.lower()) is not None


def any_sentence_asks(text: str) -> bool:
    """True when any sentence of a message opens as a question does ("bone scan thurs. do
    they just do my back")."""
    return any(_asks(part, "") for part in _SENTENCE_END.split(tx.clean(text)))


_SENTENCE_END = re.compile(r"[.!\n]+")


def _asks(clause: str, end: str) -> bool:
    """True when a clause asks: it ends in "?" or opens as a question does."""
    words = clause.split()
    while words and words[0] in ("so", "and", "ok", "okay", "um", "er", "hi", "just", "also"):
        words = words[1:]
    return "?" in end or bool(words and words[0] in _QUESTION_OPENERS)


@dataclass(frozen=True)
class Match:
    """The matcher's best guess: a topic (or None), the aspect for tests, a confidence."""

    topic: str | None
    confidence: float
    aspect: str | None = None
    runner_up: str | None = None
    also: str | None = None  # a second part the same message asks


class Matcher:
    """Phrase-weighted topic matching with typo correction; no network, no model."""

    def __init__(
        self, knowledge: Knowledge, threshold: float = THRESHOLD, settings: Path = SETTINGS_FILE
    ) -> None:
        self.knowledge = knowledge
        self.threshold = threshold
        raw = load_yaml(settings)
        self.general = frozenset(raw.get("general_topics") or ())
        context = {tx.phrase(str(p)) for p in raw.get("context") or ()}
        # Words that name the illness ("secondaries", "mets") say nothing of the part asked;
        # "spread" does ("can a blood test tell if it's spread").
        self.illness_words = frozenset(
            w for p in context if len(p) == 1 for w in p if w != tx.stem("spread")
        )
        phrase_topics: dict[tuple[str, ...], set[str]] = defaultdict(set)
        words: set[str] = set()
        for topic in knowledge.topics.values():
            for kw in (*topic.keywords, topic.title.lower()):
                p = tx.phrase(kw)
                if p:
                    phrase_topics[p].add(topic.id)
                    words.update(tx.tokens(tx.clean(kw)))
        # Spellings that stem alike ("what happens", "what happen") are one phrase, counted once.
        self.aspect_phrases = {
            a: tuple(dict.fromkeys(p for w in raw["aspects"][a] if (p := tx.phrase(str(w)))))
            for a in ASPECT_ORDER
        }
        # Where each listed phrase can start: (aspect, its place in the list, the phrase).
        self.aspects_by_first: dict[str, list[tuple[str, int, tuple[str, ...]]]] = defaultdict(
            list
        )
        for a, phrases in self.aspect_phrases.items():
            for n, p in enumerate(phrases):
                self.aspects_by_first[p[0]].append((a, n, p))
        self.fallback = {str(k): str(v) for k, v in (raw.get("fallback") or {}).items()}
        # "eat" is listed for eating and for preparing: it counts for the particular aspect,
        # which gives it back to preparing when a test has no eating section.
        self.shadowed = {
            (to, p)
            for a, to in self.fallback.items()
            for p in self.aspect_phrases.get(a, ())
        }
        self.aspect_weights = {
            tx.phrase(str(w)): float(v) for w, v in (raw.get("aspect_weights") or {}).items()
        }
        for ws in raw["aspects"].values():
            for w in ws:
                words.update(tx.tokens(tx.clean(str(w))))
        self.weights: dict[tuple[str, ...], float] = {}
        for p, ts in phrase_topics.items():
            self.weights[p] = _weight(p, len(ts), p in context)
        for p in context:
            phrase_topics.setdefault(p, set())
            self.weights.setdefault(p, 0.0)
        self.phrase_topics = {p: frozenset(ts) for p, ts in phrase_topics.items()}
        self.by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for p in self.phrase_topics:
            self.by_first[p[0]].append(p)
        for plist in self.by_first.values():
            plist.sort(key=len, reverse=True)
        self.corrector = tx.Corrector.of(words, joins=True)

    def words(self, message: str) -> list[str]:
        """The message as corrected, stemmed words, without a speaker's fillers."""
        cleaned = _SPOKEN_HER2.sub("her2", _RECEPTOR_SIGN.sub(_signed, tx.clean(message)))
        cleaned = _SPOKEN_LETTERS.sub(lambda m: _LETTERS[m.group(0)], cleaned)
        return _without_fillers(self.corrector.words(cleaned))

    def scores(self, words: list[str]) -> dict[str, float]:
        """Score every topic by the longest keyword phrases found in `words`."""
        scores: dict[str, float] = defaultdict(float)
        from_context: dict[str, float] = defaultdict(float)
        i = 0
        while i < len(words):
            for p in self.by_first.get(words[i], ()):
                if tuple(words[i : i + len(p)]) == p:
                    aside = _modifies(words, i) or _reports(words, i + len(p), p)
                    weight = self.weights[p] * (MODIFIER_WEIGHT if aside else 1.0)
                    for t in self.phrase_topics[p]:
                        if t not in scores:
                            scores[t] += FIRST_MENTION_BONUS
                        scores[t] += weight
                        if self.weights[p] == CONTEXT_WEIGHT:
                            from_context[t] += 1
                    i += len(p)
                    break
            else:
                i += 1
        specific = [t for t in scores if t not in self.general]
        if specific:
            # A named test or drug is what the question is about; "results" or
            # "treatment" around it is context.
            for t in scores:
                if t in self.general:
                    scores[t] *= GENERAL_WEIGHT
        if len(scores) == 1:
            # Words naming the illness, and nothing else, ask about the illness itself.
            (only,) = scores
            scores[only] += from_context[only] * (CONTEXT_ALONE_WEIGHT - CONTEXT_WEIGHT)
        return dict(scores)

    def mentions(self, words: list[str]) -> list[str]:
        """The topics a message names by their own words, in the order first named
        (words naming the illness in general name none)."""
        order: list[str] = []
        i = 0
        while i < len(words):
            for p in self.by_first.get(words[i], ()):
                if tuple(words[i : i + len(p)]) == p:
                    if self.weights[p] != CONTEXT_WEIGHT:
                        order.extend(t for t in sorted(self.phrase_topics[p]) if t not in order)
                    i += len(p)
                    break
            else:
                i += 1
        return order

    def aspect(
        self, words: list[str], topic: str | None = None, message: str = ""
    ) -> str | None:
        """Which part of a test the words ask about, if any: the best-evidenced aspect.

        With a topic, only its sections can win: an aspect it has no section for counts
        for its fallback, and words shared with a section's text count for it.
        """
        return self.aspects(words, topic, message)[0]

    def aspects(
        self, words: list[str], topic: str | None = None, message: str = ""
    ) -> tuple[str | None, str | None]:
        """The aspect asked (as `aspect`), and a second part the same message asks outright
        ("does it hurt and how long is it"), or None."""
        # "Waiting for results": the topic's own title names it, it does not ask a part of it.
        title = self._title_words(topic) if topic else frozenset()
        scores = self._clause_scores(message, title) if message else self._aspect_scores(
            words, title
        )
        if message and _MECHANISM.search(message.lower()):
            # "How does hormone therapy work" asks what it does, not whether it is working.
            scores.pop("results", None)
            scores["what"] = max(scores.values(), default=0.0) + 1.0
        sections = self.knowledge.topics[topic].sections if topic else {}
        if (
            message
            and "pain" in scores
            and "dye" in scores
            and _HURTS.search(message.lower())
            and "injection" in getattr(sections.get("pain"), "sms", "")
        ):
            # "Does the injection hurt" asks whether it hurts: the answer on pain, where it
            # speaks of the test's injection (a bone scan's); else the dye answer, which
            # says whether the injection hurts (an MRI's).
            scores["pain"] = max(scores["pain"], scores["dye"]) + 0.5
        own: tuple[str, ...] = ()
        direct: dict[str, float] = {}
        if topic and sections:
            asks_as = self.knowledge.topics[topic].asks_as
            for a in list(scores):
                if a not in sections and (to := asks_as.get(a) or self.fallback.get(a)):
                    scores[to] = scores.get(to, 0.0) + scores.pop(a)
            direct = dict(scores)
            for a, weight in self._overlap(topic, message).items():
                scores[a] = scores.get(a, 0.0) + OVERLAP_WEIGHT * weight
            own = tuple(self._own_cues(topic))
            for a, weight in self._own_scores(topic, words).items():
                scores[a] = scores.get(a, 0.0) + weight
                direct[a] = direct.get(a, 0.0) + weight
        # On a tie, a section of the topic's own named by its own words, then the earlier
        # aspect: an own section only shares some word of its text like any other.
        named = tuple(a for a in own if direct.get(a))
        order = (*named, *ASPECT_ORDER, *own)
        ranked = sorted(
            (a for a in dict.fromkeys(order) if (not sections or a in sections) and scores.get(a)),
            key=lambda a: (-scores[a], order.index(a)),
        )
        best = ranked[0] if ranked else None
        if best == "what" and _WHAT_IS_THAT.search(message.lower()):
            # "She might get contrast for her MRI, what is that": what the part named is.
            told = [a for a in ranked[1:] if direct.get(a) and a in EXTRA_ASPECTS]
            if told:
                best = told[0]
                scores[best] = max(scores.values()) + 0.5
        if best == "what" and named and _MEANING.search(message.lower()):
            # "Palliative, what does that mean": what the named thing is, its own section.
            best = max(named, key=lambda a: scores[a])
            return best, self._second(best, [a for a in ranked if a != best], direct, topic)
        if not direct and len(ranked) > 2 and scores[ranked[0]] == scores[ranked[2]]:
            # Only a word every section shares ("lung"): no part is asked.
            return None, None
        # "What does secondary breast cancer mean" asks what the topic's overview says: a
        # section more weakly evidenced than an aspect the topic has no section for is not it.
        if best is None or max(scores.values()) > scores[best]:
            return None, None
        return best, self._second(best, ranked[1:], direct, topic)

    def _second(
        self, best: str, rest: list[str], direct: dict[str, float], topic: str | None
    ) -> str | None:
        # Only words that ask a part outright make a second question: words the message
        # merely shares with a section's text, or "what" (in nearly every question), do not.
        for a in rest:
            # Eating is part of preparing: one answers the other. "How long" beside results
            # or fasting asks how long those last, not how long the test takes.
            related = self.broad(topic, a) == best or self.broad(topic, best) == a
            related = related or (a == "duration" and best in WHOSE_LENGTH)
            if a != "what" and direct.get(a, 0.0) >= SECOND_ASPECT_EVIDENCE and not related:
                return a
        return None

    def own_section(self, words: list[str]) -> tuple[str, str] | None:
        """The one topic section whose own cue words a message uses most, when it names no
        topic; None when none does or two topics' sections tie."""
        best: list[tuple[float, str, str]] = []
        for topic in self.knowledge.topics:
            for a, score in self._own_scores(topic, words).items():
                best.append((score, topic, a))
        best.sort(reverse=True)
        if not best or (len(best) > 1 and best[1][0] == best[0][0] and best[1][1] != best[0][1]):
            return None
        return best[0][1], best[0][2]

    def shares_words(self, topic: str, message: str) -> bool:
        """True when a word of the message, other than a question word, is in the topic's
        own texts ("what kind of reaction" after the CT's dye answer)."""
        said = {w for w in tx.phrase(message) if len(w) > 3 and zipf(w) < COMMON_ZIPF + 1}
        return any(said & words for words in self._section_words(topic).values())

    def broad(self, topic: str | None, aspect: str | None) -> str | None:
        """The sub-menu item a particular section belongs to ("eat_drink" -> "prepare")."""
        if topic is None or aspect is None:
            return None
        own = self.knowledge.topics[topic].part_of.get(aspect)
        return own or self.fallback.get(aspect, aspect)

    @lru_cache(maxsize=64)  # noqa: B019 - one matcher per process, topics fixed
    def _own_cues(self, topic: str) -> dict[str, tuple[tuple[str, ...], ...]]:
        cues = self.knowledge.topics[topic].cues
        return {
            a: tuple(dict.fromkeys(p for c in cs if (p := tx.phrase(c)))) for a, cs in cues.items()
        }

    @lru_cache(maxsize=64)  # noqa: B019 - one matcher per process, topics fixed
    def _own_index(self, topic: str) -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
        # By first word, so a message is read once rather than once per cue phrase.
        index: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        for a, phrases in self._own_cues(topic).items():
            for p in phrases:
                index[p[0]].append((a, p))
        return {w: tuple(v) for w, v in index.items()}

    def _own_scores(self, topic: str, words: list[str]) -> dict[str, float]:
        index = self._own_index(topic)
        hits: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, w in enumerate(words):
            for a, p in index.get(w, ()):
                if tuple(words[i : i + len(p)]) == p:
                    hits[a].append((len(p), i))
        out: dict[str, float] = {}
        for a in self._own_cues(topic):  # the cues' order, as the scores were always built
            if a not in hits:
                continue
            covered: set[int] = set()
            for n, i in sorted(hits[a], reverse=True):  # "markers" in "tumour markers" once
                if covered.isdisjoint(range(i, i + n)):
                    covered.update(range(i, i + n))
                    out[a] = out.get(a, 0.0) + OWN_SECTION_WEIGHT * n
        return out

    def _overlap(self, topic: str, message: str) -> dict[str, float]:
        """How much each of the topic's sections shares the message's uncommon words."""
        if not message:
            return {}
        mine = {
            tx.stem(t): max(0.0, (COMMON_ZIPF + 1.5 - zipf(t)) / 3.0)
            for t in tx.tokens(tx.clean(message))
            # "whats" is rare as written but is "what": judged by its commoner form.
            if t.isalpha() and max(zipf(t), zipf(tx.stem(t))) < COMMON_ZIPF
        }
        # Who to ask is in many sections' closing words ("ask your nurse"): not a part asked.
        mine = {
            w: v for w, v in mine.items()
            if v > 0 and w not in self._topic_words(topic) and w not in _ASK_THEM
            and w not in self.illness_words
        }
        out = {}
        for a, stems in self._section_words(topic).items():
            shared = sum(v for w, v in mine.items() if w in stems)
            if shared:
                out[a] = shared
        return out

    @lru_cache(maxsize=64)  # noqa: B019 - one matcher per process, topics fixed
    def _section_words(self, topic: str) -> dict[str, frozenset[str]]:
        sections = self.knowledge.topics[topic].sections
        return {a: frozenset(tx.phrase(t.sms)) for a, t in sections.items()}

    @lru_cache(maxsize=64)  # noqa: B019 - one matcher per process, topics fixed
    def _title_words(self, topic: str) -> frozenset[str]:
        return frozenset(tx.phrase(self.knowledge.topics[topic].title))

    @lru_cache(maxsize=64)  # noqa: B019 - one matcher per process, topics fixed
    def _topic_words(self, topic: str) -> frozenset[str]:
        t = self.knowledge.topics[topic]
        return frozenset(w for kw in (*t.keywords, t.title) for w in tx.phrase(kw))

    def _clause_scores(self, message: str, title: frozenset[str]) -> dict[str, float]:
        """Aspect evidence clause by clause: "how long" in a clause about fasting or results
        asks how long those last ("how long do I not eat for"), not how long the test takes;
        in a clause of its own it still does ("how long is it, and can I eat before").
        Where some clause asks, what the others tell counts for less: in "I was on tamoxifen
        after my first cancer. Will I go back on it?" the "after" is a time, not the question.
        """
        parts = _CLAUSE_KEEP.split(tx.clean(message))
        clauses = [(parts[i], parts[i + 1] if i + 1 < len(parts) else "")
                   for i in range(0, len(parts), 2)]
        asking = [_asks(text, end) for text, end in clauses]
        total: dict[str, float] = defaultdict(float)
        for (text, _), asks in zip(clauses, asking, strict=True):
            found = self._aspect_scores(self.words(text), title)
            lasting = [a for a in WHOSE_LENGTH if a in found]
            if "duration" in found and lasting:
                found[max(lasting, key=found.__getitem__)] += found.pop("duration")
            weight = 1.0 if asks or not any(asking) else TOLD_WEIGHT
            for a, v in found.items():
                total[a] += v * weight
        return dict(total)

    def _aspect_scores(
        self, words: list[str], title: frozenset[str] = frozenset()
    ) -> dict[str, float]:
        found: set[tuple[str, int]] = set()
        for i, w in enumerate(words):
            # "How long after the injection": the time between, not what comes after.
            timed = i > 0 and words[i - 1] == "long"
            for a, n, p in self.aspects_by_first.get(w, ()):
                if tuple(words[i : i + len(p)]) == p and not (timed and a in TIMED_BY_LONG):
                    found.add((a, n))
        scores: dict[str, float] = defaultdict(float)
        for a, n in found:  # each listed phrase counts once, however often it is used
            p = self.aspect_phrases[a][n]
            if (a, p) in self.shadowed or set(p) <= title:
                continue
            weight = self.aspect_weights.get(p, float(len(p)))
            scores[a] += weight * (PARTICULAR_WEIGHT if a in EXTRA_ASPECTS else 1.0)
        return dict(scores)

    def match(self, message: str) -> Match:
        """The topic a message is about, or no topic when not confident enough."""
        message = tx.without_likeness(message.lower())
        words = self.words(message)
        scores = self.scores(words)
        if not scores:
            return Match(None, 0.0)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        top, best = ranked[0]
        runner_up, second = ranked[1] if len(ranked) > 1 else (None, 0.0)
        margin = (best - second) / best
        strength = 1 - math.exp(-2.0 * best)
        confidence = round(strength * (0.5 + 0.5 * margin), 3)
        if confidence < self.threshold:
            return Match(None, confidence, None, top)
        if not self.knowledge.topics[top].sections:
            return Match(top, confidence, None, runner_up)
        aspect, also = self.aspects(words, top, message)
        return Match(top, confidence, aspect, runner_up, also)


# What a speech recogniser hears between words ("um, er, how long..."). "er" is also the
# oestrogen receptor, but only beside what is said about it ("er positive").
FILLERS = frozenset(["um", "umm", "erm", "er", "uh", "uhm", "hmm", "ah"])
# Words said for emphasis between the words of a question: they never change what it asks.
EMPHASIS = frozenset(
    tx.stem(w) for w in ["actually", "really", "totally", "completely", "literally", "honestly",
                         "basically", "even"]
)
RECEPTOR_WORDS = frozenset(tx.stem(w) for w in ["positive", "negative", "pos", "neg", "status",
                                                  "receptor", "receptors", "and", "plus"])


# "er+", "her2-": the sign is part of the receptor's name.
_RECEPTOR_SIGN = re.compile(r"\b(er|pr|her2|her 2)\s*([+-])(?=\s|[.,?!]|$)")
_SIGNS = {"+": "positive", "-": "negative"}
# Tests spelt out as a recogniser writes the letters ("an em are eye tomorrow").
_LETTERS = {"em are eye": "mri", "m r i": "mri", "pet see tee": "pet ct", "p e t": "pet",
            "see tee": "ct", "c t": "ct", "cat scan": "ct scan", "x ray": "xray",
            # The letters as a recogniser may hear them: "see tea scan", "pet see tea".
            "pet see tea": "pet ct", "see tea scan": "ct scan", "sea tea": "ct",
            "bee see en": "bcn", "bee see end": "bcn", "b c n": "bcn", "emma are eye": "mri",
            # "Dye" as a recogniser may write it.
            "put die in": "put dye in", "the die": "the dye"}
_SPOKEN_LETTERS = re.compile(r"\b(?:" + "|".join(map(re.escape, _LETTERS)) + r")\b")
_HURTS = re.compile(r"\b(?:hurt|hurts|painful|sting|stings|sore)\b")
# "How does hormone therapy work" asks what it does; not "how do I get back to work".
_MECHANISM = re.compile(
    r"\bhow (?:does|do|did) (?!i\b|we\b|you\b)(?:[a-z0-9'-]+ ){0,5}work\b"
    # "Ultrasound of the liver, how it work", "how the targeted therapy is working?" (as
    # written by someone whose first language is not English), "how they work".
    r"|\bhow (?:it|they|the [a-z0-9'-]+(?: [a-z0-9'-]+){0,2} is) work(?:s|ing)?\b(?! for)"
    r"|\bhow works?\s*[?!.]*\s*$"
    # "What do hormone treatments actually do", "what does it do": what it is for.
    r"|\bwhat (?:does|do|will) (?!i\b|we\b|you\b)"
    # Not "what does she have to do before the CT", which asks how to get ready.
    r"(?!(?:[a-z0-9'-]+ ){0,2}(?:have|has|need|needs) to do\b)(?:[a-z0-9'-]+ ){0,3}do\b"
)
# HER2 as a recogniser writes it ("what is her two"), but not "her two children".
_SPOKEN_HER2 = re.compile(
    r"\bher(?:\s+|-)(?:(?:two|2)\b(?=\s*(?:$|[.,?!]|positive|negative|pos\b|neg\b|status|"
    r"receptor|plus\b|cancer|breast|is\b|and\b|mean))|too\b(?=\s*(?:positive|negative|"
    r"pos\b|neg\b|status|receptor)))"
)


# "..., what is that?" at the end: asks what the thing just named is.
_WHAT_IS_THAT = re.compile(r"\bwhat(?:'s| is|s)? (?:that|this|it)\s*[?!.]*\s*$")
# Asking what a word means: "palliative, what does that mean", "what is ER positive".
# Asking what a named thing is, does or is for: "palliative, what does that mean", "the
# chest x-ray, what does that look for".
_MEANING = re.compile(
    r"\b(?:mean|means|meaning|meant|stand for|stands for|look for|looking for|looks for)\b"
)


def _signed(m: re.Match[str]) -> str:
    return f"{m.group(1)} {_SIGNS[m.group(2)]}"


def _without_fillers(words: list[str]) -> list[str]:
    out = []
    for i, w in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        if w in FILLERS and not (w == "er" and after in RECEPTOR_WORDS):
            continue
        if w in EMPHASIS:  # "who will I actually see", "I feel totally fine"
            continue
        if w == "you" and after == "know":  # "you know" as a filler
            continue
        if w == "know" and i > 0 and words[i - 1] == "you":
            continue
        out.append(w)
    return out


def _reports(words: list[str], j: int, p: tuple[str, ...]) -> bool:
    """True when the person a phrase names is who said something ("the nurse said")."""
    if p[-1] not in _WHO_REPORTS:
        return False
    while j < len(words) and words[j] in _REPORTING_LEAD:
        j += 1
    return j < len(words) and words[j] in REPORTING


def _modifies(words: list[str], i: int) -> bool:
    j = i - 1
    while j >= 0 and words[j] in DETERMINERS:
        j -= 1
    if j < 0 or words[j] not in MODIFIER_WORDS:
        return False
    # "Why am I on steroids", "she's been on letrozole": being on a drug is taking it, the
    # subject of the question, not a qualifier of another.
    return not (words[j] == "on" and j > 0 and words[j - 1] in TAKING)


def _weight(p: tuple[str, ...], shared_by: int, is_context: bool) -> float:
    """Longer and rarer phrases say more; phrases shared by topics or naming the illness less."""
    if is_context:
        return CONTEXT_WEIGHT
    rarest = min(zipf(w) for w in p)
    rarity = min(1.4, max(0.6, (8.0 - rarest) / 4.0))
    return (1.0 + 0.75 * (len(p) - 1)) * rarity / shared_by


@lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    """A matcher over the shipped knowledge base, built once per process."""
    return Matcher(default_knowledge())
