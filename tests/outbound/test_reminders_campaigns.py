"""Campaigns from a CSV via `supportline campaign`: check, plan, schedule, show, cancel, message.

The CLI reads the real clock, so appointments are set days ahead of it, at 10:00 UK time.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result

from bot.cli.main import main
from bot.outbound import appointments
from bot.outbound.appointments import Appointment
from bot.outbound.campaigns import Campaign
from bot.outbound.texts import Reminder
from bot.outbound.transport import outbox
from bot.store import records
from tests.support.base import PATIENT
from tests.support.reminders import LONDON, drama, run_worker, scheduled, utc_now, worker_env

HEADER = ["phone", "test", "appointment", "location", "name"]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, redis_url: str, tmp_path: Path) -> CliRunner:
    """The CLI on the test Redis, with no Twilio account (sends land in the outbox)."""
    worker_env(monkeypatch, redis_url, INSTANCE_PATH=tmp_path / "instance")
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, ["campaign", *args], catch_exceptions=False)


def day(days_ahead: int) -> date:
    """A date this many days after today on the clinic's calendar."""
    return utc_now().astimezone(LONDON).date() + timedelta(days=days_ahead)


def at_ten(days_ahead: int) -> str:
    return f"{day(days_ahead).isoformat()} 10:00"


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def import_json(runner: CliRunner, path: Path, *extra: str) -> tuple[Result, dict[str, Any]]:
    result = invoke(runner, "import", str(path), "--name", "PET-CT week", "--json", *extra)
    return result, json.loads(result.stdout)


def next_last_sunday(month: int) -> date:
    """The next last Sunday of `month` (the UK clock change) after today."""
    today = day(0)
    for year in (today.year, today.year + 1):
        last = date(year, month + 1, 1) - timedelta(days=1)
        sunday = last - timedelta(days=(last.weekday() - 6) % 7)
        if sunday > today:
            return sunday
    raise AssertionError("unreachable")


GOOD = [
    ["07700 900101", "CT", at_ten(5), "Imaging, Level 2", "Ann"],
    ["+447700900102", "PET-CT", at_ten(6), "Nuclear Medicine", ""],
    ["+44 7700 900103", "mri scan", at_ten(7), "", ""],
]


def campaign_keys(r: redis.Redis) -> list[str]:
    return sorted(str(k) for pattern in ("campaign*", "appointment:*", "reminder:*",
                                         "patient:*", "rq:job:*") for k in r.keys(pattern))


# --- Import --------------------------------------------------------------------------


