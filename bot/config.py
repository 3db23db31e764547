"""Settings: environment variables, overridden by the mapping given to create_app."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

KEYS = (
    "REDIS_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_API_BASE_URL",
    "PUBLIC_BASE_URL",
    "SECRET_KEY",
    "CLINIC_TZ",
    "ACUTE_ONCOLOGY_NUMBER",
    "INSTANCE_PATH",
    "SMS_PER_SECOND",
    "SMS_SENDERS",
    "SEND_THREADS",
    "QUIET_HOURS",
    "TWILIO_TIMEOUT",
    "BANK_HOLIDAY_REGION",
    "REDIS_WEBHOOK_TIMEOUT",
    "REDIS_BREAKER_SECONDS",
    "RETENTION_DAYS",
    "NURSE_HOURS",
    "HL7_PORT",
    "FEED_TOKEN",
    "FEED_CODES",
    "FEED_CANCEL_TEXT",
    "CALL_HOURS",
    "CALL_ATTEMPTS",
    "CALL_RETRY_MINUTES",
    "CALL_PRICE_PER_MINUTE",
)
CLINIC_TZ = "Europe/London"
DEFAULTS: dict[str, Any] = {"CLINIC_TZ": CLINIC_TZ}
DEFAULT_PER_SECOND = 10.0  # Twilio's rate for a UK long code
# One at a time, a worker sends one text per round trip to Twilio's API: at 100 ms a round
# trip, 10 a second, one number's whole rate and nothing to spare.
SEND_THREADS = 8
DEV_TOKEN_FILE = "dev-auth-token"
CALL_HOURS = "10:00-19:00"  # a phone that rings at 8am is not like a text at 8am
CALL_ATTEMPTS = 3
CALL_RETRY_MINUTES = 60
CALL_PRICE_PER_MINUTE = 0.02  # a placeholder: set the account's own rate


def default_instance_path() -> Path:
    """Where local data lives: ./instance beside the project, or $INSTANCE_PATH."""
    return Path(os.environ.get("INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def load(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Environment variables named in KEYS, then `overrides`, over the defaults."""
    settings: dict[str, Any] = dict(DEFAULTS)
    settings.update({k: os.environ[k] for k in KEYS if os.environ.get(k)})
    settings.update(overrides or {})
    settings["INSTANCE_PATH"] = str(Path(settings.get("INSTANCE_PATH") or default_instance_path()))
    return settings


def dev_auth_token(instance_path: Path) -> str:
    """The local development token the app and the local tools sign webhooks with.

    With no Twilio account there is still a token, so signature checks stay on.
    """
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / DEV_TOKEN_FILE
    try:
        token = path.read_text().strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    token = secrets.token_hex(16)
    # Created with owner-only permissions: the token lets anyone post as Twilio.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def auth_token(settings: Mapping[str, Any]) -> str:
    """The token webhooks are validated with: Twilio's, or the local development one."""
    return str(settings.get("TWILIO_AUTH_TOKEN") or dev_auth_token(Path(settings["INSTANCE_PATH"])))


class ConfigError(ValueError):
    """The settings cannot work together."""


def check_web(settings: Mapping[str, Any]) -> None:
    """Refuse web settings that would weaken signature checks."""
    if settings.get("TWILIO_AUTH_TOKEN") and not settings.get("PUBLIC_BASE_URL"):
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is set but PUBLIC_BASE_URL is not: Twilio's signatures would "
            "be checked against whatever Host header a request brings. Set PUBLIC_BASE_URL "
            "to the https address configured in Twilio (e.g. https://line.example.nhs.uk)"
        )


def check(settings: Mapping[str, Any]) -> None:
    """Refuse settings that would only fail later, inside a webhook or a send job."""
    if settings.get("TWILIO_ACCOUNT_SID") and not settings.get("TWILIO_AUTH_TOKEN"):
        raise ConfigError("TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not")
    if settings.get("TWILIO_ACCOUNT_SID") and not (
        settings.get("TWILIO_FROM_NUMBER") or settings.get("TWILIO_MESSAGING_SERVICE_SID")
    ):
        raise ConfigError(
            "with a Twilio account, set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID "
            "so reminders have a sender"
        )
    if settings.get("NURSE_HOURS"):
        # Here, not at the top: `import bot` (the CLI's triage) loads no directory code.
        from flows.directory import parse_hours

        try:
            parse_hours(str(settings["NURSE_HOURS"]))
        except ValueError as exc:
            raise ConfigError(f"NURSE_HOURS: {exc}") from None
    for check_call in (call_hours, call_attempts, call_retry, call_price):
        try:
            check_call(settings)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    raw = settings.get("SMS_PER_SECOND")
    if raw not in (None, ""):
        try:
            if float(raw) < 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"SMS_PER_SECOND must be a number, 0 or more (not {raw!r})") from None
    send_threads(settings)
    raw = settings.get("SMS_SENDERS")
    if raw not in (None, ""):
        try:
            if int(raw) < 1:
                raise ValueError
        except ValueError:
            raise ConfigError(
                f"SMS_SENDERS must be a whole number, 1 or more (not {raw!r})"
            ) from None
        if (int(raw) > 1 and settings.get("TWILIO_ACCOUNT_SID")
                and not settings.get("TWILIO_MESSAGING_SERVICE_SID")):
            raise ConfigError(
                f"SMS_SENDERS is {raw} but texts go from the one number TWILIO_FROM_NUMBER: "
                "several senders need a Messaging Service (TWILIO_MESSAGING_SERVICE_SID) "
                "with that many numbers in its sender pool"
            )


