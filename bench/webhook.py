"""Benchmark POST /sms under gunicorn (one sync worker) against a floor app, same Redis.

Prints requests per second and p50/p99 latency for both, and the ratio. Targets: at least
0.8 times the floor's throughput, p99 at most 25 ms.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import (  # noqa: E402
    BASE,
    ROOT,
    TOKEN,
    Figures,
    add_round_args,
    bench_redis,
    load,
    run_rounds,
)


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
    add_round_args(parser)
    args = parser.parse_args()
    texts = messages()

    def measure(port: int) -> Figures:
        load(port, "/sms", TOKEN, BASE, texts, 200, 1)  # warm up
        return load(port, "/sms", TOKEN, BASE, texts, args.requests, args.concurrency)

    with bench_redis("bench-") as (_, env, where):
        comparison = run_rounds("bench.floor_app:create_floor_app()", env, args.rounds, measure)
    print(
        f"POST /sms: {args.requests} signed requests x {args.rounds} rounds "
        f"(best of each shown), concurrency {args.concurrency}, "
        f"gunicorn 1 sync worker, Redis {where}"
    )
    for line in comparison.report():
        print(line)


if __name__ == "__main__":
    main()
