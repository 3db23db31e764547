"""Every path that schedules texts takes its minutes through the one planner: feed bookings
and moves, a nurse's move, START, a text to everyone; no minute holds more than the line
can send, counting the minutes a running import has planned and not yet written."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from bot.feeds import bookings
from bot.outbound import appointments, campaigns, planning, scheduling
from bot.outbound.appointments import Appointment
from bot.outbound.texts import Reminder
from flows.feed import BOOK, Booking
from flows.spreading import slot_of
from tests.support.base import MONDAY_10AM
from tests.support.feed import LONDON, feed_settings
from tests.support.reminders import QUIET, drama, make_appointment, scheduled, utc_now

PER_MINUTE = 3
PER_SECOND = PER_MINUTE / 60  # three texts a minute: a burst of a dozen shows the spreading
WEDNESDAY_930 = datetime(2026, 12, 2, 9, 30, tzinfo=LONDON)


def per_minute(r: redis.Redis) -> Counter[int]:
    """Texts on RQ's scheduler in each minute."""
    return Counter(slot_of(at) for at in scheduled(r).values())


def every(r: redis.Redis) -> list[Reminder]:
    ids = [str(k).removeprefix("reminder:") for k in r.scan_iter("reminder:*")]
    return Reminder.fetch_many(r, ids)


def booking(n: int, start: datetime = WEDNESDAY_930) -> Booking:
    return Booking(source="hl7", event=BOOK, appointment_id=f"APT{n:04d}",
                   message_time=MONDAY_10AM, start=start, procedures=("RCTCAP",),
                   clinics=("RAD-CT",), phones=((drama(n), True),), label="SIU^S12")


def test_a_burst_of_feed_bookings_for_the_same_moment_is_spread_within_capacity(
    r: redis.Redis, tmp_path: Path, redis_url: str
) -> None:
    settings = feed_settings(redis_url, tmp_path, SMS_PER_SECOND=str(PER_SECOND))
    feed = bookings.from_settings(settings)
    assert feed.per_second == PER_SECOND
    for n in range(12):
        outcome = bookings.apply(r, feed, booking(n), f"MSG{n}", MONDAY_10AM)
        assert outcome.status == "applied", outcome.error

    sent = every(r)
    assert len(sent) == 36 and Counter(x.kind for x in sent) == {
        "ct_scan:few_days_before": 12, "ct_scan:day_before": 12, "ct_scan:fasting": 12}
    assert max(per_minute(r).values()) == PER_MINUTE  # twelve due together: four minutes
    for kind in ("ct_scan:few_days_before", "ct_scan:day_before", "ct_scan:fasting"):
        moments = sorted(x.send_at_dt for x in sent if x.kind == kind)
        assert moments[-1] - moments[0] >= timedelta(minutes=3)  # moved, not all at once
        assert all(x.send_at_dt < x.expires_at_dt for x in sent)
        assert all(at.astimezone(LONDON).hour < 21 for at in moments)  # never in quiet hours


def test_fasting_reminders_take_the_first_minutes_when_kinds_compete(
    r: redis.Redis,
) -> None:
    # A campaign's worth of texts all due at one minute: fasting ones go first, the rest
    # after them, and nothing beyond the capacity in any minute.
    at = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    reminders = [
        Reminder(id=f"r{n}", to=drama(n), body="", kind=kind, send_at=at.isoformat(),
                 expires_at=(at + timedelta(hours=3)).isoformat())
        for n, kind in enumerate(["ct_scan:day_before"] * 4 + ["ct_scan:fasting"] * 4)
    ]
    planning.fit(r, reminders, PER_SECOND, LONDON, QUIET)
    order = sorted(reminders, key=lambda x: x.send_at_dt)
    assert [x.kind for x in order[:4]] == ["ct_scan:fasting"] * 4
    assert max(Counter(slot_of(x.send_at_dt) for x in reminders).values()) == PER_MINUTE


def test_a_moved_appointment_keeps_out_of_a_full_minute(r: redis.Redis) -> None:
    now = utc_now()
    appt, _ = make_appointment(r, to=drama(400), at=now + timedelta(days=9),
                               sends=[now + timedelta(days=8)])
    new_time = (now + timedelta(days=5)).astimezone(LONDON).replace(
        hour=14, minute=0, second=0, microsecond=0)
    wanted = appointments.make_plan(
        Appointment(**{**appt.to_dict(), "at": new_time.isoformat()}), LONDON, QUIET, now)
    first = wanted.reminders[0].send_at
    for n in range(PER_MINUTE):  # the minute the new plan wants first is already full
        make_appointment(r, to=drama(300 + n), at=new_time, sends=[first])

    moved = appointments.reschedule(r, appt, new_time, LONDON, QUIET, now,
                                    per_second=PER_SECOND)

    assert len(moved) == len(wanted.reminders)
    assert slot_of(moved[0].send_at_dt) == slot_of(first) + 1
    assert max(per_minute(r).values()) == PER_MINUTE


def test_a_text_to_everyone_is_spread_after_what_is_planned(r: redis.Redis) -> None:
    now = utc_now().replace(second=0, microsecond=0)
    made = [make_appointment(r, to=drama(500 + n), at=now + timedelta(days=3),
                             sends=[now + timedelta(days=2)], campaign="c1")[0]
            for n in range(7)]
    campaign = campaigns.Campaign(id="c1", name="Clinic", status="active")
    campaign.save(r)
    r.rpush(campaigns.Campaign.appointments_key("c1"), *(a.id for a in made))

    sent = campaigns.message(r, campaign, "Hello from the clinic.\nPlease call us.", now,
                             per_second=PER_SECOND)

    assert len(sent) == 7
    first_minute = [x for x in sent if x.send_at_dt - now < timedelta(minutes=1)]
    assert len(first_minute) == PER_MINUTE  # queued now; the rest wait for their minutes
    assert scheduling.queue(r).count == PER_MINUTE
    later = Counter(slot_of(x.send_at_dt) for x in sent if x not in first_minute)
    assert sorted(later.values()) == [1, 3]


def test_texts_keep_out_of_the_minutes_a_running_import_has_planned(r: redis.Redis) -> None:
    at = (utc_now() + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    with planning.planning_lock(r):
        planning.reserve(r, [at] * PER_MINUTE)  # as an import does before it writes
        [rem] = planning.fit(r, [Reminder(
            id="x", to=drama(1), body="", kind="ct_scan:day_before", send_at=at.isoformat(),
            expires_at=(at + timedelta(hours=1)).isoformat())], PER_SECOND, LONDON, QUIET)
        assert slot_of(rem.send_at_dt) == slot_of(at) + 1
        p = r.pipeline()
        planning.written(p, [at] * PER_MINUTE)  # the import's chunk is on the scheduler now
        p.execute()
        assert not r.exists(planning.RESERVED)
    assert not r.exists(planning.RESERVED)


def test_with_no_limit_nothing_moves(r: redis.Redis) -> None:
    at = utc_now() + timedelta(hours=3)
    rems = [Reminder(id=f"n{n}", to=drama(n), body="", kind="ct_scan:fasting",
                     send_at=at.isoformat(), expires_at=(at + timedelta(hours=1)).isoformat())
            for n in range(10)]
    assert {x.send_at for x in planning.fit(r, rems, 0.0, LONDON, QUIET)} == {
        at.isoformat()}
