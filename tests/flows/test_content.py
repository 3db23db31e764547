"""Content checks: every text the bot can send is GSM-7, short, sourced and in date."""

from __future__ import annotations

import dataclasses
import re
import string
from datetime import date, datetime
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest
import yaml
from _pytest.mark import ParameterSet

from flows.conversation import Conversation
from flows.directory import DIRECTORY_FILE, Directory
from flows.engine import Context, Turn, default_directory, step, urgent_line
from flows.gsm import cost, is_gsm7
from flows.knowledge import CONTENT_DIR, TOPIC_IDS, ContentError, default_knowledge, load_topic
from flows.triage import Result, Rulebook, default_rulebook

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT.parent / "shared" / "DESIGN.md"
SEEDS = ROOT.parent / "shared" / "seeds"
LONDON = ZoneInfo("Europe/London")
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=LONDON)
SATURDAY = datetime(2026, 6, 6, 12, 0, tzinfo=LONDON)
ACUTE = "0191 000 0000"

K = default_knowledge()
RULEBOOK = default_rulebook()
RULES = RULEBOOK.rules


def _directories() -> list[ParameterSet]:
    base = default_directory()
    return [
        pytest.param(base, id="no-acute-number"),
        pytest.param(base.with_number("acute_oncology", ACUTE), id="acute-number"),
    ]


def _assert_sms(text: str, where: str) -> None:
    bad = sorted({c for c in text if not is_gsm7(c)})
    assert not bad, f"{where}: not GSM-7: {bad!r} in {text!r}"


def _assert_page(text: str, where: str) -> None:
    _assert_sms(text, where)
    c = cost(text)
    assert c.segments <= 2, f"{where}: {c.segments} segments ({c.units} characters): {text!r}"


# --- Topics ----------------------------------------------------------------------------


def test_every_design_topic_id_is_loaded() -> None:
    if not DESIGN.exists():
        pytest.skip(f"{DESIGN} not present")
    design = DESIGN.read_text(encoding="utf-8")
    block = design.split("**Topic ids**", 1)[1].split("More may be added", 1)[0]
    ids = re.findall(r"\b[a-z][a-z_]+\b", block.split(":", 1)[1])
    assert len(ids) >= 20, f"could not read topic ids from DESIGN.md: {ids}"
    missing = [t for t in ids if t not in K.topics]
    assert not missing, f"topics in DESIGN.md but not loaded: {missing}"
    assert set(TOPIC_IDS) == set(ids)


@pytest.mark.parametrize("topic_id", sorted(K.topics), ids=lambda t: t)
def test_topic_sms_texts_are_gsm7(topic_id: str) -> None:
    topic = K.topics[topic_id]
    _assert_sms(topic.answer.sms, f"{topic_id} answer")
    _assert_sms(topic.title, f"{topic_id} title")
    for name, section in topic.sections.items():
        _assert_sms(section.sms, f"{topic_id} section {name}")


@pytest.mark.parametrize("topic_id", sorted(K.topics), ids=lambda t: t)
def test_topic_review_due_is_after_reviewed(topic_id: str) -> None:
    topic = K.topics[topic_id]
    assert isinstance(topic.reviewed, date) and isinstance(topic.review_due, date)
    assert topic.review_due > topic.reviewed


def test_triage_rules_review_due_is_after_reviewed() -> None:
    rb = default_rulebook()
    reviewed, due = date.fromisoformat(rb.reviewed), date.fromisoformat(rb.review_due)
    assert due > reviewed


def _named_sources() -> list[tuple[str, str]]:
    named = [(f"topics/{t.id}.yaml", s) for t in K.topics.values() for s in t.sources]
    raw = yaml.safe_load(DIRECTORY_FILE.read_text(encoding="utf-8"))
    named += [(f"directory.yaml {line['id']}", str(s))
              for line in raw["lines"] for s in line.get("sources") or ()]
    return named


def test_every_topic_names_a_source() -> None:
    unsourced = [t.id for t in K.topics.values() if not t.sources]
    assert not unsourced, f"topics with no source leaflet: {unsourced}"


def test_every_named_source_file_exists() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} not present")
    missing = [(where, s) for where, s in _named_sources() if not (SEEDS / s).is_file()]
    assert not missing, f"source files not in {SEEDS}: {missing}"


# --- Fixed messages ------------------------------------------------------------------


