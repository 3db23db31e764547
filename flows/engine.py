"""The conversation engine: a pure function of (state, message, clock, directory)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo

from flows import policy, sms
from flows.conversation import Conversation
from flows.directory import Directory, clock, load_directory
from flows.knowledge import ASPECT_TITLES, ASPECTS, Knowledge, Text, Topic, default_knowledge
from flows.matcher import (
    Match,
    Matcher,
    any_sentence_asks,
    asks_how_it_works,
    default_matcher,
    opens_a_question,
)
from flows.personal import Circumstance, Personal, default_personal, fill
from flows.reading import sentences_of
from flows.reminders import format_date, format_time
from flows.replies import classify_reply
from flows.text import clean, looks_english
from flows.triage import Result, Rulebook, default_rulebook

# Twilio's own opt-out and opt-in words; Twilio answers them itself, so we stay silent.
OPT_OUT = frozenset(["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"])
OPT_IN = frozenset(["start", "unstop"])
GREETINGS = frozenset(["hi", "hello", "hey", "hiya", "morning", "afternoon", "evening"])
THANKS = frozenset(
    ["thanks", "thank", "thankyou", "ty", "ta", "cheers", "ok", "okay", "great", "brilliant"]
)

MAIN_OPTIONS = ("tests", "results", "treatments", "symptoms", "nurse", "support")


@dataclass(frozen=True)
class Action:
    """Something the caller of the engine must do: record an alert, a call-back, an opt-out."""

    kind: str  # "alert" | "callback" | "opt_out" | "opt_in" | "confirm" | "rearrange"
    data: dict[str, str] = field(default_factory=dict)


@dataclass
class Turn:
    """What the engine decided for one inbound message."""

    conversation: Conversation
    messages: list[str]  # SMS texts to send now (empty for STOP and START)
    voice: str
    actions: list[Action]
    triage: Result
    topic: str | None = None
    aspect: str | None = None


@dataclass(frozen=True)
class Awaiting:
    """An appointment whose reminder this number was sent: C or R now refers to it."""

    id: str
    test: str
    at: datetime


@dataclass(frozen=True)
class Context:
    """Everything the engine reads besides the conversation and the message."""

    now: datetime
    directory: Directory
    tz: ZoneInfo
    knowledge: Knowledge
    rulebook: Rulebook
    matcher: Matcher
    personal: Personal = field(default_factory=default_personal)

    @classmethod
    def default(
        cls, now: datetime, tz: ZoneInfo | None = None, directory: Directory | None = None
    ) -> Context:
        """A context over the shipped content."""
        return cls(
            now=now,
            directory=directory or default_directory(),
            tz=tz or ZoneInfo("Europe/London"),
            knowledge=default_knowledge(),
            rulebook=default_rulebook(),
            matcher=default_matcher(),
        )


@lru_cache(maxsize=1)
def default_directory() -> Directory:
    """The shipped directory, loaded once."""
    return load_directory()


def told_reason(reason: str, bare: bool = False) -> str:
    """A sign's reason as said inside a sentence ("A cough" -> "a cough"); `bare` drops the
    article, for "about the cough"."""
    reason = reason[:1].lower() + reason[1:]
    return re.sub(r"^(?:a|an) ", "", reason) if bare else reason


def urgent_line(directory: Directory) -> tuple[str, str]:
    """How to reach urgent help: the instruction, and the noun phrase used in other texts."""
    number = directory["acute_oncology"].number
    if number:
        return (
            f"Call the 24-hour acute oncology line now on {number}",
            f"the 24-hour acute oncology line on {number}",
        )
    return (
        "Call the 24-hour number your hospital gave you now, or NHS 111",
        "the 24-hour number your hospital gave you, or NHS 111",
    )


class _Reply:
    """A reply under construction: body, footer, and the spoken equivalent."""

    def __init__(self, body: Text, footer: Text | None = None) -> None:
        self.body = body
        self.footer = footer


def step(
    conv: Conversation,
    message: str | None,
    ctx: Context,
    media: int = 0,
    awaiting: Awaiting | None = None,
) -> Turn:
    """Handle one inbound message: triage first, then global words, then the state table.

    `awaiting` is the appointment of a reminder sent to this number, if any: a reply of
    C or YES confirms it, R asks to rearrange it.
    """
    text = message or ""
    conv = _valid(conv, ctx)
    # A fresh copy, so the caller's conversation is left as it was.
    conv = Conversation(
        conv.state,
        list(conv.back),
        list(conv.pages),
        list(conv.worries),
        conv.last_topic,
        conv.turns + 1,
        conv.alerted,
        conv.last_aspect,
        conv.earlier_topic,
        conv.last_circumstance,
        list(conv.pair),
    )
    result = ctx.rulebook.assess(text) if text.strip() else _NO_TRIAGE
    conv.worries = conv.recent_worries(ctx.now)
    if result.worrying:
        advice = ctx.knowledge.messages["repeat_escalation"].sms
        result = policy.escalate(result, conv.worries, ctx.now, ctx.rulebook, advice)
        conv.worries.append(policy.worry(result, ctx.now))
        if result.level in ("emergency", "urgent"):
            conv.alerted = f"{ctx.now.isoformat()} {result.level} {result.category or ''}".strip()
        turn = _answer_then_safety(conv, text, result, ctx, awaiting) or _triage_turn(
            conv, text, result, ctx
        )
        if result.asked:
            # "My mouth is sore. Can chemo cause chest pain?": what to do if it is happening.
            turn = _with_caution(turn, ctx)
        if conv.state == "nurse:reason":
            # The worrying message is also the reason for the call-back they asked for.
            conv.state, conv.back = "main", []
            turn.actions.append(Action("callback", {"reason": " ".join(text.split())[:500]}))
            turn.messages.append(ctx.knowledge.messages["callback_also"].sms)
        return turn
    # A reply to a reminder is read first: triage found nothing in it, and "can't make it
    # tomorrow" after a warning is still a request to rearrange.
    if awaiting is not None:
        reply = classify_reply(text)
        if reply is not None:
            return _appointment_reply(conv, ctx, result, awaiting, reply, text)
        news = _news(ctx, text)
        if news is not None:
            return _appointment_news(conv, ctx, result, awaiting, text, news)
        both = _reply_and_question(text)
        if both is not None:
            # "Yes confirmed thanks. Do I still have to not eat?": the answer is recorded
            # and the question answered, one text each.
            kind, question = both
            done = _appointment_reply(conv, ctx, result, awaiting, kind, text)
            turn = _free_text(done.conversation, ctx, result, question, awaiting)
            turn.messages = [*done.messages, *turn.messages]
            turn.voice = f"{done.voice} {turn.voice}"
            turn.actions = [*done.actions, *turn.actions]
            return turn
    alerted = policy.alerted_recently(conv.alerted, ctx.now)
    if alerted:
        after = _after_a_warning(conv, ctx, result, text, alerted)
        if after is not None:
            return after
    word = _keyword(text)
    handler = _KEYWORDS.get(word)
    if handler is not None:
        return handler(conv, ctx, result)
    if not text.strip():
        key = "media_only" if media else "empty"
        return _render(conv, ctx, result, _Reply(ctx.knowledge.messages[key]))
    if conv.state == "nurse:reason":
        return _callback(conv, ctx, result, text)
    if _CHOICE.fullmatch(text):
        return _choose(conv, ctx, result, int(_NOT_DIGIT.sub("", text)))
    if awaiting is not None and _STILL_COME.search(clean(text)):
        return _render(conv, ctx, result, _Reply(ctx.knowledge.messages["still_come"]))
    turn = _free_text(conv, ctx, result, text, awaiting)
    return _with_caution(turn, ctx) if result.asked else turn


def caution(ctx: Context, category_id: str) -> Text:
    """What to do if a serious sign asked about ("is chest pain a side effect?") is happening."""
    category = ctx.rulebook.categories[category_id]
    if category.level == "emergency":
        return ctx.knowledge.message("asked_emergency", advice=category.advice)
    _, urgent = urgent_line(ctx.directory)
    return ctx.knowledge.message("asked_urgent", advice=category.advice, urgent=urgent)


def _with_caution(turn: Turn, ctx: Context) -> Turn:
    """A question naming a serious sign also says what to do if it is happening now."""
    line = caution(ctx, turn.triage.asked or "")
    if turn.topic is None:
        # Nothing else understood: what to do about the sign is the answer.
        turn.messages, turn.voice = [line.sms], line.voice
    else:
        turn.messages = [*turn.messages, line.sms]
        turn.voice = f"{turn.voice} {line.voice}"
    return turn


_NO_TRIAGE = Result("none", "No message text")
_CHOICE = re.compile(r"\s*\d{1,2}[.)]?\s*")
_NOT_DIGIT = re.compile(r"\D")
_WORD_OR_NUMBER = re.compile(r"[a-z0-9]+")


def _state_ok(state: str, ctx: Context) -> bool:
    if state in ("start", "main", "tests", "treatments", "nurse:reason"):
        return True
    kind, _, topic_id = state.partition(":")
    topic = ctx.knowledge.topics.get(topic_id)
    return topic is not None and (kind == "topic" or (kind == "test" and topic.is_test))


def _valid(conv: Conversation, ctx: Context) -> Conversation:
    """A stored state the content no longer has (a renamed topic) goes back to the menu."""
    if _state_ok(conv.state, ctx) and all(_state_ok(s, ctx) for s in conv.back):
        return conv
    state = conv.state if _state_ok(conv.state, ctx) else "main"
    return replace(conv, state=state, back=[s for s in conv.back if _state_ok(s, ctx)])


def _keyword(text: str) -> str:
    words = _WORD_OR_NUMBER.findall(clean(text))
    return words[0] if len(words) == 1 else ""


def _triage_turn(conv: Conversation, text: str, result: Result, ctx: Context) -> Turn:
    k = ctx.knowledge
    there = policy.at_hospital(text)
    if result.level == "emergency":
        reply = k.message("emergency_at_hospital" if there else "emergency", advice=result.advice)
    elif result.level == "urgent":
        call, _ = urgent_line(ctx.directory)
        key = "urgent_at_hospital" if there else "urgent"
        reply = k.message(key, call=call, advice=result.advice)
    else:
        nurse = ctx.directory["nurse"]
        reply = k.message(
            "same_day",
            nurse=nurse.number or "",
            nurse_hours=nurse.describe_hours(),
            reason=told_reason(result.reason),
            advice=result.advice,
        )
    conv.pages = []
    alert = Action(
        "alert",
        {"level": result.level, "reason": result.reason, "rule": result.rule or "", "text": text},
    )
    # A warning sign is about symptoms, whatever else the message asked; a test it names
    # ("had my biopsy yesterday and now it's bleeding") is the one a follow-up goes back to.
    mentioned = ctx.matcher.mentions(ctx.matcher.words(text))
    named = [t for t in mentioned if ctx.knowledge.topics[t].is_test]
    if named:
        conv.remember(named[0])
    conv.remember("symptoms")
    conv.last_aspect = None
    turn = _render(conv, ctx, result, _Reply(reply), "symptoms")
    turn.actions.insert(0, alert)
    return turn


def _answer_then_safety(
    conv: Conversation, text: str, result: Result, ctx: Context, awaiting: Awaiting | None = None
) -> Turn | None:
    """A question asked with a same-day sign: the answer, then a short safety line.

    Only when the message asks something the line can answer about a test or treatment;
    a message that is all about the symptom gets the same-day advice in full.
    """
    # "Does the MRI hurt, I've got a bad back": a question first, then what they report.
    asked = result.asks or "?" in text or any_sentence_asks(text)
    if result.level != "same_day" or not asked:
        return None
    match = ctx.matcher.match(text)
    topic, aspect = match.topic, match.aspect
    context = _context_topic(conv, awaiting, ctx, text)
    general = topic in (None, "symptoms", "nurse")
    if general and context is not None and ctx.knowledge.topics[context].is_test:
        # "Will it be loud? I get bad headaches" after an MRI reminder asks about the MRI.
        aspect = ctx.matcher.aspect(ctx.matcher.words(text), context, text)
        topic = context if aspect is not None else None
    _, feeling = ctx.personal.find(text)
    if feeling is not None and feeling.first:
        # "She's terrified, keeps crying at night. Who can she talk to?": the kind reply
        # with who to talk to is the answer, whatever test or treatment is named.
        turn = _feeling(conv, ctx, result, feeling.reply, topic)
    elif not topic or topic == "nurse" or (topic == "symptoms" and aspect in (None, "what", "who")):
        # "Backache 2 weeks, should I mention it?": what the leaflets say of that symptom
        # (its own section) answers it; the overview would not.
        return None
    else:
        if conv.state in ("start", "nurse:reason"):
            conv.state = "main"
        turn = _answer(conv, ctx, result, topic, aspect)
    nurse = ctx.directory["nurse"]
    line = ctx.knowledge.message(
        "same_day_line",
        reason=told_reason(result.reason, bare=True),
        nurse=nurse.number or "",
        nurse_hours=nurse.describe_hours(),
    )
    turn.messages.append(line.sms)
    turn.voice = f"{turn.voice} {line.voice}"
    alert = {"level": result.level, "reason": result.reason, "rule": result.rule or ""}
    turn.actions.insert(0, Action("alert", {**alert, "text": text}))
    return turn


def _number_again(conv: Conversation, ctx: Context, result: Result, level: str) -> Turn:
    """After an urgent or emergency reply, "what number do I ring" gets the number again."""
    if level == "emergency":
        reply = ctx.knowledge.messages["number_again_emergency"]
    else:
        call, _ = urgent_line(ctx.directory)
        reply = ctx.knowledge.message("number_again_urgent", call=call)
    conv.last_aspect = None
    return _render(conv, ctx, result, _Reply(reply))


def _after_a_warning(
    conv: Conversation, ctx: Context, result: Result, text: str, level: str
) -> Turn | None:
    """What is said next after an urgent or emergency reply, when it is about getting help;
    None for a message of its own ("my CT is tomorrow, can I eat before")."""
    k = ctx.knowledge
    there = policy.at_hospital(text)
    if not result.worrying and there and (policy.getting_worse(text) or policy.waiting_there(text)):
        # "At A&E 5 hours, nobody has seen her, she looks grey": the staff there need telling.
        return _render(conv, ctx, result, _Reply(k.messages["tell_staff"]))
    if not result.worrying and policy.getting_worse(text):
        # "On our way but she's worse", "111 said wait but she's gone mottled".
        return _after_warning(conv, ctx, result, level, "still_call")
    if not result.worrying and policy.refuses_help(text):
        # "He's refusing to go": the call is still needed, whoever makes it.
        return _after_warning(conv, ctx, result, level, "still_call")
    if not result.worrying and policy.seen_and_left(text):
        return _render(conv, ctx, result, _Reply(k.messages["seen_and_left"]))
    if not result.worrying and policy.asks_what_to_tell(text):
        return _render(conv, ctx, result, _Reply(_what_to_tell(conv, ctx)))
    if policy.asks_about_driving(text):
        return _after_warning(conv, ctx, result, level, "no_driving")
    if not result.worrying and policy.no_way_there(text):
        return _after_warning(conv, ctx, result, level, "no_way_there")
    if not result.worrying and policy.waits_for_call_back(text):
        return _after_warning(conv, ctx, result, level, "no_call_back")
    if not result.worrying and _STILL_GO.search(clean(text)):
        # "I've got my PET-CT tomorrow, should I still go?": help first, then the letter.
        return _after_warning(conv, ctx, result, level, "appointment_after")
    if _needs_the_number_again(ctx, text):
        # Not getting through, asking for the number, asking to wait, putting it off.
        return _number_again(conv, ctx, result, level)
    if policy.acknowledges(text):
        return _after_warning(conv, ctx, result, level, "acknowledged")
    elsewhere = _SUPPORT_LINE.search(clean(text)) or _FOR_LATER.search(clean(text))
    if result.worrying or not policy.under_way(text) or elsewhere:
        return None
    if policy.help_failed(text) or policy.asks_to_wait(text) or " but " in f" {clean(text)} ":
        # "Rang 111 but hung up", "she refuses to go", "can it wait till I get there", "in
        # the ambulance but she's breathing really weird".
        return _after_warning(conv, ctx, result, level, "still_call")
    if policy.told_to_wait(text):
        if level == "urgent" and policy.clinician_said(text):
            # "111 said see the GP tomorrow": theirs is the advice to follow, unless it gets
            # worse. Never after an emergency sign, nor when they chose to wait themselves.
            return _render(conv, ctx, result, _Reply(k.messages["told_to_wait"]))
        return _after_warning(conv, ctx, result, level, "still_call")
    # "They said come in to the assessment unit, is that right", "the ambulance is here".
    return _render(conv, ctx, result, _Reply(k.messages["under_way"]))


def _after_warning(
    conv: Conversation, ctx: Context, result: Result, level: str, key: str
) -> Turn:
    """One of the replies kept for after a warning, for its level ("still_call" ->
    "still_call_urgent")."""
    call, _ = urgent_line(ctx.directory)
    reply = ctx.knowledge.message(f"{key}_{level}", call=call)
    conv.last_aspect = None
    return _render(conv, ctx, result, _Reply(reply))


def _what_to_tell(conv: Conversation, ctx: Context) -> Text:
    """What to tell the doctors when they get there, naming the signs reported today."""
    # The sign the warning was for; else the ones reported today ("?" names none).
    told = policy.alerted_categories(conv.alerted) or policy.categories(conv.worries)
    reasons = [
        ctx.rulebook.categories[c].reason.lower()
        for c in dict.fromkeys(told)
        if c in ctx.rulebook.categories
    ]
    signs = f" ({'; '.join(reasons)})" if reasons else ""
    return ctx.knowledge.message("what_to_tell", signs=signs)


def _render(
    conv: Conversation,
    ctx: Context,
    result: Result,
    reply: _Reply,
    topic: str | None = None,
    aspect: str | None = None,
) -> Turn:
    footer = reply.footer.sms if reply.footer else ""
    pages = sms.paginate(reply.body.sms, footer, ctx.knowledge.messages["more_hint"].sms)
    conv.pages = pages[1:]
    conv.last_circumstance = None
    voice = reply.body.voice + (" " + reply.footer.voice if reply.footer else "")
    return Turn(conv, pages[:1], voice, [], result, topic, aspect)


def _menu_options(ctx: Context, state: str) -> tuple[tuple[str, str], ...]:
    """The numbered options of a menu state: (target, label)."""
    key = ("options", state)
    cached = ctx.knowledge.derived.get(key)
    if cached is None:
        cached = ctx.knowledge.derived[key] = tuple(_list_options(ctx, state))
    return cached


def _list_options(ctx: Context, state: str) -> list[tuple[str, str]]:
    k = ctx.knowledge
    if state in ("main", "start") or state.startswith("topic:"):
        return [(o, o) for o in MAIN_OPTIONS]
    if state == "tests":
        return [(f"test:{t.id}", t.title) for t in k.menu("tests")]
    if state == "treatments":
        return [(f"topic:{t.id}", t.title) for t in k.menu("treatments")]
    if state.startswith("test:"):
        return [(f"section:{a}", ASPECT_TITLES[a]) for a in ASPECTS]
    return []


def _menu_text(ctx: Context, state: str) -> Text:
    """A menu's text, made once per state: menus are sent more than anything else."""
    key = ("menu", state)
    cached = ctx.knowledge.derived.get(key)
    if cached is None:
        cached = ctx.knowledge.derived[key] = _write_menu(ctx, state)
    return cached


