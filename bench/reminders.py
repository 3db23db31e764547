"""Benchmark the reminder pipeline: scheduling, memory per pending reminder, sending.

1. Schedule 100,000 reminders (CT scans, three reminders each) into a fresh Redis through
   the same code as `campaign import`; report reminders per second and the Redis bytes
   per pending reminder (everything: reminder, appointment, patient, RQ job, registry).
2. Make 10,000 of a campaign's reminders due and send them with one `SendWorker`, then
   with two, each in its own process, through the Twilio stand-in answering in about
   5 ms; report messages per second, worker CPU and Redis commands per send, and Redis
   bytes per reminder while waiting and for the day after it is sent.

Targets: at least 5,000 scheduled per second; at most 1 KB of Redis per pending reminder
and per reminder sent within a day; at most 30 Redis commands per send; at least 120
sends per second per worker, and a second worker adding at least 80% of the first.

Memory, measured (`bench/reminders.py --reminders 30000 --send 6000`, embedded Redis 6.2):
before issue 16's memory step a sent reminder held 1,475 to 1,484 bytes for the day after
(its history entry ~440, the reminder hash ~445, `sid:<MessageSid>` 117, the patient's
appointment set 85, the appointment 119, `awaiting:` 51) and a pending one 1,002 to 1,050.
With short field names and epoch times (store/hashes), the appointment's reminder ids as
a count, the patient's appointments as fields of its hash, compact history entries and no
`sid:` key when the delivery report address names the reminder: sent 787 to 799 bytes
(history ~308, reminder ~283, appointment 68, patient 29, awaiting 25), pending 718 to 793
(RQ's job 294, reminder ~226, appointment 68, RQ's queue or registry 12 to 30, patient 29).

Sending (`--reminders 3000 --send 6000`, the 5 ms stand-in, a shared and busy 2-core
machine): worker CPU 3.71 to 4.11 ms a send before Twilio's client posted through urllib3
directly, 3.07 to 3.18 ms after (the client alone, 2,000 sends in a
loop: 1.09-1.13 ms, now 0.55-0.58 ms); one worker 61 to 96 sends a second before and
91 after, two 133 to 152; 26.1 Redis commands a send. What remains of a send's time is
round trips: the stand-in's 5 ms, RQ's dequeue and finish, and seven of our own.

Round trips cut (the same command, 3 or 4 runs each, the last on main before the change
as a baseline; one run of the baseline shared the machine with a profiler): a send was 7
Redis round trips (LMOVE, the job's HGETALL, the reminder's HGETALL, the facts pipeline,
the claim, the record script, RQ's finish pipeline) and is 4 (workers/worker.py: the
last job's finish, LMOVE and the job's HGETALL in one script; workers/send.py: the
reminder and its facts in one script; the claim; the record), and the settings are read
once per process. Worker CPU a send: 2.96 to 4.15 ms before, 2.05 to 2.30 after (two
workers: 2.92 to 4.08, now 1.95 to 2.28); one worker 75 to 105 sends a second before,
115 to 119 after; two 149 to 208 before, 220 to 237 after (a second worker adds 70 to
99% before, 89 to 101% after). Redis commands a send: 26.1 before, 28.0 after (INFO
counts the two new scripts' EVALSHA as well as the commands inside them). What remains:
the stand-in's 5 ms and the HTTP exchange (about half the worker's samples under
py-spy), four Redis round trips (the claim could join the read only by repeating the
decision to send in Lua), and building the text (about 3%).

The read and the claim in one script (the facts that decide a send judged in Lua as well,
the Python checks still deciding what is done): a send is 3 round trips (MONITOR: 3.01
scripts a send, was 4.01) and 26.0 to 26.1 Redis commands, was 28.0 to 28.1 (29.1 with
the sender's rate limit on, was 31.1). Worker CPU a send swung from 1.45 to 2.7 ms for
the same code within two hours on this machine, so it was counted in instructions too
(callgrind, one worker, 400 sends less 100): 4.05 million a send, was 4.12 million.
Three runs each, interleaved with the code before, nothing else running: one worker 109
to 119 sends a second (before 114 to 118), two 212 to 224 (before 171 to 218); under a
load of 1.2 to 6.1 from other test suites: 96 to 118 and 144 to 228 (before 79 to 125
and 134 to 181). What remains, of the worker loop's samples holding the GIL (py-spy):
Twilio's helper and HTTP 45%, the three scripts' calls 21%, building the records 5%, the
words 5%, RQ's job object 4%, reading the records 3%.


Send threads (issue 16, session 10): a worker runs SEND_THREADS send jobs at once (default
8), one's wait on the stand-in overlapping another's work. `--threads 1` and `--threads 8`,
five runs each, interleaved, load 0.7 to 2.1: one thread, one worker 122 to 130 sends a
second (CPU 1.66 to 1.99 ms a send), two 244 to 262, a second adding 91 to 105%; eight
threads, one worker 412 to 517 (CPU 1.78 to 2.13 ms), two 633 to 783, a second adding 36
to 81% with the machine's two processors 91% busy (workers, Redis and the stand-in).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402

from bot import config  # noqa: E402
from bot.dev.embedded import EmbeddedRedis  # noqa: E402
from bot.outbound import campaigns, importer, scheduling  # noqa: E402
from bot.outbound.texts import Reminder  # noqa: E402
from bot.store.client import connect  # noqa: E402
from tests.support.twilio_standin import StandinProcess  # noqa: E402

TZ = ZoneInfo("Europe/London")
CALLING = config.calling({})
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
    checked = importer.check(data, TZ, now, QUIET, calling=CALLING)
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
          f"(all records and RQ's job; target <= 1,024)")
    return made.reminders


def commandstats(r: redis.Redis) -> dict[str, int]:
    """Calls per command since Redis started (commands run inside scripts included)."""
    return {k: int(v["calls"]) for k, v in r.info("commandstats").items()}


def calls_since(r: redis.Redis, before: dict[str, int]) -> dict[str, int]:
    """Calls per command since `before` (this INFO call itself left out)."""
    after = commandstats(r)
    diff = {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0)}
    diff["cmdstat_info"] = diff.get("cmdstat_info", 0) - 1
    return {k: n for k, n in diff.items() if n}


def queue_due(r: redis.Redis, count: int) -> list[str]:
    """Import a campaign of CT scans as `campaign import` does, then make `count` of its
    reminders due now and queue them as the scheduler would; returns their ids."""
    now = datetime.now(UTC)
    data = csv_text(count // 3 + 1, now.astimezone(TZ).date())
    checked = importer.check(data, TZ, now, QUIET, calling=CALLING)
    assert checked.ok, checked.errors[:3]
    campaigns.create(r, "bench", checked.rows, now)
    ids = sorted(k.removeprefix("reminder:") for k in r.scan_iter("reminder:*", count=10_000))
    due = Reminder.fetch_many(r, ids[:count])
    q = scheduling.queue(r)
    p = q.connection.pipeline()
    scheduling.unschedule(r, due, pipeline=p)
    for rem in due:
        rem.send_at = now.isoformat()
        rem.save(p)
        job = scheduling.make_job(q, rem)
        job.save(pipeline=p)
        q.push_job_id(job.id, pipeline=p)
    p.execute()
    return [rem.id for rem in due]


def key_group(key: str) -> str:
    """A key's pattern in the key map: `reminder:*`, `patient:*:appointments`, `rq:job:*`."""
    parts = key.split(":")
    if parts[0] == "rq":
        return ":".join(parts[:2]) + ":*"
    if parts[0] in ("sms", "feed", "console") and len(parts) > 2:
        return ":".join(parts[:2]) + ":*"
    return parts[0] + ":*" + ("".join(f":{p}" for p in parts[2:] if not p.startswith("+"))
                              if len(parts) > 2 else "")


