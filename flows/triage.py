"""Red-flag triage: a symptom model graded as the UKONS 24-hour triage toolkit grades.

A message is read once (`flows.reading`): sentences, clauses, who each is about, whether
it is over or asks about the future. Concepts (body parts, signs, how bad) are found per
clause; compounds join concepts named in the same clause in any order ("coughing up dark
red blood"); signs join concepts across the message ("back pain ... legs gone weak").
Each sign belongs to a category graded life (emergency), red (urgent) or amber (same
day); two different ambers in one message are urgent. The rules are YAML for review.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from flows import reading as rd
from flows import text as tx
from flows.knowledge import load_yaml

LEVELS = ("emergency", "urgent", "same_day", "none")
RANK = {level: i for i, level in enumerate(LEVELS)}  # lower is more urgent
GRADES = {"life": "emergency", "red": "urgent", "amber": "same_day"}

RULES_FILE = Path(__file__).parent / "content" / "triage.yaml"

FEVER_C, LOW_C = 37.5, 36.0
NEGATORS = rd.NEGATORS

_NUMBER = r"(\d{2,3}(?:[.,]\d{1,2})?)"
_TEMP_UNIT = re.compile(
    _NUMBER
    + r"\s*(?:°|º|degrees?|deg)?\s*(c|f|celsius|centigrade|fahrenheit)?\b"
    # ...but not a dose, a time, an age or a weight.
    + r"(?!\s*(?:%|am|pm|mins?|minutes|hours?|years?|yrs?|kg|lbs?|weeks?|mg|ml|times|x\b))"
)
_TEMP_CONTEXT = re.compile(r"temp|temperature|fever|thermometer|degrees|°|º|\d\s*[cf]\b|hot|cold")


Spans = dict[str, frozenset[int]]  # concept -> word positions it was found at


# "In case it gets red" supposes; "in case it matters, I've got chest pain" does not.
_IN_CASE = re.compile(
    r"\bin case\b(?!\s+(?:it\s+matters|it'?s\s+relevant|its\s+relevant|it\s+is\s+relevant|"
    r"you\s+need|it\s+helps|it'?s\s+important|its\s+important|it\s+is\s+important|you\s+want|"
    r"you\s+should|you\s+didn'?t))"
)
# A bare "confused" closing a question about a test or treatment ("a targeted therapy or a
# bone drug? confused"), with nothing said after it.
_PUZZLED = re.compile(r"(\?\s*(?:(?:i'?m|i am|so|bit|a bit|totally)\s+)*)confused[\s.!?]*$")
# "Bleeding" sworn at a thing ("the bleeding ticket machine"), not a wound: dropped, only
# after "the" or "this" and before a thing that never bleeds.
_SWORE_AT = re.compile(
    r"(?<!stop )(?<!stopping )(?<!stem )(?<!slow )(?<!control )"
    r"\b(the|this|that|these|those|stupid) (?:bleeding|bloody)\s+(?=(?:ticket |parking |"
    r"car park |pay )?(?:machine|machines|car park|parking|computer|printer|traffic|bus|"
    r"buses|train|trains|ticket|tickets|weather|rain|council|telly|tv|internet|wifi|queue|"
    r"queues|website|lift|lifts|sat nav|satnav|pharmacy|chemist|hospital|car|kettle)\b)"
)
# "Through up", as voice typing spells "threw up"; not "got through up to cycle 4".
_THROUGH_UP = re.compile(
    r"\b(?:through|thru) up\b(?=\s*(?:$|[.,;!?]|twice|again|after|once|in the|blood|"
    r"yesterday|today|every|\d|x\b|times|since|three|four|five|several))"
)
# Someone found on the floor: "found mum on the bathroom floor", "came home to find him at
# the bottom of the stairs"; not "found her wig on the floor".
_FOUND_DOWN = re.compile(
    r"\b((?:found|find|finding)\s+(?:her|him|mum|mam|dad|nan|gran|my (?:mum|mam|dad|wife|"
    r"husband|partner|nan|gran)))\s+(?:lying\s+|collapsed\s+|slumped\s+)?"
    r"(?:on (?:the\s+)?(?:bathroom\s+|kitchen\s+|bedroom\s+|lounge\s+|hall\s+|landing\s+)?floor"
    r"|at the bottom of the stairs)\b"
    # Not there doing something: "found her on the floor doing her physio".
    r"(?!\s+(?:doing|playing|sorting|fixing|exercising|stretching|wrapping|hoovering|"
    r"cleaning|reading|watching|laughing|chatting|having a rest|waiting|looking|with the|of the "
    r"(?:garage|shed))\b)"
)
# Someone else's eyes that will not open: "won't open her eyes", "can't get dad to open his
# eyes"; not "I can't open my eyes in bright light".
_EYES_SHUT = re.compile(
    r"\b(?:(?:won'?t|wont|isn'?t|isnt) open(?:ing)?|not opening|(?:can'?t|cant|cannot) get "
    r"(?:her|him|mum|mam|dad|them) to open) (?:her|his|their) eyes\b"
    # Shut against the light or a fright: "won't open her eyes because the light hurts".
    r"(?!\s+(?:because|cos|as|for|the light|in the light|on the|at the|properly))"
)
# "Can't even get soup or water down": cannot swallow it.
_CANT_GET_DOWN = re.compile(
    r"\b(?:can'?t|cant|cannot|struggling to|can barely|can hardly) (?:even )?get "
    r"(?:any |much |some )?((?:food|soup|water|drink|drinks|fluids|anything|yoghurt|yogurt|tea|"
    r"tablets)(?: or (?:food|soup|water|drink|drinks|fluids|yoghurt|yogurt|tea))?) down\b"
    r"(?!\s+(?:from|her|him|the|to)\b)"
)
# "They keep using different words and I'm confused": puzzled by what is said to them.
_PUZZLED_BY_WORDS = re.compile(
    r"(\b(?:using|use|used|uses|say|says|said|saying|call|calls|called)\b[^.?!]{0,20}?"
    r"\b(?:words|terms|jargon|names)\b[^.?!]{0,25}?"
    r"\b(?:i'?m|i am)\s+(?:so\s+|really\s+|a bit\s+|totally\s+|just\s+)?)confused\b"
)
# "Thought it was 1985", "thinks it's Christmas": lost in time, whoever the clause names.
_WRONG_TIME = re.compile(
    r"(?<!\bi )\b(?:thinks|thought|thinking)\s+(?:it'?s|it is|it was|its)\s+(?:19\d\d|20\d\d|"
    r"christmas|the (?:19|20)\d\ds|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b"
)
# "It isn't just a headache", "it isn't a small amount of blood": more, not denied.
_MORE_THAN = re.compile(
    r"\b(?:isn'?t|wasn'?t|is not|was not|not|it'?s not)\s+(?:just|only|a small amount of|"
    r"a little)\b"
)
# "I've got a bone scan next week": booked, not a sign the patient has.
_BOOKED = re.compile(
    r"\b(?:i'?ve got|i have got|i have|ive got|got)\s+(?=(?:a|an|my|the)\s+(?:[a-z-]+\s+)?"
    r"(?:scan|mri|ct|x-?ray|xray|biopsy|appointment|test|ultrasound|petscan)\b)"
)
# Numbers that fall, not a person who falls: "tumour markers have gone down".
_FELL = re.compile(
    r"\b(markers?|levels?|numbers?|counts?|calcium|temp|temperature|"
    r"weight|sugars?|readings?|results?|bloods?|bloodtest)\s+(?:have\s+|has\s+|had\s+)?"
    r"(?:gone|went|come|came)\s+down\b"
)
# A lump or tumour that went down shrank ("the swelling went down" is over, as it was).
_SHRANK = re.compile(
    r"\b(?:the |my |her |his )?(?:lumps?|tumou?rs?)\s+(?:have\s+|has\s+|had\s+)?"
    r"(?:gone|went|come|came)\s+down\b"
)
# The warmth and the feeling of wetting yourself that CT dye gives, described as such.
_DYE_FEELING = re.compile(
    r"\b(dye|contrast|injection)\b([^.?!]{0,40}?)\b(?:felt|feel|feeling)\s+(?:like|as if)\s+"
    r"(?:i'?d|i had|i have|i'?ve|you'?ve|you have|you'?d)\s+wet\s+(?:myself|yourself)"
)
_DYE_HEAT = re.compile(
    r"\b(dye|contrast)\b([^.?!]{0,40}?\b(?:made|makes|make|felt|feel|feeling|gives|gave)\b"
    r"[^.?!]{0,40}?)\b(?:boiling|burning|roasting|really|so|very)\s+hot\b(?!\s*,?\s*(?:red|swollen))"
)
# A question put straight after a time to come starts a clause of its own: "starting
# zoladex next month does the injection hurt" (and "face droopy with chemo tomorrow
# should I still go" still reports the face).
_ASKED_AFTER_WHEN = re.compile(
    r"\b(tomorrow|tmrw|next week|next month|next year|in a fortnight|in two weeks|"
    r"on (?:mon|tues|wednes|thurs|fri|satur|sun)day)\s+(?=(?:does|do|will|is|can|should|what|"
    r"how|when|am|are)\b)"
)
# A port or line put in, not a fit: "my port was fitted on Monday".
_FITTED = re.compile(
    r"\b(port|line|picc|hickman|cannula|stent|pacemaker|catheter|pump|device|it|one|wig|bra|"
    r"prosthesis|sleeve|garment|stockings?|lens|lenses|aid|boot|brace|collar)"
    r"((?: was| is| got| been| being| getting| has been| will be| to be)?) fitted\b"
)
_DASH_ASIDE = re.compile(
    r"\s[-\u2013]\s(?!(?:i|i'?ve|i'?m|she|he|she'?s|he'?s|mum|dad|my|her|his)\b)"
    r"([^-\u2013.?!]{1,40}?)\s[-\u2013]\s"
)
# What came off was a thing, not skin: "the tape on my hands came off", "my ring came off".
_CAME_LOOSE = re.compile(
    r"\b(tape|plaster|plasters|dressing|dressings|ring|rings|cap|sticker|bandage|wig|varnish|"
    r"sleeve|stocking|stockings|lid|label|button|strap|glasses|bra)\b([^.?!]{0,25}?)\b"
    r"(?:came|come|comes|coming) (?:off|away)\b"
)
# A fitting for a bra or a wig, not a fit; "she fitted for a few minutes" is a fit.
_FITTING = re.compile(
    r"\b(bra|wig|prosthesis|sleeve|garment|stocking|the|a|my|another|two|three|first|second|"
    r"next) fittings?\b"
)
_FITTED_FOR = re.compile(
    r"\bfitted (?:(?:me|her|him|us) )?for (?:(?:a|my|her|the|new|another) )*(?:[a-z]+ )?"
    r"(?=(?:bra|bras|wig|wigs|prosthesis|sleeve|garment|stockings?)\b)"
)
# "In the past half hour" is lately, not history.
_LATELY = re.compile(
    r"\bin the past (?=(?:(?:few|couple of|\d+|half an?|half|several|24|48) )?"
    r"(?:minutes?|mins?|hours?|hrs?|half hour|days?|nights?)\b)"
)
# "Eat almost nothing since ten days" (for ten days, as many first languages say it) is not
# "nothing since", which says it is over.
_SINCE_SPAN = re.compile(
    r"\b((?:eat|eats|eaten|eating|drink|drinks|drunk|drinking)(?: almost| hardly| next to)? "
    r"nothing) since ((?:\d+|a few|few|several|a couple of|two|three) (?:days?|weeks?))\b"
)
# "Swollen compared with last week" is now, worse than then.
_COMPARED = re.compile(r"\bcompared (?:with|to)\b")
# "Nothing has sorted it", "paracetamol isn't sorting it": the pain is not held down.
_NOT_SORTING = re.compile(
    r"\b(?:nothing|nothing's|not|n't|hasn't|haven't|isn't|aren't|doesn't|don't)"
    r"(?:\s+(?:has|have|is|really|fully|quite|even|properly))*\s+"
    r"(?:sorted|sorting|sorts?)\s+(it|the pain)\b"
    # Not the pain clinic's referral or the pain relief prescription.
    r"(?!\s+(?:clinic|relief|meds|medication|medicine|team|prescription|referral|management|"
    r"killers|killer|patch|patches|tablets|pump)\b)"
)
# Yellow gunk, pus or crust from an eye or a wound ("eyes gummed shut with sticky yellow
# stuff", "oozing yellowy stuff"), not yellow skin; unless what is yellow was just named
# ("she's turned yellow gunk in her eyes too" runs two things together).
_YELLOW_GUNK = re.compile(
    r"(?<!gone )(?<!turned )(?<!turning )(?<!going )(?<!look )(?<!looks )(?<!looking )"
    r"(?<!is )(?<!are )(?<!s )(?<!bit )(?<!very )(?<!quite )"
    r"\b(?:sticky )?(?:yellow|yellowy|yellowish) "
    r"(stuff|gunk|discharge|crust|crusts|goo|pus|gloop)\b"
)
# "Trouble passing urine, nothing since this morning": no urine since, not a sign over.
_NOTHING_PASSED = re.compile(
    r"\b((?:trouble|struggling|can't|cannot|unable to|hardly|barely|not able to) "
    r"(?:passing urine|passin urine|passing water|pass urine|pass water|weeing|peeing|to wee|"
    r"to pee))\b([^.!?]{0,30}?)"
    r"\bnothing since\b"
)
# A thing sworn at: "the car park at the RVI is a bleeding nightmare" ("my nose has been a
# bleeding nightmare all night" still bleeds).
_THING_SWORN_AT = re.compile(
    r"\b(car park|parking|traffic|machine|phone|phones|wifi|website|queue|queues|council|"
    r"bus|buses|train|trains|post|system|computer|app|transport|printer)\b"
    # Not when a part that bleeds comes between ("on the bus my nose was a bleeding ...").
    r"((?:(?!\b(?:nose|gums?|mouth|wound|bum|port|picc|line|site|cut|lip|ear)\b)[^.!?]){0,30}?)"
    r"\b(a|an) (?:absolute |total |complete )?(?:bleeding|bloody) (nightmare|joke|nuisance|farce)\b"
)
# Feeling sick is nausea, however long it lasts: "feel sick all the time" is one sign, not
# sickness counted as well ("been sick all day" is).
_FEEL_SICK = re.compile(
    r"\b(feel|feels|feeling|felt)\s+((?:(?:a bit|a little|bit|really|so|very|quite|proper|dead|"
    r"awful|terrible)\s+)*)(?:sick|sicky)\b(?!\s+(?:of|and tired|with)\b)"
)
# Predictive text for "chest": "crushing cheat pain", "cheat feels tight".
_CHEAT = re.compile(r"\bcheat(?=\s+(?:pains?|tight|tightness|hurts|feels|is tight)\b)")
# A rule asked about, not a sign: "and I can't eat from when?" before a scan.
_FASTING_ASKED = re.compile(
    r"\b(?:can't|cant|cannot|can not) (?:eat or drink|eat|drink)(?= (?:from when|from what time|"
    r"until when|till when)\b)"
)
# What a test was expected to be like: "she thought it was quick" (the wait after a jab).
_THOUGHT_IT_WAS_LIKE = re.compile(
    r"\b(?:thought|thinks|think) (?:it was|it'd be|it would be|it's|its) (?=(?:really |very |"
    r"quite |just )?(?:quick|quicker|short|shorter|longer|painless|easy|easier)\b)"
)
# Numbness at a scar or after the dentist is expected, not a stroke sign: "the scar on my
# right side is still numb", "numb down my left side of the scar".
_SCAR = (
    r"(?:scar|scars|wound|incision|op site|mastectomy|reconstruction|dentist|filling|"
    r"injection site)"
)
_SCAR_NUMB = re.compile(
    rf"\b{_SCAR}\b[^.!?]{{0,40}}?\bnumb(?:ness)?\b|\bnumb(?:ness)?\b(?=[^.!?]{{0,40}}?\b{_SCAR}\b)"
)


def _not_numb(m: re.Match[str]) -> str:
    return re.sub(r"\bnumb(?:ness)?\b", "odd", m.group(0))


# Rewritten in this order before reading, each to the plain words it means.
_REWRITES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (_CHEAT, "chest"),
    (_SCAR_NUMB, _not_numb),
    (_FASTING_ASKED, "fast"),
    (_THOUGHT_IT_WAS_LIKE, "expected it to be "),
    (_MORE_THAN, "is more than"),
    (_NOTHING_PASSED, r"\1\2not passed urine since"),
    (_YELLOW_GUNK, r"sticky \1"),
    (_SWORE_AT, r"\1 "),
    (_THING_SWORN_AT, r"\1\2\3 \4"),
    (_FEEL_SICK, r"\1 \2nauseous"),
    (_THROUGH_UP, "threw up"),
    (_FOUND_DOWN, r"\1 collapsed on the floor"),
    (_EYES_SHUT, "won't wake"),
    (_CANT_GET_DOWN, r"can't swallow \1"),
    (_DASH_ASIDE, r" (\1) "),  # "her legs - both of them - have gone weak": as in brackets
    (_BOOKED, "booked for "),
    (_FITTED, r"\1\2 put in"),
    (_CAME_LOOSE, r"\1\2 came unstuck"),
    (_FITTING, r"\1 measuring"),
    (_FITTED_FOR, "measured for "),
    (_ASKED_AFTER_WHEN, r"\1, "),
    (_FELL, r"\1 fell"),
    (_SHRANK, "it shrank"),
    (_DYE_FEELING, r"\1\2felt a warm rush"),
    (_DYE_HEAT, r"\1\2warm"),
    (_PUZZLED_BY_WORDS, r"\1puzzled"),
    (_WRONG_TIME, "is lost in time"),
    (_LATELY, "in the last "),
    (_SINCE_SPAN, r"\1 for \2 now"),
    (_COMPARED, "than"),
    (_NOT_SORTING, r"not touching \1"),
)
_PET_SCAN = re.compile(r"\bpet[\s-]*(?:ct|scan)\b")
# A clause that starts with these tells of what the clause before named.
_IT = frozenset(tx.stem(w) for w in ["it", "it's", "its", "they", "they're", "this", "that"])


def _merge(into: Spans, more: Spans) -> None:
    for name, span in more.items():
        into[name] = into.get(name, frozenset()) | span


# Whose body part it is does not change the sign ("can't get her breath", "me chest"):
# concepts are matched with these left out, in the rules and in the message alike.
# Words that only add emphasis ("can't even swallow") are left out the same way.
POSSESSIVES = frozenset(
    ["my", "her", "his", "their", "your", "our", "me", "him", "them"]
    + [
        tx.stem(w)
        for w in [
            "even", "just", "actually", "totally", "completely", "absolutely", "literally",
            "quite",
        ]
    ]
)
# "myself", "herself": whose it is does not matter either ("wet herself").
REFLEXIVES = {"myself": "self", "herself": "self", "himself": "self", "themselves": "self"}


# One form for each negative ("hasn't been for a poo", "haven't been for a poo").
NEGATIVE_FORMS = {
    "hasn't": "haven't", "hadn't": "haven't", "didn't": "don't", "doesn't": "don't",
    "aren't": "isn't", "wasn't": "isn't", "weren't": "isn't", "couldn't": "can't",
    "wouldn't": "won't",
}
SAME_WORD = REFLEXIVES | {tx.stem(k): tx.stem(v) for k, v in NEGATIVE_FORMS.items()}


def plain(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Words without possessives, object pronouns and emphasis, for matching concepts."""
    return tuple(SAME_WORD.get(w, w) for w in words if w not in POSSESSIVES)


