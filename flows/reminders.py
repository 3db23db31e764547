"""Appointment reminder plans: which texts go out when, for each test, and reply words."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from flows.gsm import cost, is_gsm7, to_gsm7
from flows.knowledge import CONTENT_DIR, TEST_IDS, ContentError

REMINDERS_FILE = CONTENT_DIR / "reminders.yaml"

TESTS = TEST_IDS  # a reminder is for one of the tests the knowledge base lists
MAX_SEGMENTS = 2
DEFAULT_QUIET = (time(21), time(8))

# A lock screen shows the first line to whoever picks the phone up.
_PRIVATE = re.compile(
    r"cancer|oncolog|tumou?r|chemo|metasta|secondar|breast|malignan|carcinom|palliat"
    r"|hospice|macmillan|radiother|stage\s*(?:4|iv|four)",
    re.IGNORECASE,
)
# Twilio treats a text of CANCEL as an opt-out; never invite one.
_OPT_OUT_WORD = re.compile(r"cancel", re.IGNORECASE)
_FIELDS = frozenset({"date", "time", "place", "fast_from"})
_REQUIRED = ("date", "time", "place")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class PlanError(ValueError):
    """An appointment cannot be planned; the message says why in plain words."""


# --- Content -------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """A point in time relative to an appointment (or to when its fasting starts)."""

    days_before: int | None = None  # with `clock`: a local wall-clock time that many days before
    clock: time | None = None
    minutes_before: int = 0  # otherwise: real minutes before `of`
    of: str = "appointment"  # "appointment" or "fasting"

    def resolve(self, appointment: datetime, tz: ZoneInfo, fasting: timedelta | None) -> datetime:
        """The UTC instant this moment stands for."""
        if self.days_before is not None and self.clock is not None:
            day = appointment.astimezone(tz).date() - timedelta(days=self.days_before)
            return local_instant(day, self.clock, tz)
        base = appointment
        if self.of == "fasting":
            if fasting is None:
                raise ContentError("a moment relative to fasting needs fasting_hours")
            base = appointment - fasting
        # Real elapsed time: "4 hours without food" is 4 hours even across a clock change.
        return base - timedelta(minutes=self.minutes_before)


@dataclass(frozen=True)
class Template:
    """One reminder of a test's plan: its kind, when it goes, until when it is useful."""

    kind: str
    at: Moment
    until: Moment
    text: str
    # What must still reach the patient if this reminder cannot go (a late booking): it
    # is added to the next reminder that can, or sent with it if they do not fit together.
    carry: str = ""


@dataclass(frozen=True)
class TestReminders:
    """A test's reminders, and how long to go without food before it, if at all."""

    test: str
    fasting: timedelta | None
    templates: tuple[Template, ...]


@dataclass(frozen=True)
class ReminderContent:
    """Everything reminders say, loaded from YAML and checked."""

    header: str
    greeting: str
    reply: str
    no_place: str
    quiet_margin: timedelta
    catch_up_gap: timedelta
    tests: dict[str, TestReminders]
    sample_place: str
    sample_name: str
    sources: tuple[str, ...]
    reviewed: date
    review_due: date


def _clock(value: Any, where: str) -> time:
    # Unquoted 10:00 reaches us as the integer 600 (YAML 1.1 sexagesimal).
    if not isinstance(value, str):
        raise ContentError(f'{where}: write the time in quotes, like "10:00"')
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise ContentError(f"{where}: not a time: {value!r}") from exc


def _moment(raw: Any, where: str) -> Moment:
    if raw in ("appointment", "fasting"):
        return Moment(of=str(raw))
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: expected appointment, fasting or a mapping")
    if "days_before" in raw:
        if set(raw) != {"days_before", "time"}:
            raise ContentError(f"{where}: days_before goes with time and nothing else")
        return Moment(days_before=int(raw["days_before"]), clock=_clock(raw["time"], where))
    if "hours_before" in raw:
        of = str(raw.get("of", "appointment"))
        if of not in ("appointment", "fasting") or set(raw) - {"hours_before", "of"}:
            raise ContentError(f"{where}: hours_before goes with of: appointment|fasting")
        return Moment(minutes_before=round(float(raw["hours_before"]) * 60), of=of)
    raise ContentError(f"{where}: needs days_before and time, or hours_before")


