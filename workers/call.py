"""The send job's call path: one reminder as a phone call, placed at most once per attempt."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from bot.masking import mask
from bot.outbound import calls, scheduling, twilio_codes
from bot.outbound.appointments import Appointment, mark_invalid
from bot.outbound.dialler import Dialler, dialler_for
from bot.outbound.texts import Reminder, advance, claim, release
from bot.outbound.transport import SendError
from bot.store import stats
from bot.store.ratelimit import wait_for_slot

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The API asked us to try again later; RQ retries the job."""


@dataclass(frozen=True)
class Caller:
    """What placing a reminder call needs: the dialler, the calling rules, our address."""

    dialler: Dialler
    rules: calls.Rules
    base_url: str  # where Twilio asks what to say; empty on the local stack (simulator)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], r: redis.Redis) -> Caller:
        """The deployment's dialler and rules."""
        return cls(dialler_for(settings, r), calls.Rules.from_settings(settings),
                   str(settings.get("PUBLIC_BASE_URL") or "").rstrip("/"))

    def urls(self, rem: Reminder, attempt: int) -> tuple[str, str]:
        """The call's TwiML address and its status callback, naming reminder and attempt."""
        query = f"?r={rem.id}&a={attempt}"
        return (f"{self.base_url}/reminders/call{query}",
                f"{self.base_url}/reminders/call/status{query}")


def deliver_call(
    r: redis.Redis, rem: Reminder, appt: Appointment, now: datetime, caller: Caller, *,
    sender: str = "default", per_second: float = 0.0, final_attempt: bool = True,
) -> str:
    """Ring the patient about `appt` if calling hours allow; returns what became of it.

    Claimed first, as a text is: a worker that dies after the claim leaves it "sending",
    and the sweep marks it for a nurse rather than ringing again blind.
    """
    rules = caller.rules
    if not rules.may_ring(now):
        return _hold(r, rem, rules.next_open(now))
    if claim(r, rem, now) != "claimed":
        return str(r.hget(rem.key, "status") or "missing")  # another worker has it
    attempt = rem.attempts + 1  # the claim counted this one
    url, status_url = caller.urls(rem, attempt)
    wait_for_slot(r, sender, per_second)  # texts and calls share the account's rate
    try:
        sent = caller.dialler.place(rem.to, url, status_url)
    except SendError as exc:
        log.warning("reminder call %s to %s not placed: %s", rem.id, mask(rem.to), exc)
        return _failed(r, rem, exc, final_attempt)
    status = calls.placed(r, rem, attempt, sent.sid, now)
    stats.message(r, now, "out", "voice")
    log.info("reminder %s: call %s placed to %s (attempt %d)", rem.id, sent.sid[-6:],
             mask(rem.to), attempt)
    return "sent" if status == "sent" else status


def _failed(r: redis.Redis, rem: Reminder, exc: SendError, final: bool) -> str:
    if exc.code in twilio_codes.UNREACHABLE:
        reason = f"Twilio cannot call this number (error {exc.code})"
        mark_invalid(r, rem.to, reason)
        return advance(r, rem.id, "failed", reason)
    if exc.retryable and not final:
        release(r, rem.id, str(exc))
        raise RetryLater(str(exc)) from exc
    return advance(r, rem.id, "failed", str(exc))


def _hold(r: redis.Redis, rem: Reminder, until: datetime) -> str:
    """Put a reminder call due outside calling hours back on the scheduler for them."""
    expired = scheduling.hold(
        r, rem, until, "no calling hours were left before it stopped being useful"
    )
    if expired is not None:
        return expired
    log.info("reminder call %s came due outside calling hours: held until %s", rem.id,
             rem.send_at)
    return "held"