def send_threads(settings: Mapping[str, Any]) -> int:
    """SEND_THREADS: send jobs a worker runs at once, each waiting on Twilio in its own
    thread (1: one after another)."""
    raw = settings.get("SEND_THREADS")
    if raw in (None, ""):
        return SEND_THREADS
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if not 1 <= threads <= 64:
        raise ConfigError(f"SEND_THREADS must be a whole number from 1 to 64 (not {raw!r})")
    return threads


def per_sender(settings: Mapping[str, Any]) -> float:
    """SMS_PER_SECOND: texts a second one sending number may send (0: no limit)."""
    raw = settings.get("SMS_PER_SECOND")
    return DEFAULT_PER_SECOND if raw in (None, "") else float(raw)


def senders(settings: Mapping[str, Any]) -> int:
    """SMS_SENDERS: the numbers sending at once (a Messaging Service's pool), 1 by default."""
    raw = settings.get("SMS_SENDERS")
    return 1 if raw in (None, "") else max(1, int(raw))


def send_capacity(settings: Mapping[str, Any]) -> float:
    """Texts a second the whole line may send: the rate per sender times the senders."""
    return per_sender(settings) * senders(settings)


def clinic_tz(settings: Mapping[str, Any]) -> ZoneInfo:
    """The clinic's time zone: CLINIC_TZ, else Europe/London."""
    return ZoneInfo(settings.get("CLINIC_TZ") or CLINIC_TZ)


def call_hours(settings: Mapping[str, Any]) -> tuple[time, time]:
    """CALL_HOURS as "10:00-19:00": when reminder calls may ring, on the clinic's clock."""
    raw = str(settings.get("CALL_HOURS") or CALL_HOURS)
    start, _, end = raw.partition("-")
    try:
        hours = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        raise ValueError(f"CALL_HOURS must look like 10:00-19:00 (not {raw!r})") from None
    if hours[0] >= hours[1]:
        raise ValueError(f"CALL_HOURS must start before it ends, within one day (not {raw!r})")
    return hours


def _number(settings: Mapping[str, Any], name: str, default: float, least: float) -> float:
    raw = settings.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = least - 1
    if value < least:
        raise ValueError(f"{name} must be a number, {least:g} or more (not {raw!r})")
    return value


def call_attempts(settings: Mapping[str, Any]) -> int:
    """CALL_ATTEMPTS: how many times a reminder call rings before it counts as unanswered."""
    return int(_number(settings, "CALL_ATTEMPTS", CALL_ATTEMPTS, 1))


def call_retry(settings: Mapping[str, Any]) -> float:
    """CALL_RETRY_MINUTES: the wait before ringing again after no answer or busy."""
    return _number(settings, "CALL_RETRY_MINUTES", CALL_RETRY_MINUTES, 1)


def call_price(settings: Mapping[str, Any]) -> float:
    """CALL_PRICE_PER_MINUTE: what a minute of a reminder call costs, for estimates."""
    return _number(settings, "CALL_PRICE_PER_MINUTE", CALL_PRICE_PER_MINUTE, 0)


@dataclass(frozen=True)
class Calling:
    """A deployment's terms for reminder calls: when they may ring and what a minute costs."""

    hours: tuple[time, time]
    price_per_minute: float
    price_set: bool  # False: CALL_PRICE_PER_MINUTE is unset, so the price is a placeholder


def calling(settings: Mapping[str, Any]) -> Calling:
    """CALL_HOURS and CALL_PRICE_PER_MINUTE: every planner and estimate reads them here."""
    return Calling(call_hours(settings), call_price(settings),
                   settings.get("CALL_PRICE_PER_MINUTE") not in (None, ""))
