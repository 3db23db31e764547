"""Escalation across a conversation, for the text line and the phone line alike.

Triage grades one message. The UKONS toolkit also grades what came before: a second
amber sign within 24 hours (a different one, or the same one again) is urgent. Feelings
and questions are not signs, so they never get this far. Each worry is kept as
"<ISO time> <category,...>" so the next message can tell what was already reported.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from flows.conversation import recent
from flows.text import clean
from flows.triage import Result, Rulebook

# How long after an urgent or emergency reply a question about the number gets it again.
ALERT_MEMORY_HOURS = 24
# How long after one a message the line does not otherwise follow is taken to be about it
# ("she says she's fine"): the argument that follows a warning, not the next day's news.
PUSHBACK_HOURS = 3


def worry(result: Result, now: datetime) -> str:
    """The conversation's record of a warning sign: when, and which amber categories."""
    cats = ",".join(result.ambers or ((result.category,) if result.category else ()))
    return f"{now.isoformat()} {cats}".strip()


def categories(worries: list[str]) -> list[str]:
    """The amber categories named in worry records ("?" for a record that names none)."""
    out: list[str] = []
    for w in worries:
        _, _, cats = w.partition(" ")
        out += cats.split(",") if cats else ["?"]
    return out


def escalate(
    result: Result, worries: list[str], now: datetime, rulebook: Rulebook, advice: str
) -> Result:
    """A same-day sign after another warning sign within 24 hours is urgent (UKONS)."""
    if result.level != "same_day":
        return result
    current = set(result.ambers) or {result.category or "?"}
    if not _counts(current, rulebook):
        return result
    earlier = [c for c in categories(recent(worries, now)) if _counts({c}, rulebook)]
    if not earlier:
        return result
    same = set(earlier) <= current
    what = "The same warning sign again" if same else "Repeated warning signs"
    return replace(
        result,
        level="urgent",
        reason=f"{what} within 24 hours ({result.reason})",
        advice=advice,
    )


def _counts(cats: set[str], rulebook: Rulebook) -> bool:
    """True when any of these categories escalates on repeat (low mood alone does not)."""
    for c in cats:
        category = rulebook.categories.get(c)
        if category is None or category.repeats:
            return True
    return False


# "Ring" as a verb ("who do I ring", "ring them"), not a wedding ring.
_NUMBER_WORDS = re.compile(
    r"\b(?:number|numbers|ring (?:them|you|someone|up|back|for|the|who)|(?:do i|should i|to|can i|"
    r"i) ring|call|phone|dial|contact|at night|out of hours|weekend|busy)\b"
)
_ASKING = re.compile(
    r"\?|\b(?:what|whats|which|who|where|how|is there|do i|should i|can i|does that|does it|"
    r"is it|can it|can she|can he|could it|will it|shall i|shall we|should we|can we|do we|"
    r"is that ok|is that okay|is that alright|"
    # "Can't I just wait", "will anyone answer at 2am".
    r"cant i|can't i|couldn't i|couldnt i|could i|can i not|will anyone|will anybody|"
    # "Can't it wait till Thursday".
    r"cant it|can't it|couldnt it|couldn't it|wont it|won't it|"
    r"will someone|will they|is anyone|is anybody|is someone)\b"
)


def _found(pattern: re.Pattern[str], text: str) -> bool:
    """True when the pattern occurs in the message as cleaned."""
    return pattern.search(clean(text)) is not None


def asks_for_number(text: str) -> bool:
    """True for "what number do I ring", "is there a number at night" and the like."""
    cleaned = clean(text)
    return bool(_NUMBER_WORDS.search(cleaned) and _ASKING.search(cleaned))


