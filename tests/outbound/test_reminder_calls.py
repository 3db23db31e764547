"""Reminder calls for patients without a mobile: placed once through a real RQ worker and the
Twilio stand-in, then answered, pressed, left on a machine or unanswered, as Twilio reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from flask import Flask

from bot.outbound import calls, importer, scheduling
from bot.outbound.appointments import Appointment
from bot.outbound.campaigns import create
from bot.outbound.texts import SENDING, STUCK_AFTER, Reminder, claim, sweep_stuck
from bot.store import records
from bot.store.ratelimit import take_slot
from tests.support.base import PUBLIC_BASE_URL, Clock, must
from tests.support.calls import TwilioCall, call_appointment, landline, now, post
from tests.support.reminders import (
    CALLING,
    QUIET,
    fetch,
    job,
    registry,
    run_worker,
    scheduled,
    worker_env,
)
from tests.support.twilio_standin import FROM_NUMBER, TwilioStandin

LONDON = ZoneInfo("Europe/London")
ALL_DAY = "00:00-23:59"  # calling hours that hold whenever the test runs


@pytest.fixture
def line(standin: TwilioStandin, monkeypatch: pytest.MonkeyPatch, redis_url: str,
         make_app: Callable[..., Flask], clock: Clock) -> Flask:
    """The worker calls through the stand-in; the app (on the real clock) takes Twilio's posts."""
    worker_env(monkeypatch, redis_url, **standin.settings(), CALL_HOURS=ALL_DAY,
               CALL_ATTEMPTS="3", CALL_RETRY_MINUTES="30")
    clock.now = now()
    return make_app()


def placed_call(line: Flask, standin: TwilioStandin, n: int = -1) -> TwilioCall:
    req = standin.call_requests[n]
    sid = standin.calls[n]["sid"]
    return TwilioCall(line.test_client(), req.form, sid)


def booked(r: redis.Redis, to: str = "", **kw: str) -> tuple[Appointment, Reminder]:
    return call_appointment(r, to=to or landline(123), at=now() + timedelta(days=2),
                            send_at=now() - timedelta(seconds=1), **kw)


# --- A campaign of mobiles and landlines -------------------------------------------------