def _realistic_values(directory: Directory) -> dict[str, str]:
    nurse = directory["nurse"]
    return {
        "title": max((t.title for t in K.topics.values()), key=len),
        "count": str(max(len(K.menu("tests")), len(K.menu("treatments")))),
        "close": "5.30pm",
        "when": "on Wednesday at 9am",
        "urgent": urgent_line(directory)[1],
        "call": urgent_line(directory)[0],
        "reason": "my pain relief and when my next scan is",
        "nurse": nurse.number or "",
        "nurse_hours": nurse.describe_hours(),
        "macmillan": directory["macmillan"].number or "",
        "macmillan_hours": directory["macmillan"].describe_hours(),
        "samaritans": directory["samaritans"].number or "",
        "advice": max((r.advice for r in RULES), key=len),
        "test": max((t.title for t in K.menu("tests")), key=len),
        "slot": "Wed 30 Sep at 12.30pm",
        # What to tell them after a warning names its sign: the longest there is.
        "signs": f" ({max((c.reason.lower() for c in RULEBOOK.categories.values()), key=len)})",
    }


@pytest.mark.parametrize("directory", _directories())
@pytest.mark.parametrize("key", sorted(K.messages), ids=lambda k: k)
def test_fixed_messages_filled_in_are_gsm7_and_short(key: str, directory: Directory) -> None:
    values = _realistic_values(directory)
    fields = {f for _, f, _, _ in string.Formatter().parse(K.messages[key].sms) if f}
    unknown = fields - set(values)
    assert not unknown, f"{key}: placeholders with no test value: {unknown}"
    text = K.message(key, **values).sms
    assert "{" not in text and "}" not in text, f"{key}: unfilled placeholder: {text!r}"
    _assert_page(text, key)


def test_messages_file_has_the_engine_keys() -> None:
    raw = yaml.safe_load((CONTENT_DIR / "messages.yaml").read_text(encoding="utf-8"))
    needed = {"welcome", "main_menu", "tests_menu", "treatments_menu", "test_menu",
              "after_section", "after_menu_topic", "after_topic", "more_hint", "no_more",
              "not_sure", "invalid_choice", "help", "nurse_ask", "nurse_booked_open",
              "nurse_booked_closed", "empty", "media_only", "not_english", "emergency",
              "urgent", "same_day", "repeat_escalation", "thanks"}
    assert needed <= set(raw)


# --- Triage replies built by the engine ----------------------------------------------


class _FixedRulebook:
    """Stands in for the rulebook so that the engine builds the reply for one rule."""

    def __init__(self, result: Result) -> None:
        self.result = result

    def assess(self, message: str) -> Result:
        return self.result

    def __getattr__(self, name: str) -> object:
        # Everything else (reading, categories) is the shipped rulebook's.
        return getattr(default_rulebook(), name)


def _triage_turn(rule_index: int, directory: Directory, conv: Conversation | None = None,
                 now: datetime = MONDAY_10) -> Turn:
    rule = RULES[rule_index]
    ctx = Context.default(now=now, directory=directory)
    ctx = dataclasses.replace(
        ctx,
        rulebook=cast(
            Rulebook, _FixedRulebook(Result(rule.level, rule.reason, rule.id, rule.advice))
        ),
    )
    return step(conv or Conversation(), "worrying message", ctx)


@pytest.mark.parametrize("directory", _directories())
@pytest.mark.parametrize("rule_index", range(len(RULES)), ids=[r.id for r in RULES])
def test_triage_reply_for_every_rule(rule_index: int, directory: Directory) -> None:
    rule = RULES[rule_index]
    turn = _triage_turn(rule_index, directory)
    assert turn.triage.level == rule.level
    # A warning reply is one self-contained text: nothing is left behind MORE.
    assert len(turn.messages) == 1 and turn.conversation.pages == []
    text = turn.messages[0]
    _assert_page(text, f"rule {rule.id}")
    assert rule.advice in text
    assert text.count("next appointment") <= 1, text  # said once is enough
    if rule.level == "emergency":
        assert text.startswith("Call 999 now")
    elif rule.level == "urgent":
        number = directory["acute_oncology"].number
        assert text.startswith(f"Call the 24-hour acute oncology line now on {number}"
                               if number else "Call the 24-hour number your hospital gave you")
        assert "999" in text
    else:
        nurse_number = directory["nurse"].number
        assert nurse_number and nurse_number in text
    assert turn.actions[0].kind == "alert"