# After a warning, anything about who to call or where to go is a request for help:
# "where do I go", "who do I speak to", "ring 111 or 999?", and "I can't get through" even
# with no asking word.
_HELP_WORDS = re.compile(
    r"\b(?:ring|who do i|where do i|where should i|111|999|a ?& ?e|a and e|hospital|"
    r"out of hours|go in|get there)\b"
)
_NOT_GETTING_THROUGH = re.compile(
    r"\b(?:(?:nobody|no one|noone)(?: is|s)? answer\w*|no answer|not answering|cant get through|"
    r"(?:anyone|anybody|someone|somebody|they) (?:answer|pick up|be there)|anyone there|"
    r"can't get through|cannot get through|engaged|no reply|rang and rang|"
    r"(?:cant|can't|cannot|couldnt|couldn't|dont|don't) (?:get hold of|reach)|"
    r"(?:nobody|no one|noone) (?:picks up|picking up))\b"
)


def cannot_reach(text: str) -> bool:
    """True for "and if I can't get hold of them?", "no one's answering"."""
    return _found(_NOT_GETTING_THROUGH, text)


# After a warning: "can I drive myself", "is it ok to drive her in".
# The one with the sign at the wheel, not a relative driving them in ("can I drive her in").
_DRIVING = re.compile(
    r"\b(?:(?:can|could|should|shall|ok to|okay to|alright to|safe to|ok if|okay if) i "
    r"(?:just )?drive(?! (?:her|him|them|us|mum|mam|dad|my|the kids))|drive myself)\b"
)


def asks_about_driving(text: str) -> bool:
    """True for "can I drive myself" and the like, asked after a warning."""
    cleaned = clean(text)
    return _DRIVING.search(cleaned) is not None and _ASKING.search(cleaned) is not None


# After a warning: what to say when they get there ("what do I tell them").
_WHAT_TO_TELL = re.compile(
    r"\b(?:what (?:do|should|shall) (?:i|we) (?:tell|say to|say)|what to (?:tell|say)|"
    r"what (?:do|will) they need to know|what should they know|what (?:do|should) i bring|"
    r"will they know|do they know about|should i tell them|do i tell them|shall i tell them|"
    # What to take with them: "what should I take with me", "should I bring her tablets".
    r"what (?:do|should|shall) (?:i|we) (?:take|bring|pack)|what to (?:take|bring|pack)|"
    r"anything (?:i|we) (?:should|need to) (?:tell|say|bring|take)|anything to (?:tell|bring)|"
    r"(?:should|do|shall) (?:i|we) (?:take|bring) (?:my|her|his|the|our) (?:tablets|medicines|"
    r"meds|medication|pills|chemo))\b"
)


def asks_what_to_tell(text: str) -> bool:
    """True for "what do I tell them when I get there" after a warning."""
    return _found(_WHAT_TO_TELL, text)


def asks_for_help(text: str) -> bool:
    """True, after a warning, for asking who to call or where to go, or saying the line is
    not answering."""
    cleaned = clean(text)
    asking = _ASKING.search(cleaned) is not None
    return (
        asks_for_number(text)
        or (asking and _HELP_WORDS.search(cleaned) is not None)
        or _NOT_GETTING_THROUGH.search(cleaned) is not None
    )


_OPEN_WORDS = re.compile(
    r"\b(?:open|opening|what hours|their hours|the hours|office hours|hours are|weekend|weekends|"
    r"evening|evenings|at night|ring them|call them|"
    r"phone them|when can i ring|when can i call|what time)\b"
)


def asks_when_open(text: str) -> bool:
    """True for "are they open at the weekend", "when can I ring them" and the like."""
    cleaned = clean(text)
    return bool(_OPEN_WORDS.search(cleaned) and _ASKING.search(cleaned)) or bool(
        re.search(r"\b(?:are|is) (?:they|it|she|he|that|this|the \w+) open\b", cleaned)
    )


_WAIT = re.compile(
    r"\b(?:wait|leave it|see how|sleep on it|in the morning|till the morning|until the morning|"
    r"tomorrow|monday|after the weekend|ring in the morning|call in the morning|is it urgent|"
    r"do i have to|really need to|overreacting|over reacting|tmrw|tomoz|"
    # Whether the hour or the bother changes anything: "it's 2am, does that matter".
    r"does that matter|middle of the night|this time of night|at this time|\d+ ?am|"
    r"this late|too late|so late)\b"
)