def _words(text: str, where: str, fields: frozenset[str]) -> str:
    text = " ".join(str(text).split())
    if not is_gsm7(text):
        raise ContentError(f"{where}: not GSM-7: {text!r}")
    if _OPT_OUT_WORD.search(text):
        raise ContentError(f"{where}: never use the word cancel (Twilio reads it as opt-out)")
    if _PRIVATE.search(text):
        raise ContentError(f"{where}: says what the appointment is about: {text!r}")
    used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    if used - fields:
        raise ContentError(f"{where}: unknown placeholders {sorted(used - fields)}")
    return text


def load_content(path: Path = REMINDERS_FILE) -> ReminderContent:
    """Read and check the reminders file."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    try:
        header = _words(raw["header"], f"{where} header", frozenset())
        if not header or not is_private(header):
            raise ContentError(f"{where}: the header must be short and say nothing private")
        tests: dict[str, TestReminders] = {}
        for test, body in (raw.get("tests") or {}).items():
            if test not in TESTS:
                raise ContentError(f"{where}: unknown test {test!r}")
            hours = body.get("fasting_hours")
            fasting = timedelta(hours=float(hours)) if hours else None
            fields = _FIELDS if fasting else _FIELDS - {"fast_from"}
            templates = []
            for i, r in enumerate(body.get("reminders") or ()):
                at = f"{where} {test} reminder {i + 1}"
                text = _words(r["text"], at, fields)
                used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
                missing = [f for f in _REQUIRED if f not in used]
                if missing:
                    # Each reminder must stand on its own if an earlier one never went.
                    raise ContentError(f"{at}: must say {', '.join(missing)}")
                until = _moment(r.get("until", "appointment"), f"{at} until")
                if fasting is None and "fasting" in (until.of, _moment(r["at"], at).of):
                    raise ContentError(f"{at}: refers to fasting, but the test has none")
                carry = _words(r.get("carry", ""), f"{at} carry", frozenset())
                templates.append(
                    Template(str(r["kind"]), _moment(r["at"], at), until, text, carry)
                )
            kinds = [t.kind for t in templates]
            if not kinds or len(set(kinds)) != len(kinds):
                raise ContentError(f"{where} {test}: needs reminders with distinct kinds")
            tests[test] = TestReminders(test, fasting, tuple(templates))
        missing_tests = [t for t in TESTS if t not in tests]
        if missing_tests:
            raise ContentError(f"{where}: no reminders for {', '.join(missing_tests)}")
        greeting = _words(raw.get("greeting", ""), f"{where} greeting", frozenset({"name"}))
        return ReminderContent(
            header=header,
            greeting=greeting,
            reply=_words(raw["reply"], f"{where} reply", frozenset()),
            no_place=_words(raw["no_place"], f"{where} no_place", frozenset()),
            quiet_margin=timedelta(minutes=int(raw.get("quiet_margin_minutes", 30))),
            catch_up_gap=timedelta(hours=float(raw.get("catch_up_gap_hours", 12))),
            tests=tests,
            sample_place=str(raw["sample"]["place"]),
            sample_name=str(raw["sample"]["name"]),
            sources=tuple(str(s) for s in raw.get("sources") or ()),
            reviewed=date.fromisoformat(str(raw["reviewed"])),
            review_due=date.fromisoformat(str(raw["review_due"])),
        )
    except KeyError as exc:
        raise ContentError(f"{where}: missing field {exc}") from exc


@lru_cache(maxsize=1)
def default_content() -> ReminderContent:
    """The shipped reminder content, loaded once per process."""
    return load_content()


# --- Time ----------------------------------------------------------------------------


def local_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time; the earlier one when the clocks change.

    A time skipped in spring or repeated in autumn has two readings (fold 0 and 1); the
    earlier keeps a reminder on the side of never late.
    """
    readings = (
        datetime.combine(day, clock, tzinfo=tz).replace(fold=fold).astimezone(UTC)
        for fold in (0, 1)
    )
    return min(readings)


def in_quiet(instant: datetime, tz: tzinfo, quiet: tuple[time, time]) -> bool:
    """True when `instant` falls in the quiet hours, read on the local clock."""
    start, end = quiet
    clock = instant.astimezone(tz).time().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def _before_quiet(instant: datetime, tz: ZoneInfo, quiet: tuple[time, time]) -> datetime:
    """The start of the quiet hours that `instant` falls in."""
    day = instant.astimezone(tz).date()
    start = local_instant(day, quiet[0], tz)
    if start > instant:
        start = local_instant(day - timedelta(days=1), quiet[0], tz)
    return start


