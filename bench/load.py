"""A small load generator for signed Twilio webhooks, shared by the webhook benchmarks."""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bot.dev.embedded import EmbeddedRedis  # noqa: E402

TOKEN = "bench-token-0123456789abcdef0123"  # signs the load; both apps are given it
BASE = "https://support.example.org"


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], port: int, workers: int = 1) -> Iterator[None]:
    """Serve `app_spec` with gunicorn, sync workers (one unless told), on 127.0.0.1:port."""
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        env={**os.environ, **env},
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{app_spec} did not start")
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


@dataclass
class Figures:
    """What one load run measured."""

    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self, name: str) -> str:
        return (
            f"{name:<10} {self.rps:8.1f} req/s   p50 {self.pct(0.50):6.2f} ms   "
            f"p99 {self.pct(0.99):6.2f} ms   mean {statistics.mean(self.latencies_ms):6.2f} ms"
            f"   errors {self.errors}"
        )


def load(
    port: int,
    path: str,
    token: str,
    public_base: str,
    messages: list[str],
    total: int,
    concurrency: int,
) -> Figures:
    """POST `total` signed inbound texts from 1,000 numbers, `concurrency` at a time."""

    def one(i: int) -> list[Step]:
        form = {
            "From": f"+447700900{i % 1000:03d}",
            "To": "+447700900000",
            "Body": messages[i % len(messages)],
            "MessageSid": "SM" + uuid.uuid4().hex,
            "NumMedia": "0",
            "AccountSid": "AC" + "0" * 32,
        }
        return [(path, form)]

    return load_sequences(port, token, public_base, one, total, concurrency)


Step = tuple[str, dict[str, str]]  # a path (with any query) and the form fields to post


def load_sequences(
    port: int,
    token: str,
    public_base: str,
    sequence: Callable[[int], list[Step]],
    count: int,
    concurrency: int,
) -> Figures:
    """POST `count` sequences of signed requests (say, whole phone calls), `concurrency`
    sequences at a time; each sequence's requests go in order, one after another."""
    # Signed before the clock starts: on a 2-core machine the load generator shares the CPU
    # with gunicorn and Redis, and HMACs computed during the run would be measured too.
    validator = RequestValidator(token)
    prepared = [
        [
            (path, urlencode(form), validator.compute_signature(public_base + path, form))
            for path, form in sequence(n)
        ]
        for n in range(count)
    ]
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(prepared)

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                steps = next(counter, None)
            if steps is None:
                return
            for path, body, sig in steps:
                start = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request(
                    "POST",
                    path,
                    body,
                    {
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": sig,
                    },
                )
                resp = conn.getresponse()
                resp.read()
                conn.close()
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies.append(elapsed)
                    if resp.status not in (200, 204):
                        errors += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Figures(len(latencies), time.perf_counter() - start, latencies, errors)


@dataclass
class Comparison:
    """Alternating rounds of the floor and the app, kept in the order they ran."""

    rounds: list[tuple[Figures, Figures]]  # (floor, app), run one after the other

    def best(self, which: int) -> Figures:
        """The fastest round of the floor (0) or the app (1)."""
        return max((pair[which] for pair in self.rounds), key=lambda f: f.rps)

    def ratios(self) -> list[float]:
        """App over floor throughput for each pair of neighbouring rounds."""
        return [app.rps / floor.rps for floor, app in self.rounds]

    def ratio(self) -> float:
        """The median pair's ratio: a slow spell on the machine hits both halves of a pair,
        where the best floor round and the best app round may come from different spells."""
        return statistics.median(self.ratios())

    def report(self) -> list[str]:
        """The lines to print: both apps' best rounds, every pair's ratio, the verdict."""
        app = self.best(1)
        ratio, p99 = self.ratio(), app.pct(0.99)
        return [
            self.best(0).line("floor"),
            app.line("app"),
            "app/floor by round: " + " ".join(f"{r:.2f}" for r in self.ratios()),
            f"app/floor throughput {ratio:.2f} (median of rounds; best app over best floor "
            f"{app.rps / self.best(0).rps:.2f}; target >= 0.80: "
            f"{'met' if ratio >= 0.8 else 'MISSED'}); "
            f"app p99 {p99:.2f} ms (target <= 25: {'met' if p99 <= 25 else 'MISSED'})",
        ]


def add_round_args(parser: argparse.ArgumentParser) -> None:
    """The options both webhook benchmarks take."""
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="alternate floor and app this many times; compare each neighbouring pair",
    )


@contextmanager
def bench_redis(prefix: str) -> Iterator[tuple[str, dict[str, str], str]]:
    """REDIS_URL, else an embedded server for the run: its URL, the apps' environment,
    and how to name it in the report."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    url = os.environ.get("REDIS_URL")
    server = None
    if not url:
        server = EmbeddedRedis(tmp)
        url = server.start()
    env = {
        "REDIS_URL": url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": BASE,
        "INSTANCE_PATH": str(tmp),
        "PYTHONPATH": str(ROOT),
    }
    try:
        yield url, env, "embedded" if server else url
    finally:
        if server:
            server.stop()


def run_rounds(
    floor_spec: str, env: dict[str, str], rounds: int, measure: Callable[[int], Figures]
) -> Comparison:
    """Serve the floor then the app under gunicorn, `rounds` times, each on a clean Redis;
    alternating, so a burst of other work on the machine hits both halves of a pair."""
    pairs: list[tuple[Figures, Figures]] = []
    for _ in range(rounds):
        pair: list[Figures] = []
        for spec in (floor_spec, "bot:create_app()"):
            redis.Redis.from_url(env["REDIS_URL"]).flushdb()
            port = free_port()
            with gunicorn(spec, env, port):
                pair.append(measure(port))
        pairs.append((pair[0], pair[1]))
    return Comparison(pairs)