def _write_menu(ctx: Context, state: str) -> Text:
    k = ctx.knowledge
    if state in ("main", "start") or state.startswith("topic:") or state == "nurse:reason":
        return k.messages["main_menu"]
    if state.startswith("test:"):
        header = k.message("test_menu", title=k.topics[state[5:]].title)
    else:
        header = k.messages[f"{state}_menu"]
    options = _menu_options(ctx, state)
    lines = "\n".join(f"{i} {label}" for i, (_, label) in enumerate(options, 1))
    spoken = " ".join(f"For {label.lower()}, press {i}." for i, (_, label) in enumerate(options, 1))
    return Text(f"{header.sms}\n{lines}", f"{header.voice} {spoken}")


def _show_menu(
    conv: Conversation, ctx: Context, result: Result, state: str, push: bool = True
) -> Turn:
    if push and conv.state not in (state, "start", "nurse:reason"):
        conv.back.append(conv.state)
        conv.back = conv.back[-10:]
    conv.state = state
    return _render(conv, ctx, result, _Reply(_menu_text(ctx, state)))


def _main(conv: Conversation, ctx: Context, result: Result) -> Turn:
    conv.back = []
    return _show_menu(conv, ctx, result, "main", push=False)


def _back(conv: Conversation, ctx: Context, result: Result) -> Turn:
    state = conv.back.pop() if conv.back else "main"
    return _show_menu(conv, ctx, result, state, push=False)