def after_quiet(instant: datetime, tz: ZoneInfo, quiet: tuple[time, time]) -> datetime:
    """The end of the quiet hours that `instant` falls in."""
    day = instant.astimezone(tz).date()
    end = local_instant(day, quiet[1], tz)
    if end <= instant:
        end = local_instant(day + timedelta(days=1), quiet[1], tz)
    return end


def format_date(moment: datetime, tz: tzinfo) -> str:
    """Like "Tue 24 Nov", on the local calendar."""
    d = moment.astimezone(tz)
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}"


def format_time(moment: datetime, tz: tzinfo) -> str:
    """Like "9.30am", "2pm", "midday", on the local clock."""
    t = moment.astimezone(tz)
    if t.minute == 0 and t.hour in (0, 12):
        return "midnight" if t.hour == 0 else "midday"
    hour = t.hour % 12 or 12
    minutes = f".{t.minute:02d}" if t.minute else ""
    return f"{hour}{minutes}{'am' if t.hour < 12 else 'pm'}"


# --- Plans ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One reminder to send: when, until when it is useful, and its words."""

    kind: str  # e.g. "ct_scan:day_before"
    send_at: datetime  # aware UTC
    expires_at: datetime  # aware UTC: after this it must not be sent
    text: str
    segments: int
    encoding: str
    note: str = ""  # why send_at is not the usual moment, if it is not


@dataclass(frozen=True)
class Plan:
    """An appointment's reminders, and the ones left out with the reason."""

    reminders: list[Planned]
    skipped: list[tuple[str, str]]  # (kind, reason)

    @property
    def segments(self) -> int:
        """SMS segments the whole plan costs."""
        return sum(p.segments for p in self.reminders)


def segments_total(plans: Iterable[Plan]) -> int:
    """SMS segments a batch of plans costs."""
    return sum(p.segments for p in plans)


def is_private(text: str) -> bool:
    """True when the first line of `text` says nothing about cancer."""
    return not _PRIVATE.search(text.split("\n", 1)[0])


PRIVATE_FIRST_LINE = (
    "The first line shows on a locked phone, where anyone may see it, so it must not say "
    "what the appointment is about. Take out words such as cancer, chemo or breast from "
    "the first line, or start with a plain line such as \u201cMessage from your hospital\u201d."
)


def check_private(text: str) -> None:
    """Refuse a text whose first line would tell a lock screen what it is about."""
    if not is_private(text):
        raise PlanError(PRIVATE_FIRST_LINE)


def check_private_field(value: str, what: str) -> None:
    """Refuse a place or name that says what the appointment is about, saying how to fix it."""
    found = _PRIVATE.search(value)
    if found:
        raise PlanError(
            f"The {what} \u201c{' '.join(value.split())}\u201d says \u201c{found.group(0)}\u201d, "
            "and a phone's preview may show it to anyone. Write it without such words, as "
            "the patient will still recognise it: the building and the unit, e.g. "
            "\u201cDay Unit, Level 2, Freeman Hospital\u201d. Their letter has the full name."
        )


def _clean(value: str, what: str) -> str:
    value = " ".join(value.split())
    bad = [ch for ch in value if not is_gsm7(ch) and not to_gsm7(ch)]
    if bad:
        raise PlanError(
            f"The {what} has characters a text message cannot carry: "
            f"{' '.join(dict.fromkeys(bad))}. Please type it again without them."
        )
    # Curly quotes and dashes from a spreadsheet become their plain forms.
    return to_gsm7(value)


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PlanError(
            f"The {what} has no time zone, so we cannot tell when it is. "
            "Give it with its UK time zone or as an offset like +01:00."
        )
    return value.astimezone(UTC)


def compose(
    content: ReminderContent,
    template: Template,
    values: dict[str, str],
    name: str | None,
    carried: tuple[str, ...] = (),
) -> str:
    """The full text of one reminder: header line, then greeting, words, what an earlier
    reminder that could not go carried, and reply."""
    body = " ".join([template.text.format(**values), *carried])
    if name:
        body = f"{content.greeting.format(name=name)} {body}"
    return f"{content.header}\n{body} {content.reply}"


# Kinds made for a late booking: "day_before+few_days_before" is the day-before reminder
# carrying what the few-days-before one would have said; "few_days_before~carry" says it
# on its own, sent with the next reminder when the two do not fit in one text.
CARRIES = "+"
CARRY_ALONE = "~carry"


