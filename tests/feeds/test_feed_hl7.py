"""The HL7 feed: SIU messages over a real MLLP socket end as reminders planned, moved or stopped."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import redis

from bot import config
from bot.feeds import bookings, messages, replay
from bot.outbound import appointments, calls, importer
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.dialler import LocalDialler, ringing
from bot.outbound.texts import Reminder, advance
from bot.outbound.transport import OutboxTransport, outbox
from tests.support.base import MONDAY_10AM, PATIENT, Clock, must
from tests.support.feed import (
    CODES,
    LONDON,
    RunningListener,
    ack_of,
    code,
    feed_settings,
    siu,
)
from tests.support.reminders import CALLING, QUIET, scheduled
from workers import call
from workers.send import deliver

WEDNESDAY_930 = datetime(2026, 12, 2, 9, 30, tzinfo=LONDON)  # a week and two days ahead
FRIDAY_1415 = datetime(2026, 12, 4, 14, 15, tzinfo=LONDON)


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> dict[str, str]:
    return feed_settings(redis_url, tmp_path / "instance")


@pytest.fixture
def listener(r: redis.Redis, settings: dict[str, str], clock: Clock) -> Iterator[RunningListener]:
    running = RunningListener(r, settings, clock).start()
    yield running
    running.stop()


def send(listener: RunningListener, *msgs: object) -> list[str]:
    """Send messages on one connection with python-hl7's client; each ACK code."""
    codes = []
    with listener.client() as c:
        for m in msgs:
            codes.append(code(ack_of(c.send_message(m))))
    return codes


def the_appointment(r: redis.Redis, hospital_id: str) -> Appointment:
    known = bookings.tracked(r, "hl7", hospital_id)
    found = Appointment.fetch(r, known["appointment"])
    assert found is not None
    return found


def current(r: redis.Redis, appt: Appointment) -> list[Reminder]:
    fresh = Appointment.fetch(r, appt.id)
    assert fresh is not None
    return Reminder.fetch_many(r, fresh.reminder_ids)


def every_reminder(r: redis.Redis, appt: Appointment) -> list[Reminder]:
    ids = [str(k).removeprefix("reminder:") for k in r.scan_iter(f"reminder:{appt.id}-*")]
    return Reminder.fetch_many(r, ids)


def test_a_booking_plans_the_same_reminders_as_a_csv_row_and_remembers_its_source(
    r: redis.Redis, listener: RunningListener
) -> None:
    booking = siu("S12", "MSG0001", "APT1001", start=WEDNESDAY_930, made=MONDAY_10AM)
    assert send(listener, booking) == ["AA"]

    appt = the_appointment(r, "APT1001")
    assert (appt.patient, appt.test, appt.source) == (PATIENT, "ct_scan", "hl7")
    assert appt.at_dt == WEDNESDAY_930
    assert appt.location == "CT, Imaging Department, Level 2, Freeman Hospital"
    kept = messages.find(r, appt.source_ref)
    assert kept is not None and kept.control_id == "MSG0001" and kept.status == "applied"

    # The same appointment typed into a campaign file gets the very same plan.
    csv = ("phone,test,appointment,location\n"
           f'{PATIENT},CT,{WEDNESDAY_930:%d/%m/%Y %H:%M},"{appt.location}"\n')
    row = importer.check(csv, LONDON, MONDAY_10AM, QUIET, calling=CALLING).rows[0]
    mine = current(r, appt)
    assert [(x.kind, x.send_at_dt) for x in mine] == [
        (p.kind, p.send_at) for p in row.plan.reminders]
    assert {x.job_id for x in mine} <= set(scheduled(r))
    words = [appointments.text_of(r, x, LONDON) for x in mine]
    assert words == [p.text for p in row.plan.reminders]
    assert all("cancer" not in w.split("\n")[0].lower() for w in words)


