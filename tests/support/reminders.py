"""Helpers for the reminder pipeline tests: records, a real RQ worker, signed status reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from flask.testing import FlaskClient
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bot import config
from bot.outbound import appointments, scheduling
from bot.outbound.appointments import Appointment, Patient
from bot.outbound.texts import Reminder, new_id
from bot.web.signatures import sign
from tests.support.base import PUBLIC_BASE_URL, TOKEN

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
QUIET = (time(21), time(8))
CALLING = config.calling({})  # the default calling hours and call price
STATUS_URL = f"{PUBLIC_BASE_URL}/sms/status"
BODY = "Appointment reminder\nYour CT scan is on Wed 25 Nov at 10am at Imaging. Reply C or R."


def drama(n: int) -> str:
    """An Ofcom drama number, +447700900000 to +447700900999: never a real person."""
    assert 0 <= n <= 999
    return f"+447700900{n:03d}"


def utc_now() -> datetime:
    """The real time, as the RQ send job and the CLI read it."""
    return datetime.now(UTC)


def make_reminder(
    r: redis.Redis,
    *,
    to: str,
    send_at: datetime,
    expires_at: datetime | None = None,
    body: str = BODY,
    kind: str = "ct_scan:day_before",
    appointment: str = "",
    campaign: str = "",
    schedule: bool = True,
) -> Reminder:
    """A reminder record, saved and (by default) on RQ's scheduler at its send_at."""
    rem = Reminder(
        id=new_id(),
        to=to,
        body=body,
        kind=kind,
        send_at=send_at.isoformat(),
        expires_at=(expires_at or send_at + timedelta(hours=6)).isoformat(),
        appointment=appointment,
        campaign=campaign,
        created_at=send_at.isoformat(),
    )
    rem.save(r)
    if schedule:
        scheduling.schedule(r, [rem])
    return rem


def make_appointment(
    r: redis.Redis,
    *,
    to: str,
    at: datetime,
    sends: list[datetime],
    test: str = "ct_scan",
    campaign: str = "",
    location: str = "Imaging, Level 2",
) -> tuple[Appointment, list[Reminder]]:
    """An appointment with hand-timed reminders (one per send time), stored and scheduled.

    Hand-timed so that tests driven by the real clock (the RQ job reads it) are exact.
    """
    appt = Appointment(
        id=new_id()[:12], patient=to, test=test, at=at.astimezone(UTC).isoformat(),
        location=location, campaign=campaign, created_at=utc_now().isoformat(),
    )
    rems = [
        Reminder(
            id=f"{appt.id}-{appt.version}-{n}", to=to,
            body=f"{BODY} ({n})", kind=f"{test}:r{n}", send_at=when.isoformat(),
            expires_at=(at - timedelta(hours=1)).isoformat(), appointment=appt.id,
            campaign=campaign, version=appt.version, created_at=utc_now().isoformat(),
        )
        for n, when in enumerate(sends, 1)
    ]
    p = scheduling.rq_connection(r).pipeline()
    p.hset(Patient.key_for(to), "id", to)
    appointments.store(appt, rems, p)
    scheduling.schedule(r, rems, pipeline=p)
    p.execute()
    return appt, rems


def book(
    r: redis.Redis,
    *,
    to: str,
    test: str,
    at: datetime,
    now: datetime,
    location: str = "Imaging, Level 2",
) -> tuple[Appointment, list[Reminder]]:
    """An appointment with its real plan's reminders, stored and scheduled as an import does."""
    appt = Appointment(
        id=new_id()[:12], patient=to, test=test, at=at.astimezone(UTC).isoformat(),
        location=location, created_at=now.isoformat(),
    )
    planned = appointments.make_plan(appt, LONDON, QUIET, now)
    rems = appointments.reminders_for(appt, planned, now)
    p = scheduling.rq_connection(r).pipeline()
    p.hset(Patient.key_for(to), "id", to)
    appointments.store(appt, rems, p)
    scheduling.schedule(r, rems, pipeline=p)
    p.execute()
    return appt, rems


def fetch(r: redis.Redis, rem: Reminder) -> Reminder:
    """The reminder as stored now."""
    found = Reminder.fetch(r, rem.id)
    assert found is not None, f"reminder {rem.id} is gone"
    return found


def statuses(r: redis.Redis, rems: list[Reminder]) -> list[str]:
    """Each reminder's stored status, in order."""
    return [fetch(r, x).status for x in rems]