def texts_for(
    test: str,
    appointment: datetime,
    location: str,
    tz: ZoneInfo,
    *,
    name: str | None = None,
    content: ReminderContent | None = None,
) -> dict[str, str]:
    """Every reminder text for one appointment, by template kind, each checked.

    The send job calls this too, so a reminder's words are made when it goes out and
    need not be stored for every pending reminder.
    """
    content = content or default_content()
    if test not in content.tests:
        raise PlanError(
            f"We have no reminders for the test {test!r}. Use one of: {', '.join(TESTS)}."
        )
    when = _aware(appointment, "appointment time")
    spec = content.tests[test]
    place = _clean(location, "place") or content.no_place
    who = _clean(name, "name") if name else None
    values = {"date": format_date(when, tz), "time": format_time(when, tz), "place": place}
    if spec.fasting is not None:
        start = when - spec.fasting
        values["fast_from"] = f"{format_time(start, tz)} on {format_date(start, tz)}"
    texts = _texts(content, spec, values, who)
    for kind, text in texts.items():
        if CARRIES not in kind:  # a combined text is only used when it fits
            _check_text(text, place, who)
    return texts


def plan(
    test: str,
    appointment: datetime,
    location: str,
    tz: ZoneInfo,
    *,
    name: str | None = None,
    quiet: tuple[time, time] = DEFAULT_QUIET,
    now: datetime | None = None,
    content: ReminderContent | None = None,
) -> Plan:
    """The reminders for one appointment, each at a useful moment outside quiet hours."""
    content = content or default_content()
    if test not in content.tests:
        raise PlanError(
            f"We have no reminders for the test {test!r}. Use one of: {', '.join(TESTS)}."
        )
    when = _aware(appointment, "appointment time")
    now = _aware(now, "current time") if now is not None else datetime.now(UTC)
    if when <= now:
        raise PlanError(
            f"The appointment on {format_date(when, tz)} at {format_time(when, tz)} "
            "has already passed."
        )
    if len(quiet) != 2 or not all(isinstance(q, time) for q in quiet):
        raise PlanError("Quiet hours must be two times of day, such as 21:00 and 08:00.")
    spec = content.tests[test]
    # A phone's preview shows more than the first line: what a nurse types (the place,
    # the name) must say nothing about cancer anywhere. Checked when an appointment is
    # planned, not when it is sent, so nothing already scheduled starts failing.
    check_private_field(location, "place")
    check_private_field(name or "", "name")
    # Every text is checked, not only those still to send, so a row that fails on
    # Monday fails the same way on Thursday.
    texts = texts_for(test, when, location, tz, name=name, content=content)

    # Moments first, in the order the content lists them.
    drafts: list[tuple[Template, _Timing, datetime]] = []
    for t in spec.templates:
        ideal = t.at.resolve(when, tz, spec.fasting)
        expires = min(t.until.resolve(when, tz, spec.fasting), when)
        drafts.append((t, _time_it(ideal, expires, now, tz, quiet, content.quiet_margin), expires))

    # A reminder that can only go late is dropped when the next one follows soon:
    # every reminder names the test, date, time and place on its own.
    reminders: list[Planned] = []
    skipped: list[tuple[str, str]] = []
    next_send: datetime | None = None
    for t, timing, expires in reversed(drafts):
        kind = f"{test}:{t.kind}"
        if timing.send_at is None:
            skipped.append((kind, timing.note))
            continue
        if timing.late and next_send is not None and next_send - now <= content.catch_up_gap:
            hours = round(content.catch_up_gap / timedelta(hours=1))
            skipped.append((kind, f"the next reminder goes out within {hours} hours"))
            continue
        text = texts[t.kind]
        c = cost(text)
        reminders.append(
            Planned(kind, timing.send_at, expires, text, c.segments, c.encoding, timing.note)
        )
        next_send = timing.send_at if next_send is None else min(next_send, timing.send_at)
    reminders.sort(key=lambda p: p.send_at)
    skipped.reverse()
    reminders = _carry(test, spec, skipped, reminders, texts)
    return Plan(reminders, skipped)


def _carry(
    test: str,
    spec: TestReminders,
    skipped: list[tuple[str, str]],
    reminders: list[Planned],
    texts: dict[str, str],
) -> list[Planned]:
    """What skipped reminders carried goes with the first one sent after them."""
    gone = {kind.partition(":")[2] for kind, _ in skipped}
    order = [t.kind for t in spec.templates]
    out = list(reminders)
    for n, first in enumerate(out):
        base = first.kind.partition(":")[2]
        carrying = [
            t for t in spec.templates[: order.index(base)] if t.carry and t.kind in gone
        ]
        if not carrying:
            continue
        combined = texts.get(CARRIES.join([base, *(t.kind for t in carrying)]), "")
        c = cost(combined) if combined else None
        if c is not None and c.segments <= MAX_SEGMENTS and c.encoding == "GSM-7":
            out[n] = replace(first, kind=CARRIES.join([first.kind, *(t.kind for t in carrying)]),
                             text=combined, segments=c.segments, encoding=c.encoding,
                             note=_with(first.note, "carries what an earlier reminder said"))
        else:
            for t in carrying:
                alone = texts[t.kind + CARRY_ALONE]
                ca = cost(alone)
                out.insert(n + 1, Planned(f"{test}:{t.kind}{CARRY_ALONE}", first.send_at,
                                          first.expires_at, alone, ca.segments, ca.encoding,
                                          "what an earlier reminder would have said"))
        break  # only the first reminder sent after them carries it
    return out