def test_a_move_keeps_sent_reminders_and_replans_the_rest(
    r: redis.Redis, listener: RunningListener
) -> None:
    send(listener, siu("S12", "MSG0002", "APT1002", start=WEDNESDAY_930, made=MONDAY_10AM))
    appt = the_appointment(r, "APT1002")
    first, *rest = current(r, appt)
    advance(r, first.id, "sent")  # the few-days-before text has gone

    moved = siu("S13", "MSG0003", "APT1002", start=FRIDAY_1415,
                made=MONDAY_10AM + timedelta(minutes=5))
    assert send(listener, moved) == ["AA"]

    again = the_appointment(r, "APT1002")
    assert again.id == appt.id and again.at_dt == FRIDAY_1415 and again.version == 2
    old = {x.id: x for x in Reminder.fetch_many(r, [first.id] + [x.id for x in rest])}
    assert old[first.id].status == "sent"
    assert all(old[x.id].status == "cancelled" for x in rest)
    jobs = scheduled(r)
    assert not any(x.job_id in jobs for x in rest)
    new = current(r, again)
    assert new and all(x.status == "scheduled" and x.job_id in jobs for x in new)
    assert all("Fri 4 Dec" in appointments.text_of(r, x, LONDON) for x in new)


def test_a_late_booking_moved_keeps_its_safety_words(
    r: redis.Redis, listener: RunningListener
) -> None:
    tomorrow = datetime(2026, 11, 24, 14, 0, tzinfo=LONDON)
    booking = siu("S12", "MSG0004", "APT1004", start=tomorrow, made=MONDAY_10AM,
                  procedure="RMRSPINE")
    assert send(listener, booking) == ["AA"]
    words = [appointments.text_of(r, x, LONDON) for x in current(r, the_appointment(r, "APT1004"))]
    # The few-days-before text is too late; its pacemaker question goes with the next one.
    assert any("pacemaker" in w for w in words)

    moved = siu("S14", "MSG0005", "APT1004", start=tomorrow + timedelta(hours=2),
                made=MONDAY_10AM + timedelta(minutes=1), procedure="RMRSPINE")
    assert send(listener, moved) == ["AA"]
    words = [appointments.text_of(r, x, LONDON) for x in current(r, the_appointment(r, "APT1004"))]
    assert any("pacemaker" in w for w in words)
    assert all("4pm" in w for w in words if "MRI scan is on" in w)


def test_a_cancellation_stops_every_pending_reminder_and_texts_nobody(
    r: redis.Redis, listener: RunningListener
) -> None:
    send(listener, siu("S12", "MSG0006", "APT1006", start=WEDNESDAY_930, made=MONDAY_10AM))
    appt = the_appointment(r, "APT1006")
    pending = current(r, appt)
    cancel = siu("S15", "MSG0007", "APT1006", start=WEDNESDAY_930,
                 made=MONDAY_10AM + timedelta(hours=1), status="Cancelled")
    assert send(listener, cancel) == ["AA"]

    assert the_appointment(r, "APT1006").status == "cancelled"
    assert {x.status for x in Reminder.fetch_many(r, [x.id for x in pending])} == {"cancelled"}
    assert not scheduled(r)
    assert outbox(r) == []
    everything = [str(k).removeprefix("reminder:") for k in r.scan_iter("reminder:*")]
    assert all(x.appointment == appt.id for x in Reminder.fetch_many(r, everything))


def test_a_cancellation_texts_the_patient_only_when_the_team_chose_words(
    r: redis.Redis, redis_url: str, tmp_path: Path, clock: Clock
) -> None:
    words = "Message from your hospital\\nYour appointment on {date} at {time} is not going " \
            "ahead. We will be in touch with a new date."
    chosen = RunningListener(r, feed_settings(redis_url, tmp_path / "i2",
                                              FEED_CANCEL_TEXT=words), clock).start()
    try:
        send(chosen, siu("S12", "MSG0008", "APT1008", start=WEDNESDAY_930, made=MONDAY_10AM),
             siu("S15", "MSG0009", "APT1008", start=WEDNESDAY_930,
                 made=MONDAY_10AM + timedelta(hours=1)))
    finally:
        chosen.stop()
    appt = the_appointment(r, "APT1008")
    notices = [x for x in Reminder.fetch_many(r, [str(k).removeprefix("reminder:")
                                                  for k in r.scan_iter("reminder:*")])
               if x.kind == "feed:cancelled"]
    assert len(notices) == 1 and notices[0].to == appt.patient
    assert notices[0].body.startswith("Message from your hospital\n")
    assert "Wed 2 Dec" in notices[0].body and notices[0].job_id in scheduled(r)