def memory_by_key(r: redis.Redis, per: int) -> str:
    """Redis's own MEMORY USAGE of every key, by pattern, per reminder: where the bytes are."""
    groups: dict[str, int] = {}
    for key in r.scan_iter(count=10_000):
        group = key_group(str(key))
        groups[group] = groups.get(group, 0) + int(r.memory_usage(key, samples=0) or 0)
    top = sorted(groups.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v / per:,.0f}" for k, v in top if v / per >= 0.5)


def quiet_hours_away_from_now() -> str:
    """An hour of quiet hours half a day away, so that the reminders go whenever this runs."""
    start = (datetime.now(UTC) + timedelta(hours=12)).astimezone(TZ)
    return f"{start:%H}:00-{(start + timedelta(hours=1)):%H}:00"


def machine_busy() -> tuple[float, float]:
    """CPU seconds this machine's processors have been busy, and all their seconds, so far
    (Linux's /proc/stat; zeros elsewhere)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle and waiting for I/O
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def run_workers(
    url: str, env: dict[str, str], workers: int, worker_class: str
) -> tuple[float, float, float]:
    """Run `workers` burst workers to the end of the queue: (wall seconds, their CPU seconds,
    the share of the machine's processors busy meanwhile, everything on it counted)."""
    cmd = [str(Path(sys.executable).parent / "rq"), "worker", "--burst", "--url", url,
           "--worker-class", worker_class, "--logging_level", "WARNING", "default"]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, all0 = machine_busy()
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) for _ in range(workers)]
    errors = [proc.communicate()[1] for proc in procs]
    elapsed = time.perf_counter() - t0
    busy1, all1 = machine_busy()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for proc, err in zip(procs, errors, strict=True):
        if proc.returncode != 0:
            print(err[-2000:])
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return elapsed, cpu, (busy1 - busy0) / (all1 - all0) if all1 > all0 else 0.0