def asks_to_wait(text: str) -> bool:
    """True for "should I wait till the morning", "is it really urgent" and the like."""
    cleaned = clean(text)
    return bool(_WAIT.search(cleaned) and _ASKING.search(cleaned))


# Said, not asked, after a warning: putting it off ("she'll be fine by the morning", "I'll
# see the GP tomorrow") or what stands in the way ("I'm on my own", "no car").
_DEFERS = re.compile(
    r"\b(?:be (?:fine|ok|okay|alright|better) (?:by|in|tomorrow|tmrw|later)|by the morning|"
    r"in the morning|till (?:the )?morning|until (?:the )?morning|till monday|until monday|"
    r"see (?:the |my |her |his )?gp|wait and see|"
    r"sleep it off|make a fuss|making a fuss|dont want to bother|don't want to bother|"
    r"not to fuss|dont fuss|don't fuss|no fuss|fussing|doesn't want a fuss|doesnt want a fuss|"
    r"not that bad|probably nothing|on my own|on her own|on his own|by myself|no one here|"
    r"nobody here|no car|cant drive|can't drive|no way to get|cant get there|can't get there|"
    # How to get there, or something to try first: "drive her in or an ambulance?",
    # "can I just take paracetamol and see".
    r"ambulance|drive (?:her|him|me|them|us) in|take (?:her|him|me|them) in|"
    r"(?:paracetamol|painkillers|ibuprofen) (?:n|and) see|n see|and see how|"
    r"see how (?:it|she|he|i) goes|"
    # Playing it down, or what is shut: "probably just a cold", "it's Sunday, the GP is shut".
    r"just a cold|only a cold|just a bug|probably just|nothing serious|gp (?:is|s) shut|"
    r"gp (?:is|s) closed|surgery (?:is|s) (?:shut|closed)|its sunday|it's sunday|"
    r"its the weekend|it's the weekend|bank holiday|"
    r"(?:can|could|will) (?:drive|take) (?:me|her|him|us)|give (?:me|her|him|us) a lift)\b"
)


_OUTRIGHT_WAIT = re.compile(
    r"\b(?:wait|leave it|sleep on it|is it urgent|really urgent|overreact\w*|over react\w*)\b"
)
# Help already under way: in the ambulance, at A&E, seen, told to come in, sent home.
_UNDER_WAY = re.compile(
    r"\b(?:in the ambulance|ambulance is (?:here|coming|on its way)|called an ambulance|"
    r"called 999|rang 999|at a ?& ?e|in a ?& ?e|been to a ?& ?e|at the hospital now|"
    r"on (?:our|my|the) way|they said to come in|told (?:me|us|her|him) to come in|"
    r"sent (?:me|her|him|us) home|been seen|being seen|seeing her|seeing him|"
    r"(?:taking|driving) (?:me|her|him|us) (?:in )?(?:now|right now)|"
    # Help asked already: "rang 111, they'll call back", "they said come in to the unit".
    r"(?:rang|called|phoned|spoke to|spoken to|been on to) (?:111|nhs 111|the number|the hotline|"
    r"the helpline|the ward|the unit|the 24 hour|the chemo line|the acute)|111 said|"
    r"(?:they|she|he) said (?:to )?come in|told to come in|assessment unit|"
    r"already (?:at|in) (?:a ?& ?e|the hospital|hospital)|"
    # "They're sending someone", "they want me in", "paramedics are on their way".
    r"(?:theyre|they're|they are|they've|theyve) sending|sending (?:someone|an ambulance|"
    r"a paramedic|paramedics)|(?:they|she|he) want (?:me|her|him|us) (?:in|to come in)|"
    r"paramedics (?:are )?(?:on (?:their|the) way|coming|here))\b"
)


def waits_outright(text: str) -> bool:
    """True when a message asks in so many words whether it can wait."""
    return _found(_OUTRIGHT_WAIT, text)


