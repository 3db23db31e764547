"""The send job reads a reminder and claims it in one round trip, only when it may go now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis

from bot.outbound.appointments import Appointment, Patient
from bot.outbound.texts import SENDING, Reminder, claim, unclaim
from bot.outbound.transport import OutboxTransport, outbox
from bot.store import keys
from tests.support.base import PATIENT
from tests.support.calls import call_appointment, landline
from tests.support.reminders import fetch, make_appointment, make_reminder, utc_now
from workers.send import NotReady, deliver, read_and_claim


@dataclass
class Case:
    """A reminder in some state, and how the send job is run on it."""

    rem: Reminder
    version: int
    now: datetime
    quiet_now: bool = False


def _text(r: redis.Redis, campaign: str = "") -> Reminder:
    return make_reminder(r, to=PATIENT, send_at=utc_now() - timedelta(seconds=1),
                         campaign=campaign, schedule=False)


def _appointment_reminder(r: redis.Redis) -> Reminder:
    now = utc_now()
    _, (rem,) = make_appointment(r, to=PATIENT, at=now + timedelta(days=1),
                                 sends=[now - timedelta(seconds=1)])
    return rem


def stale(r: redis.Redis) -> Case:
    return Case(_text(r), 2, utc_now())  # the job of an earlier version of the reminder


def already_sent(r: redis.Redis) -> Case:
    rem = _text(r)
    r.hset(rem.key, "status", "sent")
    return Case(rem, 1, utc_now())


def opted_out(r: redis.Redis) -> Case:
    rem = _text(r)
    r.hset(keys.OPTOUTS, PATIENT, utc_now().isoformat())
    return Case(rem, 1, utc_now())


def invalid_number(r: redis.Redis) -> Case:
    rem = _text(r)
    r.hset(Patient.key_for(PATIENT), "invalid", "Twilio cannot text this number (error 21614)")
    return Case(rem, 1, utc_now())


def campaign_importing(r: redis.Redis) -> Case:
    r.hset(keys.campaign("c7"), mapping={"id": "c7", "name": "CT list", "status": "importing"})
    return Case(_text(r, campaign="c7"), 1, utc_now())


def campaign_cancelled(r: redis.Redis) -> Case:
    r.hset(keys.campaign("c8"), mapping={"id": "c8", "name": "CT list", "status": "cancelled"})
    return Case(_text(r, campaign="c8"), 1, utc_now())


def appointment_cancelled(r: redis.Redis) -> Case:
    rem = _appointment_reminder(r)
    r.hset(Appointment.key_for(rem.appointment), "status", "cancelled")
    return Case(rem, 1, utc_now())


def appointment_gone(r: redis.Redis) -> Case:
    rem = _appointment_reminder(r)
    r.delete(Appointment.key_for(rem.appointment))
    return Case(rem, 1, utc_now())


def expired(r: redis.Redis) -> Case:
    rem = _text(r)
    return Case(rem, 1, rem.expires_at_dt)


def early(r: redis.Redis) -> Case:
    rem = make_reminder(r, to=PATIENT, send_at=utc_now() + timedelta(hours=2), schedule=False)
    return Case(rem, 1, utc_now())


def a_phone_call(r: redis.Redis) -> Case:
    now = utc_now()
    _, rem = call_appointment(r, to=landline(5), at=now + timedelta(days=2),
                              send_at=now - timedelta(seconds=1))
    return Case(rem, 1, now)


def quiet_hours(r: redis.Redis) -> Case:
    return Case(_appointment_reminder(r), 1, utc_now(), quiet_now=True)


NOT_NOW = [stale, already_sent, opted_out, invalid_number, campaign_importing,
           campaign_cancelled, appointment_cancelled, appointment_gone, expired, early,
           a_phone_call, quiet_hours]


@pytest.mark.parametrize("make", NOT_NOW, ids=lambda f: f.__name__)
def test_a_reminder_that_may_not_go_now_is_read_and_left_as_it_was(
    r: redis.Redis, make: Callable[[redis.Redis], Case]
) -> None:
    case = make(r)
    before = r.hgetall(case.rem.key)

    read = read_and_claim(r, case.rem.id, case.version, case.now, case.quiet_now)

    assert read is not None
    rem, _, claimed = read
    assert not claimed
    assert rem.status == before["status"]
    assert r.hgetall(case.rem.key) == before  # no attempt counted, still (or not) scheduled
    assert r.zscore(SENDING, case.rem.id) is None


@pytest.mark.parametrize("make", [early, quiet_hours, campaign_importing],
                         ids=lambda f: f.__name__)
def test_a_send_put_off_leaves_the_reminder_scheduled_and_untried(
    r: redis.Redis, make: Callable[[redis.Redis], Case]
) -> None:
    case = make(r)
    # Quiet hours from an hour ago to an hour ahead, on UTC's clock, when the case has them.
    quiet = (case.now - timedelta(hours=1)).time(), (case.now + timedelta(hours=1)).time()
    try:
        outcome = deliver(r, case.rem.id, case.version, OutboxTransport(r), case.now,
                          quiet=quiet if case.quiet_now else None, tz=ZoneInfo("UTC"))
    except NotReady:
        outcome = "not ready"

    assert outcome in ("early", "held", "not ready")
    stored = fetch(r, case.rem)
    assert (stored.status, stored.attempts, stored.error) == ("scheduled", 0, "")
    assert r.zscore(SENDING, case.rem.id) is None
    assert outbox(r) == []


@pytest.mark.parametrize("make", [opted_out, invalid_number, campaign_cancelled,
                                  appointment_cancelled, expired], ids=lambda f: f.__name__)
def test_a_reminder_stopped_for_good_is_never_counted_as_tried(
    r: redis.Redis, make: Callable[[redis.Redis], Case]
) -> None:
    case = make(r)

    outcome = deliver(r, case.rem.id, case.version, OutboxTransport(r), case.now)

    stored = fetch(r, case.rem)
    assert stored.status == outcome and outcome in ("opted_out", "failed", "cancelled", "expired")
    assert stored.attempts == 0
    assert r.zscore(SENDING, case.rem.id) is None
    assert outbox(r) == []


def test_a_reminder_that_may_go_is_claimed_as_it_is_read(r: redis.Redis) -> None:
    rem = _appointment_reminder(r)
    now = utc_now()

    read = read_and_claim(r, rem.id, 1, now)

    assert read is not None and read[2]  # claimed
    assert read[0].status == "scheduled"  # as it was read, before the claim
    stored = fetch(r, rem)
    assert (stored.status, stored.attempts) == ("sending", 1)
    assert r.zscore(SENDING, rem.id) == pytest.approx(now.timestamp())
    # A second run of the same job finds it taken, and neither claims nor sends it.
    again = read_and_claim(r, rem.id, 1, now)
    assert again is not None and not again[2]
    assert deliver(r, rem.id, 1, OutboxTransport(r), now) == "sending"
    assert fetch(r, rem).attempts == 1 and outbox(r) == []


def test_quiet_hours_hold_only_appointment_reminders(r: redis.Redis) -> None:
    # A text a nurse sends (no appointment) goes in quiet hours; a reminder waits for them.
    rem = _text(r)
    read = read_and_claim(r, rem.id, 1, utc_now(), quiet_now=True)
    assert read is not None and read[2]


def test_a_record_with_times_written_before_epoch_seconds_is_still_sent_once(
    r: redis.Redis,
) -> None:
    # Records written before times were stored as epoch seconds hold ISO times under the
    # long names: the script leaves those to the send job's own checks and claim.
    rem = _text(r)
    r.hdel(rem.key, Reminder.field("send_at"), Reminder.field("expires_at"))
    r.hset(rem.key, mapping={"send_at": rem.send_at, "expires_at": rem.expires_at})
    read = read_and_claim(r, rem.id, 1, utc_now())
    assert read is not None and not read[2]

    assert deliver(r, rem.id, 1, OutboxTransport(r), utc_now()) == "sent"
    assert deliver(r, rem.id, 1, OutboxTransport(r), utc_now()) == "sent"
    assert len(outbox(r)) == 1 and fetch(r, rem).attempts == 1


def test_a_claim_put_back_leaves_the_reminder_as_it_was(r: redis.Redis) -> None:
    rem = _text(r)
    before = r.hgetall(rem.key)
    assert claim(r, rem, utc_now()) == "claimed"

    unclaim(r, rem)

    assert r.hgetall(rem.key) == before
    assert r.zscore(SENDING, rem.id) is None
    assert deliver(r, rem.id, 1, OutboxTransport(r), utc_now()) == "sent"
    assert fetch(r, rem).attempts == 1