def bench_send(r: redis.Redis, url: str, count: int, worker_class: str, workers: int = 1) -> float:
    """Queue `count` due reminders and time `workers` workers sending them through the stand-in.

    Prints messages per second, the workers' CPU per send (less a burst worker's start-up
    and exit with an empty queue), Redis commands per send from INFO commandstats (those a
    script runs included), and the Redis bytes per reminder of the whole campaign while it
    waits and for the day after it is sent (records, history, RQ's job and results).
    """
    r.flushdb()
    with StandinProcess(latency=0.005) as standin:
        # PUBLIC_BASE_URL as a deployment sets it: each text's delivery report address then
        # names its reminder (the stand-in sends no reports).
        env = {**os.environ, **standin.settings(), "REDIS_URL": url, "SMS_PER_SECOND": "0",
               "QUIET_HOURS": quiet_hours_away_from_now(),
               "PUBLIC_BASE_URL": "https://line.example.invalid"}
        _, idle_cpu, _ = run_workers(url, env, workers, worker_class)  # start-up and exit only
        r.flushdb()
        before_memory = used_memory(r)
        ids = queue_due(r, count)
        pending_memory = used_memory(r)
        pending_keys = memory_by_key(r, count)
        before = commandstats(r)
        elapsed, cpu, busy = run_workers(url, env, workers, worker_class)
        calls = calls_since(r, before)
        received = standin.stats()
    after_memory = used_memory(r)
    sent = sum(1 for x in Reminder.fetch_many(r, ids) if x.status == "sent")
    rate = sent / elapsed
    per_send = sum(calls.values()) / max(sent, 1)
    top = sorted(calls.items(), key=lambda kv: -kv[1])[:12]
    print(f"{workers} x {worker_class}: {sent}/{count} sent in {elapsed:.2f} s = {rate:,.0f} "
          f"messages/s ({rate / workers:,.0f} per worker; stand-in saw {received}; "
          f"target >= 120 per worker)")
    print(f"  SEND_THREADS {config.send_threads(env)}; the machine's {os.cpu_count()} "
          f"processors {100 * busy:.0f}% busy (the workers, Redis and the stand-in)")
    print(f"  worker CPU per send: {1000 * (cpu - idle_cpu) / max(sent, 1):.2f} ms "
          f"(start-up and exit, {idle_cpu:.2f} s, left out)")
    print(f"  Redis commands per send: {per_send:.1f} (target <= 30): "
          + ", ".join(f"{k.removeprefix('cmdstat_')} {n / max(sent, 1):.1f}" for k, n in top))
    print(f"  Redis bytes per reminder queued: {(pending_memory - before_memory) / count:,.0f}; "
          f"per reminder sent, for the day after: {(after_memory - before_memory) / count:,.0f} "
          f"(everything, the appointment and patient records included; target <= 1,024)")
    print(f"  by key while queued (MEMORY USAGE, bytes per reminder): {pending_keys}")
    print(f"  by key, sent: {memory_by_key(r, count)}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=10_000)
    parser.add_argument("--threads", type=int,
                        help="SEND_THREADS for the workers (default: the deployment's)")
    args = parser.parse_args()
    if args.threads is not None:
        os.environ["SEND_THREADS"] = str(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp))
        url = server.start()
        try:
            r = connect(url)
            if os.environ.get("LISTPACK"):
                r.config_set("hash-max-ziplist-value", os.environ["LISTPACK"])
            bench_schedule(r, args.reminders)
            worker = os.environ.get("WORKER", "workers.worker.SendWorker")
            one = bench_send(r, url, args.send, worker)
            two = bench_send(r, url, args.send, worker, workers=2)
            print(f"a second worker adds {100 * (two - one) / one:.0f}% of the first "
                  "(target >= 80%)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