def registry(r: redis.Redis) -> ScheduledJobRegistry:
    """RQ's registry of scheduled jobs for the send queue."""
    return ScheduledJobRegistry(queue=scheduling.queue(r))  # type: ignore[no-untyped-call]


def scheduled(r: redis.Redis) -> dict[str, datetime]:
    """Every job on RQ's scheduler and the UTC instant it is due, as RQ itself reads it."""
    reg = registry(r)
    return {job_id: reg.get_scheduled_time(job_id) for job_id in reg.get_job_ids()}


def job(r: redis.Redis, rem: Reminder) -> Job:
    """The RQ job that sends this reminder."""
    return Job.fetch(rem.job_id, connection=scheduling.rq_connection(r))


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its command channel, which a burst run never reads.

    Stopping that channel's listener races with its 60-second wait and often costs a
    second per run; nothing else about the worker changes.
    """

    def subscribe(self) -> None:
        """No remote commands in a burst run."""

    def unsubscribe(self) -> None:
        """Nothing was subscribed."""


def run_worker(r: redis.Redis, *, with_scheduler: bool = True) -> SimpleWorker:
    """One real RQ worker in this process, in burst mode: runs what is due, then stops.

    With the scheduler, due jobs on RQ's scheduler are moved to the queue first, as a
    deployed `rq worker --with-scheduler` does.
    """
    conn = scheduling.rq_connection(r)
    worker = BurstWorker([scheduling.queue(r)], connection=conn)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.work(burst=True, with_scheduler=with_scheduler, logging_level="WARNING")
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    return worker


def quiet_hours_away_from_now() -> str:
    """An hour of quiet hours half a day from now, as QUIET_HOURS.

    The worker runs on the real clock, and during the usual quiet hours (21:00 to 08:00)
    no reminder may go out at all; these tests watch one go out at whatever hour they run.
    Quiet hours themselves are tested with hours chosen around the present.
    """
    start = (datetime.now(UTC) + timedelta(hours=12)).astimezone(ZoneInfo("Europe/London"))
    return f"{start:%H}:00-{(start + timedelta(hours=1)):%H}:00"


def worker_env(monkeypatch: pytest.MonkeyPatch, redis_url: str, **settings: Any) -> None:
    """The environment the in-process send job reads its settings from (no Twilio by default)."""
    for key in config.KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC_BASE_URL)
    monkeypatch.setenv("SMS_PER_SECOND", "1000")
    monkeypatch.setenv("QUIET_HOURS", quiet_hours_away_from_now())
    for key, value in settings.items():
        monkeypatch.setenv(key, str(value))


def spawn_worker(
    redis_url: str, settings: Mapping[str, Any], burst: bool = True
) -> subprocess.Popen[bytes]:
    """`rq worker --burst --with-scheduler` as its own process, as the Procfile runs it
    (without --burst when told: then RQ forks its scheduler into a process of its own)."""
    env = {k: v for k, v in os.environ.items() if k not in config.KEYS}
    env["QUIET_HOURS"] = quiet_hours_away_from_now()
    env.update({k: str(v) for k, v in settings.items()})
    env.update({
        "REDIS_URL": redis_url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "PYTHONPATH": str(ROOT), "SMS_PER_SECOND": str(settings.get("SMS_PER_SECOND", 1000)),
    })
    rq = Path(sys.executable).parent / "rq"
    return subprocess.Popen(
        [str(rq), "worker", *(["--burst"] if burst else []), "--with-scheduler", "--url", redis_url,
         "--worker-class", "workers.worker.SendWorker", "--logging_level", "WARNING",
         scheduling.QUEUE],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def post_status(
    client: FlaskClient, form: dict[str, str], signature: str | None = None,
    url: str = STATUS_URL,
) -> int:
    """POST a delivery report to `url` (/sms/status, with any query the send gave it), signed
    as Twilio signs it unless told otherwise."""
    headers = {"X-Twilio-Signature": sign(TOKEN, url, form) if signature is None
               else signature}
    response = client.post(url.removeprefix(PUBLIC_BASE_URL), data=form,
                           base_url=PUBLIC_BASE_URL, headers=headers)
    return response.status_code


def report(sid: str, status: str, to: str, error_code: str = "") -> dict[str, str]:
    """A delivery report form as Twilio posts it."""
    form = {
        "MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
        "To": to, "From": drama(1), "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01",
    }
    if error_code:
        form["ErrorCode"] = error_code
    return form
