"""Benchmark the HL7 feed: SIU messages applied per second through MLLP, one listener process.

The listener is `supportline feed hl7` in its own process, as the Procfile runs it, on a
fresh embedded Redis (or REDIS_URL with --redis-url). One client sends realistic SIU
messages over one MLLP connection and waits for each ACK before the next, as an
integration engine does: a mix of new bookings (S12), moves (S13) and cancellations (S15)
for drama numbers. Every ACK must be AA. Prints messages per second and ACK latency.

Target: at least 200 messages applied per second on one process.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hl7.client import MLLPClient  # noqa: E402

from bot.dev.embedded import EmbeddedRedis  # noqa: E402
from tests.support.feed import CODES, siu  # noqa: E402

LONDON = ZoneInfo("Europe/London")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def messages(count: int, now: datetime) -> list[str]:
    """Bookings, then for every fourth a move and for every tenth a cancellation."""
    out: list[str] = []
    made = now
    for i in range(count):
        day = (now + timedelta(days=4 + i % 20)).astimezone(LONDON).replace(
            hour=9 + i % 8, minute=(i * 5) % 60, second=0, microsecond=0)
        appt = f"B{i:06d}"
        kind = i % 10
        made += timedelta(milliseconds=1)
        if kind in (0, 1, 2, 3, 4, 5, 6):
            out.append(str(siu("S12", f"C{i:07d}", appt, start=day, made=made,
                               mobile=f"+447700900{i % 1000:03d}")))
        elif kind in (7, 8):
            out.append(str(siu("S13", f"C{i:07d}", f"B{i - 5:06d}", start=day, made=made,
                               mobile=f"+447700900{(i - 5) % 1000:03d}")))
        else:
            out.append(str(siu("S15", f"C{i:07d}", f"B{i - 3:06d}", start=day, made=made,
                               mobile=f"+447700900{(i - 3) % 1000:03d}", status="Cancelled")))
    return out


def run(count: int, redis_url: str, instance: Path) -> tuple[float, float, float]:
    """Start the listener, send `count` messages, return (per second, p50 ms, p99 ms)."""
    (instance / "feed-codes.yaml").write_text(CODES)
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "INSTANCE_PATH": str(instance),
           "HL7_PORT": str(port), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "supportline"), "feed", "hl7",
                             "--host", "127.0.0.1"], env=env, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()
        assert "Listening" in line, line
        batch = messages(count, datetime.now(UTC))
        times = []
        with MLLPClient("127.0.0.1", port) as client:
            t0 = time.perf_counter()
            for text in batch:
                t = time.perf_counter()
                reply = client.send_message(text).decode()
                times.append(time.perf_counter() - t)
                assert "MSA|AA|" in reply, reply
            elapsed = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(10)
    times.sort()
    return count / elapsed, times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = args.redis_url
        if not url:
            server = EmbeddedRedis(Path(tmp) / "redis")
            url = server.start()
        try:
            import redis

            for n in range(1, args.rounds + 1):
                redis.Redis.from_url(url).flushdb()
                rate, p50, p99 = run(args.messages, url, Path(tmp))
                print(f"round {n}: {args.messages} SIU messages applied at {rate:,.0f}/s "
                      f"(target 200); ACK p50 {p50:.2f} ms, p99 {p99:.2f} ms", flush=True)
        finally:
            if server:
                server.stop()


if __name__ == "__main__":
    main()
