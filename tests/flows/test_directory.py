"""The directory: opening hours in clinic time, right across the clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.directory import Line, Session, clock, load_directory

LONDON = ZoneInfo("Europe/London")

# 2026 clock changes in the UK: forward on Sunday 29 March (01:00 UTC), back on
# Sunday 25 October (01:00 UTC). The nurse line is open Monday to Friday, 9am to 5pm.


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


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