# Waiting to be rung back: "111 said they'd call back in 4 hours".
_CALL_BACK = re.compile(
    r"\b(?:call(?:ing)? (?:me |us |her |him )?back|ring(?:ing)? (?:me |us |her |him )?back|"
    r"phone (?:me |us |her |him )?back|callback|call back|waiting for (?:a|them to) call)\b"
)


def waits_for_call_back(text: str) -> bool:
    """True for "they said they'd call back in 4 hours" after a warning."""
    return _found(_CALL_BACK, text)


# Told to wait, sent home, or worse: "they said she can wait till morning", "no beds, stay
# home", "on our way but she's worse now", "999 said 2 hours".
_TOLD_TO_WAIT = re.compile(
    r"\b(?:wait|waiting|tomorrow|tmrw|in the morning|till morning|until morning|till the morning|"
    r"until the morning|monday|tonight|see how|see the gp|gp tomorrow|(?:and|n) see|"
    r"paracetamol|painkillers|sent (?:me|her|him|us|them) home|stay (?:at )?home|go home|"
    r"no beds|hours|\d+ ?hrs|ages|not coming|cant come|can't come|no ambulance|"
    r"(?:dont|don't|do not|doesnt|doesn't) need to|no need|in a week|next week|come back in)\b"
)
_WORSE = re.compile(
    r"\b(?:worse|worsening|still (?:has|have|got|hot|burning|shaking|breathless|confused|"
    r"bleeding|in pain)|gone blue|collapsed|not breathing|unconscious|passed out|grey|gray|"
    r"clammy|floppy|no better|not improving|not getting better|pale|mottled|"
    r"(?:barely|not|stopped|isn't|isnt) responding|deteriorat\w*|downhill|"
    r"getting (?:hotter|weaker|worse|sicker)|struggling|more blood|cold and)\b"
)
# The help asked for did not come, or is refused: "couldn't get through", "she won't go".
_HELP_FAILED = re.compile(
    r"\b(?:(?:couldnt|couldn't|could not|cant|can't) get through|engaged|no answer|"
    r"not answering|rang and rang|hung up|queue|cancel\w*|not been seen|hasnt been seen|"
    r"hasn't been seen|not seen by|will ring|ill ring|i'll ring|at lunch|later|instead|"
    r"sent (?:her|him|me|us) home|said (?:its|it's|it is) (?:nothing|fine|anxiety)|"
    r"sister|brother|daughter|son|mum in law|reckons|who's right|whos right|wants to|"
    r"not urgent|go home\?|can we go home)\b"
)
# Who said to wait: a clinician or service, not their own choice.
_CLINICIAN_SAID = re.compile(
    r"\b(?:111|gp|doctor|dr|nurse|ward|unit|they|chemo line|hotline|helpline|out of hours|"
    r"paramedics?|oncologist|consultant|triage)\b(?: \w+){0,2} (?:said|told|says|say|advised)\b"
)


# Help refused by the one who needs it: "he's refusing to go", "she won't let me ring".
_REFUSES = re.compile(
    r"\b(?:refus\w*|wont go|won't go|will not go|doesnt want to go|doesn't want to go|"
    r"(?:wont|won't|will not) let (?:me|us) (?:call|ring|phone)|says? no to (?:the )?ambulance)\b"
)
# Seen where they are and not taken in: "paramedics came, said it was anxiety and left".
_ATTENDED = re.compile(
    r"\b(?:paramedics?|ambulance (?:crew|people|men)|the crew|"
    r"(?:gp|doctor|dr) (?:came|has been|had been|visited|come out|came out))\b"
)
_NOT_TAKEN = re.compile(
    r"\b(?:left|gone|went|(?:didnt|didn't|did not|wont|won't|wouldnt|wouldn't) take|"
    r"not taking|said (?:it was|its|it's|it is|she was|shes|she's|he was|hes|he's|"
    r"she is|he is|i was|im|i'm) (?:\w+ )?(?:fine|ok|okay|nothing|anxiety|a panic|panic|"
    r"a virus|viral|a bug|normal))\b"
)
# "Ok", "thanks", "will do" after a warning: the call still has to be made.
_ACKNOWLEDGES = re.compile(
    r"\s*(?:ok|okay|k|kk|ok then|okay then|right|alright|all right|will do|ok will do|"
    r"understood|got it|ok thanks|ok thank you|thanks|thank you|thanks x|thank you x|thx|ta|"
    r"cheers)[\s.!x]*"
)


