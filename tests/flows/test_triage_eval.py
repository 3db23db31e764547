"""Red-flag triage: no warning sign missed, few false alarms, and the tricky cases."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from _pytest.mark import ParameterSet

from flows.triage import LEVELS, RANK, assess

DATA = Path(__file__).resolve().parents[1] / "data"
# The three older sets, then every blind batch (tests/data/BATCHES.md): each stays a
# regression test once its first-sight figures are recorded.
FILES = tuple(
    ["triage_dev.csv", "triage_holdout.csv", "triage_fresh.csv"]
    + sorted(p.name for p in DATA.glob("triage_b*_w*.csv"))
)
MAX_OVER_TRIAGE = 0.10
SERIOUS = ("emergency", "urgent")
COLUMNS = (["text", "level", "note"], ["text", "level", "category", "note"])


def _rows(name: str) -> list[tuple[int, dict[str, str]]]:
    with (DATA / name).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames in COLUMNS, f"{name}: unexpected columns"
        rows = [(reader.line_num, row) for row in reader]
    for line, row in rows:
        assert row["level"] in LEVELS, f"{name} line {line}: unknown level {row['level']!r}"
    return rows


def _cases(levels: tuple[str, ...]) -> list[ParameterSet]:
    cases = []
    for name in FILES:
        for line, row in _rows(name):
            if row["level"] in levels:
                short = " ".join(row["text"].split())[:60]
                note = row.get("category") or row["note"]
                cases.append(pytest.param(row["text"], row["level"], note,
                                          id=f"{name[7:-4]}:{line}:{short}"))
    return cases


def test_the_blind_batches_are_there() -> None:
    blind = [name for name in FILES if name.startswith("triage_b")]
    messages = sum(len(_rows(name)) for name in blind)
    assert len(blind) >= 8 and messages >= 1000


@pytest.mark.parametrize(("text", "label", "note"), _cases(SERIOUS))
def test_serious_message_is_never_missed(text: str, label: str, note: str) -> None:
    result = assess(text)
    assert result.level in SERIOUS, (
        f"labelled {label} ({note}) but assessed {result.level}: {text!r}"
    )


@pytest.mark.parametrize(("text", "label", "note"), _cases(("emergency",)))
def test_emergency_is_told_to_call_999(text: str, label: str, note: str) -> None:
    result = assess(text)
    assert result.level == "emergency", f"{note}: assessed {result.level}: {text!r}"


@pytest.mark.parametrize(("text", "label", "note"), _cases(("same_day",)))
def test_same_day_sign_is_never_missed(text: str, label: str, note: str) -> None:
    result = assess(text)
    assert result.level != "none", f"{note}: assessed none: {text!r}"


@pytest.mark.parametrize("name", FILES, ids=[f[7:-4] for f in FILES])
def test_over_triage_of_ordinary_messages_is_rare(name: str) -> None:
    ordinary = [row["text"] for _, row in _rows(name) if row["level"] == "none"]
    assert ordinary, f"{name} has no messages labelled none"
    flagged = [(t, assess(t).level) for t in ordinary]
    flagged = [(t, level) for t, level in flagged if level != "none"]
    rate = len(flagged) / len(ordinary)
    assert rate <= MAX_OVER_TRIAGE, (
        f"{name}: {len(flagged)}/{len(ordinary)} ordinary messages flagged ({rate:.0%}): "
        + "; ".join(f"{t!r} -> {level}" for t, level in flagged)
    )


@pytest.mark.parametrize(
    "text",
    ["38.2", "37,8", "100.4F", "temp 38", "39 degrees", "35.5",
     "my temperature is 38.2", "Temp: 38.2\u00b0C", "temp is 99.5F", "temp 37.5"],
    ids=["38.2", "37,8", "100.4F", "temp-38", "39-degrees", "35.5-low",
         "sentence", "degree-sign", "fahrenheit-threshold", "threshold-37.5"],
)
def test_abnormal_temperature_is_urgent(text: str) -> None:
    result = assess(text)
    assert result.level == "urgent", f"{text!r} -> {result.level}"


@pytest.mark.parametrize(
    "text",
    ["no fever", "temp 36.8 this morning", "I'm 38 and just diagnosed",
     "my appointment is at 10.30", "37.5mg", "temp 37.4", "I take 37.5mg of venlafaxine",
     "took 2 paracetamol at 10.30", "I'm 38 weeks"],
    ids=["no-fever", "normal-temp", "age", "clock-time", "dose", "just-below",
         "dose-in-sentence", "time-with-tablets", "weeks"],
)
def test_ordinary_numbers_and_denials_are_not_flagged(text: str) -> None:
    result = assess(text)
    assert result.level == "none", f"{text!r} -> {result.level} ({result.reason})"


@pytest.mark.parametrize(
    "text",
    ["no shivering", "I'm not shivering", "no shivering and no fever",
     "I haven't had a temperature"],
    ids=["no-shivering", "not-shivering", "double-denial", "havent-had"],
)
def test_denied_symptoms_are_not_flagged(text: str) -> None:
    assert assess(text).level == "none"


def test_denial_of_one_sign_does_not_hide_another() -> None:
    assert assess("no fever but I'm shivering").level == "urgent"
    assert assess("I don't have a fever but I have chest pain").level == "emergency"


@pytest.mark.parametrize(
    ("text", "level"),
    [("temprature 38", "urgent"), ("sezure", "emergency"), ("my mum had a sezure", "emergency"),
     ("i cant breath", "emergency"), ("im shivvering", "urgent")],
    ids=["temprature", "sezure", "mum-sezure", "cant-breath", "shivvering"],
)
def test_typos_are_still_caught(text: str, level: str) -> None:
    assert assess(text).level == level


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Can I eat before my CT scan tomorrow? Also I've been coughing up blood since this "
         "morning", "emergency"),
        ("what time is my appointment? I have chest pain", "emergency"),
        ("How long does a bone scan take? Ive got a temperature of 38.4", "urgent"),
        ("hi just a question about my scan on friday, do i need to fast. also ive had a "
         "crushing pain in my chest for the last 20 mins", "emergency"),
    ],
    ids=["blood-after-ct-question", "chest-pain-after-time", "temp-after-bone-scan",
         "chest-pain-after-fasting"],
)
def test_warning_buried_after_an_ordinary_question(text: str, level: str) -> None:
    assert assess(text).level == level


@pytest.mark.parametrize(
    "text",
    ["I want to kill myself", "i want to end it all", "I feel like I want to die",
     "I am suicidal", "i can't go on like this"],
    ids=["kill-myself", "end-it-all", "want-to-die", "suicidal", "cant-go-on"],
)
def test_suicidal_message_is_emergency_with_samaritans(text: str) -> None:
    result = assess(text)
    assert result.level == "emergency"
    assert "Samaritans" in result.advice
    assert "116 123" in result.advice


def test_general_questions_about_symptoms_are_not_alarms() -> None:
    assert assess("is shivering a sign of infection?").level == "none"
    assert assess("what should I do if I get a fever?").level == "none"


def test_history_is_not_a_warning_but_now_is() -> None:
    assert assess("I had a seizure in 2019").level == "none"
    assert assess("i had a seizure this morning").level == "emergency"


def test_to_dict_has_exactly_level_and_reason() -> None:
    for text in ("chest pain", "hello"):
        d = assess(text).to_dict()
        assert set(d) == {"level", "reason"}
        assert d["level"] in LEVELS
        assert isinstance(d["reason"], str) and d["reason"]


def test_levels_are_ordered_most_urgent_first() -> None:
    assert LEVELS == ("emergency", "urgent", "same_day", "none")
    assert RANK["emergency"] < RANK["urgent"] < RANK["same_day"] < RANK["none"]


def test_worrying_means_anything_but_none() -> None:
    assert assess("chest pain").worrying
    assert not assess("what is a bone scan").worrying


def test_temperature_in_words_is_urgent() -> None:
    assert assess("my temperature is thirty eight point five").level == "urgent"
