"""The `supportline` command line: triage, ask, content check, chat and every --help."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import redis
from click.testing import CliRunner, Result

from bot.cli.main import main
from bot.store import records
from flows.gsm import cost
from flows.knowledge import TOPIC_IDS

LEVELS = {"emergency", "urgent", "same_day", "none"}


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A runner whose environment has no deployment settings but a private instance folder."""
    for name in ("REDIS_URL", "TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "PUBLIC_BASE_URL",
                 "ACUTE_ONCOLOGY_NUMBER", "CLINIC_TZ", "NURSE_HOURS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    return CliRunner()


def invoke(runner: CliRunner, args: list[str], input: str | None = None) -> Result:
    result = runner.invoke(main, args, input=input, catch_exceptions=False)
    return result


def json_lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


# --- triage -----------------------------------------------------------------------------------


def test_triage_json_for_a_temperature(runner: CliRunner) -> None:
    result = invoke(runner, ["triage", "temp 38.2", "--json"])
    assert result.exit_code == 0
    (out,) = json_lines(result)
    assert set(out) == {"level", "reason"}
    assert out["level"] == "urgent"
    assert isinstance(out["reason"], str) and "emperature" in out["reason"]


def test_triage_json_reads_lines_from_stdin_in_order(runner: CliRunner) -> None:
    result = invoke(runner, ["triage", "--json"],
                    input="i have chest pain\ni feel sick\nwhen is my next scan\n")
    assert result.exit_code == 0
    out = json_lines(result)
    assert [o["level"] for o in out] == ["emergency", "same_day", "none"]
    assert all(set(o) == {"level", "reason"} for o in out)


def test_triage_stdin_skips_blank_lines(runner: CliRunner) -> None:
    result = invoke(runner, ["triage", "--json"], input="\nchest pain\n\n   \ntemp 39\n")
    assert [o["level"] for o in json_lines(result)] == ["emergency", "urgent"]


def test_triage_plain_output_names_the_level(runner: CliRunner) -> None:
    result = invoke(runner, ["triage", "i cannot breathe"])
    assert result.exit_code == 0
    assert result.stdout.startswith("emergency: ")


# --- ask -----------------------------------------------------------------------------------------


def test_ask_json_answers_the_ct_question(runner: CliRunner) -> None:
    result = invoke(runner, ["ask", "can i eat before my ct", "--json"])
    assert result.exit_code == 0
    (out,) = json_lines(result)
    assert set(out) == {"topic", "triage", "reply", "segments", "encoding"}
    assert out["topic"] == "ct_scan"
    assert out["triage"] == "none"
    assert out["encoding"] == "GSM-7"
    assert isinstance(out["segments"], int) and 1 <= out["segments"] <= 2
    assert isinstance(out["reply"], str) and "4 hours" in out["reply"]
    # The reported cost is the reply's real cost.
    c = cost(out["reply"])
    assert (c.encoding, c.segments) == (out["encoding"], out["segments"])


def test_ask_json_counts_an_answer_and_its_safety_line_as_two_texts(runner: CliRunner) -> None:
    question = "my ankles have been puffy for a few days, can I eat before my CT scan?"
    result = invoke(runner, ["ask", question, "--json"])
    (out,) = json_lines(result)
    assert (out["topic"], out["triage"]) == ("ct_scan", "same_day")
    answer, safety = str(out["reply"]).split("\nAlso, ")
    assert "4 hours" in answer and "breast care nurses today" in safety
    assert out["segments"] == cost(answer).segments + cost("Also, " + safety).segments


def test_ask_json_reads_several_lines_from_stdin(runner: CliRunner) -> None:
    result = invoke(runner, ["ask", "--json"],
                    input="can i eat before my ct\ni have chest pain\nhi\n\nwhat is a bone scan\n")
    assert result.exit_code == 0
    out = json_lines(result)
    assert len(out) == 4
    # A warning sign is about symptoms; a greeting is about nothing in particular.
    assert [o["topic"] for o in out] == ["ct_scan", "symptoms", None, "bone_scan"]
    assert [o["triage"] for o in out] == ["none", "emergency", "none", "none"]
    assert str(out[1]["reply"]).startswith("Call 999 now")
    assert "Reply with a number" in str(out[2]["reply"])
    for o in out:
        assert o["encoding"] == "GSM-7"
        assert 1 <= int(str(o["segments"])) <= 2
        assert o["topic"] is None or o["topic"] in TOPIC_IDS
        assert o["triage"] in LEVELS


def test_ask_uses_the_configured_acute_oncology_number(
        runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACUTE_ONCOLOGY_NUMBER", "0191 000 0000")
    (out,) = json_lines(invoke(runner, ["ask", "temp 39", "--json"]))
    assert out["triage"] == "urgent"
    assert str(out["reply"]).startswith("Call the 24-hour acute oncology line now on 0191 000 0000")


def test_ask_plain_output_shows_topic_and_reply(runner: CliRunner) -> None:
    result = invoke(runner, ["ask", "can i eat before my ct"])
    assert result.exit_code == 0
    assert "topic=ct_scan" in result.stdout
    assert "4 hours" in result.stdout


# --- content check -------------------------------------------------------------------------------


def test_content_check_passes_today(runner: CliRunner) -> None:
    result = runner.invoke(main, ["content", "check", "--today", "2026-11-21"])
    assert result.exit_code == 0, result.stdout[-2000:]
    assert "0 with breaches" in result.stdout
    assert "FAIL" not in result.stdout


def test_content_check_json_reports_no_breaches(runner: CliRunner) -> None:
    result = runner.invoke(main, ["content", "check", "--json", "--today", "2026-11-21"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["breaches"] == 0
    sms = [t for t in report["texts"] if t["channel"] == "sms"]
    assert sms
    for t in sms:
        assert t["encoding"] == "GSM-7", t
        assert t["segments"] <= 2, t


def test_content_check_fails_when_reviews_are_overdue(runner: CliRunner) -> None:
    result = runner.invoke(main, ["content", "check", "--today", "2030-01-01"])
    assert result.exit_code == 1
    assert "review overdue" in result.stdout
    # "330 with breaches" ends in "0 with breaches": match the whole count.
    assert not re.search(r"\b0 with breaches", result.stdout)


def test_content_check_warns_while_nurse_hours_are_the_shipped_ones(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = runner.invoke(main, ["content", "check", "--today", "2026-11-21"])
    assert shipped.exit_code == 0
    assert "WARN oncology breast care nurses: patients are told the shipped hours" in (
        shipped.stdout
    )
    monkeypatch.setenv("NURSE_HOURS", "mon-fri 08:30-16:30")
    own = runner.invoke(main, ["content", "check", "--json", "--today", "2026-11-21"])
    assert own.exit_code == 0
    report = json.loads(own.stdout)
    assert report["warnings"] == []
    # The texts checked are the ones patients get: with the team's hours in them.
    told = [t["text"] for t in report["texts"] if "Monday to Friday" in t["text"]]
    assert any("8.30am to 4.30pm" in t for t in told)
    assert not any("9am to 5pm). Out of hours" in t for t in told)


def test_nurse_hours_that_cannot_be_read_stop_the_check_and_the_app(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot import create_app
    from bot.config import ConfigError

    monkeypatch.setenv("NURSE_HOURS", "weekdays 9 to 5")
    result = runner.invoke(main, ["content", "check"])
    assert result.exit_code == 1
    assert "NURSE_HOURS: 'weekdays 9 to 5' is not opening hours" in result.output
    with pytest.raises(ConfigError, match="NURSE_HOURS"):
        create_app({"NURSE_HOURS": "mon-fri 17:00-09:00", "INSTANCE_PATH": str(tmp_path),
                    "REDIS_URL": "redis://127.0.0.1:1/0"})


# --- --help everywhere ------------------------------------------------------------------------


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, (*prefix, name)))
        else:
            paths.append((*prefix, name))
    return paths


COMMANDS = _command_paths(main)


def test_the_documented_commands_exist() -> None:
    for path in [("run",), ("chat",), ("ask",), ("triage",), ("content", "check")]:
        assert path in COMMANDS


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "supportline")
def test_every_command_has_help(runner: CliRunner, path: tuple[str, ...], flag: str) -> None:
    result = runner.invoke(main, [*path, flag])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")
    # Help only describes: it must not start Redis, a server or a chat.
    assert "Texting the support line" not in result.stdout


# --- chat ---------------------------------------------------------------------------------------


def test_chat_shows_the_menu_and_emergency_advice(
        runner: CliRunner, monkeypatch: pytest.MonkeyPatch, redis_url: str,
        r: redis.Redis) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = runner.invoke(main, ["chat"], input="hi\nchest pain\n")
    assert result.exit_code == 0, result.output
    assert "Reply with a number" in result.stdout
    assert "1 Tests and scans" in result.stdout
    assert "Call 999 now" in result.stdout
    # The nurses see the alert, from the number the chat texted as.
    (alert,) = records.open_alerts(r)
    assert alert.level == "emergency"
    assert alert.number == "+447700900123"


def test_chat_as_another_number(
        runner: CliRunner, monkeypatch: pytest.MonkeyPatch, redis_url: str,
        r: redis.Redis) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = runner.invoke(main, ["chat", "--from", "+447700900456"],
                           input="NURSE\nplease call me about my scan\n")
    assert result.exit_code == 0, result.output
    assert "+447700900456" in result.stdout
    (callback,) = records.open_callbacks(r)
    assert callback.number == "+447700900456"
    assert callback.reason == "please call me about my scan"


def test_an_account_without_a_sender_is_refused_at_start(tmp_path: Path) -> None:
    from bot import create_app
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="TWILIO_FROM_NUMBER"):
        create_app({"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "x",
                    "INSTANCE_PATH": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1/0"})


@pytest.mark.parametrize("public", [None, ""])
def test_a_twilio_token_without_a_public_address_is_refused_at_start(
    tmp_path: Path, public: str | None
) -> None:
    from bot import create_app
    from bot.config import ConfigError

    # Without PUBLIC_BASE_URL, signatures would be checked over the request's own Host.
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        create_app({"TWILIO_AUTH_TOKEN": "a-real-token", "PUBLIC_BASE_URL": public,
                    "INSTANCE_PATH": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1/0"})


def test_triage_starts_without_the_console_redis_or_flask() -> None:
    # `supportline triage` is piped thousands of messages by scripts; it should not pay
    # for the nurse console, password hashing or the web app it never uses.
    code = (
        "import sys; from bot.cli.main import main\n"
        "main(['triage', 'temp 38.5 and shivery', '--json'], standalone_mode=False)\n"
        "heavy = ('bot.console', 'textstat', 'flask', 'redis', 'werkzeug.security')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    first, loaded = done.stdout.splitlines()
    assert json.loads(first)["level"] == "urgent"
    assert loaded == "[]"
