"""Replies to a reminder: confirm, rearrange, or anything else for the text line."""

from __future__ import annotations

import re

_YES = frozenset({"c", "y", "yes", "yeah", "yep", "yup", "ok", "okay", "confirm", "confirmed"})
_CONFIRM = frozenset(
    {
        "confirming",
        "will do",
        "will be there",
        "ill be there",
        "see you then",
        "can make it",
        "can come",
        "will come",
        "will attend",
        "attending",
        "coming",
        "we are coming",
        "were coming",
    }
)
_REARRANGE = frozenset(
    {
        "r",
        "rearrange",
        "re arrange",
        "rearrange it",
        "rearrange my appointment",
        "reschedule",
        "re schedule",
        "change",
        "change it",
        "change date",
        "change time",
        "change the date",
        "change the time",
        "change appointment",
        "change my appointment",
        "change the appointment",
        "new date",
        "new time",
        "another day",
        "another date",
        "another time",
        "different day",
        "different date",
        "different time",
        "cant make it",
        "cannot make it",
        "can not make it",
        "wont make it",
        "cant come",
        "cannot come",
        "can not come",
        "cant go",
        "cannot go",
        "cant attend",
        "cannot attend",
        "unable to attend",
        "unable to come",
        "not able to come",
        "need to rearrange",
        "need to change",
        "need to change it",
        "can i rearrange",
        "can we rearrange",
        "can i change it",
        "can we change it",
    }
)
# Politeness at either end changes nothing: "Yes thanks x", "Sorry, I can't make it".
_FILLER = frozenset(
    {
        "hi",
        "hello",
        "hiya",
        "sorry",
        "please",
        "pls",
        "plz",
        "thanks",
        "thank",
        "you",
        "thankyou",
        "thx",
        "ta",
        "cheers",
        "x",
        "xx",
        "xxx",
        "many",
        "so",
        "much",
        "very",
        "afraid",
        "unfortunately",
        "im",
        "i",
        "a",
        "lot",
        "again",
        "love",
        "great",
        "lovely",
        "actually",
        "just",
        "oh",
        "ah",
        # An acknowledgement before the answer: "right, yes I'll be there".
        "right",
        # Passing on the patient's answer: "she says yes, she'll be there".
        "says",
        "said",
        "alright",
        "well",
        # "I can't do Weds anymore": no longer, which changes nothing.
        "anymore",
    }
)
_MAX_WORDS = 24  # a longer message is a conversation, not a keyword


def classify_reply(text: str) -> str | None:
    """Read a reply to a reminder: "confirm", "rearrange", or None for anything else.

    Each clause is read on its own: a yes, a "can't come", a request to move it, another
    day proposed, a reason ("got a funeral that day"), or politeness. Anything else in the
    message (a symptom, a question) sends it all to the ordinary text line, and so through
    triage, rather than being taken as a keyword.
    """
    plain = text.lower().replace("'", "").replace("\u2019", "")
    spaced = re.sub(r"([,.;!?])", r" \1 ", re.sub(r"[^a-z0-9,.;!?]+", " ", plain))
    tokens = [t for t in spaced.split() if t not in _SPOKEN]
    if not tokens or sum(t.isalnum() for t in tokens) > _MAX_WORDS:
        return None
    kinds = [_clause(c) for c in _CLAUSES.split(" ".join(tokens))]
    kinds = [k for k in kinds if k != "polite"]
    if not kinds or "other" in kinds:
        return None
    if "rearrange" in kinds and "confirm" not in kinds:
        return "rearrange"
    if set(kinds) == {"confirm"}:
        return "confirm"
    return None


def _clause(clause: str) -> str:
    """What one clause of a reply says: confirm, rearrange, no, reason, polite or other."""
    tokens = _trim([t for t in re.findall(r"[a-z0-9]+", clause)])
    if not tokens:
        return "polite"
    core = _trim(_without_request(tokens))
    if not core:
        return "polite"
    said = " ".join(core)
    if set(core) <= _YES or (set(core) <= _YES | _AGREE and set(core) & _YES):
        return "confirm"
    rest = " ".join(_trim(core[1:]))
    if core[0] in _YES and rest in _CONFIRM or said in _CONFIRM:
        return "confirm"
    if set(core) <= _YES | _AGREE | _ATTEND and any(p.search(said) for p in _ATTENDING):
        return "confirm"
    if said in _REARRANGE or _moves(core) or _cannot_come(core) or _proposes(core):
        return "rearrange"
    if said == "no":
        return "no"
    if len(core) <= 10 and set(core) & _REASONS and not _NOT_A_REASON.search(said):
        return "reason"
    return "other"


