"""The phone line: a pure function of (call, what the caller did, context) to what to say next.

No Flask, no Redis, no Twilio here. The web layer turns a CallTurn into TwiML: `Listen`
becomes a <Gather>, `Connect` a <Dial> to a directory line, `Record` a voicemail, and
`Hangup` ends the call. Every spoken input is triaged before anything else, in every state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from flows import policy, sms
from flows.conversation import recent
from flows.directory import Line, clock
from flows.engine import Action, Context, caution, told_reason, urgent_line
from flows.knowledge import ASPECTS, CONTENT_DIR, Topic, load_yaml
from flows.text import clean
from flows.triage import Result

VOICE_FILE = CONTENT_DIR / "voice.yaml"

MAX_INPUTS = 100  # menu turns in one call before it is ended politely
MAX_MENU_TIME = timedelta(minutes=40)  # time in the menus (a call put through has its own limit)
# Below this the recogniser is guessing ("er" heard as "ER"): ask again before acting.
LOW_CONFIDENCE = 0.35
REPROMPTS = 2  # silent turns re-prompted before the caller is offered a person
MAX_INVALID = 3  # wrong keys or words in a row before the caller is offered a person
RECORD_SECONDS = 120
PAGE = 7  # a menu longer than 8 choices shows 7 a page and "8 for more"
HANGUP_STATUSES = frozenset(["completed", "answered"])  # the dialled line picked up

KEY_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "zero": "0", "nought": "0",
    "star": "*", "hash": "#", "pound": "#",
}
KEY_PREFIXES = ("press", "option", "number", "choice", "button")
KEY_NAMES = {"*": "star", "#": "hash"}
FILLERS = (
    "please", "i want to", "i would like to", "i'd like to", "id like to", "can i", "could i",
    "can you", "could you", "i want", "i need to", "i need", "um", "erm", "er", "uh", "ok",
    "okay", "yeah", "yes", "thanks", "thank you",
)
_FILLER_RE = re.compile(
    r"^(?:(?:" + "|".join(re.escape(f) for f in sorted(FILLERS, key=len, reverse=True))
    + r")\b[\s,]*)+"
)

_TRAILING_RE = re.compile(r"(?:[\s,]+(?:please|thanks|thank you|now))+$")

# Phone numbers are read digit by digit: "0191 445 3735" -> "0 1 9 1, 4 4 5, 3 7 3 5".
_PHONE = re.compile(
    r"(?<![\w.])(\+44 ?\d{2,5}(?: ?\d{2,4}){1,3}|0\d{2,4}(?: \d{2,4}){1,3}|0\d{9,10}"
    r"|999|111|116 ?123)(?!\w|\.\d)"
)


class CallContentError(ValueError):
    """voice.yaml is malformed."""


# --- Content -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One numbered choice: a key, what is said, where it goes, and words that pick it."""

    key: str
    label: str
    go: str
    words: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        """The spoken line: 'For treatments, press 4.'"""
        return f"{self.label}, press {self.key}."


@dataclass(frozen=True)
class Prompts:
    """The phone line's own words, loaded from voice.yaml."""

    texts: dict[str, str]
    main: tuple[Choice, ...]
    named: dict[str, Choice]  # key-less choices (again, text...); keys given per menu
    words: dict[str, frozenset[str]]
    routes: dict[str, tuple[str, ...]]
    sms_continued: str = "(Continued in the next text.)"
    reviewed: str = ""
    review_due: str = ""

    def text(self, name: str, **values: str) -> str:
        """A fixed sentence with its {placeholders} filled in."""
        return self.texts[name].format(**values)

    def choice(self, name: str, key: str, go: str | None = None) -> Choice:
        """A named choice bound to a key (and, optionally, a different destination)."""
        c = self.named[name]
        return replace(c, key=key, go=go or c.go)


def _phrases(raw: Any) -> tuple[str, ...]:
    return tuple(_normal(str(w)) for w in raw or ())


