"""Spreading texts due together within the sending capacity: the pure planner."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.reminders import in_quiet, plan
from flows.spreading import SLOT_SECONDS, Item, rank, slot_of, spread

LONDON = ZoneInfo("Europe/London")
QUIET = (time(21), time(8))
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)  # Monday
TUESDAY_10AM = datetime(2026, 12, 1, 10, tzinfo=LONDON)


def appointments(test: str, count: int, at: datetime = TUESDAY_10AM) -> list[Item]:
    """Every reminder of `count` identical appointments, as the importer hands them over."""
    items = []
    for n in range(count):
        for k, p in enumerate(plan(test, at, "Clinic", LONDON, now=NOW).reminders):
            items.append(Item((n, k), p.kind, p.send_at, p.expires_at))
    return items


def per_minute(placed: dict[object, datetime]) -> Counter[int]:
    return Counter(slot_of(at) for at in placed.values())


def test_a_thousand_ct_scans_never_exceed_ten_a_second_and_none_goes_early_or_too_late(
) -> None:
    items = appointments("ct_scan", 1000)
    placed = spread(items, 10, LONDON, QUIET)

    assert placed.unfit == []
    assert max(per_minute(placed.send_at).values()) <= 10 * SLOT_SECONDS
    for item in items:
        at = placed.send_at[item.key]
        assert item.earliest <= at < item.latest
        assert not in_quiet(at, LONDON, QUIET)
    # 1,000 texts at 600 a minute: the last of each batch goes 1 min 40 s after the first.
    delays = [placed.delay(i) for i in items]
    assert max(delays) < timedelta(minutes=2)
    # Fasting reminders, the most urgent, all go first in their own 20:30 batch.
    fasting = [i for i in items if i.kind.endswith(":fasting")]
    assert {placed.send_at[i.key].astimezone(LONDON).strftime("%H:%M") for i in fasting} <= {
        "20:30", "20:31"}


def test_the_same_appointments_give_the_same_plan() -> None:
    items = appointments("pet_ct_scan", 700)
    first = spread(items, 5, LONDON, QUIET)
    again = spread(list(items), 5, LONDON, QUIET)
    assert first.send_at == again.send_at and first.unfit == again.unfit


def test_fasting_reminders_win_the_last_half_hour_before_quiet_hours() -> None:
    # 20:30 to 21:00 is all a morning scan's fasting reminder has: at 1 text a second
    # that is 1,800 texts. 1,000 fasting reminders and 1,500 day-before ones that could
    # also use it: every fasting one fits, the day-before ones go earlier in the evening.
    at = datetime(2026, 12, 1, 20, 30, tzinfo=LONDON)
    fasting = [Item(("f", n), "ct_scan:fasting", at, at + timedelta(hours=9, minutes=30))
               for n in range(1000)]
    evening = at.replace(hour=18, minute=0)
    day_before = [Item(("d", n), "ct_scan:day_before", evening + timedelta(minutes=n % 150),
                       at + timedelta(hours=9, minutes=30)) for n in range(1500)]
    placed = spread(day_before + fasting, 1, LONDON, QUIET)

    assert not [k for k in placed.unfit if k[0] == "f"]  # type: ignore[index]
    for item in fasting:
        assert at <= placed.send_at[item.key] < at + timedelta(minutes=30)
    assert max(per_minute(placed.send_at).values()) <= SLOT_SECONDS


def test_what_cannot_fit_before_its_latest_moment_is_reported_not_squeezed_in() -> None:
    at = datetime(2026, 12, 1, 20, 30, tzinfo=LONDON)
    latest = at + timedelta(hours=9)  # 05:30: the quiet hours leave 20:30 to 21:00
    items = [Item(n, "pet_ct_scan:fasting", at, latest) for n in range(200)]
    placed = spread(items, 0.1, LONDON, QUIET)  # 6 a minute: 180 in the half hour

    assert len(placed.send_at) == 180
    assert placed.unfit == list(range(180, 200))
    assert all(at <= t < at + timedelta(minutes=30) for t in placed.send_at.values())


def test_minutes_other_campaigns_hold_are_left_to_them() -> None:
    at = datetime(2026, 12, 1, 18, tzinfo=LONDON)
    items = [Item(n, "mri_scan:day_before", at, at + timedelta(hours=14)) for n in range(100)]
    first = slot_of(at)
    taken = {first: 60, first + 1: 50}  # a minute full, the next with 10 left
    placed = spread(items, 1, LONDON, QUIET, taken)

    used = per_minute(placed.send_at)
    assert used[first] == 0 and used[first + 1] == 10 and used[first + 2] == 60
    assert used[first + 3] == 30


def test_nothing_moves_with_no_limit_and_texts_never_go_in_quiet_hours() -> None:
    items = appointments("blood_tests", 50)
    assert spread(items, 0, LONDON, QUIET).send_at == {}

    at = datetime(2026, 12, 1, 20, 59, tzinfo=LONDON)
    late = [Item(n, "xray:day_before", at, at + timedelta(hours=13)) for n in range(120)]
    placed = spread(late, 1, LONDON, QUIET)
    mornings = sorted(placed.send_at.values())
    assert mornings[59].astimezone(LONDON).strftime("%H:%M") == "20:59"
    assert mornings[60].astimezone(LONDON) == datetime(2026, 12, 2, 8, tzinfo=LONDON)


def test_kinds_are_ranked_fasting_first() -> None:
    kinds = ["mri_scan:few_days_before", "ct_scan:day_before", "ct_scan:fasting",
             "mri_scan:day_before+few_days_before", "mri_scan:few_days_before~carry", "message"]
    assert sorted(kinds, key=rank) == [
        "ct_scan:fasting", "ct_scan:day_before", "mri_scan:day_before+few_days_before",
        "mri_scan:few_days_before", "mri_scan:few_days_before~carry", "message"]


def test_a_call_pushed_out_of_a_full_minute_waits_for_calling_hours_not_the_evening(
) -> None:
    texts = Item("text", "ct_scan:day_before", datetime(2026, 11, 30, 18, 59, tzinfo=LONDON),
                 datetime(2026, 12, 1, 12, tzinfo=LONDON))
    call = Item("call", "ct_scan:day_before", datetime(2026, 11, 30, 18, 59, 30, tzinfo=LONDON),
                datetime(2026, 12, 1, 12, tzinfo=LONDON), closed=(time(19), time(10)))
    placed = spread([call, texts], 1 / SLOT_SECONDS, LONDON, QUIET)  # one send a minute

    assert placed.unfit == []
    assert placed.send_at["text"] == texts.earliest  # the text keeps its minute
    assert placed.send_at["call"] == datetime(2026, 12, 1, 10, tzinfo=LONDON)
    # Kept out of quiet hours alone, it would have rung at 19:00.
    alone = spread([texts, Item("call", call.kind, call.earliest, call.latest)],
                   1 / SLOT_SECONDS, LONDON, QUIET)
    assert alone.send_at["call"].astimezone(LONDON).hour == 19