def _moves(core: list[str]) -> bool:
    """ "Need to move it", "can we change the date": a verb of moving, about the booking."""
    for i, t in enumerate(core):
        if t in _MOVE_VERBS:
            return all(w in _BOOKING for w in core[i + 1 :]) and all(
                w in _BOOKING | _REQUEST_WORDS for w in core[:i]
            )
    return False


def _cannot_come(core: list[str]) -> bool:
    """ "Won't be able to come on Friday": not coming, about the booking only."""
    said = " ".join(core)
    m = _NOT_COMING.search(said)
    if m is None:
        return False
    rest = said[m.end() :].split()
    # "Can't make Thurs, it's my grandson's wedding": the day, then why.
    why = bool(set(rest) & _REASONS) and not _NOT_A_REASON.search(" ".join(rest))
    return why or all(_booking(w) for w in rest)


def _proposes(core: list[str]) -> bool:
    """ "Friday would be better", "any day next week is fine": another time proposed."""
    said = " ".join(core)
    return _OTHER_TIME.search(said) is not None and all(
        w in _YES or w in _PROPOSING or _booking(w) for w in core
    )


def _booking(word: str) -> bool:
    """True for a word about the booking itself, a clock time among them ("9am", "2")."""
    return word in _BOOKING or _CLOCK.fullmatch(word) is not None


_CLAUSES = re.compile(r"\s*(?:[,.;!?]+|\bbut\b|\band\b|\bcos\b|\bbecause\b|\bas\b)\s*")
# Coming after all: "ill be there", "see you then", "yes ill come".
_ATTEND = frozenset(["ill", "i", "will", "be", "there", "shell", "she", "hell", "he", "they",
                     "theyll", "says", "said", "yes", "put", "us", "me", "her", "him", "down",
                     "as", "count", "in", "please", "come", "coming", "attend", "make",
                     "it", "definitely", "sure", "booked", "noted", "got", "sounds", "good",
                     "brilliant", "perfect", "fine", "ok", "okay", "can", "am", "im", "we",
                     "well", "both", "on", "the", "day", "then", "that", "u", "c", "cu",
                     "grand", "brill", "champion", "sorted", "monday", "tuesday", "wednesday",
                     "thursday", "friday", "saturday", "sunday", "mon", "tue", "tues", "wed",
                     "weds", "thu", "thur", "thurs", "fri", "sat", "sun", "tomorrow", "tmrw",
                     "morning", "afternoon"])
_ATTENDING = (
    re.compile(r"\b(ill|i will|i can|we will|well|i am|im|shell|she will|hell|he will|"
               r"theyll|they will) (definitely |both |all )?"
               r"(be there|come|attend|make it)\b"),
    re.compile(r"\b(put (me|us|her|him) down|count (me|us) in|"
               r"see you|see u|c u|cu|sounds good|all good|thats fine|that is fine|fine|"
               r"perfect|noted|grand|brill|brilliant|champion|sorted)\b"),
)
_MOVE_VERBS = frozenset(["move", "change", "rearrange", "reschedule", "postpone", "swap",
                         "rebook", "reorganise", "reorganize", "shift",
                         # "can it be moved"
                         "moved", "changed", "rearranged", "rescheduled", "postponed",
                         "swapped", "rebooked", "put"])
# Words about the booking itself, or a day: what a request to move it may name.
_BOOKING = frozenset(
    ["it", "the", "my", "our", "her", "his", "this", "that", "appointment", "appt", "date",
     "time", "day", "scan", "test", "one", "booking", "to", "a", "an", "another", "different",
     "other", "later", "earlier", "please", "pls", "if", "possible", "on", "at", "in", "for",
     "next", "week", "this", "morning", "afternoon", "evening", "then", "monday", "tuesday",
     "wednesday", "thursday", "friday", "saturday", "sunday", "tomorrow", "today", "mon",
     "tues", "weds", "wed", "thurs", "fri", "sat", "sun", "instead", "new", "there", "again",
     "biopsy", "mri", "ct", "pet", "x", "ray", "xray", "blood", "bone", "ultrasound", "of",
     "me", "us", "forward", "back", "off"]
)
_REQUEST_WORDS = frozenset(["can", "could", "i", "we", "need", "to", "want", "would", "like",
                            "id", "have", "ill", "please", "will", "you", "may", "is", "it",
                            "possible", "actually", "just", "going", "gonna", "got", "be"])
