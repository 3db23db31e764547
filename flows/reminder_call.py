"""A reminder by phone call: what it says and what each key does (pure: no Flask, no Redis).

The words of the appointment and its preparation are the reviewed reminder texts of
flows/content/reminders.yaml, filled in with spoken dates and times; the call's own
sentences are the phone line's (voice.yaml, `reminder_*`). Nothing said before the person
presses 1 names the test or the team's specialty: whoever answers hears it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.calls import Prompts, default_prompts, speakable
from flows.engine import Action, Context
from flows.reminders import (
    CARRIES,
    CARRY_ALONE,
    Plan,
    PlanError,
    Planned,
    ReminderContent,
    default_content,
    format_date,
    format_time,
    is_private,
)

MAX_MISSES = 2  # silent turns before the call ends politely
WORDS_PER_MINUTE = 150  # a clear recorded voice, for the cost estimate
MACHINE_WORDS = ("machine_start", "machine_end_beep", "machine_end_silence",
                 "machine_end_other", "fax")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


# --- Words -------------------------------------------------------------------------------


def spoken_date(moment: datetime, tz: ZoneInfo) -> str:
    """Like "Tuesday 24 November", on the local calendar."""
    d = moment.astimezone(tz)
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}"


def spoken_time(moment: datetime, tz: ZoneInfo) -> str:
    """Like "9:30am" or "midday": a voice reads "9.30am" as a decimal."""
    return format_time(moment, tz).replace(".", ":")


def spoken_reminder(
    test: str, at: datetime, location: str, tz: ZoneInfo, kind: str, *,
    content: ReminderContent | None = None,
) -> str:
    """The reminder of this kind ("ct_scan:day_before", or a late booking's combined kind)
    in spoken words: the reviewed text with the date and time as they are said."""
    content = content or default_content()
    if test not in content.tests:
        raise PlanError(f"We have no reminders for the test {test!r}.")
    spec = content.tests[test]
    by_kind = {t.kind: t for t in spec.templates}
    base, *carried = kind.partition(":")[2].split(CARRIES)
    values = {"date": spoken_date(at, tz), "time": spoken_time(at, tz),
              "place": " ".join(location.split()) or content.no_place}
    if spec.fasting is not None:
        start = at - spec.fasting
        values["fast_from"] = f"{spoken_time(start, tz)} on {spoken_date(start, tz)}"
    if base.endswith(CARRY_ALONE):
        template = by_kind.get(base.removesuffix(CARRY_ALONE))
        if template is None:
            raise PlanError(f"No reminder of the kind {kind!r}.")
        return template.carry
    template = by_kind.get(base)
    if template is None:
        raise PlanError(f"No reminder of the kind {kind!r}.")
    extra = [by_kind[c].carry for c in carried if c in by_kind and by_kind[c].carry]
    return " ".join([template.text.format(**values), *extra])


@dataclass(frozen=True)
class Reminder:
    """What a reminder call is about, read from its appointment when the call is answered."""

    appointment: str  # its id, for confirm and rearrange
    test: str
    at: datetime
    location: str
    kind: str
    name: str = ""
    number: str = ""  # the team's number, said so they can call back


def _test_name(ctx: Context, test: str) -> str:
    topic = ctx.knowledge.topics.get(test)
    name = topic.title if topic else test.replace("_", " ")
    return name if name[:2].isupper() else name[0].lower() + name[1:]


def _slot(ctx: Context, rem: Reminder) -> str:
    return f"{spoken_date(rem.at, ctx.tz)} at {spoken_time(rem.at, ctx.tz)}"


def greeting(rem: Reminder, p: Prompts | None = None) -> list[str]:
    """Who is calling and the check that this is the patient: nothing private."""
    p = p or default_prompts()
    hello = (p.text("reminder_greeting_name", person=rem.name) if rem.name
             else p.text("reminder_greeting"))
    return [hello, p.text("reminder_identity", number=rem.number)]


def details(rem: Reminder, ctx: Context, p: Prompts | None = None) -> list[str]:
    """The appointment and its preparation, then the choices."""
    p = p or default_prompts()
    words = spoken_reminder(rem.test, rem.at, rem.location, ctx.tz, rem.kind)
    return [p.text("reminder_intro"), words, p.text("reminder_choices")]


def machine_message(rem: Reminder, ctx: Context, p: Prompts | None = None) -> str:
    """For an answering machine: the team, its number and the day; no clinical details."""
    p = p or default_prompts()
    return p.text("reminder_machine", day=spoken_date(rem.at, ctx.tz), number=rem.number)


def script(rem: Reminder, ctx: Context, p: Prompts | None = None) -> list[str]:
    """Everything a person hears who presses 1 and then confirms: for previews and costs."""
    p = p or default_prompts()
    confirmed = ctx.knowledge.message("appointment_confirmed", test=_test_name(ctx, rem.test),
                                      slot=_slot(ctx, rem)).voice
    return [*greeting(rem, p), *details(rem, ctx, p), confirmed, p.text("reminder_goodbye")]


def minutes(words: list[str]) -> int:
    """Whole minutes a call saying `words` is billed for (calls are billed by the minute)."""
    count = sum(len(w.split()) for w in words)
    return max(1, math.ceil(count / WORDS_PER_MINUTE))


def private_until_confirmed(rem: Reminder, ctx: Context, p: Prompts | None = None) -> bool:
    """True when the greeting and the machine's message say nothing about cancer."""
    return all(is_private(line) for line in [*greeting(rem, p), machine_message(rem, ctx, p)])


# --- The call ----------------------------------------------------------------------------


@dataclass
class State:
    """Where one reminder call is: plain data, kept with the call."""

    stage: str = "identity"  # identity | details | ended
    misses: int = 0


@dataclass
class Step:
    """What the line does next: words, whether it listens for a key, what to record."""

    state: State
    say: list[str]
    listen: bool
    actions: list[Action] = field(default_factory=list)
    outcome: str = ""  # for the nurses: "confirmed", "rearrange", "answering machine"...


def is_machine(answered_by: str) -> bool:
    """Twilio's AnsweredBy says a machine (or a fax) took the call."""
    return answered_by.strip().lower() in MACHINE_WORDS


def answer(rem: Reminder, answered_by: str, ctx: Context, p: Prompts | None = None) -> Step:
    """The call was answered: a machine gets the short message, anyone else the greeting."""
    p = p or default_prompts()
    if is_machine(answered_by):
        return Step(State("ended"), [machine_message(rem, ctx, p)], False,
                    outcome="answering machine")
    return Step(State("identity"), greeting(rem, p), True, outcome="answered by a person")


def press(state: State, digits: str, rem: Reminder, ctx: Context,
          p: Prompts | None = None) -> Step:
    """A key (or silence, "") while the call listens."""
    p = p or default_prompts()
    key = digits[:1]
    if state.stage == "identity":
        if key == "1":
            return Step(State("details"), details(rem, ctx, p), True, outcome="heard the reminder")
        return _again(state, key, greeting(rem, p), p, rem.number)
    if state.stage == "details":
        if key == "1":
            said = ctx.knowledge.message("appointment_confirmed", test=_test_name(ctx, rem.test),
                                         slot=_slot(ctx, rem)).voice
            return Step(State("ended"), [said, p.text("reminder_goodbye")], False,
                        [Action("confirm", {"appointment": rem.appointment})], "confirmed")
        if key == "2":
            test, when = _test_name(ctx, rem.test), _slot(ctx, rem)
            said = ctx.knowledge.message("appointment_rearrange", test=test, slot=when).voice
            when_text = f"{format_date(rem.at, ctx.tz)} at {format_time(rem.at, ctx.tz)}"
            return Step(State("ended"), [said, p.text("reminder_goodbye")], False, [
                Action("rearrange", {"appointment": rem.appointment}),
                Action("callback", {"reason": f"Asked on a reminder call to rearrange their "
                                              f"{test} on {when_text}"}),
            ], "rearrange")
        if key == "9":
            return Step(State("details"), details(rem, ctx, p), True)
        return _again(state, key, [p.text("reminder_choices")], p, rem.number)
    return Step(State("ended"), [p.text("reminder_goodbye")], False)


def _again(state: State, key: str, prompt: list[str], p: Prompts, number: str) -> Step:
    """Silence or a wrong key: ask again, and after MAX_MISSES silences end politely."""
    if key:
        return Step(State(state.stage, state.misses), [p.text("reminder_wrong_key"), *prompt], True)
    misses = state.misses + 1
    if misses >= MAX_MISSES:
        return Step(State("ended", misses),
                    [p.text("reminder_no_answer_end", number=number)], False,
                    outcome="no key pressed")
    return Step(State(state.stage, misses), [p.text("reminder_no_key"), *prompt], True)


def said(lines: list[str]) -> list[str]:
    """Lines as they should be spoken (phone numbers digit by digit)."""
    return [speakable(line) for line in lines]


# --- Planning ----------------------------------------------------------------------------

CALL_GAP = timedelta(hours=12)  # two calls closer than this are one call too many


def spaced(planned: Plan, gap: timedelta = CALL_GAP) -> Plan:
    """A plan for calls: of two reminders within `gap` of each other only the later rings
    (every reminder names the date, time and place, and the later one the nearer steps)."""
    kept: list[Planned] = []
    skipped = list(planned.skipped)
    ordered = sorted(planned.reminders, key=lambda p: p.send_at)
    for n, p in enumerate(ordered):
        later = ordered[n + 1] if n + 1 < len(ordered) else None
        if later is not None and later.send_at - p.send_at < gap:
            skipped.append((p.kind, "a reminder call soon after says the same"))
            continue
        kept.append(p)
    return Plan(kept, skipped)


def estimate(lines: list[str], price_per_minute: float) -> tuple[int, float]:
    """(billed minutes, cost) of one answered call saying `lines`: an estimate."""
    billed = minutes(lines)
    return billed, round(billed * price_per_minute, 2)