def test_did_not_attend_is_recorded(r: redis.Redis, listener: RunningListener,
                                    clock: Clock) -> None:
    soon = datetime(2026, 11, 24, 11, 0, tzinfo=LONDON)
    send(listener, siu("S12", "MSG0010", "APT1010", start=soon, made=MONDAY_10AM))
    clock.now = soon.astimezone(UTC) + timedelta(hours=2)
    dna = siu("S26", "MSG0011", "APT1010", start=soon, made=clock.now, status="Noshow")
    assert send(listener, dna) == ["AA"]
    appt = the_appointment(r, "APT1010")
    assert appt.status == "did_not_attend"
    assert all(x.status not in ("scheduled", "sending") for x in current(r, appt))


def test_a_resent_message_is_acknowledged_and_applied_once(
    r: redis.Redis, listener: RunningListener
) -> None:
    booking = siu("S12", "MSG0012", "APT1012", start=WEDNESDAY_930, made=MONDAY_10AM)
    assert send(listener, booking, booking, booking) == ["AA", "AA", "AA"]
    assert len(r.lrange("campaign:feed:appointments", 0, -1)) == 1
    assert messages.counts(r).get("duplicate") == 2
    assert len(every_reminder(r, the_appointment(r, "APT1012"))) == len(
        current(r, the_appointment(r, "APT1012")))


def test_a_cancel_before_its_booking_means_the_booking_never_plans_anything(
    r: redis.Redis, listener: RunningListener
) -> None:
    cancel = siu("S15", "MSG0014", "APT1014", start=WEDNESDAY_930,
                 made=MONDAY_10AM + timedelta(hours=1))
    booking = siu("S12", "MSG0013", "APT1014", start=WEDNESDAY_930, made=MONDAY_10AM)
    later_move = siu("S13", "MSG0015", "APT1014", start=FRIDAY_1415,
                     made=MONDAY_10AM + timedelta(hours=2))
    assert send(listener, cancel, booking, later_move) == ["AA", "AA", "AA"]
    assert r.llen("campaign:feed:appointments") == 0
    assert not scheduled(r)
    notes = [m.note for m in messages.recent(r)]
    assert sum("never brought back" in n for n in notes) == 2


def test_an_older_update_arriving_after_a_newer_one_is_ignored(
    r: redis.Redis, listener: RunningListener
) -> None:
    send(listener, siu("S12", "MSG0016", "APT1016", start=WEDNESDAY_930, made=MONDAY_10AM))
    newer = siu("S13", "MSG0018", "APT1016", start=FRIDAY_1415,
                made=MONDAY_10AM + timedelta(minutes=30))
    older = siu("S13", "MSG0017", "APT1016", start=WEDNESDAY_930 + timedelta(hours=1),
                made=MONDAY_10AM + timedelta(minutes=10))
    assert send(listener, newer, older) == ["AA", "AA"]
    appt = the_appointment(r, "APT1016")
    assert appt.at_dt == FRIDAY_1415 and appt.version == 2
    ignored = [m for m in messages.recent(r) if m.control_id == "MSG0017"][0]
    assert ignored.status == "ignored" and "newer message" in ignored.note


def test_a_bad_field_gets_AE_with_a_reason_and_is_kept(
    r: redis.Redis, listener: RunningListener
) -> None:
    no_time = siu("S12", "MSG0019", "APT1019", start=None, made=MONDAY_10AM)
    with listener.client() as c:
        ack = ack_of(c.send_message(no_time))
    assert code(ack) == "AE"
    assert str(ack["MSA.F2"]) == "MSG0019"
    assert "appointment start" in str(ack["MSA.F3"])
    assert "SCH-11.4" in str(ack["ERR.F8"])
    assert str(ack["ERR.F3.R1.C1"]) == "101"  # HL7 table 0357: required field missing
    kept = messages.recent(r, problems=True)
    assert [(m.control_id, m.status, m.ack) for m in kept] == [("MSG0019", "failed", "AE")]
    assert "SCH-11.4" in kept[0].error