_NOT_COMING = re.compile(
    r"\b(cant|cannot|can not|wont|couldnt|unable to|not able to|not be able to|wont be able to|"
    r"not going to be able to|not gonna|not going to|able to) (make|come|go|attend|get there|"
    r"do|manage|be there)\b"
)
# "Can't do 9am", "could I come at 2 instead": a time of day is part of the booking.
_CLOCK = re.compile(r"\d{1,2}(?:\d{2})?(?:am|pm)?|noon|midday|oclock|half|past|quarter")
_OTHER_TIME = re.compile(
    r"\b(would be better|be better|works better|suits me better|suit me better|instead|"
    r"any day|any other day|another day|different day|other day|prefer|rather|"
    r"(later|earlier) (date|time|day|one|appointment|in the)|something (later|earlier))\b"
)
_PROPOSING = frozenset(["would", "be", "better", "is", "fine", "ok", "suits", "suit", "works",
                        "work", "any", "do", "can", "could", "we", "i", "id", "come", "prefer",
                        "rather", "good", "for", "me", "us", "great", "best"])
# Why they cannot come: said beside a request to move it, it changes nothing.
_REASONS = frozenset(["funeral", "wedding", "holiday", "holidays", "work", "working",
                      "shift", "shifts", "school", "childcare", "dentist", "busy", "abroad",
                      "visiting", "birthday", "christening", "interview", "exam", "exams",
                      "caring", "carer", "travelling", "appointment", "clash", "clashes",
                      "transport", "car", "lift", "taxi", "bus", "train", "drive", "driving",
                      "babysitter", "childminder"])
# Not a reason to move a date but news for a person to read: a death, an illness, a fall,
# a stay in hospital ("she passed away", "off work with a chest infection").
_NOT_A_REASON = re.compile(
    r"\b(?:passed|died|dead|death|admitted|ward|hospice|ill|unwell|poorly|sick|infection|"
    r"fall|fell|pain|temperature|temp|fever|breathless|bleeding|hospital(?! transport))\b"
)


# Said around a yes without changing it: "yeah that's fine, see you then".
_AGREE = frozenset(["thats", "fine", "great", "lovely", "perfect", "see", "you", "then",
                    "will", "be", "there", "all", "good", "thanks", "thank"])
# A speaker's fillers, and the ways of asking that wrap "change the date".
_SPOKEN = frozenset(["um", "umm", "er", "erm", "uh", "uhm"])
_REQUESTS = (
    ("i", "need", "to"), ("need", "to"), ("can", "i"), ("can", "we"), ("could", "i"),
    ("could", "we"), ("id", "like", "to"), ("i", "would", "like", "to"), ("i", "want", "to"),
    ("please",), ("i", "have", "to"), ("ill", "have", "to"), ("i", "will", "have", "to"),
)
_DAY = frozenset(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "tomorrow",
     "then", "that", "day", "time", "on", "the", "appointment", "appt", "scan", "it", "mon",
     "tue", "tues", "wed", "weds", "thu", "thur", "thurs", "fri", "sat", "sun", "tmrw"]
)


def _without_request(tokens: list[str]) -> list[str]:
    """ "I need to change the date" is "change the date"; "can't make it on Thursday" is
    "can't make it"; repeated words ("that's that's fine") count once."""
    out = [t for i, t in enumerate(tokens) if i == 0 or t != tokens[i - 1]]
    for prefix in sorted(_REQUESTS, key=len, reverse=True):
        if tuple(out[: len(prefix)]) == prefix:
            out = out[len(prefix):]
            break
    if out[:1] == ["i"] and out[1:2] in (["cant"], ["cannot"], ["wont"]):
        out = out[1:]
    if out[:2] in (["cant", "make"], ["cannot", "make"], ["wont", "make"]) and all(
        t in _DAY for t in out[2:]
    ):
        return ["cant", "make", "it"]
    return out


def _trim(tokens: list[str]) -> list[str]:
    """Drop politeness and "I" from both ends of a reply."""
    start, end = 0, len(tokens)
    while end > start and tokens[end - 1] in _FILLER:
        end -= 1
    while start < end and tokens[start] in _FILLER:
        start += 1
    return tokens[start:end]