@dataclass(frozen=True)
class Category:
    """A UKONS-style symptom category: its grade, and what the reply says about it."""

    id: str
    grade: str  # life, red or amber
    reason: str
    advice: str
    repeats: bool = True  # counts towards "two different ambers" across a conversation
    just_over: bool = False  # still counts when it has only just stopped ("a fit, over now")

    @property
    def level(self) -> str:
        """The triage level this category's grade means."""
        return GRADES[self.grade]


@dataclass(frozen=True)
class Sign:
    """One warning sign: every entry in `all` must be present; it belongs to a category."""

    id: str
    category: str
    all: tuple[frozenset[str], ...]
    grade: str
    reason: str
    advice: str


@dataclass(frozen=True)
class Rule:
    """A category as the content check shows it: id, level, reason and advice."""

    id: str
    level: str
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
    category: str | None = None
    ambers: tuple[str, ...] = ()  # every amber category found, for repeat escalation
    asks: bool = False  # the message also asks something (for answer-then-safety-line)
    # An emergency or urgent sign named only in a question ("is chest pain a side effect?"):
    # its category, so the reply can say what to do if it is happening now.
    asked: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape: level and reason."""
        return {"level": self.level, "reason": self.reason}

    @property
    def worrying(self) -> bool:
        """True when a person should see this message."""
        return self.level != "none"


@dataclass(frozen=True)
class Rulebook:
    """Categories, concepts, compounds and signs loaded from the clinician-reviewed YAML."""

    categories: dict[str, Category]
    concepts: dict[str, tuple[tuple[str, ...], ...]]
    compounds: dict[str, tuple[frozenset[str], ...]]
    not_followed_by: dict[str, frozenset[str]]
    signs: tuple[Sign, ...]
    corrector: tx.Corrector
    reviewed: str = ""
    review_due: str = ""
    two_ambers: Category | None = None
    context: frozenset[str] = frozenset()
    idioms: dict[str, str] = field(default_factory=dict)  # figure of speech -> plain words
    asked_too: frozenset[str] = frozenset()  # concepts that are signs even when asked about
    _by_first: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    _by_phrase: dict[tuple[str, ...], tuple[str, ...]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )
    _lengths_by_first: dict[str, tuple[int, ...]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )
    _signs_by_concept: dict[str, tuple[int, ...]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )
    _compound_parts: dict[str, frozenset[str]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )
    _idiom_pattern: re.Pattern[str] | None = field(
        init=False, default=None, repr=False, compare=False
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
        signs: dict[str, list[int]] = {}
        for i, sign in enumerate(self.signs):
            for concept in sign.all[0]:  # a sign is present only if its first entry is
                signs.setdefault(concept, []).append(i)
        object.__setattr__(self, "_signs_by_concept", {k: tuple(v) for k, v in signs.items()})
        parts = {name: frozenset().union(*entries) for name, entries in self.compounds.items()}
        object.__setattr__(self, "_compound_parts", parts)
        if self.idioms:
            # One pass over the text for all of them, longest first ("sick as a dog").
            alternatives = sorted(self.idioms, key=len, reverse=True)
            pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, alternatives)) + r")\b")
            object.__setattr__(self, "_idiom_pattern", pattern)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every sign with its level, reason and advice (what a reply can say), once each."""
        out: dict[tuple[str, str], Rule] = {}
        for s in self.signs:
            level = GRADES[s.grade]
            out.setdefault((level, s.advice), Rule(s.id, level, s.reason, s.advice))
        if (two := self.two_ambers) is not None:
            out[(two.level, two.advice)] = Rule(two.id, two.level, two.reason, two.advice)
        return tuple(out.values())

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> Rulebook:
        """Read and check the rules file."""
        raw = load_yaml(path)
        categories = {}
        for cid, c in raw["categories"].items():
            if c["grade"] not in GRADES:
                raise ValueError(f"category {cid}: unknown grade {c['grade']!r}")
            categories[cid] = Category(
                cid, c["grade"], c["reason"], c["advice"], bool(c.get("repeats", True)),
                bool(c.get("just_over", False)),
            )
        two = raw.get("two_ambers")
        two_ambers = Category("two_ambers", "red", two["reason"], two["advice"]) if two else None
        concepts = {
            name: tuple(plain(tx.phrase(str(p))) for p in phrases)
            for name, phrases in raw["concepts"].items()
        }
        known = set(concepts) | {"abnormal_temperature", "normal_temperature"}
        compounds: dict[str, tuple[frozenset[str], ...]] = {}
        for name, parts in (raw.get("compounds") or {}).items():
            entries = tuple(frozenset(str(p).split("|")) for p in parts)
            for entry in entries:
                if missing := entry - known:
                    raise ValueError(f"compound {name}: unknown concept {sorted(missing)}")
            # Compounds may build on concepts and on compounds listed before them.
            compounds[name] = entries
            known.add(name)
        signs = []
        for s in raw["signs"]:
            if s["category"] not in categories:
                raise ValueError(f"sign {s['id']}: unknown category {s['category']!r}")
            entries = tuple(frozenset(str(e).split("|")) for e in s["all"] or ())
            if not entries:
                raise ValueError(f"sign {s['id']}: needs at least one concept in 'all'")
            for entry in entries:
                if missing := entry - known:
                    raise ValueError(f"sign {s['id']}: unknown concept {sorted(missing)}")
            grade = s.get("grade") or categories[s["category"]].grade
            if grade not in GRADES:
                raise ValueError(f"sign {s['id']}: unknown grade {grade!r}")
            cat = categories[s["category"]]
            signs.append(
                Sign(
                    s["id"], cat.id, entries, grade,
                    str(s.get("reason") or cat.reason), str(s.get("advice") or cat.advice),
                )
            )
        # The corrector knows the concepts' words, and the words the reading itself looks
        # for ("she's the paitent" is about the patient).
        words = {
            w
            for phrases in [*raw["concepts"].values(), raw.get("reading_words") or ()]
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
        order = {"life": 0, "red": 1, "amber": 2}
        context = frozenset(str(c) for c in raw.get("context") or ())
        if missing := context - set(concepts):
            raise ValueError(f"context: unknown concept {sorted(missing)}")
        idioms = {str(k): str(v) for k, v in (raw.get("idioms") or {}).items()}
        asked_too = frozenset(str(c) for c in raw.get("asked_too") or ())
        if missing := asked_too - set(concepts) - set(compounds):
            raise ValueError(f"asked_too: unknown concept {sorted(missing)}")
        return cls(
            categories,
            concepts,
            compounds,
            not_followed_by,
            # Most urgent first; within a grade, the order the signs are listed in.
            tuple(sorted(signs, key=lambda sign: order[sign.grade])),
            tx.Corrector.of(words),
            str(raw.get("reviewed", "")),
            str(raw.get("review_due", "")),
            two_ambers,
            context,
            idioms,
            asked_too,
            by_first,
        )

    def read(self, message: str) -> rd.Reading:
        """The message read once: sentences and clauses in corrected, stemmed words."""
        # "tummy's swelling", "the dog's been sick": the noun is what matters.
        cleaned = _POSSESSIVE_S.sub(r"\1", words_to_digits(tx.clean(message or "")))
        cleaned = _FILLERS.sub("", cleaned)  # a speaker's "um", "er" between words
        cleaned = _IN_CASE.sub("incase", cleaned)  # one word, as "if" is
        cleaned = _PET_SCAN.sub("petscan", cleaned)  # the test, not an animal
        # "... or breast cancer treatment? Confused": puzzled by the question, not a
        # confused mind; only when the question was about a test or treatment.
        if _PUZZLED.search(cleaned):
            asked_of = cleaned[: cleaned.rfind("?")]
            if rd.contains(self.corrector.words(asked_of), rd.PROCEDURES):
                cleaned = _PUZZLED.sub(r"\1 puzzled", cleaned)
        for pattern, plain_words in _REWRITES:
            cleaned = pattern.sub(plain_words, cleaned)
        cleaned = _TIMES.sub(_times, cleaned)
        if self._idiom_pattern is not None:
            cleaned = self._idiom_pattern.sub(lambda m: self.idioms[m.group(0)], cleaned)
        return rd.read(cleaned, self.corrector.words)

    def assess(self, message: str) -> Result:
        """Triage one message: the most urgent sign found, two ambers as urgent, or none."""
        return self.assess_reading(self.read(message))

    def assess_reading(self, reading: rd.Reading) -> Result:
        """Triage a message already read."""
        # Each concept found, with the word positions it was found at: two signs count
        # as two only when they rest on different words ("gritty and sore eyes" is one).
        present: Spans = {}
        asked: Spans = {}  # concepts named in questions about now, not reported
        pending: Spans = {}  # the last such question's, for what the next sentence tells
        readings: list[float] = []
        offset = 0
        for sentence in reading.sentences:
            previous: Spans = {}
            before_last: Spans = {}
            # Whether this sentence tells of something happening now, with a sign's words.
            tells_now = tells_sign = False
            asked_here = False
            for clause in sentence.clauses:
                at, offset = offset, offset + len(clause.words) + 1
                if clause.other:
                    if clause.kin and not (clause.past or clause.over or clause.asks):
                        _merge(present, self._life_threatening(clause.words, at))
                    continue
                if not clause.past and not clause.over:
                    readings += self._temperatures(clause)
                found = self._concepts_in(clause.words, at)
                telling = not (clause.past or clause.over or clause.asks)
                told_of: Spans = {}
                if pending and telling and not rd.contains(clause.words, rd.STRICT_FUTURE):
                    tells_now = tells_now or rd.contains(clause.words, rd.WHEN_NOW)
                    tells_sign = tells_sign or any(c not in self.context for c in found)
                    if rd.contains(clause.words, rd.TOLD_OF) or (
                        clause.words[0] in _IT and found
                    ):
                        # "Is chest pain a side effect? I have it now", "should the biopsy
                        # site smell? it's a bit pus-y": what the question named is what
                        # they tell of, and may complete it ("a nosebleed...? it's been
                        # going an hour").
                        _merge(present, pending)
                        told_of = pending
                if not found:
                    if not clause.aside:  # "her legs (both of them) have gone weak"
                        previous, before_last = {}, {}
                    continue
                # What the patient is on or has ("started everolimus 2 months ago") is
                # context for what they report now, even when said in passing.
                _merge(present, {c: v for c, v in found.items() if c in self.context})
                # "She had a fit, it's stopped now": some signs need help even once over,
                # while it is still the same day.
                if (
                    (clause.past or clause.over)
                    and not clause.asks
                    and rd.contains(sentence.words, rd.JUST_NOW)
                    and not rd.contains(sentence.words, rd.PAST)
                    and not rd.contains(sentence.words, rd.NOT_JUST)
                ):
                    just = self._joined(found, {})
                    _merge(present, {c: v for c, v in just.items() if self._just_over(c)})
                if clause.past or clause.over or clause.asks:
                    joined = self._joined(found, {}) if clause.asks else {}
                    # "How many would it take to not wake up" is the sign itself.
                    _merge(present, {c: v for c, v in joined.items() if c in self.asked_too})
                    # Asked about now, not what is to come ("will radiotherapy make me
                    # breathless"): the reply says what to do if it is happening.
                    now = not (clause.past or clause.over or rd.contains(clause.words, rd.TO_COME))
                    if clause.asks and now:
                        pending, asked_here = joined, True
                        # A question about a test or treatment names a sign only when it
                        # asks what causes what ("is breathlessness a side effect of
                        # radiotherapy"); "PET scan Monday, when do I have to stop eating"
                        # names none, though "have to stop" is a sign's words.
                        about_test = rd.contains(sentence.words, rd.PROCEDURES)
                        if not about_test or rd.contains(clause.words, rd.CAUSES):
                            _merge(asked, pending)
                    previous, before_last = {}, {}
                    continue
                if "sugar" in found and _sugar_out_of_range(clause.text):
                    found["sugar_bad"] = found["sugar"]
                found = self._joined(found, {**told_of, **previous})
                # The clause before and this one are what the next clause may draw on.
                last = {c: v for c, v in found.items() if c not in self.context}
                previous = {**before_last, **last}
                before_last = last
                _merge(present, found)
            if pending and not asked_here:
                # "Is blood in your poo a side effect? Bright red in the pan this morning":
                # the next sentence tells of it happening now, in a sign's words.
                if tells_now and tells_sign:
                    _merge(present, pending)
                pending = {}
        if any(t >= FEVER_C or t < LOW_C for t in readings):
            present["abnormal_temperature"] = frozenset([-1])
        elif readings:
            present["normal_temperature"] = frozenset([-1])
        result = self._grade(present, tuple(readings))
        clauses = [c for sentence in reading.sentences for c in sentence.clauses]
        if any(c.asks or rd.puts_a_question(c.words) for c in clauses):
            result = replace(result, asks=True)
        if asked:
            context = {c: v for c, v in present.items() if c in self.context}
            named = self._grade({**context, **asked}, ())
            # A serious sign asked about, more urgent than anything reported ("my mouth is
            # sore. can chemo cause chest pain?"); two mild ones asked about name none.
            serious = named.level in ("emergency", "urgent") and RANK[named.level] < RANK[
                result.level
            ]
            if serious and named.category in self.categories:
                result = replace(result, asked=named.category)
        return result

    def _life_threatening(self, words: tuple[str, ...], at: int) -> Spans:
        """A clause's concepts when they make an emergency, else none.

        A son or daughter may be the patient, written about by a parent ("my daughter is
        shaking all over, she can't hear me"); read as someone else's, a lesser sign is
        theirs, but one that needs an ambulance for anyone is not passed over.
        """
        joined = self._joined(self._concepts_in(words, at), {})
        return joined if self._grade(joined, ()).level == "emergency" else {}

    def _just_over(self, concept: str) -> bool:
        """True when a sign resting on this concept still counts once just over."""
        return any(
            self.categories[self.signs[i].category].just_over
            for i in self._signs_by_concept.get(concept, ())
        )

    def _joined(self, found: Spans, previous: Spans) -> Spans:
        """A clause's concepts with the compounds they make, drawing on the clause before."""
        # A sign described over two clauses ("like an elephant sat on me, centre of my
        # chest") is one sign: compounds may take parts from the clause before.
        found = dict(found)
        near = {**previous, **found}
        for name, entries in self.compounds.items():
            if not self._compound_parts[name] & found.keys():
                continue  # most compounds share nothing with a clause
            if all(entry & found.keys() for entry in entries) or (
                any(entry & found.keys() for entry in entries)
                and all(entry & near.keys() for entry in entries)
            ):
                parts = (near[c] for e in entries for c in e & near.keys())
                found[name] = near[name] = frozenset().union(*parts)
        return found

    def _temperatures(self, clause: rd.Clause) -> list[float]:
        # A number is read even in a question: "is 37.8 high?" is usually asked by
        # someone whose thermometer says 37.8.
        out: list[float] = []
        found = read_temperatures(clause.text, bool(TEMPERATURE_WORDS & set(clause.words)))
        if _ALTERNATIVES.search(clause.text):
            return out  # "what counts as high, 37.5 or 38?" compares thresholds
        for value, start in found:
            lead = self.corrector.words(clause.text[:start])
            if rd.hypothetical_start(lead) > len(lead):
                out.append(value)
        return out

    def _grade(self, present: Spans, readings: tuple[float, ...]) -> Result:
        names = present.keys()
        candidates = sorted({i for c in names for i in self._signs_by_concept.get(c, ())})
        found = [s for s in (self.signs[i] for i in candidates) if all(e & names for e in s.all)]
        concepts = tuple(sorted(names))
        if not found:
            return Result("none", "No warning signs found", None, "", concepts, readings)
        top = found[0]
        ambers = self._different_ambers(found, present)
        if top.grade == "amber" and len(ambers) >= 2 and self.two_ambers is not None:
            names_ = " and ".join(self.categories[a].reason.lower() for a in ambers[:2])
            return Result(
                "urgent",
                f"{self.two_ambers.reason}: {names_}",
                "two_ambers",
                self.two_ambers.advice,
                concepts,
                readings,
                "two_ambers",
                tuple(ambers),
            )
        return Result(
            GRADES[top.grade], top.reason, top.id, top.advice, concepts, readings, top.category,
            tuple(ambers),
        )

    def _different_ambers(self, found: list[Sign], present: Spans) -> list[str]:
        """Amber categories that rest on words of their own, the most specific sign first."""
        spans = [
            (s, frozenset().union(*(present[c] for e in s.all for c in e & present.keys())))
            for s in found
            if s.grade == "amber"
        ]
        # Words two categories share ("off her food": not eating, or appetite) count for the
        # one the rest of the message also names ("... and lost weight"): one sign, not two.
        named = Counter(sign.category for sign, _ in spans)
        spans.sort(key=lambda pair: (-len(pair[1]), -named[pair[0].category]))
        taken: set[int] = set()
        out: list[str] = []
        for sign, span in spans:
            if span <= taken:
                continue
            if sign.category not in out:
                out.append(sign.category)
            taken |= span  # words a category's sign rests on are that category's
        return out

    def _concepts_in(self, clause: tuple[str, ...], at: int) -> Spans:
        words = plain(clause)
        found: Spans = {}
        # Judged on the words as written: "worried about the pain in my chest" says whose
        # it is with the "my" that matching leaves out.
        raw_from = rd.hypothetical_start(clause)
        hypothetical_from = (
            sum(1 for w in clause[:raw_from] if w not in POSSESSIVES)
            if raw_from <= len(clause)
            else len(words) + 1
        )
        for i, w in enumerate(words):
            lengths = self._lengths_by_first.get(w)
            if lengths is None:
                continue
            # One slice per phrase length, not one per phrase: "pain" starts dozens.
            for n in lengths:
                if i + n > len(words):
                    break  # lengths are sorted; a shorter slice would pose as a phrase
                for name in self._by_phrase.get(tuple(words[i : i + n]), ()):
                    # "If I took all my morphine would it kill me" is the sign itself.
                    supposed = i >= hypothetical_from and name not in self.asked_too
                    if supposed or rd.negated(words, i):
                        continue
                    after = words[i + n] if i + n < len(words) else ""
                    if after not in self.not_followed_by.get(name, ()):
                        span = frozenset(range(at + i, at + i + n))
                        found[name] = found.get(name, frozenset()) | span
        return found


_UNITS = {
    w: i
    for i, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
}
_TEENS = (
    [
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen",
    ]
)
_WORD_NUMBER = re.compile(
    r"\b(twenty|thirty|forty|ninety|hundred|" + "|".join(_TEENS) + r")"
    r"(?:[\s-]+(one|two|three|four|five|six|seven|eight|nine))?"
    r"(?:\s+point\s+((?:zero|one|two|three|four|five|six|seven|eight|nine)"
    r"(?:\s+(?:zero|one|two|three|four|five|six|seven|eight|nine))?))?\b"
)
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "ninety": 90, "hundred": 100} | {
    w: 10 + i for i, w in enumerate(_TEENS)
}