def _more(conv: Conversation, ctx: Context, result: Result) -> Turn:
    if not conv.pages:
        return _render(conv, ctx, result, _Reply(ctx.knowledge.messages["no_more"]))
    page, conv.pages = conv.pages[0], conv.pages[1:]
    return Turn(conv, [page], page, [], result, conv.last_topic)


def _help(conv: Conversation, ctx: Context, result: Result) -> Turn:
    return _render(conv, ctx, result, _Reply(ctx.knowledge.messages["help"]))


def _nurse(conv: Conversation, ctx: Context, result: Result) -> Turn:
    conv.state = "nurse:reason"
    return _render(conv, ctx, result, _Reply(ctx.knowledge.messages["nurse_ask"]))


def _opt(kind: str) -> Callable[[Conversation, Context, Result], Turn]:
    def handle(conv: Conversation, ctx: Context, result: Result) -> Turn:
        conv.pages = []
        return Turn(conv, [], "", [Action(kind)], result)

    return handle


def _callback(conv: Conversation, ctx: Context, result: Result, reason: str) -> Turn:
    k = ctx.knowledge
    nurse = ctx.directory["nurse"]
    _, urgent = urgent_line(ctx.directory)
    if nurse.is_open(ctx.now, ctx.tz):
        closing = next(
            (
                s.close
                for s in nurse.sessions
                if ctx.now.astimezone(ctx.tz).weekday() in s.days
                and s.open <= ctx.now.astimezone(ctx.tz).time() < s.close
            ),
            None,
        )
        reply = k.message(
            "nurse_booked_open", close=clock(closing) if closing else "later", urgent=urgent
        )
    else:
        reply = k.message(
            "nurse_booked_closed", when=_when(ctx, nurse.next_open(ctx.now, ctx.tz)), urgent=urgent
        )
    conv.state = "main"
    conv.back = []
    turn = _render(conv, ctx, result, _Reply(reply))
    turn.actions.append(Action("callback", {"reason": " ".join(reason.split())[:500]}))
    return turn


def _appointment_reply(
    conv: Conversation, ctx: Context, result: Result, appt: Awaiting, reply: str, text: str = ""
) -> Turn:
    k = ctx.knowledge
    test, when = _appointment_words(ctx, appt)
    conv.pages = []
    if reply == "confirm":
        body = k.message("appointment_confirmed", test=test, slot=when)
        turn = _render(conv, ctx, result, _Reply(body))
        turn.actions.append(Action("confirm", {"appointment": appt.id}))
        return turn
    body = k.message("appointment_rearrange", test=test, slot=when)
    turn = _render(conv, ctx, result, _Reply(body))
    turn.actions.append(Action("rearrange", {"appointment": appt.id}))
    turn.actions.append(
        Action("callback", {"reason": _rearrange_reason(test, when, text)})
    )
    return turn


def _reply_and_question(text: str) -> tuple[str, str] | None:
    """A reply to a reminder in its first sentence and a question after it ("yes confirmed.
    do I still have to not eat?"): the reply's kind and the rest; else None."""
    sentences = [s.strip() for s in sentences_of(clean(text)) if s.strip(" .!?\n")]
    if len(sentences) < 2:
        return None
    kind = classify_reply(sentences[0])
    rest = " ".join(sentences[1:])
    asks = "?" in rest or _ASKS.search(rest) is not None
    if kind is None or classify_reply(rest) is not None or not asks:
        return None
    return kind, rest


_ASKS = re.compile(
    r"^\W*(?:do|does|can|could|will|would|should|is|are|what|when|where|how|why|who)\b"
)


# In hospital or a hospice: the team must know, whatever else the reply says.
_IN_CARE = re.compile(
    r"\b(?:(?:is|she's|shes|he's|hes|i'm|im|am|are|we're|been) (?:now |still )?"
    r"(?:in (?:the )?(?:hospice|hospital)|on the ward)|in the hospice|(?:has|have|was|got|been) "
    r"(?:been )?admitted|been kept in)\b"
)


def _news(ctx: Context, text: str) -> list[str] | None:
    """What to say before passing on news the team must act on, given in reply to a
    reminder: the bereavement reply for a death, nothing for a stay in hospital or a
    hospice. None when the reply brings no such news."""
    _, feeling = ctx.personal.find(text)
    if feeling is not None and feeling.id == "bereavement":
        return [fill(feeling.reply, _values(ctx)).sms]
    if _IN_CARE.search(clean(text)):
        return []
    return None