def test_a_date_that_is_not_one_gets_AE_data_type_error(
    r: redis.Redis, listener: RunningListener
) -> None:
    bad = siu("S12", "MSG0025", "APT1025", start=WEDNESDAY_930, made=MONDAY_10AM)
    bad["SCH.F11.R1.C4"] = "2026133109300"  # month 13
    with listener.client() as c:
        ack = ack_of(c.send_message(bad))
    assert code(ack) == "AE"
    assert str(ack["ERR.F3.R1.C1"]) == "102"  # data type error
    assert "2026133109300" in str(ack["ERR.F8"])
    assert r.llen("campaign:feed:appointments") == 0


def test_a_place_that_gives_the_test_away_is_refused_with_AE(
    r: redis.Redis, redis_url: str, tmp_path: Path, clock: Clock
) -> None:
    settings = feed_settings(redis_url, tmp_path / "i3")
    codes = Path(settings["INSTANCE_PATH"]) / "feed-codes.yaml"
    codes.write_text(CODES + "  ONC-DAY:\n    test: ct_scan\n    place: Breast Clinic\n")
    with pytest.raises(bookings.FeedError, match="Breast"):
        bookings.from_settings(settings)


def test_messages_it_cannot_process_get_AR_and_are_kept(
    r: redis.Redis, listener: RunningListener
) -> None:
    adt = siu("S12", "MSG0020", "APT1020", start=WEDNESDAY_930, made=MONDAY_10AM)
    adt["MSH.F9.R1.C1"] = "ADT"
    adt["MSH.F9.R1.C2"] = "A01"
    unknown = siu("S99", "MSG0021", "APT1021", start=WEDNESDAY_930, made=MONDAY_10AM)
    with listener.client() as c:
        replies = [ack_of(c.send_message(adt)), ack_of(c.send_message(unknown)),
                   ack_of(c.send_message("this is not HL7 at all"))]
    assert [code(a) for a in replies] == ["AR", "AR", "AR"]
    assert "Only SIU" in str(replies[0]["MSA.F3"])
    assert "S99" in str(replies[1]["ERR.F8"])
    assert "not an HL7" in str(replies[2]["MSA.F3"])
    assert len(messages.recent(r, problems=True)) == 3


def test_no_phone_we_can_reach_means_no_reminders_and_says_so(
    r: redis.Redis, listener: RunningListener
) -> None:
    no_number = siu("S12", "MSG0022", "APT1022", start=WEDNESDAY_930, made=MONDAY_10AM,
                    mobile=None, home=None)
    assert send(listener, no_number) == ["AA"]
    assert r.llen("campaign:feed:appointments") == 0
    kept = messages.recent(r)[0]
    assert "No phone we can reach" in kept.note and "landline" in kept.note
    assert r.sismember(bookings.NO_MOBILE, "hl7:APT1022")


CALL_HOURS = "14:00-15:30"  # narrower than the default, so only the setting can explain it


def _within_calling_hours(reminders: list[Reminder]) -> bool:
    return all(time(14) <= x.send_at_dt.astimezone(LONDON).time() <= time(15, 30)
               for x in reminders)