def _digits(m: re.Match[str]) -> str:
    if m.group(1) in _TEENS and m.group(2):
        return m.group(0)  # "nineteen ninety" is a year, not a sum
    value = str(_TENS[m.group(1)] + (_UNITS[m.group(2)] if m.group(2) else 0))
    if m.group(3):
        value += "." + "".join(str(_UNITS[w]) for w in m.group(3).split())
    return value


def words_to_digits(cleaned: str) -> str:
    """'thirty eight point five' -> '38.5', so spoken and typed-out temperatures are read."""
    return _WORD_NUMBER.sub(_digits, cleaned)


_DECIMAL_TEMP = re.compile(r"\b3[4-9][.,]\d\b|\b4[0-2][.,]\d\b")


def read_temperatures(cleaned: str, about_temperature: bool = False) -> list[tuple[float, int]]:
    """Temperatures in Celsius in cleaned text that are not negated, with their positions.

    `about_temperature` says the text names a temperature in a way the patterns here
    cannot see (a misspelling the corrector mended: "tepmerature 38").
    """
    context = about_temperature or _TEMP_CONTEXT.search(cleaned)
    if not context and not _DECIMAL_TEMP.search(cleaned):
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
            named = re.search(r"temp|temperature|fever|thermometer|degrees|°|º", window)
            if not (named or about_temperature):
                continue
        before = tx.tokens(cleaned[max(0, m.start() - 25) : m.start()])[-3:]
        if not any(b in NEGATORS for b in before):
            found.append((value, m.start()))
    return found