def _appointment_news(
    conv: Conversation, ctx: Context, result: Result, appt: Awaiting, text: str,
    first: list[str],
) -> Turn:
    """News about the patient in reply to a reminder: a kind reply, and the team told."""
    test, when = _appointment_words(ctx, appt)
    told = ctx.knowledge.message("appointment_news", test=test, slot=when)
    conv.pages = []
    conv.remember("support")
    voice = " ".join([*first, told.voice])
    turn = Turn(conv, [*first, told.sms], voice, [], result, "support")
    said = " ".join(text.split())[:400]
    note = f"News in reply to the reminder for their {test} on {when}: \"{said}\""
    turn.actions.append(Action("callback", {"reason": note}))
    return turn


def _appointment_words(ctx: Context, appt: Awaiting) -> tuple[str, str]:
    """The test as a reply names it ("CT scan", "bone scan") and its day and time."""
    topic = ctx.knowledge.topics.get(appt.test)
    test = topic.title if topic else appt.test.replace("_", " ")
    if not test[:2].isupper():  # "CT scan" keeps its capitals; "Bone scan" is "bone scan"
        test = test[0].lower() + test[1:]
    return test, f"{format_date(appt.at, ctx.tz)} at {format_time(appt.at, ctx.tz)}"


def _rearrange_reason(test: str, when: str, text: str) -> str:
    """The call-back note: what and when, and the patient's own words unless just "R"."""
    said = " ".join(text.split())
    note = f"Asked to rearrange their {test} on {when}"
    return f"{note}: \"{said[:400]}\"" if len(said) > 2 else note


def _when(ctx: Context, moment: datetime | None) -> str:
    if moment is None:
        return "on the next working day"
    local_now = ctx.now.astimezone(ctx.tz).date()
    local = moment.astimezone(ctx.tz)
    days = (local.date() - local_now).days
    day = "today" if days == 0 else "tomorrow" if days == 1 else f"on {local.strftime('%A')}"
    return f"{day} at {clock(local.time())}"


def _choose(conv: Conversation, ctx: Context, result: Result, n: int) -> Turn:
    state = conv.state if conv.state not in ("start", "nurse:reason") else "main"
    if n == 0:
        return _main(conv, ctx, result)
    options = _menu_options(ctx, state)
    if not 1 <= n <= len(options):
        k = ctx.knowledge
        body = k.message("invalid_choice", count=str(len(options)))
        menu = _menu_text(ctx, state)
        conv.state = state
        return _render(
            conv, ctx, result, _Reply(Text(f"{body.sms}\n{menu.sms}", f"{body.voice} {menu.voice}"))
        )
    target = options[n - 1][0]
    if state.startswith("topic:"):
        conv.state = state = "main"
    if target in ("tests", "treatments"):
        return _show_menu(conv, ctx, result, target)
    if target.startswith("test:"):
        return _show_menu(conv, ctx, result, target)
    if target == "nurse":
        return _nurse(conv, ctx, result)
    if target.startswith("section:"):
        return _answer(conv, ctx, result, state[5:], target[8:], in_menu=True)
    topic_id = target.split(":", 1)[-1]
    return _answer(conv, ctx, result, topic_id, None, in_menu=True)


def _answer(
    conv: Conversation,
    ctx: Context,
    result: Result,
    topic_id: str,
    aspect: str | None,
    in_menu: bool = False,
    also: str | None = None,
) -> Turn:
    k = ctx.knowledge
    topic = k.topics[topic_id]
    if _one_of_two(ctx, topic_id) and topic_id not in conv.pair:
        conv.pair = [*conv.pair[-1:], topic_id]
    conv.remember(topic_id)
    conv.last_aspect = aspect if aspect in topic.sections else None
    if topic.is_test and aspect is None:
        # A test without a particular question: its summary, then its sub-menu.
        if conv.state != f"test:{topic_id}" and conv.state not in ("start", "nurse:reason"):
            conv.back.append(conv.state)
        conv.state = f"test:{topic_id}"
        menu = _menu_text(ctx, conv.state)
        body = Text(f"{topic.answer.sms}\n{menu.sms}", f"{topic.answer.voice} {menu.voice}")
        return _render(conv, ctx, result, _Reply(body), topic_id)
    if in_menu and not aspect:
        return _render(
            conv, ctx, result, _Reply(topic.answer, k.messages["after_menu_topic"]), topic_id
        )
    if aspect and aspect in topic.sections:
        # "How long will I be on letrozole": that answer, not the overview of hormone therapy.
        if topic.is_test:
            if conv.state != f"test:{topic_id}" and conv.state not in ("start", "nurse:reason"):
                conv.back.append(conv.state)
            conv.state = f"test:{topic_id}"
        else:
            conv.state = f"topic:{topic_id}"
        footer = k.messages["after_section" if topic.is_test else "after_topic"]
        turn = _render(
            conv, ctx, result, _Reply(_section(topic, aspect), footer), topic_id, aspect
        )
        if also and also in topic.sections:
            if aspect == "what":
                # "What does the dye feel like": the dye is the part a follow-up is about.
                conv.last_aspect = also
            # Two questions in one message get two texts, the second with the usual tail.
            first = sms.paginate(_section(topic, aspect).sms, "", "")[0]
            second = _render(conv, ctx, result, _Reply(_section(topic, also), footer), topic_id)
            turn.messages = [first, *second.messages]
            turn.voice = f"{_section(topic, aspect).voice} {second.voice}"
        return turn
    conv.state = f"topic:{topic_id}"
    return _render(conv, ctx, result, _Reply(topic.answer, k.messages["after_topic"]), topic_id)


def _section(topic: Topic, aspect: str) -> Text:
    """One section of a topic as a reply body, named by the topic's title."""
    section = topic.sections[aspect]
    return Text(f"{topic.title}: {section.sms}", section.voice)


# Topics that name no test or treatment: a feeling said with them is what to answer.
_GENERAL_TOPICS = frozenset(["about", "support", "results", "diagnosis", "treatment", "nurse"])


