"""The directory: opening hours in clinic time, right across the clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flows.directory import (
    DIRECTORY_FILE,
    DirectoryError,
    Line,
    NotDialable,
    Session,
    bank_holiday,
    clock,
    load_directory,
)

LONDON = ZoneInfo("Europe/London")

# 2026 clock changes in the UK: forward on Sunday 29 March (01:00 UTC), back on
# Sunday 25 October (01:00 UTC). The nurse line is open Monday to Friday, 9am to 5pm.


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def nurse() -> Line:
    return load_directory()["nurse"]


@pytest.mark.parametrize(
    ("now", "is_open", "next_open_utc"),
    [
        # Friday 27 March, still GMT: 16:30 UTC is 16:30 local -> open; next opening is
        # Monday 30 March 09:00 BST, which is 08:00 UTC.
        (_utc(2026, 3, 27, 16, 30), True, _utc(2026, 3, 30, 8, 0)),
        # Friday 27 March 17:00 GMT: just closed.
        (_utc(2026, 3, 27, 17, 0), False, _utc(2026, 3, 30, 8, 0)),
        # Sunday 29 March 01:30 UTC = 02:30 BST, just after the clocks go forward.
        (_utc(2026, 3, 29, 1, 30), False, _utc(2026, 3, 30, 8, 0)),
        # Monday 30 March, now BST: 07:59 UTC is 08:59 local -> closed, opens in a minute.
        (_utc(2026, 3, 30, 7, 59), False, _utc(2026, 3, 30, 8, 0)),
        # Monday 30 March 08:30 UTC = 09:30 BST -> open; next opening Tuesday 09:00 BST.
        (_utc(2026, 3, 30, 8, 30), True, _utc(2026, 3, 31, 8, 0)),
        # Monday 30 March 16:30 UTC = 17:30 BST -> closed although 16:30 in UTC terms.
        (_utc(2026, 3, 30, 16, 30), False, _utc(2026, 3, 31, 8, 0)),
        # Friday 23 October, still BST: 16:30 UTC = 17:30 local -> closed; next opening
        # Monday 26 October 09:00 GMT = 09:00 UTC, after the clocks go back.
        (_utc(2026, 10, 23, 16, 30), False, _utc(2026, 10, 26, 9, 0)),
        # Monday 26 October, GMT again: 08:30 UTC = 08:30 local -> closed, opens 09:00 UTC.
        (_utc(2026, 10, 26, 8, 30), False, _utc(2026, 10, 26, 9, 0)),
        # Monday 26 October 16:30 UTC = 16:30 GMT -> open.
        (_utc(2026, 10, 26, 16, 30), True, _utc(2026, 10, 27, 9, 0)),
    ],
    ids=[
        "fri-27-mar-1630utc-open", "fri-27-mar-1700utc-closed", "sun-29-mar-after-change",
        "mon-30-mar-0859bst-closed", "mon-30-mar-0930bst-open", "mon-30-mar-1730bst-closed",
        "fri-23-oct-1730bst-closed", "mon-26-oct-0830gmt-closed", "mon-26-oct-1630gmt-open",
    ],
)
def test_nurse_line_hours_across_clock_changes(
    nurse: Line, now: datetime, is_open: bool, next_open_utc: datetime
) -> None:
    assert nurse.is_open(now, LONDON) is is_open
    nxt = nurse.next_open(now, LONDON)
    assert nxt is not None
    assert nxt == next_open_utc
    assert nxt.astimezone(LONDON).time() == time(9, 0), "opening time is not 9am local"


def test_opening_and_closing_minutes(nurse: Line) -> None:
    nine = datetime(2026, 6, 1, 9, 0, tzinfo=LONDON)  # a Monday
    five = datetime(2026, 6, 1, 17, 0, tzinfo=LONDON)
    assert nurse.is_open(nine, LONDON)
    assert not nurse.is_open(nine - timedelta(minutes=1), LONDON)
    assert nurse.is_open(five - timedelta(minutes=1), LONDON)
    assert not nurse.is_open(five, LONDON)


def test_closed_all_weekend(nurse: Line) -> None:
    saturday_noon = datetime(2026, 6, 6, 12, 0, tzinfo=LONDON)
    sunday_noon = datetime(2026, 6, 7, 12, 0, tzinfo=LONDON)
    assert not nurse.is_open(saturday_noon, LONDON)
    assert not nurse.is_open(sunday_noon, LONDON)
    monday_nine = datetime(2026, 6, 8, 9, 0, tzinfo=LONDON)
    assert nurse.next_open(saturday_noon, LONDON) == monday_nine
    assert nurse.next_open(sunday_noon, LONDON) == monday_nine


def test_always_open_lines_have_no_next_opening() -> None:
    directory = load_directory()
    night = _utc(2026, 12, 25, 3, 0)
    for line_id in ("samaritans", "emergency", "nhs111"):
        line = directory[line_id]
        assert line.is_open(night, LONDON), line_id
        assert line.next_open(night, LONDON) is None
        assert line.describe_hours() == "24 hours a day, every day"


def test_line_without_hours_says_ring_to_check() -> None:
    line = load_directory()["breast_cancer_now"]
    assert not line.hours_known
    assert line.next_open(_utc(2026, 6, 1, 10, 0), LONDON) is None
    assert line.describe_hours() == "ring to check opening times"


def test_hours_described_in_plain_words() -> None:
    directory = load_directory()
    assert directory["nurse"].describe_hours() == "Monday to Friday, 9am to 5pm"
    assert directory["macmillan"].describe_hours() == "Monday to Friday, 9am to 8pm"


@pytest.mark.parametrize(
    ("t", "words"),
    [(time(9, 0), "9am"), (time(17, 0), "5pm"), (time(17, 30), "5.30pm"),
     (time(12, 0), "12 noon"), (time(12, 30), "12.30pm"), (time(0, 0), "12am")],
    ids=["9am", "5pm", "5.30pm", "noon", "12.30pm", "midnight"],
)
def test_clock_words(t: time, words: str) -> None:
    assert clock(t) == words


def test_session_with_separate_days() -> None:
    s = Session(frozenset({0, 2}), time(10, 0), time(13, 0))
    assert s.describe() == "Monday, Wednesday, 10am to 1pm"


def test_with_number_sets_one_line_and_leaves_the_original() -> None:
    directory = load_directory()
    configured = directory.with_number("acute_oncology", "0191 000 0000")
    assert configured["acute_oncology"].number == "0191 000 0000"
    assert directory["acute_oncology"].number is None
    assert "0191 000 0000" in configured.dialable()
    assert "0191 000 0000" not in directory.dialable()
    assert directory.with_number("acute_oncology", "") is directory


# --- Bank holidays (England and Wales unless told otherwise) --------------------------------

ACUTE = "+447700900999"  # Ofcom drama range: stands in for a deployment's acute oncology line


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 28), "Boxing Day (observed)"),  # 26 December is a Saturday
        (date(2026, 4, 3), "Good Friday"),
        (date(2026, 4, 6), "Easter Monday"),
        (date(2026, 5, 25), "Spring Bank Holiday"),
    ],
    ids=["christmas", "boxing-day-substitute", "good-friday", "easter-monday", "spring"],
)
def test_bank_holidays_in_england_and_wales(day: date, name: str) -> None:
    assert bank_holiday(day) == name
    assert bank_holiday(day, "WLS") == name


def test_ordinary_days_are_not_bank_holidays() -> None:
    assert bank_holiday(date(2026, 12, 24)) is None
    assert bank_holiday(date(2026, 12, 29)) is None
    assert bank_holiday(date(2026, 11, 23)) is None


@pytest.mark.parametrize(
    "local",
    [
        datetime(2026, 12, 25, 10, 0, tzinfo=LONDON),  # Christmas Day, a Friday
        datetime(2026, 12, 28, 10, 0, tzinfo=LONDON),  # the Boxing Day substitute, a Monday
        datetime(2026, 4, 3, 12, 0, tzinfo=LONDON),  # Good Friday
        datetime(2026, 4, 6, 9, 30, tzinfo=LONDON),  # Easter Monday
    ],
    ids=["christmas", "boxing-day-substitute", "good-friday", "easter-monday"],
)
def test_nurse_line_closed_on_bank_holidays(nurse: Line, local: datetime) -> None:
    assert not nurse.is_open(local, LONDON)
    assert nurse.closed_for_holiday(local, LONDON) is not None
    assert nurse.closes_at(local, LONDON) is None
    # The same time a week before is an ordinary working day (a week after Christmas is
    # New Year's Day).
    assert nurse.is_open(local - timedelta(days=7), LONDON)
    assert nurse.closed_for_holiday(local - timedelta(days=7), LONDON) is None


def test_next_opening_skips_christmas_and_the_substitute_day(nurse: Line) -> None:
    christmas_eve_evening = datetime(2026, 12, 24, 17, 30, tzinfo=LONDON)
    assert nurse.next_open(christmas_eve_evening, LONDON) == datetime(
        2026, 12, 29, 9, 0, tzinfo=LONDON
    )
    easter_thursday = datetime(2026, 4, 2, 18, 0, tzinfo=LONDON)
    assert nurse.next_open(easter_thursday, LONDON) == datetime(2026, 4, 7, 9, 0, tzinfo=LONDON)


def test_always_open_lines_stay_open_on_bank_holidays() -> None:
    directory = load_directory()
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=LONDON)
    for line_id in ("samaritans", "nhs111", "acute_oncology"):
        assert directory[line_id].is_open(christmas, LONDON), line_id
        assert directory[line_id].closed_for_holiday(christmas, LONDON) is None


def test_scotland_keeps_its_own_bank_holidays() -> None:
    england = load_directory()
    scotland = england.with_region("sct")
    second_of_january = datetime(2026, 1, 2, 10, 0, tzinfo=LONDON)  # a Friday
    easter_monday = datetime(2026, 4, 6, 10, 0, tzinfo=LONDON)
    assert england["nurse"].is_open(second_of_january, LONDON)
    assert not scotland["nurse"].is_open(second_of_january, LONDON)
    assert not england["nurse"].is_open(easter_monday, LONDON)
    assert scotland["nurse"].is_open(easter_monday, LONDON)
    assert england.with_region(None) is england
    with pytest.raises(DirectoryError):
        england.with_region("XX")


def _directory_file(tmp_path: Path, nurse_extra: str) -> Path:
    text = DIRECTORY_FILE.read_text(encoding="utf-8")
    marker = "  - id: nurse\n"
    assert marker in text
    path = tmp_path / "directory.yaml"
    path.write_text(text.replace(marker, marker + nurse_extra, 1), encoding="utf-8")
    return path


def test_a_line_can_be_marked_open_on_bank_holidays(tmp_path: Path) -> None:
    directory = load_directory(_directory_file(tmp_path, "    bank_holidays: open\n"))
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=LONDON)
    assert directory["nurse"].is_open(christmas, LONDON)
    assert not directory["nurse_2"].is_open(christmas, LONDON)


def test_a_bad_bank_holiday_rule_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="bank_holidays"):
        load_directory(_directory_file(tmp_path, "    bank_holidays: sometimes\n"))


# --- Dialling: only directory numbers, and the next open line of a chain -------------------


def test_closes_at_gives_the_end_of_the_current_session(nurse: Line) -> None:
    assert nurse.closes_at(datetime(2026, 6, 1, 16, 59, tzinfo=LONDON), LONDON) == time(17, 0)
    assert nurse.closes_at(datetime(2026, 6, 1, 17, 0, tzinfo=LONDON), LONDON) is None


def test_dial_numbers_are_e164_and_short_codes_are_never_dialled() -> None:
    directory = load_directory()
    assert directory.dial_number("nurse") == "+441914453735"
    assert directory.dial_number("macmillan") == "+448088080000"
    for line_id in ("emergency", "nhs111", "samaritans", "acute_oncology", "no_such_line"):
        with pytest.raises(NotDialable):
            directory.dial_number(line_id)
    assert directory.with_number("acute_oncology", ACUTE).dial_number("acute_oncology") == ACUTE


def test_only_directory_numbers_pass_the_dial_check() -> None:
    directory = load_directory()
    assert directory.check_dialable("+441914453735") == "+441914453735"
    for number in ("+447700900123", "", "999", "+44999", "0191 445 3735"):
        with pytest.raises(NotDialable):
            directory.check_dialable(number)
    with pytest.raises(NotDialable):
        directory.check_dialable(ACUTE)
    assert directory.with_number("acute_oncology", ACUTE).check_dialable(ACUTE) == ACUTE


def test_next_open_line_walks_the_chain() -> None:
    directory = load_directory()
    chain = ("nurse", "nurse_2")
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
    first = directory.next_open_line(chain, monday, LONDON)
    assert first is not None and first.id == "nurse"
    second = directory.next_open_line(chain, monday, LONDON, skip=["nurse"])
    assert second is not None and second.id == "nurse_2"
    assert directory.next_open_line(chain, monday, LONDON, skip=["nurse", "nurse_2"]) is None
    evening = monday.replace(hour=18)
    assert directory.next_open_line(chain, evening, LONDON) is None
    macmillan = directory.next_open_line(("nurse", "macmillan"), evening, LONDON)
    assert macmillan is not None and macmillan.id == "macmillan"
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=LONDON)
    assert directory.next_open_line(chain, christmas, LONDON) is None


def test_next_open_line_never_offers_a_line_without_a_dialable_number() -> None:
    directory = load_directory()
    night = datetime(2026, 11, 23, 23, 0, tzinfo=LONDON)
    unconfigured = ("acute_oncology", "emergency", "nhs111")
    assert directory.next_open_line(unconfigured, night, LONDON) is None
    configured = directory.with_number("acute_oncology", ACUTE)
    line = configured.next_open_line(("acute_oncology",), night, LONDON)
    assert line is not None and line.number == ACUTE


# --- the team's own nurse hours (NURSE_HOURS) -------------------------------------------------


def test_own_hours_replace_the_shipped_ones_on_every_nurse_line() -> None:
    from flows.directory import parse_hours

    shipped = load_directory()
    nurses = {"nurse", "nurse_2", "nurse_south_tyneside"}
    assert {line.id for line in shipped.placeholders()} == nurses
    own = shipped.with_hours("nurse", "mon-fri 08:30-16:30; sat 10:00-12:00")
    assert own.placeholders() == []
    for line_id in sorted(nurses):
        assert own[line_id].describe_hours() == (
            "Monday to Friday, 8.30am to 4.30pm; Saturday, 10am to 12 noon"
        )
    # Monday 23 November 2026 (GMT): 16:45 is after the team's 16:30 close.
    late = _utc(2026, 11, 23, 16, 45)
    assert shipped["nurse"].is_open(late, LONDON)
    assert not own["nurse"].is_open(late, LONDON)
    assert own["nurse"].is_open(_utc(2026, 11, 28, 11, 0), LONDON)  # Saturday morning
    assert own["acute_oncology"] == shipped["acute_oncology"]
    assert parse_hours("Mon-Fri 9:00-17:00") == shipped["nurse"].sessions


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("weekdays 9-5", "is not opening hours"),
        ("mon-fri 09:00-25:00", "24-hour"),
        ("funday 09:00-17:00", "days are mon"),
        ("mon-fri 17:00-09:00", "close after it opens"),
        (" ; ", "no opening hours"),
    ],
)
def test_hours_that_are_not_hours_are_explained(spec: str, problem: str) -> None:
    from flows.directory import parse_hours

    with pytest.raises(ValueError, match=problem):
        parse_hours(spec)