TEMPERATURE_WORDS = frozenset(tx.stem(w) for w in ["temperature", "thermometer", "fever"])
_FILLERS = re.compile(r"\b(?:um+|erm+|uh+m*|er)\b(?!\s*(?:positive|negative|pos|neg|\+|status))")
_ALTERNATIVES = re.compile(r"\d\s*(?:c|°c?)?\s+or\s+\d")
_POSSESSIVE_S = re.compile(
    r"\b(?!(?:she|he|it|that|what|there|here|who|let|where|how|when|everything|nothing)'s\b)"
    r"([a-z]+)'s\b"
)
# "10x", "9 times": how often something happened, as words the rules can weigh.
_COUNT_WORDS = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve",
]
_TIMES = re.compile(r"\b(\d{1,2}|" + "|".join(_COUNT_WORDS) + r")\s*(?:x|times)\b")


def _times(m: re.Match[str]) -> str:
    n = int(m.group(1)) if m.group(1).isdigit() else _COUNT_WORDS.index(m.group(1)) + 1
    return m.group(0) + (" many times" if n >= 7 else " several times" if n >= 4 else "")


_SUGAR_NUMBER = re.compile(
    r"(?<![\d.])(?<!type )(\d{1,2}(?:[.,]\d)?)"
    # ...but not a dose, a time or a count.
    r"(?![\d.]*\s*(?:%|am|pm|mg|ml|units?|kg|hours?|days?|times|years?|weeks?|mins?|minutes))"
)


def _sugar_out_of_range(text: str) -> bool:
    """True when a blood sugar reading in text is low (under 4) or high (15 or over, mmol/L)."""
    for m in _SUGAR_NUMBER.finditer(text):
        value = float(m.group(1).replace(",", "."))
        if 0 < value < 4.0 or 15.0 <= value < 34.0:  # 34 and up is a temperature
            return True
    return False


@lru_cache(maxsize=1)
def default_rulebook() -> Rulebook:
    """The rulebook shipped in flows/content/triage.yaml, loaded once."""
    return Rulebook.load()


def assess(message: str) -> Result:
    """Triage one message with the shipped rules."""
    return default_rulebook().assess(message)