def _free_text(
    conv: Conversation, ctx: Context, result: Result, text: str, awaiting: Awaiting | None = None
) -> Turn:
    k = ctx.knowledge
    # "Changing the subject, who is in charge of my care": not a follow-up, and the
    # words that say so are not part of the question.
    switched = _SWITCHES.search(clean(text)) is not None
    if switched:
        text = _SWITCHES.sub(" ", clean(text))
    moving = _ASKS_TO_MOVE.search(clean(text)) is not None
    if awaiting is None and moving and classify_reply(text) == "rearrange":
        # "I need to rearrange my CT on Friday": no reminder of ours to move, so who can.
        return _render(conv, ctx, result, _Reply(k.messages["rearrange_elsewhere"]))
    corrected = _CORRECTS.search(clean(text)) is not None
    if corrected:
        # "Sorry I meant the MRI not the CT": the test taken back is not what is asked.
        text = _TAKEN_BACK.sub(" ", clean(text))
    match = ctx.matcher.match(text)
    circumstance, feeling = ctx.personal.find(text)
    # A feeling is what to answer unless the message also asks about a test ("scared of
    # the MRI, can I bring someone?"): "terrified of chemo" is a feeling, not a question.
    # Nor when it comes with a practical question about a named test or treatment ("I'm
    # diabetic so worried about not eating before my PET"): that is what to answer.
    # A part named in a message that asks nothing ("waiting on PET results, going out of
    # my mind") is what the feeling is about: the feeling is answered, that part beside it.
    own_part = match.topic is not None and match.aspect in ctx.knowledge.topics[match.topic].cues
    if (
        feeling and circumstance is None and not own_part
        and _ASKS_OF_THE_FEELING.search(clean(text))
    ):
        # "Chemo next week and I'm terrified, is it normal to feel like this": what is
        # asked is the feeling, not a part of the chemo ("is that normal" is no "after").
        match = replace(match, aspect=None, also=None)
        practical = False
    else:
        practical = result.asks or circumstance is not None or (
            match.aspect is not None and ("?" in text or opens_a_question(clean(text)))
        )
    general = not match.topic or match.topic in _GENERAL_TOPICS or not practical
    apart = None
    if feeling and general and not feeling.first and circumstance is None:
        apart = _question_apart(ctx, text, match)
    if feeling and apart is not None:
        # "Mum was too upset to ask anything. What treatments are there?": the question is
        # answered, and the feeling told beside it gets its kind reply after.
        turn = _answer(conv, ctx, result, *apart)
        kind = sms.paginate(fill(feeling.reply, _values(ctx)).sms, "", "")[0]
        turn.messages = [*turn.messages, kind]
        return turn
    if feeling and (feeling.first or general):
        context = None if switched else _context_topic(conv, awaiting, ctx, text)
        beside = _asked_beside(ctx, text, match, general and not feeling.first, context)
        if beside is not None and beside[1] != feeling.aspect:
            # "Is there radiation with an ultrasound? My daughter wants to come in with me":
            # the part asked, then the reply to the hard question, one text each.
            turn = _answer(conv, ctx, result, *beside)
            kind = sms.paginate(fill(feeling.reply, _values(ctx)).sms, "", "")[0]
            turn.messages = [*turn.messages, kind]
            return turn
        return _feeling(conv, ctx, result, feeling.reply, match.topic)
    # A follow-up names no test: it is about the one just discussed or just reminded of.
    # "How long do I wait after" right after a bone scan answer is about the bone scan,
    # though "wait" alone would say results in general.
    earlier = None if switched else _context_topic(conv, awaiting, ctx, text)
    if (
        match.topic in _GENERAL_TOPICS
        and earlier
        and k.topics[earlier].sections
        and ctx.matcher.aspect(ctx.matcher.words(text), earlier, text) is not None
        and not _names(ctx, text, match.topic)
    ):
        match = replace(match, topic=None)
    topic = match.topic or earlier
    test = _named_test(ctx, text) if circumstance is not None else None
    if circumstance is not None and (test or not _asks_own_section(ctx, match)):
        # "Should I stop my tamoxifen before the CT": the test is what the answer is for.
        # With no test, "how long will I be on letrozole" asks about the treatment itself.
        about = test or topic
        asked = _also_asked(ctx, text, about)
        asked = None if asked in circumstance.covers else asked
        return _circumstance(conv, ctx, result, circumstance, about, asked)
    again = _circumstance_again(conv, ctx, text, match.topic)
    if again is not None:
        # "Will they cancel it then?" after the pacemaker answer: what the circumstance
        # means for the test, said again.
        return _circumstance(conv, ctx, result, again, conv.last_topic)
    # "What's the number?" or "when are they open?" naming nothing gets the lines whatever
    # came before: the nurses can help with a test too, and a department's hours are in
    # the letter, not here.
    if _RUNNING_LATE.search(clean(text)) and not result.worrying:
        # "Running about 20 mins late, bus never came": the department needs to know.
        return _render(conv, ctx, result, _Reply(k.messages["running_late"]))
    opening = policy.asks_when_open(text) and (
        match.topic is None or (match.topic == "nurse" and not _names(ctx, text, "nurse"))
    )
    if opening or (
        match.topic is None and conv.last_topic == "support" and _IS_IT_FREE.search(clean(text))
    ):
        # "Is that open at the weekend" after the lines were given ("weekend" is no nurse
        # named); "is that free?": the lines again, each with its hours and cost.
        return _lines_again(conv, ctx, result)
    if match.topic is None and (
        policy.asks_for_number(text) or policy.asks_when_open(text) or policy.cannot_reach(text)
    ):
        if awaiting is not None and not policy.asks_when_open(text):
            # "Who do I ring" after a reminder: about the appointment, the letter's number
            # first, then the nurses.
            nurse = ctx.directory["nurse"].number or ""
            return _render(conv, ctx, result, _Reply(k.message("appointment_number", nurse=nurse)))
        return _lines_again(conv, ctx, result)
    if (
        match.topic is None and conv.last_topic is not None and conv.last_aspect is not None
        and _ONLY_IS_IT_NORMAL.fullmatch(clean(text).strip())
        and conv.last_aspect in k.topics[conv.last_topic].sections
    ):
        # "What does the dye feel like" then "is that normal?": of what was just said.
        return _answer(conv, ctx, result, conv.last_topic, conv.last_aspect)
    referred = _pair_reference(conv, text) if match.topic is None else None
    if referred is not None:
        # "How long is the first one", "and the other one", "does the second?": one of
        # the two just talked about, and the part asked of the other if none is asked.
        asked, also = ctx.matcher.aspects(ctx.matcher.words(text), referred, text)
        if asked in (None, "what") and conv.last_aspect in k.topics[referred].sections:
            asked, also = conv.last_aspect, None
        pair = list(conv.pair)
        turn = _answer(conv, ctx, result, referred, asked, also=also)
        turn.conversation.pair = pair  # "the first one" stays the first
        return turn
    if match.topic is None and not switched:
        # "Which one takes longer" after the liver ultrasound and then the bone scan: the
        # same part of each, in the order they came up.
        both = _the_two_before(conv, ctx, text)
        paired = _compare_part(conv, ctx, result, text, *both) if both is not None else None
        if both is not None and paired is not None:
            # Both stay where they were: "going back to the first one" is still the first.
            paired.conversation.earlier_topic, paired.conversation.last_topic = both
            return paired
    if match.topic is None and topic is not None:
        sections = k.topics[topic].sections
        # "Can I have a cuppa in the morning? and how long will it take": both parts.
        aspect, also = ctx.matcher.aspects(
            ctx.matcher.words(text), topic if sections else None, text
        )
        own = ctx.matcher.own_section(ctx.matcher.words(text)) if aspect in (None, "what") else None
        if (
            own is not None and own[0] != topic and not ctx.matcher.shares_words(topic, text)
            and not asks_how_it_works(text)
        ):
            # "Whats maggies?" after a bone scan reminder: the drop-in centre, named by its
            # own words, not what the bone scan is.
            if conv.state in ("start", "nurse:reason"):
                conv.state = "main"
            return _answer(conv, ctx, result, *own)
        if aspect is not None:
            return _answer(conv, ctx, result, topic, aspect if sections else None, also=also)
    ordered = _in_order(ctx, text)
    if ordered is not None:
        # "Chemo first then radiotherapy or the other way round?": the plan's order.
        if conv.state in ("start", "nurse:reason"):
            conv.state = "main"
        return _answer(conv, ctx, result, *ordered)
    compared = _compared(ctx, text)
    if compared is not None:
        paired = _compare_part(conv, ctx, result, text, *compared)
        if paired is not None:
            return paired
    if match.topic:
        if conv.state in ("start", "nurse:reason"):
            conv.state = "main"
        aspect = match.aspect
        same = (
            _SAME_FOR.match(clean(text)) or _CORRECTS.search(clean(text))
            or _COMPARATIVE.search(clean(text))
        )
        again = ctx.personal.circumstances.get(conv.last_circumstance or "")
        if same and again is not None and match.topic != conv.last_topic:
            # "Grandkids live with us, is that a problem after?" then "same for the other
            # scan? she has a CT the week after": the circumstance, for that test.
            return _circumstance(conv, ctx, result, again, match.topic)
        if same and conv.last_aspect in k.topics[match.topic].sections:
            # "Can I eat before my CT?" then "what about for the PET scan", "sorry, I
            # meant the MRI", "and is a CT of the liver longer": the same part, unless the
            # rest of the message asks another.
            rest = clean(text) if _COMPARATIVE.search(clean(text)) else clean(text)[same.end() :]
            # "Same for the other scan? she has a CT the week after": what the question asks,
            # not a time told beside it.
            asking = [p for p in sentences_of(rest) if "?" in p]
            rest = " ".join(asking) if asking else rest
            asked = ctx.matcher.aspect(ctx.matcher.words(rest), match.topic, rest)
            aspect = asked if asked not in (None, "what") else conv.last_aspect
        return _answer(conv, ctx, result, match.topic, aspect, also=match.also)
    # No topic named, but words that ask one topic's own question ("will it go everywhere").
    said = ctx.matcher.words(text)
    found = ctx.matcher.own_section(said)
    if found is None and ctx.matcher.aspect(said, None, text) == "results":
        # "Scan done this morning, how long till I hear anything": the wait for results is
        # the same whichever test it was.
        found = ("results", ctx.matcher.aspect(said, "results", text) or "duration")
    if found is not None:
        if conv.state in ("start", "nurse:reason"):
            conv.state = "main"
        return _answer(conv, ctx, result, *found)
    words = set(re.findall(r"[a-z]+", clean(text)))
    if words and len(words) <= 4 and words & GREETINGS:
        welcome, menu = k.messages["welcome"], k.messages["main_menu"]
        conv.state, conv.back = "main", []
        return _render(
            conv,
            ctx,
            result,
            _Reply(Text(f"{welcome.sms}\n{menu.sms}", f"{welcome.voice} {menu.voice}")),
        )
    if words and len(words) <= 4 and words & THANKS:
        return _render(conv, ctx, result, _Reply(k.messages["thanks"]))
    alerted = policy.alerted_recently(conv.alerted, ctx.now, policy.PUSHBACK_HOURS)
    if alerted:
        # Whatever else is said about it ("she says she's fine", "it went off with
        # paracetamol last time"), the advice stands: never "not sure" after a warning.
        return _after_warning(conv, ctx, result, alerted, "still_call")
    if _GETTING_THERE.search(clean(text)):
        # Parking, transport, which building: the letter and the department, not here.
        nurse = ctx.directory["nurse"].number or ""
        return _render(conv, ctx, result, _Reply(k.message("getting_there", nurse=nurse)))
    low = policy.categories(conv.worries)[-1:] == ["low_mood"]
    if conv.turns > 1 and (conv.last_topic == "support" or low):
        # Said after a kind reply ("I just keep sitting in the car outside hers"): more of
        # the same feeling, not a question the line failed to understand.
        return _feeling(conv, ctx, result, ctx.personal.feelings["fear"].reply, None)
    if not looks_english(text):
        return _render(conv, ctx, result, _Reply(k.messages["not_english"]))
    return _render(conv, ctx, result, _Reply(k.messages["not_sure"]))