def _with(note: str, more: str) -> str:
    return f"{note}; {more}" if note else more


@dataclass(frozen=True)
class _Timing:
    send_at: datetime | None  # None: skip it
    note: str
    late: bool = False


_MAX_MOVES = 3


def _time_it(
    ideal: datetime,
    expires: datetime,
    now: datetime,
    tz: ZoneInfo,
    quiet: tuple[time, time],
    margin: timedelta,
) -> _Timing:
    """When to send one reminder, or why not to."""
    if ideal >= expires:
        return _Timing(None, "there is no useful time to send it")
    send_at, note, moves = ideal, "", 0
    # Out of quiet hours by going earlier, never later. Another move is needed only
    # when the margin reaches back into the previous quiet hours.
    while in_quiet(send_at, tz, quiet):
        if moves == _MAX_MOVES:
            return _Timing(None, "the quiet hours leave no time to send it")
        send_at = _before_quiet(send_at, tz, quiet) - margin
        note, moves = "moved earlier, out of quiet hours", moves + 1
    if send_at >= now:
        return _Timing(send_at, note)
    if now >= expires:
        return _Timing(None, "its moment has passed")
    if in_quiet(now, tz, quiet):
        return _Timing(None, "its moment has passed and it is quiet hours now")
    return _Timing(now, "sent now: its moment had passed", late=True)


def _check_text(text: str, place: str, name: str | None) -> None:
    """Refuse a text that would go out over 2 segments, not GSM-7, or not private."""
    if not is_private(text):
        raise PlanError("The first line of a reminder would say what it is about.")
    c = cost(text)
    if c.encoding != "GSM-7":
        raise PlanError("A reminder would not be plain text. Please check the place and name.")
    if c.segments > MAX_SEGMENTS:
        over = c.units - MAX_SEGMENTS * 153
        what = "place and name are" if name else "place is"
        raise PlanError(
            f"The {what} too long to fit in a reminder: shorten by at least {over} "
            f"characters (this place has {len(place)})."
        )


def _texts(
    content: ReminderContent, spec: TestReminders, values: dict[str, str], name: str | None
) -> dict[str, str]:
    """Every text a test's plan can send, by kind, with the ones a late booking makes."""
    texts = {t.kind: compose(content, t, values, name) for t in spec.templates}
    for i, t in enumerate(spec.templates):
        earlier = [e for e in spec.templates[:i] if e.carry]
        for j in range(1, len(earlier) + 1):
            kind = CARRIES.join([t.kind, *(e.kind for e in earlier[-j:])])
            texts[kind] = compose(content, t, values, name, tuple(e.carry for e in earlier[-j:]))
        if t.carry:
            texts[t.kind + CARRY_ALONE] = f"{content.header}\n{t.carry} {content.reply}"
    return texts


def samples(content: ReminderContent | None = None) -> list[tuple[str, str]]:
    """Every reminder filled with the longest date, time, place and name we allow."""
    content = content or default_content()
    london = ZoneInfo("Europe/London")
    # Wed 30 Sep at 4.30pm: the widest date, and fasting from "10.30am"/"12.30pm".
    when = datetime(2026, 9, 30, 16, 30, tzinfo=london)
    values = {"date": format_date(when, london), "time": format_time(when, london)}
    values["place"] = content.sample_place
    out = []
    for test, spec in content.tests.items():
        filled = dict(values)
        if spec.fasting is not None:
            start = when - spec.fasting
            filled["fast_from"] = f"{format_time(start, london)} on {format_date(start, london)}"
        for kind, text in _texts(content, spec, filled, content.sample_name).items():
            if CARRIES in kind and cost(text).segments > MAX_SEGMENTS:
                continue  # never sent like this: the plan sends the carried words apart
            out.append((f"reminder {test}:{kind}", text))
    return out