def help_failed(text: str) -> bool:
    """True when the help asked for did not come, was cancelled or is refused."""
    return _found(_HELP_FAILED, text) or refuses_help(text)


def refuses_help(text: str) -> bool:
    """True for "he's refusing to go", "she won't let me ring" after a warning."""
    return _found(_REFUSES, text)


def seen_and_left(text: str) -> bool:
    """True when paramedics or a doctor saw them and did not take them in."""
    cleaned = clean(text)
    return _ATTENDED.search(cleaned) is not None and _NOT_TAKEN.search(cleaned) is not None


def acknowledges(text: str) -> bool:
    """True for a bare "ok", "thanks" or "will do"."""
    return _ACKNOWLEDGES.fullmatch(clean(text)) is not None


def clinician_said(text: str) -> bool:
    """True when a service or clinician gave the advice ("111 said", "the ward told us")."""
    return _found(_CLINICIAN_SAID, text)


_AT_HOSPITAL = re.compile(
    r"\b(?:at|in) (?:a ?& ?e|a and e|the hospital|hospital|the waiting room|the assessment unit)\b"
)


# Still waiting once there: "at A&E 5 hours and nobody has seen her".
_WAITING_WORDS = re.compile(
    r"\b(?:waiting|wait|nobody|no one|noone|not been seen|not seen|hours|hrs|been here)\b"
)


def at_hospital(text: str) -> bool:
    """True for "we're at A&E", "in the waiting room"."""
    return _found(_AT_HOSPITAL, text)


def waiting_there(text: str) -> bool:
    """True for "we're at A&E, been waiting 5 hours and nobody has seen her"."""
    cleaned = clean(text)
    there = _AT_HOSPITAL.search(cleaned)
    return there is not None and _WAITING_WORDS.search(cleaned, there.end()) is not None


_NO_WAY_THERE = re.compile(
    r"\b(?:no way (?:to get|of getting) (?:there|in)|(?:cant|can't|cannot) get (?:there|her there|"
    r"him there|in)|no car|no lift|no transport|(?:cant|can't|cannot) get a (?:taxi|lift|cab)|"
    r"no taxi|(?:has|got|took) the car|live alone|living alone|snow\w*|"
    r"no one to (?:take|drive)|nobody to (?:take|drive))\b"
)


def no_way_there(text: str) -> bool:
    """True for "they said come in but we have no way to get there" after a warning."""
    return _found(_NO_WAY_THERE, text)


def told_to_wait(text: str) -> bool:
    """True when help asked for said to wait, or has not come ("they said come in tomorrow")."""
    return _found(_TOLD_TO_WAIT, text)


def getting_worse(text: str) -> bool:
    """True for "on our way but she's worse now", "sent home but she still has a temp"."""
    return _found(_WORSE, text)


def under_way(text: str) -> bool:
    """True when a message says help is already under way ("we're in the ambulance")."""
    return _found(_UNDER_WAY, text)


def defers(text: str) -> bool:
    """True when a message after a warning puts off getting help, or says what is in the way."""
    return _found(_DEFERS, text)


def alerted_recently(
    alerted: str | None, now: datetime, hours: float = ALERT_MEMORY_HOURS
) -> str | None:
    """The level of an urgent or emergency reply given within `hours` (a day), if any."""
    if not alerted:
        return None
    when, _, rest = alerted.partition(" ")
    level = rest.partition(" ")[0]
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None
    if at.tzinfo is None or not 0 <= (now - at).total_seconds() <= hours * 3600:
        return None
    return level if level in ("emergency", "urgent") else None


def alerted_categories(alerted: str | None) -> list[str]:
    """The category of the last urgent or emergency reply, when its record names one."""
    parts = (alerted or "").split()
    return parts[2:3]