@pytest.mark.parametrize("directory", _directories())
def test_escalated_same_day_reply_is_gsm7_and_short(directory: Directory) -> None:
    same_day = next(i for i, r in enumerate(RULES) if r.level == "same_day")
    first = _triage_turn(same_day, directory)
    second = _triage_turn(same_day, directory, conv=first.conversation)
    assert second.triage.level == "urgent"
    _assert_page(second.messages[0], "repeat escalation")
    assert second.conversation.pages == []


# --- Every page the engine can produce -------------------------------------------------

INPUTS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "BACK", "MORE", "MENU",
          "HELP", "NURSE", "hi", "thanks", "qwerty zxcv")


ASKED = {
    "eat_drink": "can I eat before my {title}",
    "pain": "does a {title} hurt",
    "radiation": "is the {title} radiation safe",
    "dye": "is there a dye for the {title}",
    "results": "when do I get my {title} results",
    "who": "who does the {title}",
    "what": "what is {title} and why would I have it",
    "prepare": "how do I prepare for {title}",
    "duration": "how long does {title} take",
    "after": "what happens after {title}",
    "side_effects": "what are the side effects of {title}",
    "cure": "can {title} cure it",
}


def _explore(ctx: Context) -> dict[str, str]:
    """Walk every menu state reachable by keywords and numbers; collect every page."""
    pages: dict[str, str] = {}
    seen: set[tuple[object, ...]] = set()
    frontier = [(Conversation(), "fresh")]
    while frontier:
        conv, path = frontier.pop()
        key = (conv.state, tuple(conv.back), tuple(conv.pages), conv.last_topic)
        if key in seen:
            continue
        seen.add(key)
        assert len(seen) < 5000, "state space larger than expected"
        for text in INPUTS:
            turn = step(conv, text, ctx)
            where = f"{path} > {text}"
            for i, page in enumerate([*turn.messages, *turn.conversation.pages]):
                pages.setdefault(page, f"{where} (page {i + 1})")
            if conv.state != "nurse:reason" or text in ("MENU", "0"):
                frontier.append((turn.conversation, where))
    # Topics only reachable by asking, from the main menu and from inside a test menu.
    for topic in K.topics.values():
        for start in ("main", "test:ct_scan"):
            turn = step(Conversation(state=start), topic.title, ctx)
            assert turn.topic == topic.id, f"texting {topic.title!r} did not reach {topic.id}"
            for i, page in enumerate([*turn.messages, *turn.conversation.pages]):
                pages.setdefault(page, f"{start} > {topic.title!r} (page {i + 1})")
    # Every topic's sections, reached by asking about them.
    for topic in K.topics.values():
        asked = [(a, q) for a, q in ASKED.items() if a in topic.sections]
        # A topic's own section by each of its cues ("how long have I got" may be heard as
        # the feeling it is, "life expectancy" reaches the section).
        for form in ("{title}: {cue}?", "{title}: what about {cue}?"):
            asked += [
                (a, form.format(title=topic.title, cue=c))
                for a, cues in topic.cues.items()
                for c in cues
            ]
        for _, question in asked:
            text = question.format(title=topic.title)
            turn = step(Conversation(), text, ctx)
            for i, page in enumerate([*turn.messages, *turn.conversation.pages]):
                pages.setdefault(page, f"{text!r} (page {i + 1})")
    # The nurse call-back, open and closed.
    for now in (MONDAY_10, SATURDAY):
        turn = step(Conversation(state="nurse:reason"), "about my scan",
                    dataclasses.replace(ctx, now=now))
        for page in turn.messages:
            pages.setdefault(page, f"nurse call-back at {now:%a %H:%M}")
    return pages


@pytest.mark.parametrize("directory", _directories())
def test_every_page_the_engine_can_produce_fits(directory: Directory) -> None:
    pages = _explore(Context.default(now=MONDAY_10, directory=directory))
    # Every topic answer and every test section was seen.
    seen = "\n".join(pages)
    for topic in K.topics.values():
        first_words = " ".join(topic.answer.sms.split()[:6])
        assert first_words in seen, f"{topic.id} answer never shown"
        for name, section in topic.sections.items():
            assert " ".join(section.sms.split()[:6]) in seen, f"{topic.id} {name} never shown"
    for page, where in pages.items():
        _assert_page(page, where)
    assert len(pages) > 50


