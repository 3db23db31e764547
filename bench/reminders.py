"""Benchmark the reminder pipeline: scheduling, memory per pending reminder, sending.

1. Schedule 100,000 reminders (CT scans, three reminders each) into a fresh Redis through
   the same code as `campaign import`; report reminders per second and the Redis bytes
   per pending reminder (everything: reminder, appointment, patient, RQ job, registry).
2. Dispatch 10,000 due reminders with one RQ worker against the Twilio stand-in answering
   in about 5 ms, in its own process; report messages per second.

Targets: at least 5,000 scheduled per second, at most 1.5 KB per pending reminder, at
least 100 sent per second per worker.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import redis  # noqa: E402
from twilio_standin import StandinProcess  # noqa: E402

from bot import campaigns, importer, scheduling  # noqa: E402
from bot.embedded import EmbeddedRedis  # noqa: E402
from bot.reminders import Reminder  # noqa: E402
from bot.store import connect  # noqa: E402

TZ = ZoneInfo("Europe/London")
QUIET = (datetime.strptime("21:00", "%H:%M").time(), datetime.strptime("08:00", "%H:%M").time())


def csv_text(appointments: int, today: date) -> str:
    """A campaign file: drama numbers, CT scans spread over the coming weeks at 10:00."""
    lines = ["phone,test,appointment,location"]
    for i in range(appointments):
        # One appointment per number per day: 1,000 drama numbers, as many days as needed.
        day = today + timedelta(days=5 + i // 1000)
        lines.append(f"+447700900{i % 1000:03d},ct_scan,{day} {9 + i % 8:02d}:30,Clinic {i % 7}")
    return "\n".join(lines) + "\n"


def used_memory(r: redis.Redis) -> int:
    """Bytes Redis has allocated for data."""
    return int(r.info("memory")["used_memory"])


def bench_schedule(r: redis.Redis, reminders: int) -> int:
    """Check, plan and schedule; print rates and memory; return reminders scheduled."""
    now = datetime.now(UTC)
    data = csv_text(reminders // 3 + 1, now.astimezone(TZ).date())
    t0 = time.perf_counter()
    checked = importer.check(data, TZ, now, QUIET)
    t_check = time.perf_counter() - t0
    assert checked.ok, checked.errors[:3]
    planned = sum(len(row.plan.reminders) for row in checked.rows)
    r.flushdb()
    before = used_memory(r)
    t0 = time.perf_counter()
    made = campaigns.create(r, "bench", checked.rows, now)
    t_store = time.perf_counter() - t0
    after = used_memory(r)
    on_scheduler = scheduling.rq_connection(r).zcard("rq:scheduled:default")
    print(f"rows checked and planned: {len(checked.rows)} in {t_check:.2f} s "
          f"({len(checked.rows) / t_check:,.0f} rows/s, {planned / t_check:,.0f} reminders/s)")
    print(f"reminders stored and scheduled: {made.reminders} in {t_store:.2f} s "
          f"= {made.reminders / t_store:,.0f} reminders/s (target >= 5,000)")
    print(f"on RQ's scheduler: {on_scheduler}")
    print(f"Redis memory per pending reminder: {(after - before) / made.reminders:,.0f} bytes "
          f"(all records and RQ's job; target <= 1,536)")
    return made.reminders


def bench_send(r: redis.Redis, url: str, count: int, worker_class: str) -> float:
    """Queue `count` due reminders and time one worker sending them through the stand-in."""
    r.flushdb()
    now = datetime.now(UTC)
    q = scheduling.queue(r)
    p = q.connection.pipeline()
    for i in range(count):
        rem = Reminder(
            id=f"bench{i}", to=f"+447700900{i % 1000:03d}", body="Appointment reminder\nbench",
            kind="message", send_at=now.isoformat(),
            expires_at=(now + timedelta(hours=1)).isoformat(), created_at=now.isoformat(),
        )
        rem.save(p)
        job = scheduling.make_job(q, rem)
        job.save(pipeline=p)
        q.push_job_id(job.id, pipeline=p)
    p.execute()
    with StandinProcess(latency=0.005) as standin:
        env = {**os.environ, **standin.settings(), "REDIS_URL": url, "SMS_PER_SECOND": "0"}
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "rq"), "worker", "--burst", "--url", url,
             "--worker-class", worker_class, "--logging_level", "WARNING", "default"],
            env=env, capture_output=True, text=True,
        )
        elapsed = time.perf_counter() - t0
        received = standin.stats()
    sent = sum(1 for x in Reminder.fetch_many(r, [f"bench{i}" for i in range(count)])
               if x.status == "sent")
    if proc.returncode != 0 or sent != count:
        print(proc.stderr[-2000:])
    rate = sent / elapsed
    print(f"{worker_class}: {sent}/{count} sent in {elapsed:.2f} s = {rate:,.0f} messages/s "
          f"per worker (stand-in saw {received}; target >= 100)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp))
        url = server.start()
        try:
            r = connect(url)
            if os.environ.get("LISTPACK"):
                r.config_set("hash-max-ziplist-value", os.environ["LISTPACK"])
            bench_schedule(r, args.reminders)
            bench_send(r, url, args.send, os.environ.get("WORKER", "workers.worker.SendWorker"))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
