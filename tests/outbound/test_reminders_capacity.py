"""Campaigns share the sending capacity: `campaign import` spreads texts, warns, refuses.

The CLI reads the real clock, so appointments are days ahead of it, at 10:00 UK time.
SMS_PER_SECOND is set low (0.1: 6 texts a minute) so that a few dozen texts fill minutes.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result

from bot.cli.main import main
from bot.outbound import campaigns
from bot.outbound.texts import Reminder
from tests.support.reminders import LONDON, drama, scheduled, utc_now, worker_env

PER_MINUTE = 6


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, redis_url: str, tmp_path: Path) -> CliRunner:
    """The CLI on the test Redis, sending at most 6 texts a minute."""
    worker_env(monkeypatch, redis_url, INSTANCE_PATH=tmp_path / "instance")
    monkeypatch.setenv("SMS_PER_SECOND", "0.1")
    monkeypatch.setenv("QUIET_HOURS", "21:00-08:00")  # a morning scan's fasting text: 20:30
    return CliRunner()


def ct_scans(path: Path, count: int, first: int = 0, days_ahead: int = 5) -> Path:
    """`count` CT scans at 10:00 on one day: their texts all fall due together."""
    day = utc_now().astimezone(LONDON).date() + timedelta(days=days_ahead)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["phone", "test", "appointment", "location"])
        for n in range(first, first + count):
            w.writerow([drama(n), "CT", f"{day.isoformat()} 10:00", "Imaging"])
    return path


def run(runner: CliRunner, path: Path, *extra: str) -> tuple[Result, dict[str, Any]]:
    result = runner.invoke(main, ["campaign", "import", str(path), "--name", path.stem,
                                  "--json", *extra], catch_exceptions=False)
    return result, json.loads(result.stdout)


def texts_a_minute(r: redis.Redis) -> Counter[datetime]:
    """How many send jobs RQ's scheduler will run in each minute."""
    return Counter(at.replace(second=0, microsecond=0) for at in scheduled(r).values())


def test_two_campaigns_due_together_share_the_minutes_and_never_exceed_the_rate(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    first, a = run(runner, ct_scans(tmp_path / "monday.csv", 20))
    second, b = run(runner, ct_scans(tmp_path / "more.csv", 20, first=20))

    assert first.exit_code == second.exit_code == 0, second.output
    assert a["capacity"]["fits"] and b["capacity"]["fits"]
    assert max(texts_a_minute(r).values()) == PER_MINUTE  # full minutes, never more
    assert len(scheduled(r)) == 120

    def sends(report: dict[str, Any], kind: str) -> list[datetime]:
        return sorted(datetime.fromisoformat(x["send_at"]) for p in report["patients"]
                      for x in p["reminders"] if kind in x["text"] or kind == "any")

    # The second campaign's day-before texts go after the first's, in the minutes left.
    assert sends(b, "No food or drink for 4 hours")[0] >= sends(a, "No food or drink")[-1]
    assert b["capacity"]["moved"] == 60 and b["capacity"]["latest_minutes"] >= 6
    assert any(h["others"] for h in b["capacity"]["hours"])
    # What each printed is what was scheduled, and every text goes before it expires.
    every = {x.id: x for x in Reminder.fetch_many(r, [str(k).removeprefix("reminder-")
                                                        .rsplit("-v", 1)[0]
                                                        for k in scheduled(r)])}
    assert len(every) == 120
    for x in every.values():
        assert x.send_at_dt < x.expires_at_dt
        assert scheduled(r)[x.job_id] == x.send_at_dt
    moved = [x for p in b["patients"] for x in p["reminders"] if x["note"]]
    assert moved and all("after its usual moment, to share the sending" in x["note"]
                         for x in moved)


def test_a_campaign_that_cannot_fit_is_warned_about_and_not_scheduled(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    # 200 fasting texts, and the half hour before quiet hours holds 180 of them.
    path = ct_scans(tmp_path / "too-many.csv", 200)

    dry = runner.invoke(main, ["campaign", "import", str(path), "--name", "big", "--dry-run"])
    assert dry.exit_code == 0
    assert "WARNING: 20 texts cannot go out before their latest useful moment" in dry.stderr
    assert "Sending capacity: 0.1 texts a second (6 a minute)" in dry.stdout
    assert scheduled(r) == {}

    refused, report = run(runner, path)
    assert refused.exit_code == 1
    assert report["campaign"] is None and report["scheduled"] == 0
    assert not report["capacity"]["fits"]
    over = report["capacity"]["over_capacity"]
    assert len(over) == 20 and all(o["kind"] == "ct_scan:fasting" for o in over)
    assert scheduled(r) == {} and campaigns.all_campaigns(r) == []

    text = runner.invoke(main, ["campaign", "import", str(path), "--name", "big"])
    assert text.exit_code == 1
    assert "Nothing was scheduled" in text.stderr and "--over-capacity" in text.stderr

    anyway, report = run(runner, path, "--over-capacity")
    assert anyway.exit_code == 0 and report["campaign"]
    assert len(scheduled(r)) == 600


def test_capacity_left_by_earlier_campaigns_is_what_a_dry_run_counts(
    runner: CliRunner, r: redis.Redis, tmp_path: Path
) -> None:
    # 150 fasting texts fit in the half hour (180); a second 150 then cannot all fit.
    ok, _ = run(runner, ct_scans(tmp_path / "first.csv", 150))
    assert ok.exit_code == 0
    dry, report = run(runner, ct_scans(tmp_path / "second.csv", 150, first=150), "--dry-run")
    assert dry.exit_code == 0 and report["campaign"] is None
    assert len(report["capacity"]["over_capacity"]) == 150 - 30
    assert len(scheduled(r)) == 450  # the dry run scheduled nothing


def test_senders_in_a_messaging_service_pool_multiply_the_capacity(
    runner: CliRunner, r: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMS_SENDERS", "2")
    result, report = run(runner, ct_scans(tmp_path / "pool.csv", 200), "--dry-run")
    assert result.exit_code == 0
    assert report["capacity"]["per_minute"] == 12 and report["capacity"]["fits"]


def test_several_senders_need_a_messaging_service_and_raise_the_send_jobs_limit() -> None:
    from bot import config
    from workers.send import per_second

    one_number = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t",
                  "TWILIO_FROM_NUMBER": "+447700900999", "SMS_SENDERS": "3"}
    with pytest.raises(config.ConfigError, match="Messaging Service"):
        config.check(one_number)
    pool = {**one_number, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
            "SMS_PER_SECOND": "10"}
    config.check(pool)
    assert per_second(pool) == config.send_capacity(pool) == 30
    with pytest.raises(config.ConfigError, match="SMS_SENDERS"):
        config.check({"SMS_SENDERS": "none"})