# The same question again about something else: "what about for the PET scan".
_SAME_FOR = re.compile(
    r"\W*(?:and |ok |okay |so )?(?:what about|how about|and for|same for|what about for|"
    r"and what about|is it the same for|same with|and the|and my|and a|and an|what about a)\b"
)

# Asking whether the feeling just told is normal.
_ASKS_OF_THE_FEELING = re.compile(
    r"\b(?:normal|natural|ok|okay|silly|stupid|daft|wrong|weird)\b[^.?!]{0,12}\b(?:to feel|"
    r"to be (?:so |this |that )?(?:scared|worried|frightened|terrified|nervous|anxious|upset|"
    r"emotional))\b"
    r"|\bfeel(?:ing)? (?:like this|this way)\b"
    r"|\b(?:is|it's|its) (?:that|this|it) (?:normal|natural|ok|okay)\s*[?.!]*\s*$"
)
# Whether a test or appointment still goes ahead, asked after a warning.
_STILL_GO = re.compile(
    r"\b(?:(?:should|do|can|shall|will) (?:i|we|she|he) still (?:go|come|have|attend|get)|"
    r"still go (?:to|for)|still have (?:my|the|her|his)|still go ahead|still be going ahead|"
    r"cancel (?:my|the|her|his) (?:scan|appointment|appt|test|biopsy|mri|ct|x-?ray|pet))\b"
)
# Asking what a test involves: "what actually happens", "what do they do".
_WHAT_HAPPENS = re.compile(
    r"\bwhat (?:actually |exactly )?happens\b|\bwhat do they (?:actually )?do\b|"
    r"\bwhat(?:'s| is|s) involved\b|\bwhat does it involve\b"
)
# Whether a line just given costs anything.
_IS_IT_FREE = re.compile(
    r"\b(?:is (?:that|it|this|the number) free|does it cost|cost anything|free to call|freephone)\b"
)
# Running late for the appointment.
_RUNNING_LATE = re.compile(
    r"\b(?:running (?:a bit |about |abit |very |so |really )?(?:\d+ (?:mins?|minutes) )?late|"
    r"(?:going to|gonna|will|might|may) be (?:a bit |about |abit |\d+ (?:mins?|minutes) )?late|"
    r"be late for|stuck in traffic)\b"
)
# Only asking whether what was just said is normal: "is that normal?", "is that ok?".
_ONLY_IS_IT_NORMAL = re.compile(
    r"(?:and |so |but )?(?:is|isn't|is it|is that|is this|it's|its|thats|that's)\s*"
    r"(?:that |this |it )?(?:normal|ok|okay|usual|common|expected)\s*[?!.]*"
)
# Taking back the test named before: "sorry I meant the MRI", "it's a PET scan not a CT".
_CORRECTS = re.compile(
    r"\b(?:i meant|i mean the|i mean a|meant to say|should have said|should've said|"
    r"not the [a-z -]{1,16}(?:,| )(?:i mean|i meant|the|a|an|it's|its)|"
    r"(?:it's|its|it is) (?:a|an|the|my) [a-z -]{1,16} not (?:a|an|the|my))\b"
)
_TAKEN_BACK = re.compile(
    r"\bnot (?:a|an|the|my|her|his) (?:pet ct|pet-ct|pet scan|ct scan|mri scan|bone scan|"
    r"x ?-?ray|[a-z-]+)(?: scan| test)?\b"
)
# "And is a CT of the liver longer", "is the PET more painful": the same part compared.
_COMPARATIVE = re.compile(
    r"\b(?:longer|shorter|quicker|faster|slower|more painful|less painful|worse|as long|"
    r"as bad|as sore)\b"
)
# "The first one", "does the second?", "and the other one": one of the two just talked
# about, not "the first time", "the other day" or "the other breast".
_PAIR_REFERENCE = re.compile(
    r"\bthe (first|1st|former|second|2nd|latter|other)(?: one| 1)?\b(?! (?:time|times|day|"
    r"days|week|weeks|night|cancer|breast|side|arm|leg|hand|way|thing|things|half|lot|people|"
    r"person|hospital|doctor|nurse|dose|cycle|round|appointment|lady|ladies|women|patients))"
)


def _one_of_two(ctx: Context, topic_id: str) -> bool:
    """True for a test or treatment that "the first one" or "the other one" can name."""
    topic = ctx.knowledge.topics[topic_id]
    return topic.menu in ("tests", "treatments") and topic_id not in _GENERAL_TOPICS


def _pair_reference(conv: Conversation, text: str) -> str | None:
    """Which of the two tests or treatments just talked about a message refers to, if it
    refers to one of them by order ("the first one", "the second", "the other one")."""
    found = _PAIR_REFERENCE.findall(clean(text))
    if len(conv.pair) != 2 or not found:
        return None
    which = found[-1]  # "the first one needs 4 hours, does the second?" asks of the second
    if which == "other":
        others = [t for t in conv.pair if t != conv.last_topic]
        return others[0] if len(others) == 1 else None
    return conv.pair[0] if which in ("first", "1st", "former") else conv.pair[1]


# "What's the difference between a PET-CT and a CT", "targeted therapy vs chemo", "is
# radiotherapy the same as an x-ray": two things set side by side.
_COMPARING = re.compile(
    r"\b(?:difference|differences|diff|differ|different from|vs|versus|compared|compare|"
    r"same as|same thing as|better than|like the|like a|like an|similar to|longer than|"
    r"shorter than|more than for|or are they|which one|which of|which takes|which hurts|"
    # One test taken for another: "is a CT just a posh x-ray", "radiotherapy is x-rays?"
    r"just a|just an|basically a|basically an|a kind of|a type of|sort of)\b"
)


def _compared(ctx: Context, text: str) -> tuple[str, str] | None:
    """The two tests or treatments a message compares, in the order named, if it does."""
    if not _COMPARING.search(clean(text)):
        return None
    named = [
        t for t in ctx.matcher.mentions(ctx.matcher.words(text))
        if ctx.knowledge.topics[t].menu in ("tests", "treatments") and t not in _GENERAL_TOPICS
    ]
    return (named[0], named[1]) if len(named) >= 2 else None


# Getting there: what the appointment letter and the department answer.
_GETTING_THERE = re.compile(
    r"\b(?:park|parking|car park|carpark|bus|buses|transport|taxi|taxis|directions|"
    r"which building|what building|new building|which entrance|which door|lift to|"
    r"how do i get there|how do we get there|get there|disabled parking|wheelchair access)\b"
)


# The order of two things named: "which comes first", "before or after the CT".
_ORDER = re.compile(
    r"\b(?:which comes first|what comes first|which (?:one )?first|first then|"
    r"other way (?:round|around)|in what order|what order|which order|before or after)\b"
)


def _in_order(ctx: Context, text: str) -> tuple[str, str] | None:
    """Where the order of two tests or treatments named is answered, if that is asked: the
    plan of treatments, or for tests, which ones depend on the symptoms."""
    asked = _ORDER.search(clean(text))
    if asked is None:
        return None
    named = [
        ctx.knowledge.topics[t] for t in ctx.matcher.mentions(ctx.matcher.words(text))
        if ctx.knowledge.topics[t].menu in ("tests", "treatments") and t not in _GENERAL_TOPICS
    ]
    # "Which comes first, radiotherapy or the new tablets" names one; "do I eat before or
    # after the CT" asks about the CT alone.
    if len(named) < (2 if asked.group(0) == "before or after" else 1):
        return None
    if any(t.menu == "treatments" for t in named):
        return "treatment", "order"
    return "diagnosis", "tests"