@pytest.mark.parametrize(("home", "work", "number"), [
    ("01632 960444", None, "+441632960444"),  # PID-13's home landline
    (None, "01632 960555", "+441632960555"),  # PID-14's business landline, the only one
])
def test_a_landline_only_booking_gets_calls_within_calling_hours_as_an_imported_landline(
    r: redis.Redis, redis_url: str, tmp_path: Path, clock: Clock, home: str | None,
    work: str | None, number: str,
) -> None:
    settings = feed_settings(redis_url, tmp_path / "instance", CALL_HOURS=CALL_HOURS)
    running = RunningListener(r, settings, clock).start()
    try:
        booking = siu("S12", "MSG0023", "APT1023", start=WEDNESDAY_930, made=MONDAY_10AM,
                      mobile=None, home=home, work=work)
        assert send(running, booking) == ["AA"]
        appt = the_appointment(r, "APT1023")
        assert appt.patient == number
        assert must(Patient.fetch(r, number)).channel == "call"
        assert not r.sismember(bookings.NO_MOBILE, "hl7:APT1023")
        mine = current(r, appt)
        # The same plan a campaign file's landline gets with the same calling hours.
        csv = ("phone,test,appointment,location\n"
               f'{number},CT,{WEDNESDAY_930:%d/%m/%Y %H:%M},"{appt.location}"\n')
        calling = config.calling({"CALL_HOURS": CALL_HOURS})
        row = importer.check(csv, LONDON, MONDAY_10AM, QUIET, calling=calling).rows[0]
        assert row.channel == "call"
        assert [(x.kind, x.send_at_dt) for x in mine] == [
            (p.kind, p.send_at) for p in row.plan.reminders]
        assert mine and _within_calling_hours(mine)
        assert {x.job_id for x in mine} <= set(scheduled(r))

        # A move replans the calls within calling hours too.
        moved = siu("S13", "MSG0024", "APT1023", start=FRIDAY_1415,
                    made=MONDAY_10AM + timedelta(minutes=5), mobile=None, home=home, work=work)
        assert send(running, moved) == ["AA"]
        again = current(r, the_appointment(r, "APT1023"))
        assert again and _within_calling_hours(again)
    finally:
        running.stop()

    # When one comes due, the worker rings the landline (here the simulator's phone).
    first = again[0]
    at = first.send_at_dt + timedelta(seconds=1)
    caller = call.Caller(LocalDialler(r), calls.Rules.from_settings(settings), "")
    assert deliver(r, first.id, first.version, OutboxTransport(r), at, caller=caller) == "sent"
    assert [c["to"] for c in ringing(r)] == [number]
    assert outbox(r) == []
    assert must(Reminder.fetch(r, first.id)).channel == "call"


def test_an_unmapped_clinic_is_counted_not_guessed_and_can_be_replayed_after_mapping(
    r: redis.Redis, listener: RunningListener, settings: dict[str, str], clock: Clock
) -> None:
    other = siu("S12", "MSG0023", "APT1023", start=WEDNESDAY_930, made=MONDAY_10AM,
                procedure="USABDO", clinic="US-GEN")
    assert send(listener, other) == ["AA"]
    assert r.llen("campaign:feed:appointments") == 0
    assert messages.unmapped(r) == [("procedure USABDO / clinic US-GEN", 1)]
    kept = messages.recent(r, problems=True)[0]
    assert kept.status == "ignored" and kept.replayable

    codes = Path(settings["INSTANCE_PATH"]) / "feed-codes.yaml"
    codes.write_text(CODES.replace("procedures:\n", "procedures:\n  USABDO: liver_ultrasound\n"))
    done = replay.replay(r, bookings.current(settings), kept, clock())
    assert done.status == "applied"
    appt = the_appointment(r, "APT1023")
    assert appt.test == "liver_ultrasound" and appt.location == ""
    assert messages.recent(r, problems=True) == []


def test_nothing_is_accepted_that_could_not_be_stored(
    settings: dict[str, str], clock: Clock
) -> None:
    with socket.socket() as s:  # a port with nothing behind it
        s.bind(("127.0.0.1", 0))
        dead = redis.Redis(port=s.getsockname()[1], socket_connect_timeout=0.2,
                           decode_responses=True)
    running = RunningListener(dead, settings, clock).start()
    try:
        with running.client() as c:
            ack = ack_of(c.send_message(
                siu("S12", "MSG0024", "APT1024", start=WEDNESDAY_930, made=MONDAY_10AM)))
    finally:
        running.stop()
    assert code(ack) == "AR"
    assert "could not be stored" in str(ack["MSA.F3"])