def test_import_json_has_the_shape_the_nurses_tools_rely_on(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    result, out = import_json(runner, write_csv(tmp_path / "week.csv", GOOD))

    assert result.exit_code == 0, result.output
    assert {"campaign", "patients", "errors", "segments_total"} <= set(out)
    assert isinstance(out["campaign"], str) and out["errors"] == []
    assert [p["line"] for p in out["patients"]] == [2, 3, 4]
    assert [p["phone"] for p in out["patients"]] == [drama(101), drama(102), drama(103)]
    assert [p["test"] for p in out["patients"]] == ["ct_scan", "pet_ct_scan", "mri_scan"]
    total = 0
    for n, p in enumerate(out["patients"]):
        assert {"line", "phone", "test", "appointment", "reminders"} <= set(p)
        appointment = datetime.fromisoformat(p["appointment"])
        assert appointment.astimezone(LONDON).replace(tzinfo=None) == datetime.combine(
            day(5 + n), datetime.min.time().replace(hour=10))
        assert p["reminders"], "every appointment here is far enough ahead for reminders"
        for rem in p["reminders"]:
            assert set(rem) == {"send_at", "channel", "text", "segments", "encoding", "note"}
            assert rem["channel"] == "sms"
            send_at = datetime.fromisoformat(rem["send_at"])
            assert send_at.utcoffset() is not None and send_at < appointment
            assert rem["encoding"] == "GSM-7" and 1 <= rem["segments"] <= 2
            assert rem["text"].startswith("Appointment reminder\n")
            total += rem["segments"]
    assert out["segments_total"] == total
    assert "Hello Ann." in out["patients"][0]["reminders"][0]["text"]
    assert "at the place on your letter." in out["patients"][2]["reminders"][0]["text"]


def test_import_schedules_each_reminder_at_the_time_it_printed(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    _, out = import_json(runner, write_csv(tmp_path / "week.csv", GOOD))

    campaign = Campaign.fetch(r, out["campaign"])
    assert campaign is not None
    assert (campaign.name, campaign.status, campaign.patients) == ("PET-CT week", "active", 3)
    appts = Appointment.fetch_many(r, campaign.appointment_ids(r))
    printed = {
        (a.id, n): datetime.fromisoformat(rem["send_at"])
        for a, p in zip(appts, out["patients"], strict=True)
        for n, rem in enumerate(p["reminders"])
    }
    times = scheduled(r)
    assert len(times) == len(printed) == campaign.reminders
    for a in appts:
        rems = Reminder.fetch_many(r, a.reminder_ids)
        for n, rem in enumerate(rems):
            assert times[rem.job_id] == printed[(a.id, n)]
            assert rem.status == "scheduled" and rem.campaign == campaign.id
            assert appointments.text_of(r, rem, LONDON) == (
                out["patients"][appts.index(a)]["reminders"][n]["text"])


def test_bad_rows_are_reported_by_line_and_nothing_is_scheduled(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    rows = [
        GOOD[0],
        ["12345", "CT", at_ten(5), "", ""],  # line 3
        [drama(104), "colonoscopy", at_ten(5), "", ""],  # line 4
        [drama(105), "MRI", f"{day(-1).isoformat()} 10:00", "", ""],  # line 5: past
        [drama(106), "MRI", "next tuesday", "", ""],  # line 6
        ["07700900101", "ct scan", at_ten(5), "", ""],  # line 7: same as line 2
        [drama(107), "x-ray", at_ten(5), "Clinic " + "B" * 300, ""],  # line 8: too long
        [drama(108), "biopsy", "", "", ""],  # line 9: no time
        GOOD[1],
    ]
    result, out = import_json(runner, write_csv(tmp_path / "bad.csv", rows))

    assert result.exit_code == 1
    assert out["campaign"] is None
    assert [e["line"] for e in out["errors"]] == [3, 4, 5, 6, 7, 8, 9]
    assert all(set(e) == {"line", "error"} and e["error"] for e in out["errors"])
    errors = {e["line"]: e["error"] for e in out["errors"]}
    assert "12345" in errors[3]
    assert "colonoscopy" in errors[4]
    assert "past" in errors[5]
    assert "YYYY-MM-DD HH:MM" in errors[6]
    assert "line 2" in errors[7]
    assert "too long" in errors[8]
    assert "appointment" in errors[9]
    assert campaign_keys(r) == []
    assert scheduled(r) == {}


def test_bad_rows_are_explained_in_plain_words_without_json(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "bad.csv", [GOOD[0], [drama(110), "scan", at_ten(5), "", ""]])

    result = invoke(runner, "import", str(path), "--name", "Week 12")

    assert result.exit_code == 1
    assert "line 3: 'scan' is not a test we send reminders for" in result.stderr
    assert "nothing was scheduled" in result.stderr
    assert campaign_keys(r) == []


def test_an_unquoted_comma_is_an_error_with_its_line_not_a_shifted_column(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "comma.csv"
    path.write_text(
        "phone,test,appointment,location,name\n"
        f"07700 900101,CT,{at_ten(5)},Imaging,Ann\n"
        f"07700 900102,CT,{at_ten(5)},Queen Elizabeth Hospital, Gateshead,Beth\n",
        encoding="utf-8",
    )
    result = invoke(runner, "import", str(path), "--name", "Week", "--json")
    assert result.exit_code != 0
    errors = json.loads(result.stdout)["errors"]
    assert [e["line"] for e in errors] == [3]
    assert "double quotes" in errors[0]["error"]
    assert campaign_keys(r) == []  # nothing half-imported


def test_uk_day_first_dates_are_read_and_month_first_ones_refused(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    d = day(6)
    uk = f"{d.day:02d}/{d.month:02d}/{d.year} 10:00"
    rows = [["07700 900101", "CT", uk, "", ""]]
    _, out = import_json(runner, write_csv(tmp_path / "uk.csv", rows))
    assert out["patients"][0]["appointment"].startswith(d.isoformat())
    us = "12/31/2027 10:00"
    result = invoke(runner, "import", str(write_csv(tmp_path / "us.csv",
                    [["07700 900101", "CT", us, "", ""]])), "--name", "US", "--json")
    assert result.exit_code != 0
    assert "day first" in json.loads(result.stdout)["errors"][0]["error"]


def test_a_file_without_the_required_columns_is_refused(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "cols.csv", [[drama(111), at_ten(5)]], header=["mobile", "when"])

    result, out = import_json(runner, path)

    assert result.exit_code == 1
    [error] = out["errors"]
    assert error["line"] == 1 and "phone, test, appointment" in error["error"]
    assert campaign_keys(r) == []


def test_clock_change_times_that_do_not_exist_or_happen_twice_are_refused(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    spring, autumn = next_last_sunday(3), next_last_sunday(10)
    rows = [
        [drama(120), "bloods", f"{spring.isoformat()} 01:30", "", ""],  # skipped in spring
        [drama(121), "bloods", f"{autumn.isoformat()} 01:30", "", ""],  # twice in autumn
        [drama(122), "bloods", f"{autumn.isoformat()} 01:30+00:00", "", ""],  # said which
    ]
    result, out = import_json(runner, write_csv(tmp_path / "dst.csv", rows))

    assert result.exit_code == 1
    errors = {e["line"]: e["error"] for e in out["errors"]}
    assert set(errors) == {2, 3}
    assert "does not exist" in errors[2]
    assert "happens twice" in errors[3] and "+01:00" in errors[3]
    [ok] = out["patients"]
    assert ok["line"] == 4
    assert datetime.fromisoformat(ok["appointment"]) == datetime.combine(
        autumn, datetime.min.time().replace(hour=1, minute=30), tzinfo=UTC)
    assert campaign_keys(r) == []


def test_dry_run_prints_the_plan_and_schedules_nothing(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "week.csv", GOOD)

    result, out = import_json(runner, path, "--dry-run")

    assert result.exit_code == 0
    assert out["campaign"] is None
    assert len(out["patients"]) == 3 and out["segments_total"] > 0
    assert campaign_keys(r) == []
    assert scheduled(r) == {}

    text = invoke(runner, "import", str(path), "--name", "PET-CT week", "--dry-run")
    assert "Dry run: 3 patients" in text.stdout and "nothing scheduled" in text.stdout
    assert "Appointment reminder" in text.stdout


def test_a_large_import_shows_progress_on_stderr(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    tests = ["bloods", "xray", "bone scan", "ultrasound", "CT", "PET-CT", "MRI", "biopsy"]
    rows = [[drama(n), tests[n % 8], at_ten(4 + n % 5), "Outpatients", ""] for n in range(250)]

    result = invoke(runner, "import", str(write_csv(tmp_path / "big.csv", rows)),
                    "--name", "Big list")

    assert result.exit_code == 0, result.output
    assert "Scheduling" in result.stderr
    assert "250 patients" in result.stdout
    [campaign] = [Campaign.fetch(r, str(x)) for x in r.zrange("campaigns", 0, -1)]
    assert campaign is not None and campaign.patients == 250
    assert len(scheduled(r)) == campaign.reminders


# --- list, show, cancel --------------------------------------------------------------


def test_list_and_show_give_each_reminder_and_its_status(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    _, first = import_json(runner, write_csv(tmp_path / "a.csv", GOOD[:1]))
    _, second = import_json(runner, write_csv(tmp_path / "b.csv", GOOD[1:]))
    planned = sum(len(p["reminders"]) for p in second["patients"])

    listed = json.loads(invoke(runner, "list", "--json").stdout)["campaigns"]
    assert [c["id"] for c in listed] == [second["campaign"], first["campaign"]]
    assert listed[0]["counts"] == {"scheduled": planned}
    assert listed[0]["patients"] == 2

    shown = json.loads(invoke(runner, "show", second["campaign"], "--json").stdout)
    assert shown["id"] == second["campaign"] and shown["status"] == "active"
    assert [a["patient"] for a in shown["appointments"]] == [drama(102), drama(103)]
    for a, p in zip(shown["appointments"], second["patients"], strict=True):
        assert [x["send_at"] for x in a["reminders"]] == [
            datetime.fromisoformat(x["send_at"]).astimezone(UTC).isoformat()
            for x in p["reminders"]]
        assert {x["status"] for x in a["reminders"]} == {"scheduled"}

    human = invoke(runner, "show", second["campaign"])
    assert "+44*******102" in human.stdout and drama(102) not in human.stdout
    assert "scheduled" in human.stdout


def test_show_and_cancel_an_unknown_campaign_say_so(runner: CliRunner, r: redis.Redis) -> None:
    for command in ("show", "cancel"):
        result = invoke(runner, command, "nosuchid")
        assert result.exit_code != 0
        assert "no campaign 'nosuchid'" in result.output


def test_cancel_stops_every_pending_reminder(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    _, out = import_json(runner, write_csv(tmp_path / "week.csv", GOOD))
    planned = sum(len(p["reminders"]) for p in out["patients"])

    result = invoke(runner, "cancel", out["campaign"], "--json")

    assert json.loads(result.stdout) == {
        "campaign": out["campaign"], "status": "cancelled", "cancelled_reminders": planned}
    assert scheduled(r) == {}
    shown = json.loads(invoke(runner, "show", out["campaign"], "--json").stdout)
    assert shown["status"] == "cancelled"
    assert shown["counts"] == {"cancelled": planned}
    assert {a["status"] for a in shown["appointments"]} == {"cancelled"}

    refused = invoke(runner, "message", out["campaign"], "Clinic closed on Friday.")
    assert refused.exit_code != 0 and "cancelled" in refused.output
    assert r.llen("outbox") == 0


# --- message -------------------------------------------------------------------------


def test_message_goes_once_to_each_active_patient_who_has_not_opted_out(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    rows = [
        [drama(131), "CT", at_ten(5), "", ""],
        [drama(132), "CT", at_ten(5), "", ""],  # opts out
        [drama(133), "MRI", at_ten(6), "", ""],  # appointment cancelled
        [drama(134), "MRI", at_ten(6), "", ""],
        [drama(134), "bloods", at_ten(8), "", ""],  # two appointments, one message
    ]
    _, out = import_json(runner, write_csv(tmp_path / "week.csv", rows))
    campaign = Campaign.fetch(r, out["campaign"])
    assert campaign is not None
    records.set_opted_out(drama(132), True, utc_now().isoformat(), pipeline=r)
    [cancelled] = [a for a in Appointment.fetch_many(r, campaign.appointment_ids(r))
                   if a.patient == drama(133)]
    appointments.cancel(r, cancelled)
    text = "The scanner is mended: your appointment time has not changed."

    result = invoke(runner, "message", out["campaign"], text, "--json")

    sent = json.loads(result.stdout)
    assert (sent["queued"], sent["segments"], sent["encoding"]) == (2, 1, "GSM-7")
    run_worker(r)  # the same send job as every reminder, into the local outbox
    box = outbox(r)
    assert sorted(m["to"] for m in box) == [drama(131), drama(134)]
    assert {m["body"] for m in box} == {text}
    shown = json.loads(invoke(runner, "show", out["campaign"], "--json").stdout)
    assert sorted((m["to"], m["status"]) for m in shown["messages"]) == [
        (drama(131), "sent"), (drama(134), "sent")]
    assert sorted(m["id"] for m in shown["messages"]) == sorted(sent["messages"])
    # The plans' reminders are untouched, still days away (the cancelled one's are gone).
    planned = sum(len(p["reminders"]) for p in out["patients"])
    gone = len(out["patients"][2]["reminders"])
    assert len(scheduled(r)) == planned - gone


def test_a_message_whose_first_line_names_cancer_is_refused(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    _, out = import_json(runner, write_csv(tmp_path / "week.csv", GOOD[:1]))

    result = invoke(runner, "message", out["campaign"], "Your chemo is moved\nto Friday")

    assert result.exit_code != 0
    assert "locked phone" in result.output and "Nothing was sent" in result.output
    run_worker(r)
    assert r.llen("outbox") == 0
    assert Campaign.fetch(r, out["campaign"]) is not None
    assert r.llen(f"campaign:{out['campaign']}:messages") == 0


def test_an_empty_message_is_refused(runner: CliRunner, r: redis.Redis, tmp_path: Path) -> None:
    _, out = import_json(runner, write_csv(tmp_path / "week.csv", GOOD[:1]))

    result = invoke(runner, "message", out["campaign"], "   ")

    assert result.exit_code != 0 and "empty" in result.output
    assert r.llen("outbox") == 0
    assert not records.history(r, PATIENT)


def test_a_dry_run_gives_each_reminder_its_channel_and_a_landlines_call_an_estimate(
    runner: CliRunner, r: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALL_PRICE_PER_MINUTE", "0.05")
    rows = [GOOD[0], ["01632 960101", "PET-CT", at_ten(6), "Nuclear Medicine", "Bob"]]
    result, out = import_json(runner, write_csv(tmp_path / "mixed.csv", rows), "--dry-run")

    assert result.exit_code == 0, result.output
    mobile, home = out["patients"]
    assert (mobile["channel"], home["channel"]) == ("sms", "call")
    assert {x["channel"] for x in mobile["reminders"]} == {"sms"}
    assert home["reminders"] and {x["channel"] for x in home["reminders"]} == {"call"}
    for call in home["reminders"]:
        assert call["text"] == "" and call["segments"] == 0
        assert "It is for Bob" in call["spoken"] and "Your PET-CT scan is on" in call["spoken"]
        assert call["call_minutes"] >= 1
        assert call["call_cost_estimate"] == round(call["call_minutes"] * 0.05, 2)
        local = datetime.fromisoformat(call["send_at"]).astimezone(LONDON)
        assert 10 <= local.hour < 19  # within the default calling hours
    assert out["calls_total"] == len(home["reminders"])
    assert out["call_cost_estimate"]["price_per_minute"] == 0.05
    assert "estimate" in out["call_cost_estimate"]["note"].lower()
    assert out["call_cost_estimate"]["price_is_placeholder"] is False  # set above
    assert out["segments_total"] == sum(x["segments"] for x in mobile["reminders"])
    assert r.keys("campaign*") == []  # a dry run schedules nothing


def test_a_dry_run_says_when_the_call_price_is_a_placeholder(
    runner: CliRunner, r: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALL_PRICE_PER_MINUTE", raising=False)
    rows = [["01632 960101", "PET-CT", at_ten(6), "Nuclear Medicine", "Bob"]]
    result, out = import_json(runner, write_csv(tmp_path / "home.csv", rows), "--dry-run")

    assert result.exit_code == 0, result.output
    estimate = out["call_cost_estimate"]
    assert estimate["price_is_placeholder"] is True
    assert "placeholder, not your account's rate" in estimate["note"]