# Asked of the two just talked about: "which one takes longer", "which of them hurts".
_WHICH_OF_TWO = re.compile(
    r"\b(?:which (?:one|1|of them|of the two|of those|is|takes|hurts|uses|needs|would|will)|"
    r"or the other|the other one|both of them|either of them)\b"
)


def _the_two_before(conv: Conversation, ctx: Context, text: str) -> tuple[str, str] | None:
    """The two tests or treatments talked about last, when a message asks which of them."""
    if not _WHICH_OF_TWO.search(clean(text)):
        return None
    two = [conv.earlier_topic, conv.last_topic]
    if any(
        t is None or ctx.knowledge.topics[t].menu not in ("tests", "treatments") for t in two
    ) or two[0] == two[1]:
        return None
    return cast(str, two[0]), cast(str, two[1])


def _compare_part(
    conv: Conversation, ctx: Context, result: Result, text: str, subject: str, other: str
) -> Turn | None:
    """Two tests or treatments compared: what each is, or the part asked of each."""
    k = ctx.knowledge
    if conv.state in ("start", "nurse:reason"):
        conv.state = "main"
    # A part asked outright, not words the tests' texts happen to share ("is a CT just
    # a posh x-ray" asks what each is).
    said = ctx.matcher.words(text)
    if ctx.matcher.aspect(said, None, text) in (None, "what"):
        return _compare(conv, ctx, result, subject, other)
    # "Is the PET the same as a CT, and do I need to fast?": the part asked, of the
    # first named, which the question is about.
    aspect = ctx.matcher.aspect(said, subject, text)
    if aspect is None or aspect == "what":
        return None
    turn = _answer(conv, ctx, result, subject, aspect)
    if aspect in k.topics[other].sections and aspect in k.topics[subject].sections:
        # "Is the fasting for the PET longer than for the CT": the same part of the
        # other, in a text of its own.
        same_part = _section(k.topics[other], aspect)
        turn.messages = [*turn.messages, sms.paginate(same_part.sms, "", "")[0]]
        turn.voice = f"{turn.voice} {same_part.voice}"
    return turn


def _compare(conv: Conversation, ctx: Context, result: Result, first: str, second: str) -> Turn:
    """What each of two tests or treatments is, one text each, the second with the tail."""
    k = ctx.knowledge
    conv.state = "main"

    def what(topic_id: str) -> Text:
        topic = k.topics[topic_id]
        return _section(topic, "what") if "what" in topic.sections else topic.answer

    one = sms.paginate(what(first).sms, "", "")[0]
    turn = _render(
        conv, ctx, result, _Reply(what(second), k.messages["after_topic"]), first, "what"
    )
    conv.remember(first)
    conv.last_aspect = None
    conv.pair = [first, second]
    turn.messages = [one, *turn.messages]
    turn.voice = f"{what(first).voice} {turn.voice}"
    return turn


def _asked_beside(
    ctx: Context, text: str, match: Match, worry: bool, context: str | None = None
) -> tuple[str, str] | None:
    """The section a message with a feeling also asks: a part of a named test or treatment,
    or of the one just talked about ("worried about the radioactive bit"); with a worry
    ("terrified it will go everywhere"), a general topic's own question asked by its own
    words. A hard question's own reply already answers what its words ask."""
    k = ctx.knowledge
    if (
        match.topic in _GENERAL_TOPICS and context is not None and k.topics[context].is_test
        and not _names(ctx, text, match.topic)
    ):
        # "Mum gets very anxious, what actually happens" after a liver ultrasound reminder:
        # the test's part, not the results' own section for feeling anxious.
        aspect = ctx.matcher.aspect(ctx.matcher.words(text), context, text)
        if aspect is not None and aspect in k.topics[context].sections:
            return context, aspect
    if match.topic is None:
        if context is not None and k.topics[context].is_test:
            aspect = ctx.matcher.aspect(ctx.matcher.words(text), context, text)
            # "What" is in nearly every question: only "what happens" asks what the test is.
            if aspect == "what" and not _WHAT_HAPPENS.search(clean(text)):
                aspect = None
            if aspect is not None and aspect in k.topics[context].sections:
                return context, aspect
        return ctx.matcher.own_section(ctx.matcher.words(text)) if worry else None
    if match.aspect is None or match.aspect not in k.topics[match.topic].sections:
        return None
    own = match.aspect in k.topics[match.topic].cues
    if match.topic in _GENERAL_TOPICS and not (worry and own):
        return None
    return match.topic, match.aspect


def _question_apart(
    ctx: Context, text: str, whole: Match
) -> tuple[str, str | None] | None:
    """The topic and aspect of a question put in a sentence of its own, away from the
    feeling the message tells ("She's terrified. What does the scan involve?"), or None.
    `whole` is the match of the whole message, which has no circumstance ("I'm diabetic so
    worried about fasting" is answered as the circumstance)."""
    # "results?? going out of my mind": a second "?" is no sentence of its own.
    parts = [p.strip() for p in sentences_of(clean(text)) if p.strip(" ?!.")]
    asking = [p for p in parts if "?" in p or opens_a_question(p)]
    if len(parts) < 2 or len(asking) != 1:
        return None
    question = asking[0]
    _, feeling = ctx.personal.find(question)
    if feeling is not None:
        return None
    match = ctx.matcher.match(question)
    if match.topic is None or match.topic in ("support", "symptoms"):
        return None
    # The whole message may say more about which part is asked ("the form... nervous I get
    # it wrong"), when it is about the same topic.
    aspect = whole.aspect if whole.topic == match.topic and whole.aspect else match.aspect
    return match.topic, aspect


def _asks_own_section(ctx: Context, match: Match) -> bool:
    """True when a treatment or general topic has a section for what the message asks."""
    if match.topic is None or match.aspect is None:
        return False
    topic = ctx.knowledge.topics[match.topic]
    return not topic.is_test and match.aspect in topic.sections


def _named_test(ctx: Context, text: str) -> str | None:
    """The test a message names, if it names one (the best-scored topic that is a test)."""
    scores = ctx.matcher.scores(ctx.matcher.words(text))
    tests = [(v, t) for t, v in scores.items() if ctx.knowledge.topics[t].is_test]
    return max(tests)[1] if tests else None


def _names(ctx: Context, text: str, topic: str) -> bool:
    """True when the message names the topic itself: its title or a phrase of its keywords
    ("results", "support group"), not a word it shares with follow-ups ("wait")."""
    t = ctx.knowledge.topics[topic]
    words = f" {' '.join(ctx.matcher.words(text))} "
    names = [t.title, *(kw for kw in t.keywords if " " in kw.strip())]
    return any(f" {' '.join(ctx.matcher.words(kw))} " in words for kw in names)


def _context_topic(
    conv: Conversation, awaiting: Awaiting | None, ctx: Context, text: str
) -> str | None:
    """What a follow-up is about: the test a reminder was just sent for, the topic before
    the last when the message goes back to it, or the last topic."""
    if awaiting is not None:
        return awaiting.test
    earlier = conv.earlier_topic
    if earlier in ctx.knowledge.topics and ctx.knowledge.topics[earlier].sections:
        # "Back to the scan, can I eat before": after a warning or a feeling, or said so.
        aside = conv.last_topic in _GENERAL_TOPICS or conv.last_topic == "symptoms"
        if _GOES_BACK.search(clean(text)) or (aside and _A_TEST.search(clean(text))):
            return earlier
        if aside and ctx.knowledge.topics[earlier].is_test:
            # "Is it normal to be sore after" after a warning about a biopsy: a part of the
            # test, which the warning or the feeling in between has no section for.
            asked = ctx.matcher.aspect(ctx.matcher.words(text), earlier, text)
            last = ctx.knowledge.topics.get(conv.last_topic or "")
            own_part = asked in _A_TESTS_OWN  # not "how long does it last" of a headache
            if own_part and (last is None or asked not in last.sections):
                return earlier
    return conv.last_topic


