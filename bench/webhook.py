"""Benchmark POST /sms under gunicorn (one sync worker) against a floor app, same Redis.

Prints requests per second and p50/p99 latency for both, and the ratio. Targets: at least
0.8 times the floor's throughput, p99 at most 25 ms.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402

from bench.load import ROOT, Comparison, Figures, free_port, gunicorn, load  # noqa: E402
from bot.embedded import EmbeddedRedis  # noqa: E402

TOKEN = "bench-token-0123456789abcdef0123"
BASE = "https://support.example.org"


def messages() -> list[str]:
    """Realistic texts: the evaluation sets' questions and warning signs, and menu replies."""
    out: list[str] = []
    for name in ("matcher_dev.csv", "triage_dev.csv"):
        with open(ROOT / "tests" / "data" / name, newline="") as f:
            out.extend(row["text"] for row in csv.DictReader(f))
    return out + ["1", "2", "MENU", "MORE", "BACK", "hi"] * 20


def main() -> None:
    """Run both apps in turn and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="alternate floor and app this many times; report the best round of each",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    server = None
    url = os.environ.get("REDIS_URL")
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
    texts = messages()
    rounds: list[tuple[Figures, Figures]] = []
    try:
        # Alternating rounds, compared pair by pair, so a burst of other work on the
        # machine does not decide the comparison.
        for _ in range(args.rounds):
            pair: list[Figures] = []
            for spec in ("bench.floor_app:create_floor_app()", "bot:create_app()"):
                redis.Redis.from_url(url).flushdb()
                port = free_port()
                with gunicorn(spec, env, port):
                    load(port, "/sms", TOKEN, BASE, texts, 200, 1)  # warm up
                    figures = load(
                        port, "/sms", TOKEN, BASE, texts, args.requests, args.concurrency
                    )
                pair.append(figures)
            rounds.append((pair[0], pair[1]))
    finally:
        if server:
            server.stop()
    print(
        f"POST /sms: {args.requests} signed requests x {args.rounds} rounds (best of each shown), "
        f"concurrency {args.concurrency}, "
        f"gunicorn 1 sync worker, Redis {'embedded' if server else url}"
    )
    for line in Comparison(rounds).report():
        print(line)

if __name__ == "__main__":
    main()