def load_prompts(path: Path = VOICE_FILE) -> Prompts:
    """Read and check voice.yaml."""
    raw = load_yaml(path)
    try:
        texts = {str(k): " ".join(str(v).split()) for k, v in raw["texts"].items()}
        choices = raw["choices"]
        main = tuple(
            Choice(str(c["key"]), str(c["label"]), str(c["go"]), _phrases(c.get("words")))
            for c in choices["main"]
        )
        named = {
            str(name): Choice("", str(c["label"]), str(c.get("go") or name), _phrases(c["words"]))
            for name, c in choices.items()
            if name not in ("main", "aspects")
        }
        for aspect in ASPECTS:
            c = choices["aspects"][aspect]
            named[f"aspect:{aspect}"] = Choice(
                "", str(c["label"]), f"aspect:{aspect}", _phrases(c["words"])
            )
        words = {str(k): frozenset(_phrases(v)) for k, v in raw["words"].items()}
        routes = {str(k): tuple(str(x) for x in v) for k, v in raw["routes"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise CallContentError(f"{path.name}: {exc!r}") from exc
    if len({c.key for c in main}) != len(main) or any(c.key in "09*#" for c in main):
        raise CallContentError(f"{path.name}: main menu keys must be distinct, not 0, 9, * or #")
    for needed in ("main", "back", "repeat", "goodbye"):
        if needed not in words:
            raise CallContentError(f"{path.name}: words.{needed} is missing")
    for needed in ("nurse", "acute_oncology", "macmillan"):
        if needed not in routes:
            raise CallContentError(f"{path.name}: routes.{needed} is missing")
    return Prompts(
        texts, main, named, words, routes, str((raw.get("sms") or {}).get("continued") or ""),
        str(raw.get("reviewed", "")), str(raw.get("review_due", "")),
    )


@lru_cache(maxsize=1)
def default_prompts() -> Prompts:
    """The shipped voice prompts, loaded once per process."""
    return load_prompts()


# --- Call state --------------------------------------------------------------------------


@dataclass
class Call:
    """Where one phone call is: plain data, stored as JSON under its CallSid."""

    state: str = "main"
    back: list[str] = field(default_factory=list)  # menus to return to with star
    turn: int = 0  # requests answered: action URLs carry it so a repeat gets the same reply
    inputs: int = 0
    misses: int = 0  # silent turns in a row
    invalid: int = 0  # wrong keys or words in a row
    route: str = ""  # the route being dialled
    tried: list[str] = field(default_factory=list)  # lines of that route already tried
    advice: str = ""  # the triage advice the caller was given, said again on repeat
    worries: list[str] = field(default_factory=list)  # ISO times of worrying things said
    last_topic: str | None = None
    started_at: str = ""
    can_text: bool = True  # False for landlines and hidden numbers
    hidden: bool = False  # the caller's number is withheld
    answered: int = -1  # the turn whose reply is kept in `reply`
    reply: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "state": self.state, "back": list(self.back), "turn": self.turn,
            "inputs": self.inputs, "misses": self.misses, "invalid": self.invalid,
            "route": self.route, "tried": list(self.tried), "advice": self.advice,
            "worries": list(self.worries), "last_topic": self.last_topic,
            "started_at": self.started_at, "can_text": self.can_text, "hidden": self.hidden,
            "answered": self.answered, "reply": self.reply,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Call:
        """Rebuild from `to_dict` output; anything unreadable starts afresh at the main menu."""
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(
                state=str(data.get("state") or "main"),
                back=[str(s) for s in data.get("back") or []][-10:],
                turn=int(data.get("turn") or 0),
                inputs=int(data.get("inputs") or 0),
                misses=int(data.get("misses") or 0),
                invalid=int(data.get("invalid") or 0),
                route=str(data.get("route") or ""),
                tried=[str(s) for s in data.get("tried") or []],
                advice=str(data.get("advice") or ""),
                worries=[str(w) for w in data.get("worries") or []],
                last_topic=str(data["last_topic"]) if data.get("last_topic") else None,
                started_at=str(data.get("started_at") or ""),
                can_text=bool(data.get("can_text", True)),
                hidden=bool(data.get("hidden", False)),
                answered=int(data.get("answered", -1)),
                reply=str(data.get("reply") or ""),
            )
        except (TypeError, ValueError):
            return cls()

    @classmethod
    def new(
        cls, now: datetime, can_text: bool = True, hidden: bool = False,
        worries: list[str] | None = None,
    ) -> Call:
        """A call just answered; `worries` carries warning signs the caller texted lately."""
        return cls(
            state="start", started_at=now.isoformat(), can_text=can_text and not hidden,
            hidden=hidden, worries=list(worries or []),
        )

    def recent_worries(self, now: datetime) -> list[str]:
        """Worrying things said or texted in the last 24 hours."""
        return recent(self.worries, now)


@dataclass(frozen=True)
class Heard:
    """What Twilio reported: a new call, menu input (or silence), a dial or recording result."""

    event: str  # "call" | "input" | "dialled" | "recorded"
    digits: str = ""
    speech: str = ""
    dial_status: str = ""
    recording_url: str = ""
    recording_seconds: int | None = None
    confidence: float | None = None  # the speech recogniser's, 0 to 1, when it gave one


@dataclass(frozen=True)
class Listen:
    """Say the prompts and wait for a key or speech."""

    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Connect:
    """Put the caller through to a directory line (by id, never by a raw number)."""

    line: str
    route: str


@dataclass(frozen=True)
class Record:
    """Take a voicemail for the nurses."""

    max_seconds: int = RECORD_SECONDS


@dataclass(frozen=True)
class Hangup:
    """End the call after the prompts."""


Next = Listen | Connect | Record | Hangup


@dataclass(frozen=True)
class TextRequest:
    """The caller asked for what they heard as a text message."""

    topic: str
    aspect: str | None
    pages: tuple[str, ...]


@dataclass
class CallTurn:
    """What to do for one request: what to say, what comes next, what to record."""

    call: Call
    say: list[str]
    next: Next
    actions: list[Action] = field(default_factory=list)
    triage: Result = field(default_factory=lambda: Result("none", "Nothing said"))
    topic: str | None = None
    heard: str = ""  # what the caller did, for the nurses' history
    event: str = ""  # what the line did (put through, voicemail...), for the history
    text: TextRequest | None = None
    texts_sent: int = 0


# --- Helpers -----------------------------------------------------------------------------


def _normal(text: str) -> str:
    """Lower case, no punctuation, single spaces: how spoken words are compared."""
    words = re.findall(r"[a-z0-9']+", clean(text).replace("’", "'"))
    return " ".join(words)


def _strip_fillers(phrase: str) -> str:
    stripped = _TRAILING_RE.sub("", _FILLER_RE.sub("", phrase)).strip()
    return stripped or phrase


def spoken_key(speech: str) -> str | None:
    """The key a caller said instead of pressing it: 'two', '2.', 'press 2', 'star'."""
    words = _normal(speech).split()
    if words and words[0] in KEY_PREFIXES:
        words = words[1:]
    if len(words) != 1:
        return None
    w = words[0]
    if len(w) == 1 and w.isdigit():
        return w
    return KEY_WORDS.get(w)


def _digits_aloud(match: re.Match[str]) -> str:
    number = match.group(0)
    if number.startswith("+44"):
        number = "0" + number[3:].lstrip()
    groups = number.split()
    if len(groups) == 1 and len(number) > 6:
        groups = [number[:5], number[5:8], number[8:]] if len(number) == 11 else [number]
    return ", ".join(" ".join(g) for g in groups if g)


def speakable(text: str) -> str:
    """Text as it should be spoken: phone numbers digit by digit, in groups."""
    return _PHONE.sub(_digits_aloud, text)


def spoken_title(title: str) -> str:
    """'Blood tests' -> 'blood tests', but 'CT scan' and 'PET-CT scan' keep their capitals."""
    first = title.split(" ", 1)[0]
    if len(first) > 1 and first.replace("-", "").isupper():
        return title
    return title[:1].lower() + title[1:]


def _when(ctx: Context, moment: datetime | None) -> str:
    if moment is None:
        return "on the next working day"
    local = moment.astimezone(ctx.tz)
    days = (local.date() - ctx.now.astimezone(ctx.tz).date()).days
    day = "today" if days == 0 else "tomorrow" if days == 1 else f"on {local.strftime('%A')}"
    return f"{day} at {clock(local.time())}"


def _open_line(ctx: Context, route: str, p: Prompts, skip: list[str] | None = None) -> Line | None:
    return ctx.directory.next_open_line(p.routes[route], ctx.now, ctx.tz, skip or ())


def _acute_configured(ctx: Context) -> bool:
    return bool(ctx.directory["acute_oncology"].number) and ctx.directory[
        "acute_oncology"
    ].is_open(ctx.now, ctx.tz)


def _copy(call: Call) -> Call:
    # Copy the fields as they are, then fresh lists: faster than replace() or copy.copy().
    new = object.__new__(Call)
    new.__dict__.update(call.__dict__)
    new.back, new.tried, new.worries = list(call.back), list(call.tried), list(call.worries)
    return new


# --- States ------------------------------------------------------------------------------

def _is_menu(state: str) -> bool:
    return state == "main" or state.startswith(("menu:", "test:"))


def _menu_topics(ctx: Context, name: str) -> list[Topic]:
    kind = "tests" if name in ("tests", "prepare") else name
    return ctx.knowledge.menu(kind)


def _split_menu(state: str) -> tuple[str, int]:
    name, _, page = state[5:].partition("@")
    return name, int(page) if page.isdigit() and int(page) > 0 else 1


def valid_state(state: str, ctx: Context, p: Prompts | None = None) -> bool:
    """True for a state this content still has (a renamed topic is not)."""
    p = p or default_prompts()
    topics = ctx.knowledge.topics
    if state in ("start", "main", "offer", "nurse:closed", "urgent", "same_day", "record",
                 "record:empty", "ended", "reminders"):
        return True
    kind, _, rest = state.partition(":")
    if kind in ("dialling", "unanswered"):
        return rest in p.routes
    if kind == "menu":
        name, page = _split_menu(state)
        if name not in ("tests", "prepare", "treatments"):
            return False
        return (page - 1) * PAGE < max(1, len(_menu_topics(ctx, name)))
    if kind == "test":
        return rest in topics and topics[rest].is_test
    if kind == "play":
        topic_id, _, aspect = rest.partition(":")
        if topic_id not in topics:
            return False
        return not aspect or aspect in topics[topic_id].sections
    return False


@dataclass
class Screen:
    """A menu state as spoken: the content, then the choices, and the words to listen for."""

    body: list[str]
    choices: list[Choice]
    lines: list[str]  # spoken after the choices
    hints: tuple[str, ...] = ()

    def menu(self) -> list[str]:
        """The choices and closing lines, without the content."""
        return [c.line for c in self.choices] + self.lines


def screen(call: Call, ctx: Context, p: Prompts | None = None) -> Screen:
    """What a menu state says and offers."""
    p = p or default_prompts()
    if call.state == "main" or call.state.startswith(("menu:", "test:")):
        # These depend on the content alone, so each is made once per content and prompts.
        key = ("voice-screen", call.state)
        cached = ctx.knowledge.derived.get(key)
        if cached is None or cached[0] is not p:
            made = _screen(call, ctx, p)
            made = replace(made, hints=_hints(made, ctx, p))
            cached = ctx.knowledge.derived[key] = (p, made)
        return cached[1]
    return _screen(call, ctx, p)


def _screen(call: Call, ctx: Context, p: Prompts) -> Screen:
    state, k = call.state, ctx.knowledge
    main_key = p.text("main_menu_key")
    if state == "main":
        return Screen([p.text("main")], list(p.main), [p.text("ask")])
    if state.startswith("menu:"):
        name, page = _split_menu(state)
        topics = _menu_topics(ctx, name)
        if name == "prepare":
            topics = [t for t in topics if "prepare" in t.sections]
        target = {"tests": "test:{}", "prepare": "play:{}:prepare", "treatments": "play:{}"}[name]
        choices = [
            Choice("", f"For {spoken_title(t.title)}", "state:" + target.format(t.id),
                   (_normal(t.title),))
            for t in topics
        ]
        if len(choices) > 8:
            pages = (len(choices) + PAGE - 1) // PAGE
            page = min(page, pages)
            shown = choices[(page - 1) * PAGE : page * PAGE]
            nxt = page % pages + 1
            more = p.choice("more", "8", f"state:menu:{name}" + (f"@{nxt}" if nxt > 1 else ""))
            choices = [*shown, more]
        choices = [replace(c, key=c.key or str(i)) for i, c in enumerate(choices, 1)]
        return Screen([p.text(f"menu_{name}")], choices, [main_key])
    if state.startswith("test:"):
        topic = k.topics[state[5:]]
        choices = [
            p.choice(f"aspect:{a}", str(i)) for i, a in enumerate(ASPECTS, 1) if a in topic.sections
        ]
        return Screen([p.text("test", title=topic.title), topic.answer.voice], choices, [main_key])
    if state.startswith("play:"):
        topic_id, _, aspect = state[5:].partition(":")
        topic = k.topics[topic_id]
        body = topic.sections[aspect].voice if aspect else topic.answer.voice
        choices = [p.choice("again", "1", "repeat")]
        if call.can_text:
            choices.append(p.choice("text", "2", "text"))
        if topic_id == "symptoms" and _acute_configured(ctx):
            choices.append(p.choice("acute_oncology", "3", "connect:acute_oncology"))
        if topic_id == "support" and _open_line(ctx, "macmillan", p):
            choices.append(p.choice("macmillan", "3", "connect:macmillan"))
        if topic_id == "nurse":
            choices.append(
                p.choice("nurse_now", "3", "connect:nurse")
                if _open_line(ctx, "nurse", p)
                else p.choice("message", "3", "record")
            )
        lines = [p.text("section_back")] if aspect else []
        return Screen([body], choices, [*lines, main_key])
    if state == "nurse:closed":
        return _closed_screen(ctx, p)
    if state == "reminders":
        if call.hidden:
            return Screen([p.text("reminder_channel_hidden")], [], [main_key])
        if not call.can_text:
            return Screen([p.text("reminder_channel_landline")], [], [main_key])
        return Screen([p.text("reminder_channel")],
                      [p.choice("remind_sms", "1"), p.choice("remind_call", "2")], [main_key])
    if state == "urgent":
        if _acute_configured(ctx):
            return Screen(
                [call.advice], [p.choice("acute_oncology", "1", "connect:acute_oncology")],
                [main_key],
            )
        return Screen([call.advice], [], [p.text("urgent_no_line"), main_key])
    if state == "same_day":
        if _open_line(ctx, "nurse", p):
            return Screen([call.advice], [p.choice("nurse_now", "1", "connect:nurse")], [main_key])
        _, urgent = urgent_line(ctx.directory)
        return Screen(
            [call.advice, p.text("same_day_closed", urgent=urgent)],
            [p.choice("message", "1", "record")], [main_key],
        )
    if state.startswith("unanswered:"):
        route = state.partition(":")[2]
        return Screen(
            [p.text("unanswered")], [p.choice("try_again", "1", f"connect:{route}")], [main_key]
        )
    if state == "record:empty":
        return Screen(
            [p.text("voicemail_empty")],
            [p.choice("record_again", "1", "record"), p.choice("callback", "2", "callback")],
            [main_key],
        )
    if state == "offer":
        nurse = (
            p.choice("nurse_now", "1", "connect:nurse")
            if _open_line(ctx, "nurse", p)
            else p.choice("message", "1", "record")
        )
        return Screen([p.text("offer")], [nurse], [main_key])
    # Not a menu (a lost or finished call): the main menu is always safe.
    return Screen([p.text("main")], list(p.main), [p.text("ask")])


def _closed_screen(ctx: Context, p: Prompts) -> Screen:
    nurse = ctx.directory["nurse"]
    when = _when(ctx, nurse.next_open(ctx.now, ctx.tz))
    if nurse.closed_for_holiday(ctx.now, ctx.tz):
        body = [p.text("nurse_holiday", when=when)]
    else:
        body = [p.text("nurse_closed", hours=nurse.describe_hours(), when=when)]
    choices = []
    lines = []
    if _acute_configured(ctx):
        choices.append(p.choice("acute_oncology", "1", "connect:acute_oncology"))
    else:
        body.append(p.text("urgent_call"))
    macmillan = _open_line(ctx, "macmillan", p)
    if macmillan:
        choices.append(p.choice("macmillan", "2", "connect:macmillan"))
    choices.append(p.choice("message", "3", "record"))
    lines.append(p.text("main_menu_key"))
    return Screen(body, choices, lines)


def _hints(sc: Screen, ctx: Context, p: Prompts) -> tuple[str, ...]:
    """Phrases for the speech recogniser: this menu's words, then the common ones."""
    if sc.hints:
        return sc.hints
    seen: dict[str, None] = {}
    for c in sc.choices:
        for w in c.words[:4]:
            seen.setdefault(w, None)
    for w in _common_hints(tuple(t.title for t in ctx.knowledge.topics.values())):
        seen.setdefault(w, None)
    return tuple(seen)[:60]


@lru_cache(maxsize=4)
def _common_hints(titles: tuple[str, ...]) -> tuple[str, ...]:
    words = ["main menu", "back", "repeat", "nurse", "text me", "goodbye"]
    return tuple(words + [_normal(t) for t in titles])


# --- The step ----------------------------------------------------------------------------


def step(call: Call, heard: Heard, ctx: Context, p: Prompts | None = None) -> CallTurn:
    """Handle one webhook of a call: triage any speech first, then keys, words and states."""
    p = p or default_prompts()
    call = _copy(call)
    call.turn += 1
    if not valid_state(call.state, ctx, p):
        call.state, call.back = "main", []
    call.back = [s for s in call.back if valid_state(s, ctx, p) and _is_menu(s)]
    if heard.event == "call":
        turn = _start(call, ctx, p)
    elif heard.event == "dialled":
        turn = _dialled(call, heard, ctx, p)
    elif heard.event == "recorded":
        turn = _recorded(call, heard, ctx, p)
    else:
        turn = _input(call, heard, ctx, p)
    turn.say = [s for s in turn.say if s]
    return turn


def _listen(call: Call, ctx: Context, p: Prompts, lead: list[str], body: bool = True,
            **extra: Any) -> CallTurn:
    sc = screen(call, ctx, p)
    say = [*lead, *(sc.body if body else []), *sc.menu()]
    return CallTurn(call, say, Listen(_hints(sc, ctx, p)), **extra)


def _start(call: Call, ctx: Context, p: Prompts) -> CallTurn:
    call.state, call.back = "main", []
    if not call.started_at:
        call.started_at = ctx.now.isoformat()
    return _listen(call, ctx, p, [p.text("welcome"), p.text("keys")], event="call answered")


def _goodbye(call: Call, say: list[str], event: str = "") -> CallTurn:
    call.state = "ended"
    return CallTurn(call, say, Hangup(), event=event)


def _too_long(call: Call, ctx: Context) -> bool:
    if call.inputs > MAX_INPUTS:
        return True
    try:
        started = datetime.fromisoformat(call.started_at)
    except ValueError:
        return False
    return started.tzinfo is not None and ctx.now - started > MAX_MENU_TIME


def _input(call: Call, heard: Heard, ctx: Context, p: Prompts) -> CallTurn:
    speech = " ".join(heard.speech.split())[:500]
    digits = "".join(ch for ch in heard.digits if ch in "0123456789*#")
    said = speech or (f"pressed {digits[:1]}" if digits else "")
    if call.state == "ended":
        return _goodbye(call, [p.text("goodbye")])
    lead: list[str] = []
    if not (_is_menu(call.state) or call.state.startswith("play:") or call.state in (
        "nurse:closed", "urgent", "same_day", "record:empty", "offer", "reminders"
    ) or call.state.startswith("unanswered:")):
        # Input while the call should be elsewhere (a lost or restarted call).
        call.state, call.back = "main", []
        lead = [p.text("lost")]
    call.inputs += 1
    if _too_long(call, ctx):
        nurse = ctx.directory["nurse"].number or ""
        turn = _goodbye(call, [p.text("too_long", nurse=nurse)], "call ended: too long")
        turn.heard = said
        return turn
    if speech:
        result = _assess(call, speech, ctx)
        if result.worrying:
            turn = _triage(call, speech, result, ctx, p)
            turn.heard = said
            return turn
    else:
        result = Result("none", "No speech")
    if not speech and not digits:
        return _miss(call, ctx, p, lead)
    if speech and not digits and heard.confidence is not None and heard.confidence < LOW_CONFIDENCE:
        # Unsure what was said (warning signs were still checked above): ask again rather
        # than act on a guess, as a person on the phone would.
        turn = _miss(call, ctx, p, [*lead, p.text("not_sure_heard")], say_miss=False)
        turn.heard = said
        return turn
    call.misses = 0
    if lead:
        # The caller answered a menu we no longer know: show the main menu rather than
        # guess what their key meant.
        turn = _listen(call, ctx, p, lead)
        turn.heard = said
        return turn
    key = digits[:1] if digits else spoken_key(speech)
    turn = _press(call, key, ctx, p, lead) if key else _words(call, speech, ctx, p, lead)
    if result.asked and not key:
        # "Is chest pain a side effect?": what to do if it is happening, before the answer.
        turn.say = [caution(ctx, result.asked).voice, *turn.say]
    turn.heard = said
    turn.triage = result
    return turn


def _assess(call: Call, speech: str, ctx: Context) -> Result:
    result = ctx.rulebook.assess(speech)
    call.worries = call.recent_worries(ctx.now)
    if not result.worrying:
        return result
    advice = ctx.knowledge.messages["repeat_escalation"].voice
    return policy.escalate(result, call.worries, ctx.now, ctx.rulebook, advice)


def _triage(call: Call, speech: str, result: Result, ctx: Context, p: Prompts) -> CallTurn:
    k = ctx.knowledge
    call.worries.append(policy.worry(result, ctx.now))
    call.misses = call.invalid = 0
    alert = Action(
        "alert",
        {"level": result.level, "reason": result.reason, "rule": result.rule or "", "text": speech},
    )
    if result.level == "emergency":
        advice = k.message("emergency", advice=result.advice).voice
        turn = _goodbye(call, [advice, p.text("emergency_end")], "told to call 999")
    else:
        if result.level == "urgent":
            call_now, _ = urgent_line(ctx.directory)
            call.advice = k.message("urgent", call=call_now, advice=result.advice).voice
        else:
            nurse = ctx.directory["nurse"]
            call.advice = k.message(
                "same_day", nurse=nurse.number or "", nurse_hours=nurse.describe_hours(),
                reason=told_reason(result.reason), advice=result.advice,
            ).voice
        if _is_menu(call.state):
            call.back = [*call.back, call.state][-10:]
        call.state = result.level
        turn = _listen(call, ctx, p, [], event=f"{result.level} advice given")
    turn.actions.insert(0, alert)
    turn.triage = result
    return turn


def _miss(
    call: Call, ctx: Context, p: Prompts, lead: list[str], say_miss: bool = True
) -> CallTurn:
    call.misses += 1
    if call.state == "offer" or call.misses > REPROMPTS + 1:
        return _goodbye(call, [p.text("goodbye")], "call ended: no answer")
    if call.misses > REPROMPTS:
        if _is_menu(call.state):
            call.back = [*call.back, call.state][-10:]
        call.state = "offer"
    said = [*lead, p.text("no_input")] if say_miss else lead
    return _listen(call, ctx, p, said, body=_body_on_reprompt(call))


def _body_on_reprompt(call: Call) -> bool:
    """Choices alone after a wrong or missing key; a topic is not read out again unasked."""
    return not call.state.startswith(("play:", "test:"))


def _press(call: Call, key: str, ctx: Context, p: Prompts, lead: list[str]) -> CallTurn:
    if key == "0":
        return _main(call, ctx, p, lead)
    if key == "9":
        call.invalid = 0
        return _listen(call, ctx, p, lead)
    if key == "*":
        return _back(call, ctx, p, lead)
    for c in screen(call, ctx, p).choices:
        if c.key == key:
            call.invalid = 0
            return _go(call, c.go, ctx, p, lead)
    return _invalid(call, ctx, p, lead, p.text("invalid_key", key=KEY_NAMES.get(key, key)))


def _words(call: Call, speech: str, ctx: Context, p: Prompts, lead: list[str]) -> CallTurn:
    phrase = _strip_fillers(_normal(speech))
    whole = _normal(speech)
    sc = screen(call, ctx, p)
    picked = {c.go for c in sc.choices if phrase in c.words or whole in c.words}
    if len(picked) == 1:
        call.invalid = 0
        return _go(call, picked.pop(), ctx, p, lead)
    for name, handler in (("main", _main), ("back", _back), ("repeat", None)):
        if phrase in p.words[name] or whole in p.words[name]:
            call.invalid = 0
            return handler(call, ctx, p, lead) if handler else _listen(call, ctx, p, lead)
    if phrase in p.words["goodbye"] or whole in p.words["goodbye"]:
        return _goodbye(call, [*lead, p.text("goodbye")], "caller said goodbye")
    if call.state.startswith("play:") and (phrase in p.named["text"].words
                                           or whole in p.named["text"].words):
        return _text(call, ctx, p, lead)
    match = ctx.matcher.match(speech)
    if match.topic:
        call.invalid = 0
        sections = ctx.knowledge.topics[match.topic].sections
        if match.aspect in sections and match.also in sections:
            # Two questions at once ("does it hurt and how long is it"): the first answer is
            # said on the way to the second, whose menu follows, as a text gets both.
            first = sections[match.aspect].voice
            return _topic(call, match.topic, match.also, ctx, p, [*lead, first])
        return _topic(call, match.topic, match.aspect, ctx, p, lead)
    if call.state.startswith(("test:", "play:")):
        # "how long does it take?" while hearing about a test means that test.
        topic_id = call.state.split(":")[1]
        aspect = ctx.matcher.aspect(ctx.matcher.words(speech), topic_id, speech)
        if aspect and aspect in ctx.knowledge.topics[topic_id].sections:
            call.invalid = 0
            return _topic(call, topic_id, aspect, ctx, p, lead)
    return _invalid(call, ctx, p, lead, p.text("not_understood"))


def _invalid(call: Call, ctx: Context, p: Prompts, lead: list[str], why: str) -> CallTurn:
    call.invalid += 1
    if call.invalid >= MAX_INVALID and call.state != "offer":
        if _is_menu(call.state):
            call.back = [*call.back, call.state][-10:]
        call.state, call.invalid = "offer", 0
        return _listen(call, ctx, p, [*lead, why])
    sc = screen(call, ctx, p)
    keys = [c.key for c in sc.choices if c.key.isdigit()]
    extra = []
    if keys and keys == [str(i) for i in range(1, len(keys) + 1)] and len(keys) > 1:
        extra = [p.text("choose_between", count=keys[-1])]
    return _listen(call, ctx, p, [*lead, why, *extra], body=_body_on_reprompt(call))


def _main(call: Call, ctx: Context, p: Prompts, lead: list[str]) -> CallTurn:
    call.state, call.back, call.invalid = "main", [], 0
    return _listen(call, ctx, p, lead)


def _back(call: Call, ctx: Context, p: Prompts, lead: list[str]) -> CallTurn:
    call.invalid = 0
    if not call.back:
        call.state = "main"
        return _listen(call, ctx, p, [*lead, p.text("at_main")])
    call.state = call.back.pop()
    return _listen(call, ctx, p, lead)


def _enter(call: Call, state: str) -> None:
    """Move to `state`, remembering the menu we came from for star."""
    if _is_menu(call.state) and call.state != state:
        call.back = [*call.back, call.state][-10:]
    call.state = state


def _topic(call: Call, topic_id: str, aspect: str | None, ctx: Context, p: Prompts,
           lead: list[str]) -> CallTurn:
    topic = ctx.knowledge.topics[topic_id]
    if topic.is_test:
        if aspect is None and call.state.startswith("menu:prepare"):
            aspect = "prepare"
        if aspect is None and call.state.startswith(f"play:{topic_id}:"):
            aspect = call.state.split(":")[2]
        target = f"play:{topic_id}:{aspect}" if aspect else f"test:{topic_id}"
    elif aspect and aspect in topic.sections:
        target = f"play:{topic_id}:{aspect}"
    else:
        target = f"play:{topic_id}"
    return _go(call, f"state:{target}", ctx, p, lead)


def _go(call: Call, go: str, ctx: Context, p: Prompts, lead: list[str]) -> CallTurn:
    if go.startswith("state:"):
        _enter(call, go[6:])
        if call.state.startswith("play:"):
            call.last_topic = call.state.split(":")[1]
        topic = call.state.split(":")[1] if call.state.startswith(("play:", "test:")) else None
        return _listen(call, ctx, p, lead, topic=topic)
    if go.startswith("aspect:"):
        return _go(call, f"state:play:{call.state.split(':')[1]}:{go[7:]}", ctx, p, lead)
    if go == "repeat":
        return _listen(call, ctx, p, lead)
    if go == "text":
        return _text(call, ctx, p, lead)
    if go == "nurse":
        if _open_line(ctx, "nurse", p):
            return _connect(call, "nurse", ctx, p, lead)
        _enter(call, "nurse:closed")
        return _listen(call, ctx, p, lead)
    if go.startswith("connect:"):
        return _connect(call, go[8:], ctx, p, lead)
    if go == "record":
        return _voicemail(call, ctx, p, lead)
    if go == "callback":
        return _booked(call, ctx, p, lead, recording_url="", left_message=False)
    if go in ("channel:sms", "channel:call") and not call.hidden:
        return _channel(call, go.partition(":")[2], ctx, p, lead)
    return _main(call, ctx, p, lead)


def _channel(call: Call, channel: str, ctx: Context, p: Prompts, lead: list[str]) -> CallTurn:
    """The caller chose texts or phone calls for their appointment reminders."""
    if channel == "sms" and not call.can_text:
        channel = "call"  # a home phone cannot get texts
    call.state, call.back, call.invalid = "main", [], 0
    turn = _listen(call, ctx, p, [*lead, p.text(f"reminder_channel_set_{channel}")],
                   event=f"chose reminders by {'phone call' if channel == 'call' else 'text'}")
    turn.actions.append(Action("channel", {"channel": channel}))
    return turn


def _text(call: Call, ctx: Context, p: Prompts, lead: list[str]) -> CallTurn:
    if not call.state.startswith("play:"):
        return _listen(call, ctx, p, lead)
    if not call.can_text:
        return _listen(call, ctx, p, [*lead, p.text("text_no_mobile")], body=False)
    topic_id, _, aspect = call.state[5:].partition(":")
    topic = ctx.knowledge.topics[topic_id]
    body = f"{topic.title}: {topic.sections[aspect].sms}" if aspect else topic.answer.sms
    pages = tuple(sms.paginate(body, "", p.sms_continued))
    turn = _listen(call, ctx, p, lead, body=False, topic=topic_id)
    turn.text = TextRequest(topic_id, aspect or None, pages)
    return turn


def after_text(turn: CallTurn, outcome: str, sent: int = 1, p: Prompts | None = None) -> CallTurn:
    """Tell the caller what happened to the text they asked for: sent, opted out or failed."""
    p = p or default_prompts()
    if outcome == "sent":
        said = p.text("text_sent") if sent <= 1 else p.text("text_sent_parts", count=str(sent))
        event = "text sent"
    elif outcome == "opted_out":
        said, event = p.text("text_opted_out"), "text not sent: opted out"
    else:
        said, event = p.text("text_failed"), "text not sent: failed"
    # What the turn already says is the menu; the outcome comes first.
    return replace(turn, say=[said, *turn.say], event=event,
                   texts_sent=sent if outcome == "sent" else 0)


def _connect(call: Call, route: str, ctx: Context, p: Prompts, lead: list[str]) -> CallTurn:
    call.route, call.tried = route, []
    line = _open_line(ctx, route, p, call.tried)
    if line is None:
        if route == "nurse":
            if ctx.directory["nurse"].is_open(ctx.now, ctx.tz):
                return _voicemail(call, ctx, p, lead)  # open, but no line can be dialled
            _enter(call, "nurse:closed")
            return _listen(call, ctx, p, lead)
        if route == "macmillan":
            hours = ctx.directory["macmillan"].describe_hours()
            return _listen(call, ctx, p, [*lead, p.text("macmillan_closed", hours=hours)],
                           body=False)
        return _listen(call, ctx, p, [*lead, p.text("urgent_call")], body=False)
    if _is_menu(call.state):
        call.back = [*call.back, call.state][-10:]
    call.tried.append(line.id)
    call.state = f"dialling:{route}"
    return CallTurn(
        call, [*lead, p.text(f"connecting_{route}")], Connect(line.id, route),
        event=f"put through to {line.name}",
    )


def _dialled(call: Call, heard: Heard, ctx: Context, p: Prompts) -> CallTurn:
    route = call.state.partition(":")[2] if call.state.startswith("dialling:") else "nurse"
    status = heard.dial_status.strip().lower()
    if status in HANGUP_STATUSES:
        return _goodbye(call, [p.text("connected_end")], f"call with {route} line ended")
    call.route = route
    line = _open_line(ctx, route, p, call.tried)
    if line is not None:
        call.tried.append(line.id)
        call.state = f"dialling:{route}"
        return CallTurn(
            call, [p.text("trying_next")], Connect(line.id, route),
            event=f"no answer ({status or 'unknown'}); put through to {line.name}",
        )
    if route == "nurse":
        turn = _voicemail(call, ctx, p, [])
        turn.event = f"no answer ({status or 'unknown'}); voicemail"
        return turn
    call.state = f"unanswered:{route}"
    return _listen(call, ctx, p, [], event=f"no answer from {route} ({status or 'unknown'})")


def _voicemail(call: Call, ctx: Context, p: Prompts, lead: list[str]) -> CallTurn:
    call.state = "record"
    say = [*lead, p.text("voicemail")]
    if call.hidden:
        say.append(p.text("voicemail_hidden"))
    return CallTurn(call, say, Record(RECORD_SECONDS), event="voicemail offered")


def _recorded(call: Call, heard: Heard, ctx: Context, p: Prompts) -> CallTurn:
    seconds = heard.recording_seconds
    if heard.recording_url and (seconds is None or seconds > 0):
        return _booked(call, ctx, p, [], recording_url=heard.recording_url, left_message=True)
    call.state = "record:empty"
    return _listen(call, ctx, p, [], event="voicemail empty")


def _booked(call: Call, ctx: Context, p: Prompts, lead: list[str], recording_url: str,
            left_message: bool) -> CallTurn:
    k = ctx.knowledge
    nurse = ctx.directory["nurse"]
    _, urgent = urgent_line(ctx.directory)
    closes = nurse.closes_at(ctx.now, ctx.tz)
    if closes is not None:
        said = k.message("nurse_booked_open", close=clock(closes), urgent=urgent).voice
    else:
        when = _when(ctx, nurse.next_open(ctx.now, ctx.tz))
        said = k.message("nurse_booked_closed", when=when, urgent=urgent).voice
    about = ""
    if call.last_topic and call.last_topic in k.topics:
        about = f" (after hearing about {k.topics[call.last_topic].title})"
    reason = ("Left a voicemail on the phone line" if left_message
              else "Asked on the phone line for a call back, without a message") + about
    turn = _goodbye(call, [*lead, said, p.text("goodbye_unwell")],
                    "voicemail left" if left_message else "call back requested")
    turn.actions.append(Action("callback", {"reason": reason, "recording_url": recording_url}))
    return turn


# --- Without state -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fallback:
    """What to say, and which line to put the caller through to, when nothing can be stored."""

    say: list[str]
    line: str | None


def fallback(ctx: Context, p: Prompts | None = None) -> Fallback:
    """The urgent numbers, then the nurse line if it is open; else its hours and Macmillan."""
    p = p or default_prompts()
    _, urgent = urgent_line(ctx.directory)
    say = [p.text("fallback", urgent=urgent)]
    line = _open_line(ctx, "nurse", p)
    if line is not None:
        say.append(p.text("fallback_open"))
    else:
        nurse, macmillan = ctx.directory["nurse"], ctx.directory["macmillan"]
        say.append(
            p.text(
                "fallback_closed", hours=nurse.describe_hours(), nurse=nurse.number or "",
                macmillan=macmillan.number or "", macmillan_hours=macmillan.describe_hours(),
            )
        )
    return Fallback(say, line.id if line else None)


def spoken_texts(ctx: Context, p: Prompts | None = None) -> list[tuple[str, str]]:
    """Every fixed sentence and menu line the phone line can say, for the content check."""
    p = p or default_prompts()
    out = [(f"voice {key}", text) for key, text in p.texts.items()]
    out += [(f"voice choice main {c.key}", c.line) for c in p.main]
    out += [(f"voice choice {name}", replace(c, key="1").line) for name, c in p.named.items()]
    return out