# With no reminder of ours in reply to, only a request to move a booking said outright:
# "and if I can't do it?" or "would a CT be ok instead" ask about the test.
_ASKS_TO_MOVE = re.compile(
    r"\b(?:rearrange|re arrange|reschedule|postpone|rebook|"
    r"(?:change|move|swap) (?:my|the|her|his|our|this) (?:appointment|appt|date|time|booking)|"
    r"(?:cant|can't|cannot|wont|won't|couldn't|couldnt) make "
    r"(?:it|my appointment|the appointment))\b"
)
# Whether the appointment still stands, asked after a reminder.
_STILL_COME = re.compile(
    r"\b(?:(?:do|should|can|shall) (?:i|we|she|he) still (?:come|go|have it|attend)"
    r"(?: (?:in|to it|for it|or not|then|tomorrow|on \w+day|to the appointment))?\s*(?:[?.!]|$)|"
    r"is it still on|still going ahead|still go ahead|still be going ahead)"
)
_SWITCHES = re.compile(
    r"\b(?:chang\w* the subject|change of subject|different subject|different topic|"
    r"different thing|different question|different q|totally different|completely different|"
    r"unrelated|on another note)\b"
)
_GOES_BACK = re.compile(
    r"\b(?:back to|going back|go back to|the first one|the one before|the other one|"
    r"the earlier one|before that)\b"
)
_A_TEST = re.compile(r"\b(?:the|that|my|her|his) (?:scan|test|appointment)\b")
# Parts only a test has: asked after a warning, they are about the test before it.
_A_TESTS_OWN = frozenset(["after", "dye", "eat_drink", "prepare", "radiation", "results", "who"])


def _values(ctx: Context) -> dict[str, str]:
    d = ctx.directory
    return {
        "nurse": d["nurse"].number or "",
        "macmillan": d["macmillan"].number or "",
        "maggies": d["maggies"].number or "",
        "samaritans": d["samaritans"].number or "116 123",
        "breast_cancer_now": d["breast_cancer_now"].number or "",
    }


def _feeling(
    conv: Conversation, ctx: Context, result: Result, reply: str, topic: str | None
) -> Turn:
    """A feeling or hard question: a kind reply with who to talk to, never "not sure".

    Its topic is the test or treatment the feeling is about, if one is named ("scared of
    my MRI"), else support.
    """
    if conv.state in ("start", "nurse:reason"):
        conv.state = "main"
    # "Terrified of my CT tomorrow" then "does it hurt": the CT is what it is about; with no
    # test named, "what's the number" asks for the lines the reply offered.
    named = topic is not None and (
        # "Waiting on my results and terrified": what follows asks about the results.
        topic == "results"
        or (
            topic not in _GENERAL_TOPICS  # "can't work through treatment" names none
            and ctx.knowledge.topics[topic].menu in ("tests", "treatments")
        )
    )
    conv.remember(topic if named else "support")
    conv.last_aspect = None
    return _render(conv, ctx, result, _Reply(fill(reply, _values(ctx))), topic or "support")


def _needs_the_number_again(ctx: Context, text: str) -> bool:
    """After a warning: asking who to call or where to go, asking to wait, or putting it
    off. "My CT is tomorrow, can I eat?" names a test and is a question of its own, unless
    it asks outright to wait; "we're in the ambulance now" says help is under way."""
    cleaned = clean(text)
    if _SUPPORT_LINE.search(cleaned) and not _URGENT_HELP.search(cleaned):
        return False  # "what's the Macmillan number for after": that line, not the urgent one
    if _FOR_LATER.search(cleaned) and not _URGENT_HELP.search(cleaned):
        return False  # "what's the nurses number anyway, for after": for another day
    if policy.asks_for_help(text):
        return True
    if policy.under_way(text):
        return False
    of_its_own = not _names_no_test_or_treatment(ctx, text)
    if policy.asks_to_wait(text) and (policy.waits_outright(text) or not of_its_own):
        return True
    return policy.defers(text) and not of_its_own


_SUPPORT_LINE = re.compile(
    r"\b(?:macmillan|samaritans|maggies?|breast cancer now|fact gateshead|fighting all cancers)\b"
)
# Asked for another day, not for now: "the nurses number anyway for after".
_FOR_LATER = re.compile(
    r"\b(?:for after|for afterwards|afterwards|for later|for another time|for next time|"
    r"for the future|for next week|for future)\b"
)
# Help now, named beside a support line ("should I ring Macmillan or an ambulance").
_URGENT_HELP = re.compile(r"\b(?:ambulance|999|111|a ?& ?e|a and e|hospital|doctor|gp|24 hour)\b")


def _names_no_test_or_treatment(ctx: Context, text: str) -> bool:
    """True unless the message names a test or treatment ("she'll ring the nurse on Monday"
    names none: the nurse is who, not what)."""
    topic = ctx.matcher.match(text).topic
    return topic is None or topic in _GENERAL_TOPICS or topic == "symptoms"


def _lines_again(conv: Conversation, ctx: Context, result: Result) -> Turn:
    """The nurse line and the support lines again, with their numbers and hours."""
    d = ctx.directory
    reply = ctx.knowledge.message(
        "lines_again",
        nurse=d["nurse"].number or "",
        nurse_hours=d["nurse"].describe_hours(),
        macmillan=d["macmillan"].number or "",
        macmillan_hours=d["macmillan"].describe_hours(),
        samaritans=d["samaritans"].number or "116 123",
    )
    conv.last_aspect = None
    return _render(conv, ctx, result, _Reply(reply), "support")


# Asking what a circumstance just answered means for the test: "will they cancel it then",
# "so will he not get scanned at all", "can she still have it".
_WHAT_IT_MEANS = re.compile(
    r"\b(?:at all|instead|cancel\w*|still (?:have|go ahead|get|do|go)|go ahead|a problem|"
    r"what happens|then what|what then|what now|not (?:be able to|get|have)|can't have|"
    r"cant have|won't be able|wont be able|does that mean|so what|"
    # "Do I have to stop feeding" after breastfeeding, "is it safe" after a pacemaker.
    r"have to stop|need to stop|should i stop|do i stop|is it safe|is that safe|safe for)\b"
)


def _circumstance_again(
    conv: Conversation, ctx: Context, text: str, topic: str | None
) -> Circumstance | None:
    """The circumstance just answered, when the message asks what it means for the test."""
    if conv.last_circumstance is None or topic not in (None, conv.last_topic):
        return None
    if _WHAT_IT_MEANS.search(clean(text)) is None:
        return None
    if conv.last_topic is not None and ctx.knowledge.topics[conv.last_topic].sections:
        # "If they can't do it because of the hip, what happens then" names a part of the
        # test (its metal section) after the answer about lying flat: that part answers.
        aspect = ctx.matcher.aspect(ctx.matcher.words(text), conv.last_topic, text)
        if aspect not in (None, "what"):
            return None
    return ctx.personal.circumstances.get(conv.last_circumstance)


def _circumstance(
    conv: Conversation,
    ctx: Context,
    result: Result,
    circumstance: Circumstance,
    topic: str | None,
    also: str | None = None,
) -> Turn:
    """A personal circumstance: what the leaflets say for this test, then tell the team;
    and, in a second text, the part of the test the message also asks about."""
    if conv.state in ("start", "nurse:reason"):
        conv.state = "main"
    if topic:
        conv.remember(topic)
    conv.last_aspect = None
    answer = circumstance.answer(topic)
    tail = ctx.knowledge.message("circumstance_tail", nurse=ctx.directory["nurse"].number or "")
    body = Text(f"{answer} {tail.sms}", f"{answer} {tail.voice}")
    turn = _render(conv, ctx, result, _Reply(body), topic, "circumstance")
    conv.last_circumstance = circumstance.id
    if topic and also:
        section = _section(ctx.knowledge.topics[topic], also)
        turn.messages.append(sms.paginate(section.sms, "", "")[0])
        turn.voice = f"{section.voice} {turn.voice}"
    return turn


# A circumstance answer says what to do before the test; these parts it does not cover.
_BESIDE_CIRCUMSTANCE = frozenset(
    ["dye", "radiation", "pain", "eat_drink", "side_effects", "results", "who", "after",
     "duration"]
)


def _also_asked(ctx: Context, text: str, topic: str | None) -> str | None:
    """The part of a test a message with a personal circumstance also asks about, if any."""
    if topic is None or not ctx.knowledge.topics[topic].sections:
        return None
    aspect = ctx.matcher.aspect(ctx.matcher.words(text), topic, text)
    # A test's own part asked in its own words ("is it loud?") counts too; a circumstance
    # answer covers its own (the MRI's "metal" section is the metal circumstance's answer).
    own = aspect in ctx.knowledge.topics[topic].cues
    return aspect if aspect in _BESIDE_CIRCUMSTANCE or own else None


_KEYWORDS: dict[str, Callable[[Conversation, Context, Result], Turn]] = {
    "menu": _main,
    "0": _main,
    "main": _main,
    "home": _main,
    "back": _back,
    "more": _more,
    "next": _more,
    "help": _help,
    "info": _help,
    "nurse": _nurse,
    **{w: _opt("opt_out") for w in OPT_OUT},
    **{w: _opt("opt_in") for w in OPT_IN},
}
