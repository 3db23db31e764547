"""A reminder by phone call, as pure words and keys: privacy until the person presses 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import phones
from flows import reminder_call as rc
from flows.engine import Context
from flows.reminders import DEFAULT_QUIET, default_content, plan

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # Wednesday 25 November, 9:30am


def ctx() -> Context:
    return Context.default(NOW, LONDON)


def about(test: str = "ct_scan", kind: str = "day_before", name: str = "") -> rc.Reminder:
    return rc.Reminder("a1", test, AT, "Imaging, Level 2", f"{test}:{kind}", name=name,
                       number="0191 445 3735")


@pytest.mark.parametrize("test", list(default_content().tests))
def test_nothing_private_is_said_before_the_person_presses_1(test: str) -> None:
    for template in default_content().tests[test].templates:
        rem = about(test, template.kind, name="Mary-Catherine")
        assert rc.private_until_confirmed(rem, ctx()), (test, template.kind)
        assert rc.answer(rem, "human", ctx()).say == rc.greeting(rem)
        spoken = " ".join(rc.details(rem, ctx()))
        assert "Wednesday 25 November at 9:30am" in spoken


def test_the_machine_hears_the_day_and_number_only() -> None:
    step = rc.answer(about(name="Ann"), "machine_end_beep", ctx())
    assert not step.listen and step.outcome == "answering machine"
    [said] = step.say
    assert said == ("Hello, this is a message from your hospital team about your appointment "
                    "on Wednesday 25 November. Please call us on 0191 445 3735. Thank you. "
                    "Goodbye.")


def test_keys_confirm_rearrange_and_repeat() -> None:
    rem = about()
    details = rc.press(rc.State(), "1", rem, ctx())
    assert details.state.stage == "details" and details.listen
    assert rc.press(details.state, "9", rem, ctx()).say == details.say
    confirm = rc.press(details.state, "1", rem, ctx())
    assert [a.kind for a in confirm.actions] == ["confirm"] and not confirm.listen
    rearrange = rc.press(details.state, "2", rem, ctx())
    assert [a.kind for a in rearrange.actions] == ["rearrange", "callback"]
    assert "Wed 25 Nov at 9.30am" in rearrange.actions[1].data["reason"]
    wrong = rc.press(details.state, "7", rem, ctx())
    assert wrong.say[0] == "Sorry, that is not one of the choices." and wrong.listen


def test_a_wrong_key_at_the_greeting_never_reads_the_reminder() -> None:
    step = rc.press(rc.State(), "2", about(), ctx())
    assert step.state.stage == "identity" and "CT" not in " ".join(step.say)


def test_two_calls_within_12_hours_become_one() -> None:
    # A CT at 10am: the day-before call (18:00) and the fasting one (moved before 19:00).
    at = datetime(2026, 11, 30, 10, tzinfo=UTC)
    planned = plan("ct_scan", at, "Imaging", LONDON, quiet=(DEFAULT_QUIET[0], DEFAULT_QUIET[1]),
                   now=NOW)
    spaced = rc.spaced(planned)
    sends = sorted(p.send_at for p in spaced.reminders)
    assert all(b - a >= timedelta(hours=12) for a, b in zip(sends, sends[1:], strict=False))
    assert len(spaced.reminders) < len(planned.reminders)
    assert any("soon after" in why for _, why in spaced.skipped)


def test_estimate_counts_whole_minutes() -> None:
    assert rc.estimate(["word"] * 10, 0.02) == (1, 0.02)
    assert rc.estimate(["one two"] * 100, 0.02) == (2, 0.04)


@pytest.mark.parametrize(("raw", "channel"), [
    ("07700 900123", "sms"), ("01632 960123", "call"), ("+441632960999", "call"),
    ("0191 445 3735", "call"), ("0800 800 0000", ""),
])
def test_mobiles_get_texts_and_landlines_get_calls(raw: str, channel: str) -> None:
    number, found, why = phones.reachable(raw)
    assert found == channel
    assert (number is None) == (channel == "")
    assert bool(why) == (channel == "")