def test_the_shipped_example_codes_file_is_one_the_feed_accepts(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "feed-codes.example.yaml"
    codes = bookings.from_settings({"FEED_CODES": str(example), "INSTANCE_PATH": str(tmp_path)})
    assert codes.codes.procedures["NMPETCT"] == "pet_ct_scan"
    assert codes.codes.clinics["NM-MAIN"].test == "bone_scan"


def test_feed_send_replays_a_file_at_a_listener_and_reports_each_ack(
    r: redis.Redis, listener: RunningListener, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from bot.cli.main import main

    lines = [siu("S12", "MSG0030", "APT1030", start=WEDNESDAY_930, made=MONDAY_10AM),
             siu("S13", "MSG0031", "APT1030", start=FRIDAY_1415,
                 made=MONDAY_10AM + timedelta(minutes=3)),
             siu("S13", "MSG0032", "APT1030", start=None, made=MONDAY_10AM + timedelta(hours=1))]
    # As an engineer saves them: one segment per line, a blank line between messages.
    path = tmp_path / "siu.hl7"
    path.write_text("\n\n".join(str(m).replace("\r", "\n") for m in lines) + "\n")
    result = CliRunner().invoke(main, ["feed", "send", str(path), "--port", str(listener.port)])
    assert result.exit_code == 1, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(row[1], row[2]) for row in rows] == [
        ("MSG0030", "AA"), ("MSG0031", "AA"), ("MSG0032", "AE")]
    assert "SCH-11.4" in rows[2][3]
    assert "1 message not accepted" in result.stderr
    assert the_appointment(r, "APT1030").at_dt == FRIDAY_1415


def test_an_appointment_a_nurse_cancelled_is_not_brought_back_by_a_later_move(
    r: redis.Redis, listener: RunningListener
) -> None:
    send(listener, siu("S12", "MSG0040", "APT1040", start=WEDNESDAY_930, made=MONDAY_10AM))
    appointments.cancel(r, the_appointment(r, "APT1040"))  # as the console's Cancel does
    moved = siu("S13", "MSG0041", "APT1040", start=FRIDAY_1415,
                made=MONDAY_10AM + timedelta(hours=1))
    assert send(listener, moved) == ["AA"]
    assert r.llen("campaign:feed:appointments") == 1
    assert the_appointment(r, "APT1040").status == "cancelled"
    assert not scheduled(r)


def test_a_message_resent_after_its_final_write_failed_books_the_patient_once(
    r: redis.Redis, listener: RunningListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_finish = messages.finish
    failures: list[str] = []

    def redis_times_out_once(rr: redis.Redis, msg: messages.FeedMessage, status: str,
                             pipeline: object = None, **fields: object) -> object:
        # The fault: Redis times out on the write of the message's outcome.
        if pipeline is not None and not failures:
            failures.append(msg.control_id)
            raise redis.TimeoutError("Timeout writing to socket")
        return real_finish(rr, msg, status, pipeline, **fields)

    monkeypatch.setattr(messages, "finish", redis_times_out_once)
    booking = siu("S12", "MSG0050", "APT1050", start=WEDNESDAY_930, made=MONDAY_10AM)
    assert send(listener, booking) == ["AR"]  # not stored: the engine sends it again
    assert send(listener, booking) == ["AA"]

    assert failures == ["MSG0050"]
    assert r.llen("campaign:feed:appointments") == 1
    appt = the_appointment(r, "APT1050")
    everything = Reminder.fetch_many(r, [str(k).removeprefix("reminder:")
                                         for k in r.scan_iter("reminder:*")])
    to_patient = [x for x in everything if x.to == PATIENT and x.status == "scheduled"]
    assert len(to_patient) == len(current(r, appt)) == 3  # three reminders, not six
    assert len(scheduled(r)) == 3


@pytest.mark.parametrize("dropped_by", ["no phone", "unmapped procedure"])
def test_an_update_that_stopped_the_reminders_can_be_corrected_by_a_later_one(
    r: redis.Redis, listener: RunningListener, dropped_by: str
) -> None:
    book = siu("S12", "MSG0060", "APT1060", start=WEDNESDAY_930, made=MONDAY_10AM)
    if dropped_by == "no phone":
        drop = siu("S14", "MSG0061", "APT1060", start=WEDNESDAY_930,
                   made=MONDAY_10AM + timedelta(minutes=5), mobile=None, home=None)
    else:
        drop = siu("S14", "MSG0061", "APT1060", start=WEDNESDAY_930,
                   made=MONDAY_10AM + timedelta(minutes=5), procedure="USABDO", clinic="US-GEN")
    fixed = siu("S14", "MSG0062", "APT1060", start=FRIDAY_1415,
                made=MONDAY_10AM + timedelta(minutes=10))
    assert send(listener, book, drop) == ["AA", "AA"]
    assert not scheduled(r)  # the update stopped the reminders

    assert send(listener, fixed) == ["AA"]
    corrected = [m for m in messages.recent(r) if m.control_id == "MSG0062"][0]
    assert corrected.status == "applied", corrected.note
    appt = the_appointment(r, "APT1060")
    assert appt.status == "booked" and appt.at_dt == FRIDAY_1415 and appt.patient == PATIENT
    reminders = current(r, appt)
    assert len(reminders) == 3 and {x.job_id for x in reminders} == set(scheduled(r))
    assert all("Fri 4 Dec" in appointments.text_of(r, x, LONDON) for x in reminders)


def test_a_move_made_in_the_same_second_as_the_booking_is_applied(
    r: redis.Redis, listener: RunningListener
) -> None:
    # The PAS stamps MSH-7 to the second: a booking and its move often share it.
    book = siu("S12", "MSG0070", "APT1070", start=WEDNESDAY_930, made=MONDAY_10AM)
    move = siu("S13", "MSG0071", "APT1070", start=FRIDAY_1415, made=MONDAY_10AM)
    assert send(listener, book, move) == ["AA", "AA"]
    appt = the_appointment(r, "APT1070")
    assert appt.at_dt == FRIDAY_1415
    reminders = current(r, appt)
    assert len(reminders) == 3 and {x.job_id for x in reminders} == set(scheduled(r))
    assert all("Fri 4 Dec" in appointments.text_of(r, x, LONDON) for x in reminders)


def _one_ack(s: socket.socket) -> bytes:
    """Read one MLLP answer off the socket."""
    reply = b""
    while not reply.endswith(b"\x1c\r"):
        chunk = s.recv(65536)
        assert chunk, "the listener hung up"
        reply += chunk
    return reply


def test_an_oversized_message_gets_one_AR_and_the_next_message_its_own_AA(
    r: redis.Redis, listener: RunningListener
) -> None:
    big = (b"\x0bMSH|^~\\&|PAS|RTD|SUPPORTLINE|BCN|20261123100000||SIU^S12|BIG|P|2.5\r"
           + b"NTE|1||" + b"x" * (3 << 20) + b"\x1c\r")
    booking = siu("S12", "MSG0080", "APT1080", start=WEDNESDAY_930, made=MONDAY_10AM)
    with socket.create_connection(("127.0.0.1", listener.port)) as s:
        s.settimeout(10)
        s.sendall(big)
        refused = ack_of(_one_ack(s))
        # As an engine does: the next message once the last one is answered.
        s.sendall(b"\x0b" + str(booking).encode() + b"\x1c\r")
        accepted = ack_of(_one_ack(s))
        s.settimeout(0.5)
        with pytest.raises(TimeoutError):
            s.recv(65536)  # nothing more: one answer a message
    assert code(refused) == "AR" and "over 1048576 bytes" in str(refused["MSA.F3"])
    assert (code(accepted), str(accepted["MSA.F2"])) == ("AA", "MSG0080")
    assert the_appointment(r, "APT1080").at_dt == WEDNESDAY_930


def test_a_time_without_offset_in_the_hour_the_clocks_go_back_gets_AE_not_a_guess(
    r: redis.Redis, listener: RunningListener
) -> None:
    # Sunday 25 October 2026: 01:00-02:00 London time happens twice. The booking is made in
    # the first 01:50 (BST); the move 20 minutes later, at the second 01:10 (GMT).
    book = siu("S12", "MSG0090", "APT1090", start=WEDNESDAY_930,
               made=datetime(2026, 10, 25, 0, 50, tzinfo=UTC))
    move = siu("S13", "MSG0091", "APT1090", start=FRIDAY_1415,
               made=datetime(2026, 10, 25, 1, 10))  # no offset, as many a PAS sends it
    with listener.client() as c:
        acks = [ack_of(c.send_message(m)) for m in (book, move)]
    assert [code(a) for a in acks] == ["AA", "AE"]  # not read as an hour earlier and ignored
    assert "20261025011000 happens twice" in str(acks[1]["MSA.F3"])
    assert "send it with its offset" in str(acks[1]["ERR.F8"])
    assert the_appointment(r, "APT1090").at_dt == WEDNESDAY_930
    kept = messages.recent(r, problems=True)
    assert [(m.control_id, m.status) for m in kept] == [("MSG0091", "failed")]
