"""Retention: what is purged or anonymised after RETENTION_DAYS, and what is always kept."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from bot.cli.main import main
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.campaigns import INDEX, Campaign
from bot.outbound.texts import Reminder
from bot.store import records, retention
from tests.outbound.test_reminders_campaigns import GOOD, import_json, runner, write_csv
from tests.support.reminders import utc_now

__all__ = ["runner"]  # the CLI fixture, on the test Redis

OLD = "+447700900301"
NEW = "+447700900302"


def _alert(r: redis.Redis, number: str, days_ago: int, resolve: bool) -> records.Alert:
    at = (utc_now() - timedelta(days=days_ago)).isoformat()
    alert = records.Alert(number=number, level="urgent", reason="Fever",
                          text="temp 38.5 and shivery", created_at=at)
    alert.save(r)
    if resolve:
        records.Alert.resolve(r, alert.id, "nurse@example.org", at, "rang her, came in")
    return alert


def test_resolved_records_older_than_the_limit_go_and_the_rest_stay(r: redis.Redis) -> None:
    old = _alert(r, OLD, 500, resolve=True)
    still_open = _alert(r, OLD, 500, resolve=False)
    recent = _alert(r, NEW, 10, resolve=True)
    callback = records.CallbackRequest(number=OLD, reason="results",
                                       created_at=(utc_now() - timedelta(days=450)).isoformat())
    callback.save(r)
    records.CallbackRequest.resolve(r, callback.id, "nurse@example.org",
                                    callback.created_at, "done")
    records.set_opted_out(OLD, True, utc_now().isoformat(), pipeline=r)

    report = retention.purge(r, utc_now(), 400)

    assert (report.alerts, report.callbacks) == (1, 1)
    assert records.Alert.fetch(r, old.id) is None
    assert records.CallbackRequest.fetch(r, callback.id) is None
    assert records.Alert.fetch(r, still_open.id) is not None  # a nurse has not seen it yet
    assert records.Alert.fetch(r, recent.id) is not None
    assert records.is_opted_out(r, OLD)  # STOP is honoured for ever


def test_anonymising_keeps_the_record_without_the_number_or_the_words(r: redis.Redis) -> None:
    old = _alert(r, OLD, 500, resolve=True)

    retention.purge(r, utc_now(), 400, anonymise=True)

    kept = records.Alert.fetch(r, old.id)
    assert kept is not None
    assert kept.number == "+44*******301" and kept.level == "urgent"
    assert kept.text == kept.reason == kept.note == retention.REMOVED
    assert OLD not in json.dumps(kept.to_dict())


def test_a_finished_campaign_goes_with_its_appointments_reminders_and_patients(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    _, out = import_json(runner, write_csv(tmp_path / "week.csv", GOOD[:2]))
    campaign = Campaign.fetch(r, out["campaign"])
    assert campaign is not None
    appts = Appointment.fetch_many(r, campaign.appointment_ids(r))
    reminder_ids = [i for a in appts for i in a.reminder_ids]
    numbers = {a.patient for a in appts}

    assert retention.purge(r, utc_now(), 400).campaigns == 0  # still to come: kept
    later = utc_now() + timedelta(days=500)
    dry = retention.purge(r, later, 400, dry_run=True)
    assert (dry.campaigns, dry.appointments, dry.reminders) == (1, 2, len(reminder_ids))
    assert Campaign.fetch(r, campaign.id) is not None  # a dry run changes nothing

    report = retention.purge(r, later, 400)

    assert (report.campaigns, report.appointments, report.patients) == (1, 2, len(numbers))
    assert Campaign.fetch(r, campaign.id) is None and r.zscore(INDEX, campaign.id) is None
    assert Appointment.fetch_many(r, [a.id for a in appts]) == []
    assert all(Reminder.fetch(r, i) is None for i in reminder_ids)
    assert all(Patient.fetch(r, n) is None for n in numbers)
    assert not any(r.scan_iter(match=f"*{next(iter(numbers))}*"))


def test_the_command_reports_what_it_did(runner: CliRunner, r: redis.Redis) -> None:
    _alert(r, OLD, 500, resolve=True)
    dry = runner.invoke(main, ["retention", "purge", "--dry-run", "--json"])
    assert json.loads(dry.stdout)["alerts"] == 1
    assert r.zcard(records.Alert.RESOLVED) == 1
    done = runner.invoke(main, ["retention", "purge", "--days", "400"])
    assert done.exit_code == 0 and "Purged older than 400 days: 1 alerts" in done.stdout
    assert r.zcard(records.Alert.RESOLVED) == 0


def test_retention_days_must_keep_at_least_a_day(r: redis.Redis) -> None:
    with pytest.raises(ValueError):
        retention.purge(r, utc_now(), 0)