def test_a_campaign_texts_the_mobiles_and_calls_the_landlines_each_once(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    day = (now() + timedelta(days=5)).astimezone(LONDON).strftime("%d/%m/%Y")
    csv = ("phone,test,appointment,location\n"
           f"07700 900101,CT,{day} 10:00,Imaging\n"
           f"01632 960101,PET-CT,{day} 11:00,Imaging\n"
           f"07700 900102,MRI,{day} 12:00,Imaging\n"
           f"01632 960102,bone scan,{day} 13:00,Imaging\n")
    checked = importer.check(csv, LONDON, now(), QUIET, calling=CALLING)
    assert checked.ok, checked.errors
    assert [row.channel for row in checked.rows] == ["sms", "call", "sms", "call"]
    campaign = create(r, "Mixed week", checked.rows, now())
    appts = Appointment.fetch_many(r, campaign.appointment_ids(r))
    rems = Reminder.fetch_many(r, [i for a in appts for i in a.reminder_ids])
    for rem in rems:  # the days pass: every reminder comes due now
        rem.send_at = (now() - timedelta(seconds=1)).isoformat()
        r.hset(rem.key, Reminder.field("send_at"), Reminder.stored_value("send_at", rem.send_at))
    scheduling.schedule(r, rems)

    run_worker(r)
    run_worker(r)  # a second run finds nothing more to do

    to_mobiles = [x for x in rems if x.to.startswith("+447700")]
    to_landlines = [x for x in rems if x.to.startswith("+441632")]
    assert to_mobiles and to_landlines
    assert sorted(m["to"] for m in standin.messages) == sorted(x.to for x in to_mobiles)
    assert sorted(c["to"] for c in standin.calls) == sorted(x.to for x in to_landlines)
    assert len(standin.message_requests) == len(to_mobiles)
    assert len(standin.call_requests) == len(to_landlines)
    for req in standin.call_requests:
        assert req.form["From"] == FROM_NUMBER
        assert req.form["MachineDetection"] == "DetectMessageEnd"
        assert req.form["Url"].startswith(f"{PUBLIC_BASE_URL}/reminders/call?r=")
        assert req.form["StatusCallback"].startswith(f"{PUBLIC_BASE_URL}/reminders/call/status?")
    for rem in Reminder.fetch_many(r, [x.id for x in to_landlines]):
        assert (rem.status, rem.channel, rem.attempts) == ("sent", "call", 1)
        assert rem.sid in {c["sid"] for c in standin.calls}
    for rem in Reminder.fetch_many(r, [x.id for x in to_mobiles]):
        assert (rem.status, rem.channel) == ("sent", "")
    assert r.zcard(SENDING) == 0


# --- What the person who answers hears -------------------------------------------------


def test_a_person_confirms_after_saying_they_are_the_patient(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    appt, rem = booked(r, name="Ann")
    run_worker(r)
    call = placed_call(line, standin)

    hello = call.answer("human")
    assert "hospital team" in hello.said and "Ann" in hello.said and "press 1" in hello.said
    for private in ("CT", "scan", "cancer", "breast", "oncology"):
        assert private not in hello.said  # whoever picked up hears nothing clinical
    assert fetch(r, rem).status == "answered"

    details = call.press("1")
    assert "Your CT scan is on" in details.said and "No food or drink for 4 hours" in details.said
    assert "press 1" in details.said and "press 2" in details.said and "press 9" in details.said
    again = call.press("9")
    assert again.said == details.said
    done = call.press("1")
    assert "is confirmed" in done.said and done.tags[-1] == "Hangup"

    assert must(Appointment.fetch(r, appt.id)).status == "confirmed"
    stored = fetch(r, rem)
    assert (stored.status, stored.outcome) == ("answered", "confirmed")
    assert call.ends("completed", duration=48) == 204
    assert fetch(r, rem).status == "answered"
    assert len(standin.call_requests) == 1
    history = records.history(r, rem.to)
    assert any(h.get("event") == "reminder call: confirmed" for h in history)


def test_a_person_who_needs_to_rearrange_goes_to_the_nurses_queue(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    appt, rem = booked(r)
    run_worker(r)
    call = placed_call(line, standin)
    call.answer("human")
    call.press("1")
    done = call.press("2")

    assert "rearrange" in done.said and done.tags[-1] == "Hangup"
    assert must(Appointment.fetch(r, appt.id)).status == "rearrange"
    [request] = records.open_callbacks(r)
    assert request.number == rem.to and "rearrange" in request.reason
    assert fetch(r, rem).outcome == "rearrange"


def test_a_key_pressed_twice_by_a_repeated_request_counts_once(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    _, rem = booked(r)
    run_worker(r)
    call = placed_call(line, standin)
    call.answer("human")
    call.press("1")
    before = call.twiml
    assert before is not None
    call.press("2")
    call.twiml = before
    repeat = call.press("2")  # Twilio asks again about the same key
    assert "rearrange" in repeat.said
    assert len(records.open_callbacks(r)) == 1


def test_an_answering_machine_gets_a_short_message_with_nothing_clinical(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    appt, rem = booked(r, name="Ann")
    run_worker(r)
    call = placed_call(line, standin)

    message = call.answer("machine_end_beep")

    day = appt.at_dt.astimezone(LONDON)
    assert f"{day.day} " in message.said and day.strftime("%A") in message.said
    assert "hospital team" in message.said and "call us on" in message.said
    for private in ("CT", "scan", "food", "Ann", "cancer", "breast"):
        assert private not in message.said
    assert message.tags == ["Say", "Hangup"]
    assert call.ends("completed", answered_by="machine_end_beep", duration=20) == 204
    stored = fetch(r, rem)
    assert (stored.status, stored.outcome) == ("voicemail", "answering machine")
    assert must(Appointment.fetch(r, appt.id)).status == "booked"


def test_silence_after_the_greeting_ends_politely_without_the_details(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    _, rem = booked(r)
    run_worker(r)
    call = placed_call(line, standin)
    call.answer("unknown")
    first = call.press("")
    assert "did not hear" in first.said
    last = call.press("")
    assert last.tags[-1] == "Hangup" and "CT" not in last.said
    assert fetch(r, rem).outcome == "no key pressed"


# --- No answer ---------------------------------------------------------------------------


def make_due(r: redis.Redis, rem: Reminder) -> None:
    """The retry's time has come (the clock moves on 30 minutes): the job is due."""
    due = (now() - timedelta(seconds=1)).isoformat()
    r.hset(rem.key, Reminder.field("send_at"), Reminder.stored_value("send_at", due))
    registry(r).requeue(fetch(r, rem).job_id)  # the retry's own job


def test_no_answer_rings_again_within_calling_hours_then_is_marked_unanswered(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    _, rem = booked(r)
    for attempt, outcome in enumerate(("no-answer", "busy", "no-answer"), 1):
        run_worker(r)
        assert len(standin.call_requests) == attempt
        call = placed_call(line, standin)
        assert f"&a={attempt}" in call.form["Url"]
        before = now()
        assert call.ends(outcome) == 204
        stored = fetch(r, rem)
        if attempt < 3:
            assert stored.status == "scheduled" and stored.attempts == attempt
            again = datetime.fromisoformat(stored.send_at)
            assert timedelta(minutes=29) < again - before < timedelta(minutes=31)
            assert abs((scheduled(r)[stored.job_id] - again).total_seconds()) < 1
            assert stored.job_id == f"reminder-{rem.id}-v1-call{attempt + 1}"
            run_worker(r)  # not yet due: nothing rings
            assert len(standin.call_requests) == attempt
            make_due(r, rem)
    stored = fetch(r, rem)
    assert (stored.status, stored.attempts) == ("unanswered", 3)
    assert "unanswered after 3 attempts" in stored.outcome
    assert "Nobody answered" in stored.error
    assert scheduled(r) == {}
    # A late report about the first attempt changes nothing.
    first = placed_call(line, standin, 0)
    assert first.ends("no-answer") == 204
    assert fetch(r, rem).status == "unanswered"
    run_worker(r)
    assert len(standin.call_requests) == 3


def test_a_no_answer_report_before_the_job_has_finished_rings_again_exactly_once(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    _, rem = booked(r)
    reported: list[int] = []

    def no_answer_at_once(form: dict[str, str], created: dict[str, Any]) -> None:
        # Twilio reports no answer while the job that placed the call is still running.
        assert fetch(r, rem).status == "sending"
        reported.append(TwilioCall(line.test_client(), form, created["sid"]).ends("no-answer"))

    standin.on_call = no_answer_at_once
    run_worker(r)
    standin.on_call = None

    assert reported == [204]
    stored = fetch(r, rem)
    assert (stored.status, stored.attempts) == ("scheduled", 1)
    assert stored.outcome == "no answer; ringing again"
    retry = f"reminder-{rem.id}-v1-call2"
    assert list(scheduled(r)) == [retry]  # the retry survived the first job's end
    assert job(r, stored).id == retry and job(r, stored).args == (rem.id, 1)
    assert placed_call(line, standin).ends("no-answer") == 204  # Twilio says it again
    assert list(scheduled(r)) == [retry] and fetch(r, rem).attempts == 1

    make_due(r, rem)
    run_worker(r)
    run_worker(r)
    assert len(standin.call_requests) == 2  # rang again, exactly once
    assert "&a=2" in placed_call(line, standin).form["Url"]
    assert (fetch(r, rem).status, fetch(r, rem).attempts) == ("sent", 2)


def test_a_retry_takes_a_minute_with_room_within_the_sending_capacity(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    _, rem = booked(r)
    run_worker(r)
    rules = calls.Rules.from_settings({"CALL_HOURS": ALL_DAY, "CALL_RETRY_MINUTES": "30"})
    moment = now()
    due = moment + timedelta(minutes=30)
    full = call_appointment(r, to=landline(7), at=moment + timedelta(days=2), send_at=due)[1]
    status, again = calls.retry_or_give_up(r, fetch(r, rem), 1, "no answer", moment, rules,
                                           per_second=1 / 60)  # one send a minute
    assert status == "scheduled" and again is not None
    assert again.replace(second=0, microsecond=0) == (
        due.replace(second=0, microsecond=0) + timedelta(minutes=1))  # the next minute
    assert abs((scheduled(r)[calls.retry_job_id(rem, 2)] - again).total_seconds()) < 1
    assert fetch(r, rem).send_at_dt == again and fetch(r, full).send_at_dt == due


def test_a_retry_that_would_ring_after_calling_hours_waits_for_them(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    _, rem = booked(r)
    run_worker(r)
    start = (now() + timedelta(hours=2)).astimezone(LONDON)
    rules = calls.Rules.from_settings({"CALL_HOURS": f"{start:%H}:00-{start:%H}:30",
                                       "CALL_RETRY_MINUTES": "30"})
    attempt = fetch(r, rem).attempts
    status, again = calls.retry_or_give_up(r, fetch(r, rem), attempt, "no answer", now(), rules)
    assert status == "scheduled" and again is not None
    assert again.astimezone(LONDON).strftime("%H:%M") == f"{start:%H}:00"


# --- Exactly once ------------------------------------------------------------------------


def test_a_crash_after_claiming_never_places_a_second_call_blind(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    _, rem = booked(r)
    claimed_at = now()
    assert claim(r, fetch(r, rem), claimed_at) == "claimed"  # ... and the worker died here

    run_worker(r)
    assert standin.requests == []
    assert sweep_stuck(r, claimed_at + STUCK_AFTER + timedelta(seconds=1)) == [rem.id]
    assert fetch(r, rem).status == "failed"
    scheduling.send_now(r, rem)
    run_worker(r)
    assert standin.requests == []


def test_a_call_twilio_may_have_placed_is_not_placed_again(
    r: redis.Redis, standin: TwilioStandin, monkeypatch: pytest.MonkeyPatch, redis_url: str,
) -> None:
    worker_env(monkeypatch, redis_url, **standin.settings(TWILIO_TIMEOUT="0.5"),
               CALL_HOURS=ALL_DAY)
    _, rem = booked(r)
    standin.hang_next(1.5)  # Twilio places the call but answers too late
    run_worker(r)
    run_worker(r)

    assert len(standin.call_requests) == 1
    stored = fetch(r, rem)
    assert stored.status == "failed" and "may have been placed" in stored.error


def test_outside_calling_hours_the_call_waits_for_them(
    r: redis.Redis, standin: TwilioStandin, monkeypatch: pytest.MonkeyPatch, redis_url: str,
) -> None:
    start = (now() + timedelta(hours=3)).astimezone(LONDON)
    hours = f"{start:%H}:00-{start:%H}:59"
    worker_env(monkeypatch, redis_url, **standin.settings(), CALL_HOURS=hours)
    _, rem = booked(r)
    run_worker(r)

    assert standin.requests == []
    stored = fetch(r, rem)
    assert stored.status == "scheduled"
    assert datetime.fromisoformat(stored.send_at).astimezone(LONDON).strftime("%H:%M") == (
        f"{start:%H}:00")


def test_status_callbacks_only_move_a_call_forward(
    r: redis.Redis, line: Flask, standin: TwilioStandin
) -> None:
    _, rem = booked(r)
    run_worker(r)
    call = placed_call(line, standin)
    call.answer("human")
    assert fetch(r, rem).status == "answered"
    for late in ("ringing", "no-answer", "busy", "in-progress"):
        assert call.ends(late) == 204
        assert fetch(r, rem).status == "answered"
    assert scheduled(r) == {}
    assert len(standin.call_requests) == 1


def test_a_report_that_beats_the_worker_is_not_undone_by_it(r: redis.Redis) -> None:
    _, rem = call_appointment(r, to=landline(5), at=now() + timedelta(days=2),
                              send_at=now() - timedelta(seconds=1))
    assert claim(r, fetch(r, rem), now()) == "claimed"
    assert calls.outcome(r, rem.id, 1, "unanswered", "no answer") == "unanswered"
    assert calls.placed(r, fetch(r, rem), 1, "CA" + "1" * 32, now()) == "unanswered"
    assert fetch(r, rem).status == "unanswered" and r.zcard(SENDING) == 0


def test_reminder_call_webhooks_refuse_unsigned_requests(
    r: redis.Redis, line: Flask
) -> None:
    client = line.test_client()
    for path in ("/reminders/call?r=x&a=1", "/reminders/call/input?r=x&a=1&t=1",
                 "/reminders/call/status?r=x&a=1"):
        status, _ = post(client, PUBLIC_BASE_URL + path, {"CallSid": "CA1"}, signed=False)
        assert status == 403


def test_a_call_takes_its_slot_in_the_rate_limit_texts_use(
    r: redis.Redis, line: Flask, standin: TwilioStandin, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMS_PER_SECOND", "0.1")  # one send every 10 seconds
    booked(r, to=landline(1))
    run_worker(r)
    assert len(standin.call_requests) == 1

    # A text from the same account now has to wait for the slot after the call's.
    assert take_slot(r, FROM_NUMBER, 0.1) > 5
