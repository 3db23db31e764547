"""Reminder plans: what each test's reminders say, when they go, and what never goes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from flows.catalogue import entries
from flows.engine import default_directory
from flows.gsm import cost, is_gsm7
from flows.knowledge import ContentError, default_knowledge
from flows.reminders import (
    REMINDERS_FILE,
    TESTS,
    Plan,
    PlanError,
    ReminderContent,
    after_quiet,
    default_content,
    in_quiet,
    is_private,
    load_content,
    local_instant,
    plan,
    samples,
    segments_total,
    texts_for,
)
from flows.replies import classify_reply
from flows.triage import default_rulebook

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=LONDON)  # well before the November appointments
EARLY = datetime(2026, 1, 5, 12, 0, tzinfo=LONDON)  # well before the clock changes
TUE_2PM = datetime(2026, 11, 24, 14, 0, tzinfo=LONDON)
PLACE = "Freeman Hospital, Newcastle"
CONTENT = default_content()
REPLY = "Reply C to confirm or R to rearrange."
QUIET = (time(21), time(8))


def _plan(test: str, appointment: datetime, **kw: Any) -> Plan:
    kw.setdefault("now", NOW)
    return plan(test, appointment, kw.pop("location", PLACE), LONDON, **kw)


def _local(p: Any) -> datetime:
    local: datetime = p.send_at.astimezone(LONDON).replace(tzinfo=None)
    return local


def _by_kind(result: Plan) -> dict[str, Any]:
    return {p.kind.split(":", 1)[1]: p for p in result.reminders}


def _texts(test: str) -> str:
    return " ".join(p.text for p in _plan(test, TUE_2PM, name="Ann").reminders)


def _variant(tmp_path: Path, change: Any) -> ReminderContent:
    """The shipped content with one change, loaded from a file like the real one."""
    raw = yaml.safe_load(REMINDERS_FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "reminders.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_content(path)


# --- Every test's plan ---------------------------------------------------------------


@pytest.mark.parametrize("test", TESTS)
def test_every_test_gets_its_reminders_at_their_usual_moments(test: str) -> None:
    result = _plan(test, TUE_2PM)
    kinds = [p.kind for p in result.reminders]
    assert result.skipped == []
    assert kinds[:2] == [f"{test}:few_days_before", f"{test}:day_before"]
    got = _by_kind(result)
    assert _local(got["few_days_before"]) == dt.datetime(2026, 11, 21, 10, 0)
    assert _local(got["day_before"]) == dt.datetime(2026, 11, 23, 18, 0)
    for p in result.reminders:
        assert p.send_at.tzinfo is UTC and p.expires_at.tzinfo is UTC
        assert p.send_at < p.expires_at <= TUE_2PM
        assert not in_quiet(p.send_at, LONDON, QUIET)
        assert p.text.startswith("Appointment reminder\n")
        assert p.text.endswith(REPLY)
        assert "Tue 24 Nov at 2pm at Freeman Hospital, Newcastle" in p.text
        c = cost(p.text)
        assert (p.segments, p.encoding) == (c.segments, c.encoding)
    assert [p.send_at for p in result.reminders] == sorted(p.send_at for p in result.reminders)


def test_only_the_fasting_tests_get_a_fasting_reminder_an_hour_before_fasting() -> None:
    for test in TESTS:
        fasting = _by_kind(_plan(test, TUE_2PM)).get("fasting")
        if test == "ct_scan":
            assert fasting is not None and _local(fasting) == dt.datetime(2026, 11, 24, 9, 0)
            assert fasting.expires_at == TUE_2PM - timedelta(hours=4)
        elif test == "pet_ct_scan":
            # Due at 7am, in quiet hours: it goes the evening before instead.
            assert fasting is not None and _local(fasting) == dt.datetime(2026, 11, 23, 20, 30)
            assert fasting.expires_at == TUE_2PM - timedelta(hours=6)
        else:
            assert fasting is None, test


def test_the_usual_reminders_expire_when_the_next_one_takes_over() -> None:
    got = _by_kind(_plan("ct_scan", TUE_2PM))
    assert got["few_days_before"].expires_at == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    # The day-before text matters until fasting starts; after that the fasting one has spoken.
    assert got["day_before"].expires_at == TUE_2PM - timedelta(hours=4)
    mri = _by_kind(_plan("mri_scan", TUE_2PM))
    assert mri["day_before"].expires_at == TUE_2PM - timedelta(hours=2)


# --- The facts from the leaflets, in the right test's texts ----------------------------

FACTS = {
    "ct_scan": ["do not eat or drink for 4 hours", "iodine allergy", "asthma", "dye"],
    "pet_ct_scan": ["do not eat for 6 hours", "at least an hour", "30 to 90 minutes"],
    "mri_scan": ["metal checklist", "pacemaker", "jewellery", "worked with metal", "noisy"],
    "bone_scan": ["injection", "2 to 3 hours"],
    "biopsy": [
        "numbs the area",
        "sample",
        "needle",
        "same day",
        "sore for a couple of days",
        "painkillers",
    ],
    "blood_tests": ["check your letter", "ask your nurse"],
    "xray": ["low dose of radiation", "does not hurt"],
    "liver_ultrasound": ["does not hurt", "few minutes", "stop eating", "gel", "tummy"],
}
# Facts that belong to one test only: seeing them elsewhere would mislead.
OWNED = {
    "iodine": "ct_scan",
    "asthma": "ct_scan",
    "6 hours": "pet_ct_scan",
    "4 hours": "ct_scan",
    "pacemaker": "mri_scan",
    "jewellery": "mri_scan",
    "2 to 3 hours": "bone_scan",
    "painkillers": "biopsy",
    "needle": "biopsy",
}


@pytest.mark.parametrize("test", TESTS)
def test_each_tests_facts_are_in_its_own_reminders(test: str) -> None:
    text = _texts(test).lower()
    for fact in FACTS[test]:
        assert fact in text, f"{test}: missing {fact!r}"
    for word, owner in OWNED.items():
        if owner != test:
            assert word not in text, f"{test} says {word!r}, which is about {owner}"


def test_the_fasting_reminders_give_the_clock_time_to_stop_eating() -> None:
    ct = _by_kind(_plan("ct_scan", datetime(2026, 11, 24, 9, 30, tzinfo=LONDON)))["fasting"]
    assert "Do not eat or drink from 5.30am on Tue 24 Nov" in ct.text
    assert "Asthma or iodine allergy? Tell the team." in ct.text
    pet = _by_kind(_plan("pet_ct_scan", TUE_2PM))["fasting"]
    assert "Do not eat from 8am on Tue 24 Nov" in pet.text
    assert "may drink" in pet.text  # water may be allowed: the letter says


def test_the_fasting_time_can_fall_on_the_day_before() -> None:
    early = datetime(2026, 11, 24, 3, 0, tzinfo=LONDON)
    pet = _by_kind(_plan("pet_ct_scan", early))["fasting"]
    assert "from 9pm on Mon 23 Nov" in pet.text
    assert "Your PET-CT scan is on Tue 24 Nov at 3am" in pet.text


# --- Quiet hours ---------------------------------------------------------------------


def test_a_fasting_reminder_due_at_3am_goes_out_the_evening_before() -> None:
    # PET-CT at 10am: fasting from 4am, so the reminder would be due at 3am.
    result = _plan("pet_ct_scan", datetime(2026, 11, 24, 10, 0, tzinfo=LONDON))
    fasting = _by_kind(result)["fasting"]
    assert _local(fasting) == dt.datetime(2026, 11, 23, 20, 30)
    assert fasting.note == "moved earlier, out of quiet hours"
    assert fasting.expires_at == datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
    assert "from 4am on Tue 24 Nov" in fasting.text


def test_a_reminder_due_in_the_early_morning_goes_out_the_night_before_not_after_8am() -> None:
    # CT at 11am: fasting from 7am; due at 6am, when going later would be too late.
    fasting = _by_kind(_plan("ct_scan", datetime(2026, 11, 24, 11, 0, tzinfo=LONDON)))["fasting"]
    assert _local(fasting) == dt.datetime(2026, 11, 23, 20, 30)


def test_quiet_hours_can_be_set_by_the_caller() -> None:
    appt = datetime(2026, 11, 24, 11, 0, tzinfo=LONDON)  # CT fasting reminder due 6am
    late_night = _by_kind(_plan("ct_scan", appt, quiet=(time(22), time(7))))["fasting"]
    assert _local(late_night) == dt.datetime(2026, 11, 23, 21, 30)
    # A quiet spell that does not wrap midnight: the reminder goes before it starts.
    lunch = _by_kind(
        _plan("ct_scan", datetime(2026, 11, 24, 18, 0, tzinfo=LONDON), quiet=(time(12), time(14)))
    )["fasting"]
    assert _local(lunch) == dt.datetime(2026, 11, 24, 11, 30)
    # No quiet hours at all: the 6am moment stands.
    none = _by_kind(_plan("ct_scan", appt, quiet=(time(0), time(0))))["fasting"]
    assert _local(none) == dt.datetime(2026, 11, 24, 6, 0)


def test_quiet_hours_that_leave_no_time_before_them_skip_the_reminder() -> None:
    # Awake only from 20:00 to 20:10, shorter than the 30-minute margin.
    result = _plan(
        "ct_scan", datetime(2026, 11, 24, 11, 0, tzinfo=LONDON), quiet=(time(20, 10), time(20))
    )
    assert result.reminders == []
    assert ("ct_scan:fasting", "the quiet hours leave no time to send it") in result.skipped


@pytest.mark.parametrize("test", TESTS)
def test_over_two_days_of_appointment_times_nothing_is_sent_late_or_in_quiet_hours(
    test: str,
) -> None:
    # Every quarter hour, across the spring clock change.
    start = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    for i in range(4 * 72):
        appt = start + timedelta(minutes=15 * i)
        result = plan(test, appt, PLACE, LONDON, now=EARLY)
        for p in result.reminders:
            assert not in_quiet(p.send_at, LONDON, QUIET), (appt, p.kind)
            assert p.send_at < p.expires_at <= appt
            kind = p.kind.split(":", 1)[1]
            if kind == "day_before":  # never later than 6pm the day before
                usual = local_instant(
                    appt.astimezone(LONDON).date() - timedelta(days=1), time(18), LONDON
                )
                assert p.send_at <= usual
            if kind == "fasting":
                assert p.send_at <= p.expires_at - timedelta(hours=1)
        # With time to spare, a reminder is skipped only if it had no useful moment.
        for _, reason in result.skipped:
            assert reason == "there is no useful time to send it", (appt, result.skipped)


# --- Useful or not at all --------------------------------------------------------------

CT_3PM = datetime(2026, 11, 24, 15, 0, tzinfo=LONDON)


def test_booked_the_day_before_the_few_days_reminder_is_skipped_not_sent_late() -> None:
    now = datetime(2026, 11, 23, 14, 0, tzinfo=LONDON)
    result = _plan("ct_scan", CT_3PM, now=now)
    assert result.skipped == [("ct_scan:few_days_before", "its moment has passed")]
    assert [(p.kind, _local(p)) for p in result.reminders] == [
        ("ct_scan:day_before", dt.datetime(2026, 11, 23, 18, 0)),
        ("ct_scan:fasting", dt.datetime(2026, 11, 24, 10, 0)),
    ]


def test_booked_two_days_before_the_few_days_reminder_goes_now() -> None:
    now = datetime(2026, 11, 22, 14, 0, tzinfo=LONDON)
    got = _by_kind(_plan("ct_scan", CT_3PM, now=now))
    assert got["few_days_before"].send_at == now
    assert got["few_days_before"].note == "sent now: its moment had passed"
    assert set(got) == {"few_days_before", "day_before", "fasting"}


def test_a_late_reminder_waits_for_nobody_in_quiet_hours() -> None:
    now = datetime(2026, 11, 22, 22, 0, tzinfo=LONDON)
    result = _plan("ct_scan", CT_3PM, now=now)
    assert ("ct_scan:few_days_before", "its moment has passed and it is quiet hours now") in (
        result.skipped
    )
    assert all(p.send_at > now for p in result.reminders)


def test_booked_the_same_morning_only_one_reminder_goes() -> None:
    now = datetime(2026, 11, 24, 9, 30, tzinfo=LONDON)
    result = _plan("ct_scan", CT_3PM, now=now)
    assert [(p.kind, _local(p)) for p in result.reminders] == [
        ("ct_scan:fasting", dt.datetime(2026, 11, 24, 10, 0))
    ]
    assert dict(result.skipped) == {
        "ct_scan:few_days_before": "its moment has passed",
        "ct_scan:day_before": "the next reminder goes out within 12 hours",
    }


def test_booked_in_the_evening_for_a_morning_scan_the_fasting_reminder_goes_now() -> None:
    # Its moved moment (8.30pm) has just passed; it is not yet quiet hours.
    now = datetime(2026, 11, 23, 20, 45, tzinfo=LONDON)
    result = _plan("ct_scan", datetime(2026, 11, 24, 9, 30, tzinfo=LONDON), now=now)
    assert [(p.kind, p.send_at) for p in result.reminders] == [("ct_scan:fasting", now)]
    assert dict(result.skipped)["ct_scan:day_before"] == (
        "the next reminder goes out within 12 hours"
    )


def test_booked_during_the_night_before_nothing_goes() -> None:
    now = datetime(2026, 11, 23, 21, 30, tzinfo=LONDON)
    result = _plan("ct_scan", datetime(2026, 11, 24, 9, 30, tzinfo=LONDON), now=now)
    assert result.reminders == []
    assert dict(result.skipped)["ct_scan:fasting"] == (
        "its moment has passed and it is quiet hours now"
    )


@pytest.mark.parametrize("test", TESTS)
def test_nothing_is_planned_for_after_the_appointment(test: str) -> None:
    now = TUE_2PM - timedelta(minutes=30)
    result = _plan(test, TUE_2PM, now=now)
    assert result.reminders == []
    assert {kind for kind, _ in result.skipped} == {
        f"{test}:{t.kind}" for t in CONTENT.tests[test].templates
    }


def test_a_late_reminder_keeps_going_when_the_next_is_more_than_12_hours_off() -> None:
    # Booked at 7pm for a 3pm CT the next day: the day-before text goes now, the fasting
    # one at 10am tomorrow (15 hours later).
    now = datetime(2026, 11, 23, 19, 0, tzinfo=LONDON)
    got = _by_kind(_plan("ct_scan", CT_3PM, now=now))
    assert got["day_before"].send_at == now
    assert _local(got["fasting"]) == dt.datetime(2026, 11, 24, 10, 0)


# --- Clock changes ---------------------------------------------------------------------


def test_spring_forward_day_before_is_6pm_summer_time() -> None:
    got = _by_kind(_plan("bone_scan", datetime(2026, 3, 30, 9, 0, tzinfo=LONDON), now=EARLY))
    assert got["day_before"].send_at == datetime(2026, 3, 29, 17, 0, tzinfo=UTC)  # 6pm BST
    assert got["few_days_before"].send_at == datetime(2026, 3, 27, 10, 0, tzinfo=UTC)  # GMT
    assert "Mon 30 Mar at 9am" in got["day_before"].text


def test_fall_back_day_before_is_6pm_winter_time() -> None:
    got = _by_kind(_plan("mri_scan", datetime(2026, 10, 26, 9, 0, tzinfo=LONDON), now=EARLY))
    assert got["day_before"].send_at == datetime(2026, 10, 25, 18, 0, tzinfo=UTC)  # 6pm GMT
    assert got["few_days_before"].send_at == datetime(2026, 10, 23, 9, 0, tzinfo=UTC)  # BST


def test_fasting_counts_real_hours_across_the_spring_change() -> None:
    # 8am BST on Sun 29 Mar is 7:00 UTC; six real hours before is 1:00 UTC, shown as 2am.
    got = _by_kind(_plan("pet_ct_scan", datetime(2026, 3, 29, 8, 0, tzinfo=LONDON), now=EARLY))
    fasting = got["fasting"]
    assert fasting.expires_at == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert "from 2am on Sun 29 Mar" in fasting.text
    assert fasting.send_at == datetime(2026, 3, 28, 20, 30, tzinfo=UTC)  # 8.30pm GMT


def test_fasting_counts_real_hours_across_the_autumn_change() -> None:
    # 4am GMT on Sun 25 Oct; four real hours before is 0:00 UTC, the first 1am (BST).
    got = _by_kind(_plan("ct_scan", datetime(2026, 10, 25, 4, 0, tzinfo=LONDON), now=EARLY))
    fasting = got["fasting"]
    assert fasting.expires_at == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    assert "from 1am on Sun 25 Oct" in fasting.text
    assert fasting.send_at == datetime(2026, 10, 24, 19, 30, tzinfo=UTC)  # 8.30pm BST


def test_a_skipped_or_repeated_wall_clock_time_reads_as_the_earlier_moment() -> None:
    # 1.30am on 29 Mar 2026 never happens; on 25 Oct 2026 it happens twice.
    assert local_instant(dt.date(2026, 3, 29), time(1, 30), LONDON) == datetime(
        2026, 3, 29, 0, 30, tzinfo=UTC
    )
    assert local_instant(dt.date(2026, 10, 25), time(1, 30), LONDON) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_a_reminder_set_for_a_missing_or_doubled_time_goes_at_the_earlier_moment(
    tmp_path: Path,
) -> None:
    def at_1_30(raw: dict[str, Any]) -> None:
        raw["tests"]["xray"]["reminders"][1]["at"] = {"days_before": 1, "time": "01:30"}

    content = _variant(tmp_path, at_1_30)
    for appt, expected in [
        (datetime(2026, 3, 30, 9, 0, tzinfo=LONDON), datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        (datetime(2026, 10, 26, 9, 0, tzinfo=LONDON), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ]:
        got = _by_kind(_plan("xray", appt, quiet=(time(0), time(0)), content=content, now=EARLY))
        assert got["day_before"].send_at == expected


def test_quiet_hours_are_read_on_the_local_clock_in_summer() -> None:
    # 8.30pm BST is 19:30 UTC: outside quiet hours, though 19:30 UTC + 1 is "20:30".
    assert not in_quiet(datetime(2026, 7, 1, 19, 30, tzinfo=UTC), LONDON, QUIET)
    assert in_quiet(datetime(2026, 7, 1, 20, 30, tzinfo=UTC), LONDON, QUIET)  # 9.30pm BST
    assert in_quiet(datetime(2026, 7, 1, 6, 30, tzinfo=UTC), LONDON, QUIET)  # 7.30am BST
    assert not in_quiet(datetime(2026, 7, 1, 7, 0, tzinfo=UTC), LONDON, QUIET)  # 8am BST


def test_an_appointment_given_in_utc_plans_the_same_as_in_local_time() -> None:
    appt = datetime(2026, 6, 10, 9, 0, tzinfo=LONDON)
    assert _plan("ct_scan", appt, now=EARLY) == _plan("ct_scan", appt.astimezone(UTC), now=EARLY)


# --- Every text fits and is plain ---------------------------------------------------------


@pytest.mark.parametrize("test", TESTS)
def test_with_the_longest_place_and_a_name_every_text_is_gsm7_and_two_segments(
    test: str,
) -> None:
    assert len(CONTENT.sample_place) >= 60
    # 4.30pm on Wed 30 Sep: the widest date, time and fasting time.
    appt = datetime(2026, 9, 30, 16, 30, tzinfo=LONDON)
    result = plan(
        test,
        appt,
        CONTENT.sample_place,
        LONDON,
        name=CONTENT.sample_name,
        now=datetime(2026, 9, 1, tzinfo=LONDON),
    )
    assert len(result.reminders) == len(CONTENT.tests[test].templates)
    for p in result.reminders:
        assert is_gsm7(p.text), p.text
        assert p.encoding == "GSM-7" and p.segments <= 2, (p.kind, len(p.text))
        assert CONTENT.sample_place in p.text
        assert "Hello Mary-Catherine. " in p.text


def test_every_sample_is_in_content_check_without_breaches() -> None:
    checked = [
        e.check(dt.date(2026, 11, 22))
        for e in entries(default_knowledge(), default_rulebook(), default_directory())
    ]
    reminders = {c["source"]: c for c in checked if c["source"].startswith("reminder ")}
    expected = {
        f"reminder {test}:{t.kind}" for test in TESTS for t in CONTENT.tests[test].templates
    } | {  # what a reminder carries for a late booking, sent on its own when it must be
        f"reminder {test}:{t.kind}~carry"
        for test in TESTS for t in CONTENT.tests[test].templates if t.carry
    }
    assert expected <= set(reminders)
    # A reminder carrying an earlier one's words is checked too when it fits in two texts.
    assert all("+" in s or s in expected for s in reminders)
    assert all(not c["breaches"] for c in reminders.values()), [
        (s, c["breaches"]) for s, c in reminders.items() if c["breaches"]
    ]
    assert {src for src, _ in samples()} == set(reminders)


def test_no_place_given_points_to_the_letter() -> None:
    p = _plan("xray", TUE_2PM, location="   ").reminders[0]
    assert "on Tue 24 Nov at 2pm at the place on your letter." in p.text


def test_spreadsheet_punctuation_in_a_place_or_name_becomes_plain() -> None:
    place, name = "St Mary\u2019s \u2013 Wing\u00a0B", "Siobh\u00e1n O\u2019Neill"
    p = _plan("xray", TUE_2PM, location=place, name=name)
    text = p.reminders[0].text
    assert "at St Mary's - Wing B." in text
    assert "Hello Siobhan O'Neill." in text
    assert is_gsm7(text)


def test_times_read_naturally() -> None:
    def time_of(h: int, m: int) -> str:
        text = _plan("xray", datetime(2026, 11, 24, h, m, tzinfo=LONDON)).reminders[0].text
        return text.split(" at ", 1)[1].split(" at ", 1)[0]

    assert time_of(9, 30) == "9.30am"
    assert time_of(14, 0) == "2pm"
    assert time_of(12, 0) == "midday"
    assert time_of(12, 15) == "12.15pm"
    assert time_of(0, 5) == "12.05am"


def test_segments_total_adds_up_every_plan() -> None:
    a, b = _plan("ct_scan", TUE_2PM), _plan("xray", TUE_2PM)
    assert (
        segments_total([a, b])
        == a.segments + b.segments
        == sum(p.segments for p in a.reminders + b.reminders)
    )
    assert segments_total([]) == 0


# --- Privacy -------------------------------------------------------------------------


@pytest.mark.parametrize("test", TESTS)
def test_the_first_line_of_every_reminder_says_nothing_about_cancer(test: str) -> None:
    result = _plan(test, TUE_2PM, location="Day Unit, Freeman Hospital", name="Ann")
    for p in result.reminders:
        assert p.text.split("\n", 1)[0] == "Appointment reminder"
        assert is_private(p.text)
    # The shipped words themselves stay clear of it anywhere in the text.
    for _, text in samples():
        assert is_private(text.replace("\n", " ")), text


@pytest.mark.parametrize(
    ("field", "value"),
    [("location", "Northern Centre for Cancer Care"), ("location", "Oncology Day Unit"),
     ("name", "Breast Clinic patient")],
)
def test_a_place_or_name_that_says_what_it_is_about_is_refused_with_a_way_out(
    field: str, value: str
) -> None:
    kwargs = {"location": "Day Unit", "name": "Ann", field: value}
    with pytest.raises(PlanError) as caught:
        _plan("ct_scan", TUE_2PM, **kwargs)
    said = str(caught.value)
    assert value in said and "Write it without such words" in said
    assert "Freeman Hospital" in said  # an example of a safe way to write it


def test_the_privacy_check_catches_what_a_lock_screen_would_show() -> None:
    for first in (
        "Your oncology appointment",
        "Breast clinic",
        "Chemo tomorrow",
        "Secondary care",
        "Tumour board",
        "Metastatic clinic",
        "CANCER CENTRE",
    ):
        assert not is_private(f"{first}\nmore"), first
    assert is_private("Appointment reminder\nBreast care nurse")


def test_content_with_a_telling_header_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="header"):
        _variant(tmp_path, lambda raw: raw.update(header="Breast clinic reminder"))


def test_content_that_names_cancer_in_a_reminder_does_not_load(tmp_path: Path) -> None:
    def say_it(raw: dict[str, Any]) -> None:
        raw["tests"]["xray"]["reminders"][0]["text"] += " Your cancer team."

    with pytest.raises(ContentError, match="about"):
        _variant(tmp_path, say_it)


def test_no_text_ever_uses_the_opt_out_word(tmp_path: Path) -> None:
    for _, text in samples():
        assert "cancel" not in text.lower()

    with pytest.raises(ContentError, match="cancel"):
        _variant(tmp_path, lambda raw: raw.update(reply="Reply C to confirm or CANCEL."))


def test_content_mistakes_are_caught_at_load(tmp_path: Path) -> None:
    def unquoted(raw: dict[str, Any]) -> None:
        raw["tests"]["xray"]["reminders"][0]["at"] = {"days_before": 3, "time": 600}

    def no_place(raw: dict[str, Any]) -> None:
        raw["tests"]["xray"]["reminders"][0]["text"] = "Your x-ray is on {date} at {time}."

    def fasting_without_hours(raw: dict[str, Any]) -> None:
        raw["tests"]["xray"]["reminders"][0]["until"] = "fasting"

    def missing_test(raw: dict[str, Any]) -> None:
        del raw["tests"]["biopsy"]

    for change, message in [
        (unquoted, "in quotes"),
        (no_place, "must say place"),
        (fasting_without_hours, "fasting"),
        (missing_test, "biopsy"),
    ]:
        with pytest.raises(ContentError, match=message):
            _variant(tmp_path, change)


# --- Refusals --------------------------------------------------------------------------


def test_an_unknown_test_is_refused_with_the_names_to_use() -> None:
    with pytest.raises(PlanError, match="ct_scan, pet_ct_scan"):
        _plan("ct", TUE_2PM)


def test_a_time_without_a_time_zone_is_refused() -> None:
    with pytest.raises(PlanError, match="no time zone"):
        _plan("ct_scan", datetime(2026, 11, 24, 14, 0))
    with pytest.raises(PlanError, match="no time zone"):
        _plan("ct_scan", TUE_2PM, now=datetime(2026, 11, 1, 12, 0))


def test_an_appointment_in_the_past_is_refused() -> None:
    with pytest.raises(PlanError, match="Sun 1 Nov at 11am has already passed"):
        _plan("ct_scan", datetime(2026, 11, 1, 11, 0, tzinfo=LONDON))
    with pytest.raises(PlanError, match="already passed"):
        _plan("ct_scan", NOW)


def test_a_place_too_long_for_two_texts_is_refused_with_how_much_to_cut() -> None:
    long_place = CONTENT.sample_place + ", Main Entrance B, next to the multi-storey car park"
    with pytest.raises(PlanError, match=r"too long.*shorten by at least \d+ characters"):
        _plan("ct_scan", TUE_2PM, location=long_place)


def test_an_emoji_in_the_place_or_name_is_refused() -> None:
    with pytest.raises(PlanError, match="place has characters"):
        _plan("mri_scan", TUE_2PM, location="Freeman Hospital \U0001f3e5")
    with pytest.raises(PlanError, match="name has characters"):
        _plan("mri_scan", TUE_2PM, name="Ann \u2764")
    with pytest.raises(PlanError, match="place has characters"):
        _plan("mri_scan", TUE_2PM, location="\u5317\u4eac Hospital")


def test_plan_errors_are_value_errors_and_plans_are_frozen() -> None:
    assert issubclass(PlanError, ValueError)
    p = _plan("xray", TUE_2PM).reminders[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.text = "changed"  # type: ignore[misc]


# --- Replies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "C",
        "c",
        " C. ",
        "YES",
        "Yes",
        "y",
        "Yes thanks",
        "yes please x",
        "Confirm",
        "confirmed",
        "OK",
        "ok thanks",
        "I'll be there",
        "I\u2019ll be there, thank you",
        "Yes, see you then",
        "Hi yes thank you",
        "C thanks",
        "yes ok",
        "ok thats fine, ill be there",
        "ok great, yes ill come",
        "yes we will both be there",
    ],
)
def test_replies_that_confirm(text: str) -> None:
    assert classify_reply(text) == "confirm"


@pytest.mark.parametrize(
    "text",
    [
        "R",
        "r",
        "REARRANGE",
        "re-arrange",
        "Rearrange please",
        "change",
        "reschedule",
        "Can't make it",
        "Sorry I can\u2019t make it",
        "I cannot come",
        "need to change it",
        "No, I can't make it",
        "Can we rearrange?",
        "different day please",
        # Asked in everyday words: moving it, not coming, another day proposed, with a reason.
        "actually need to move it, got a funeral that day",
        "er yeah um friday would be better",
        "thanks, any day next week is fine",
        "wont be able to come on friday sorry",
        "can we do tuesday instead",
        "I am away on holiday that week, can we change it",
    ],
)
def test_replies_that_ask_to_rearrange(text: str) -> None:
    assert classify_reply(text) == "rearrange"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "STOP",
        "cancel",
        "no",
        "thanks",
        "help",
        "yes r",
        "C R",
        "yes but I have a temperature of 38",
        "I can't make it, my chest hurts and I can't breathe",
        "Can I eat before my CT?",
        "what does the scan involve",
        "change in my breathing",
        "yes I have been sick all night and feel awful",
        "i cant go to the toilet",
        "can i have a cup of tea before",
        "how long will it take anyway",
        "does the time change",
        "later",
        "thursday is fine",
    ],
)
def test_anything_else_goes_to_the_text_line(text: str) -> None:
    assert classify_reply(text) is None


@pytest.mark.parametrize(
    ("local", "quiet", "ends"),
    [
        ("2026-12-01 22:30", ("21:00", "08:00"), "2026-12-02 08:00"),  # before midnight
        ("2026-12-02 03:00", ("21:00", "08:00"), "2026-12-02 08:00"),  # after midnight
        ("2026-12-02 13:15", ("13:00", "14:00"), "2026-12-02 14:00"),  # within one day
        ("2027-03-27 23:00", ("21:00", "08:00"), "2027-03-28 08:00"),  # clocks go forward
    ],
)
def test_quiet_hours_end_at_their_local_end_time(
    local: str, quiet: tuple[str, str], ends: str
) -> None:
    start, end = (time.fromisoformat(q) for q in quiet)
    instant = datetime.fromisoformat(local).replace(tzinfo=LONDON)

    assert after_quiet(instant, LONDON, (start, end)) == datetime.fromisoformat(ends).replace(
        tzinfo=LONDON
    )


# --- A late booking keeps its safety facts ------------------------------------------------


def test_a_late_mri_booking_still_tells_the_patient_about_metal() -> None:
    # Booked the day before: the few-days-before reminder (pacemakers, metal) cannot go.
    tomorrow = NOW + timedelta(days=1)
    result = _plan("mri_scan", tomorrow.replace(hour=14, minute=0), location="MRI Unit")
    assert any(k == "mri_scan:few_days_before" for k, _ in result.skipped)
    words = " ".join(p.text for p in result.reminders)
    assert "pacemaker" in words and "worked with metal" in words
    carrying = [p for p in result.reminders if "few_days_before" in p.kind]
    assert carrying and all(p.segments <= 2 and p.encoding == "GSM-7" for p in result.reminders)
    assert "earlier reminder" in carrying[0].note  # the preview says why it is there


def test_when_the_carried_words_do_not_fit_they_go_as_a_second_text_at_the_same_time() -> None:
    tomorrow = NOW + timedelta(days=1)
    result = _plan("mri_scan", tomorrow.replace(hour=14, minute=0),
                   location="X-ray Dept, Level 2, Queen Elizabeth Hospital, Gateshead NE9 6SX",
                   name="Mary-Catherine")
    kinds = [p.kind for p in result.reminders]
    assert "mri_scan:few_days_before~carry" in kinds
    alone = next(p for p in result.reminders if p.kind.endswith("~carry"))
    day_before = next(p for p in result.reminders if p.kind == "mri_scan:day_before")
    assert alone.send_at == day_before.send_at
    assert "pacemaker" in alone.text and alone.text.startswith("Appointment reminder\n")
    assert all(p.segments <= 2 for p in result.reminders)


def test_a_booking_in_good_time_carries_nothing() -> None:
    result = _plan("mri_scan", NOW + timedelta(days=7), location="MRI Unit")
    assert [p.kind for p in result.reminders] == ["mri_scan:few_days_before", "mri_scan:day_before"]


def test_the_send_job_writes_the_carried_words_from_the_kind() -> None:
    tomorrow = (NOW + timedelta(days=1)).replace(hour=14, minute=0)
    planned = _plan("mri_scan", tomorrow, location="MRI Unit")
    carrying = next(p for p in planned.reminders if "+" in p.kind)
    texts = texts_for("mri_scan", tomorrow, "MRI Unit", LONDON)
    assert texts[carrying.kind.partition(":")[2]] == carrying.text
