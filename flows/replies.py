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
    }
)
_MAX_WORDS = 8  # a longer message is a conversation, not a keyword


def classify_reply(text: str) -> str | None:
    """Read a reply to a reminder: "confirm", "rearrange", or None for anything else.

    Deliberately narrow: a message that says more than yes or "I can't come" goes to the
    ordinary text line, and so through triage, rather than being taken as a keyword.
    """
    plain = text.lower().replace("'", "").replace("\u2019", "")
    tokens = [t for t in re.sub(r"[^a-z0-9]+", " ", plain).split() if t not in _SPOKEN]
    if len(tokens) > _MAX_WORDS:
        return None
    core = _trim(_without_request(_trim(tokens)))
    if not core:
        return None
    if set(core) <= _YES or (set(core) <= _YES | _AGREE and set(core) & _YES):
        return "confirm"
    rest = " ".join(_trim(core[1:]))
    if core[0] in _YES and rest in _CONFIRM or " ".join(core) in _CONFIRM:
        return "confirm"
    if core[0] == "no" and rest in _REARRANGE or " ".join(core) in _REARRANGE:
        return "rearrange"
    return None


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
     "then", "that", "day", "time", "on", "the", "appointment", "appt", "scan", "it"]
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