# --- The directory --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line_id", "number"),
    [("samaritans", "116 123"), ("macmillan", "0808 808 00 00"),
     ("breast_cancer_now", "0808 800 6000"), ("emergency", "999"), ("nhs111", "111")],
    ids=["samaritans", "macmillan", "breast-cancer-now", "999", "111"],
)
def test_directory_has_support_numbers(line_id: str, number: str) -> None:
    assert default_directory()[line_id].number == number


def test_acute_oncology_has_no_number_by_default() -> None:
    line = default_directory()["acute_oncology"]
    assert line.number is None
    assert line.always
    assert "acute oncology" not in urgent_line(default_directory())[0]


def test_directory_names_are_gsm7() -> None:
    for line in default_directory().lines.values():
        _assert_sms(line.name, line.id)
        _assert_sms(line.describe_hours(), line.id)


def test_the_content_review_shows_real_numbers_and_samples_that_read_as_samples() -> None:
    from flows.catalogue import entries
    from flows.triage import default_rulebook

    directory = default_directory()
    shown = entries(K, default_rulebook(), directory)
    made_up = [e for e in shown if "0191 000 0000" in e.text]
    assert not made_up, [(e.source, e.text) for e in made_up[:3]]
    # The urgent texts as they will read once the hospital's number is set: a sample.
    assert any("(24-hour no.)" in e.text for e in shown if "configured" in e.source)
    # With the number set, that number is what the review shows, and no sample.
    own = entries(K, default_rulebook(), directory.with_number("acute_oncology", "0191 445 0000"))
    assert not any("(24-hour no.)" in e.text for e in own)
    assert any("line now on 0191 445 0000" in e.text for e in own)
    confirmed = next(e.text for e in shown if e.source == "message appointment_confirmed")
    assert "CT scan" in confirmed and "Wed 2 Dec at 2:15pm" in confirmed
    macmillan = directory["macmillan"].number
    assert macmillan and any(macmillan in e.text for e in shown if "fallback" in e.source)


# --- Sections on any topic -----------------------------------------------------------------


def _topic_file(tmp_path: Path, sections: dict[str, object]) -> Path:
    path = tmp_path / "steroids.yaml"
    path.write_text(yaml.safe_dump({
        "id": "steroids", "title": "Steroids", "menu": "treatments", "keywords": ["steroids"],
        "sms": "Steroids ease swelling.", "voice": "Steroids ease swelling.",
        "sections": sections, "sources": ["000_6290b486e053c435.txt"],
        "reviewed": "2026-11-21", "review_due": "2027-11-21",
    }))
    return path


def test_a_topics_own_section_needs_the_words_that_ask_it(tmp_path: Path) -> None:
    text = {"sms": "Take them in the morning.", "voice": "Take them in the morning."}
    with pytest.raises(ContentError, match="needs cues"):
        load_topic(_topic_file(tmp_path, {"timing": text}))
    topic = load_topic(_topic_file(tmp_path, {"timing": {**text, "cues": ["what time"]}}))
    assert topic.cues == {"timing": ("what time",)} and not topic.is_test


def test_a_shared_aspect_takes_no_cues(tmp_path: Path) -> None:
    text = {"sms": "A few weeks.", "voice": "A few weeks.", "cues": ["weeks"]}
    with pytest.raises(ContentError, match="shared aspect"):
        load_topic(_topic_file(tmp_path, {"duration": text}))


# A UK number as the texts write it: "0191 445 3735", "0808 808 00 00", "116 123", "999".
_PHONE = re.compile(r"\b(?:0\d{3,4}(?: ?\d{2,4}){2,3}|116 ?123|999|111)\b")


def test_every_number_a_topic_gives_is_a_directory_number() -> None:
    known = {re.sub(r"\D", "", line.number or "") for line in default_directory().lines.values()}
    for topic in K.topics.values():
        texts = [topic.answer, *topic.sections.values()]
        for said in (w for t in texts for w in (t.sms, t.voice)):
            for number in _PHONE.findall(said):
                assert re.sub(r"\D", "", number) in known, (topic.id, number)


def test_every_section_and_its_tail_arrive_in_one_text() -> None:
    from flows import sms
    from flows.knowledge import default_knowledge

    k = default_knowledge()
    more = k.messages["more_hint"].sms
    for topic in k.topics.values():
        tail = k.messages["after_section" if topic.is_test else "after_topic"].sms
        for aspect, section in topic.sections.items():
            pages = sms.paginate(f"{topic.title}: {section.sms}", tail, more)
            assert len(pages) == 1, f"{topic.id}/{aspect} needs MORE before its tail"
