"""A week of national load in simulated time: planned, scheduled and sent through the stand-in.

At --scale 1 this is 100 times national load: 100,000 appointments a day on average over a
week (700,000), booked as clinics book them: mostly Monday to Friday (Monday busiest,
little at the weekend), morning-heavy, in 5-minute slots from 08:00 to 17:55, with a mix of
tests (bloods and x-rays most, CT and MRI next, then ultrasound, bone scans, biopsies,
PET-CT). Each appointment day is one campaign, imported three days ahead of the first
of them through the same code as `campaign import`: rows checked and planned, texts spread
within the sending capacity counting the campaigns already scheduled, then stored and put
on RQ's scheduler.

Then a simulated clock runs from the imports to the last appointment. Each due reminder
goes through the send job's own `deliver` (re-reading everything, claiming it, writing
its words, sending through the Twilio stand-in answering in --latency seconds, recording
it) at the simulated moment the shared rate limit gives it: one send every 1/capacity
seconds of simulated time, capacity being --rate per sender times --senders (a Messaging
Service's pool). A reminder the limit cannot reach before its expiry is marked expired by
the send job, as it would be. Sends run one after another in this process, so "sends a
second" is real seconds of the send job's own work with no RQ worker around it.

Prints: reminders sent inside their window, expired for lack of capacity (target none),
worst lateness against the plan, the spread (how far texts moved from their usual moment
to fit), sends a second (real time), and Redis memory at the peak (everything pending).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from rq.registry import ScheduledJobRegistry  # noqa: E402

from bot import config  # noqa: E402
from bot.dev.embedded import EmbeddedRedis  # noqa: E402
from bot.outbound import campaigns, importer, scheduling  # noqa: E402
from bot.outbound.transport import transport_for  # noqa: E402
from bot.store.client import connect  # noqa: E402
from tests.support.twilio_standin import StandinProcess  # noqa: E402
from workers.send import deliver  # noqa: E402

TZ = ZoneInfo("Europe/London")
CALLING = config.calling({})
QUIET = (clock_time(21), clock_time(8))
PER_DAY_AT_SCALE_1 = 100_000
# Monday to Sunday: clinics book most early in the week and little at the weekend.
WEEKDAYS = (1.25, 1.2, 1.15, 1.15, 1.0, 0.17, 0.08)
# Share of each hour's 5-minute slots, 08:00 to 17:00: mornings are busiest.
HOURS = {8: 1.4, 9: 1.6, 10: 1.5, 11: 1.3, 12: 0.7, 13: 0.9, 14: 1.0, 15: 0.9, 16: 0.6, 17: 0.3}
TESTS = {"blood_tests": 0.34, "xray": 0.16, "ct_scan": 0.15, "mri_scan": 0.11,
         "liver_ultrasound": 0.08, "bone_scan": 0.06, "biopsy": 0.05, "pet_ct_scan": 0.05}
MONDAY = date(2027, 1, 11)  # an ordinary week: no bank holiday, no clock change
IMPORT_AT = datetime.combine(MONDAY - timedelta(days=4), clock_time(9), TZ)  # Thursday 9am
PROGRESS_EVERY = 50_000
NUMBERS = 1000  # Ofcom's drama range: +447700900000 to +447700900999


def bookings(scale: float, seed: int) -> dict[date, list[tuple[str, str, datetime]]]:
    """The week's appointments by day: (phone, test, local time), clustered like a clinic's."""
    rng = random.Random(seed)
    total = round(PER_DAY_AT_SCALE_1 * 7 * scale)
    days = [MONDAY + timedelta(days=d) for d in range(7)]
    slots = [(h, m) for h in HOURS for m in range(0, 60, 5)]
    slot_weights = [HOURS[h] for h, _ in slots]
    tests, test_weights = list(TESTS), list(TESTS.values())
    per_day = rng.choices(days, weights=WEEKDAYS, k=total)
    out: dict[date, list[tuple[str, str, datetime]]] = {d: [] for d in days}
    used: Counter[tuple[date, int, str]] = Counter()
    for day in sorted(per_day):
        n = rng.choices(range(len(slots)), weights=slot_weights)[0]
        test = rng.choices(tests, weights=test_weights)[0]
        # One appointment per number, test and time: the next slot when 1,000 share one.
        while used[(day, n, test)] >= NUMBERS:
            n = (n + 1) % len(slots)
        phone = f"+447700900{used[(day, n, test)]:03d}"
        used[(day, n, test)] += 1
        h, m = slots[n]
        out[day].append((phone, test, datetime.combine(day, clock_time(h, m), TZ)))
    return out


def csv_text(rows: list[tuple[str, str, datetime]]) -> str:
    lines = ["phone,test,appointment,location"]
    lines += [f"{p},{t},{at:%Y-%m-%d %H:%M},Outpatients" for p, t, at in rows]
    return "\n".join(lines) + "\n"


def import_week(r: redis.Redis, scale: float, per_second: float, seed: int) -> dict[str, float]:
    """One campaign per appointment day, each planned against those before it (per_second
    0: not spread, every text at its usual moment, as before the planner knew capacity)."""
    figures: Counter[str] = Counter()
    latest = timedelta(0)
    t0 = time.perf_counter()
    for day, rows in bookings(scale, seed).items():
        if not rows:
            continue
        checked = importer.check(csv_text(rows), TZ, IMPORT_AT, QUIET, calling=CALLING)
        assert checked.ok, checked.errors[:3]
        with campaigns.planning_lock(r):
            spread_rows, capacity = campaigns.spread(r, checked.rows, per_second, TZ, QUIET,
                                                     call_hours=CALLING.hours)
            made = campaigns.create(r, f"{day:%a %d %b}", spread_rows, IMPORT_AT)
        figures["appointments"] += len(rows)
        figures["reminders"] += made.reminders
        figures["moved"] += capacity.moved
        figures["over"] += len(capacity.over)
        latest = max(latest, capacity.latest)
        print(f"  {day:%a %d %b}: {len(rows):>7,} appointments, {made.reminders:>8,} reminders, "
              f"{capacity.moved:>7,} moved (at most "
              f"{round(capacity.latest / timedelta(minutes=1))} min), "
              f"{len(capacity.over):,} over capacity, busiest minute "
              f"{capacity.peak_per_minute:,}", flush=True)
    figures["seconds"] = time.perf_counter() - t0
    figures["latest_spread_minutes"] = latest / timedelta(minutes=1)
    return dict(figures)


def send_week(r: redis.Redis, per_second: float, latency: float) -> dict[str, float]:
    """Run the simulated clock: every due reminder through `deliver` at its limiter slot."""
    conn = scheduling.rq_connection(r)
    key = ScheduledJobRegistry(queue=scheduling.queue(r)).key  # type: ignore[no-untyped-call]
    gap = 1.0 / per_second
    outcome: Counter[str] = Counter()
    worst = 0.0
    per_second_seen: Counter[int] = Counter()
    busy = 0.0
    with StandinProcess(latency=latency) as standin:
        settings = standin.settings(TWILIO_MESSAGING_SERVICE_SID="MG" + "0" * 32)
        transport = transport_for(settings, r)
        clock = IMPORT_AT.astimezone(UTC).timestamp()
        free = clock  # the limiter's next free slot, in simulated seconds
        while True:
            first = conn.zrange(key, 0, 0, withscores=True)
            if not first:
                break
            clock = max(clock, float(first[0][1]))
            window = clock + 60.0
            due = conn.zrangebyscore(key, "-inf", window, withscores=True)
            for raw, score in due:
                job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
                at = max(float(score), free)
                if at >= window:
                    break  # the limiter has no slot left this minute: it waits, and is late
                conn.zrem(key, job_id)
                rid, _, version = job_id.removeprefix("reminder-").rpartition("-v")
                t0 = time.perf_counter()
                result = deliver(r, rid, int(version), transport,
                                 datetime.fromtimestamp(at, UTC), sender="pool",
                                 per_second=0, tz=TZ, quiet=QUIET)
                busy += time.perf_counter() - t0
                outcome[result] += 1
                done = sum(outcome.values())
                if done % PROGRESS_EVERY == 0:
                    # A week at 100 times takes hours: show how far it has gone.
                    print(f"  {done:,} sends by {datetime.fromtimestamp(at, TZ):%a %H:%M} "
                          f"simulated ({outcome['expired']:,} expired), "
                          f"{done / busy:,.0f} a second so far", flush=True)
                if result == "sent":
                    free = at + gap
                    worst = max(worst, at - float(score))
                    per_second_seen[int(at)] += 1
            clock = window
        received = standin.stats()
    return {"outcome": outcome, "worst": worst, "busy": busy,  # type: ignore[dict-item]
            "peak_second": max(per_second_seen.values(), default=0), "standin": received}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.02,
                        help="fraction of 100x national load (1 = 700,000 appointments)")
    parser.add_argument("--rate", type=float, default=10.0, help="texts a second per sender")
    parser.add_argument("--senders", type=int, default=3, help="numbers in the sender pool")
    parser.add_argument("--latency", type=float, default=0.005, help="stand-in answer time")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--no-send", action="store_true", help="plan and schedule only")
    parser.add_argument("--no-spread", action="store_true",
                        help="plan every text at its usual moment, to compare")
    args = parser.parse_args()
    per_second = args.rate * args.senders * args.scale
    print(f"{args.scale:g} x (100x national load): about "
          f"{round(PER_DAY_AT_SCALE_1 * 7 * args.scale):,} appointments in the week of "
          f"{MONDAY:%d %b %Y}; capacity {args.senders} senders x {args.rate:g}/s "
          f"scaled by {args.scale:g} = {per_second:g} texts/s")
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp))
        url = server.start()
        try:
            r = connect(url)
            before = int(r.info("memory")["used_memory"])
            week = import_week(r, args.scale, 0 if args.no_spread else per_second, args.seed)
            memory = r.info("memory")
            pending = week["reminders"]
            print(f"planned and scheduled {pending:,.0f} reminders for "
                  f"{week['appointments']:,.0f} appointments in {week['seconds']:.1f} s; "
                  f"{week['moved']:,.0f} moved to fit (at most "
                  f"{week['latest_spread_minutes']:.0f} min), {week['over']:,.0f} over capacity")
            print(f"Redis memory at the peak (all pending): "
                  f"{int(memory['used_memory']) / 2**20:,.0f} MiB, "
                  f"{(int(memory['used_memory']) - before) / pending:,.0f} bytes per reminder")
            if args.no_send:
                return
            t0 = time.perf_counter()
            sent = send_week(r, per_second, args.latency)
            elapsed = time.perf_counter() - t0
            outcome: Counter[str] = sent["outcome"]  # type: ignore[assignment]
            others = {k: v for k, v in outcome.items() if k not in ("sent", "expired")}
            print(f"sent inside their window: {outcome['sent']:,} of {pending:,.0f}; "
                  f"expired for lack of capacity: {outcome['expired']:,} (target 0); "
                  f"other outcomes: {others or 'none'}")
            print(f"worst lateness against the plan: {sent['worst']:.1f} s; busiest simulated "
                  f"second {sent['peak_second']} sends (limit {per_second:g})")
            print(f"sends a second (real time, send job only, one process): "
                  f"{outcome['sent'] / sent['busy']:,.0f}; whole simulated week "
                  f"{elapsed:,.0f} s; stand-in saw {sent['standin']}")
            peak = int(r.info("memory")["used_memory_peak"]) / 2**20
            print(f"Redis used_memory_peak over the whole run: {peak:,.0f} MiB")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
