"""Matcher accuracy and triage recall / over-triage on every evaluation set, plus speed.

Sets: *_dev (rules were tuned on it), *_holdout (looked at after its first run, then used
for tuning too), *_fresh (written last by someone who never saw the rules).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.matcher import default_matcher  # noqa: E402
from flows.triage import assess  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = ("dev", "holdout", "fresh")


def rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, newline="") as f:
        return list(csv.DictReader(f))


def matcher_report() -> None:
    m = default_matcher()
    print("Question matcher (topic accuracy; aspect accuracy where the message asks one)")
    for s in SETS:
        data = rows(f"matcher_{s}.csv")
        start = time.perf_counter()
        got = [m.match(r["text"]) for r in data]
        per = (time.perf_counter() - start) / len(data) * 1e6
        topic = sum(g.topic == r["topic"] for g, r in zip(got, data, strict=True))
        asked = [(g, r) for g, r in zip(got, data, strict=True) if r["aspect"]]
        aspect = sum(g.topic == r["topic"] and g.aspect == r["aspect"] for g, r in asked)
        print(
            f"  {s:<8} topic {topic}/{len(data)} = {topic / len(data):6.1%}   "
            f"aspect {aspect}/{len(asked)} = {aspect / max(1, len(asked)):6.1%}   "
            f"{per:6.0f} us/message"
        )


def triage_report() -> None:
    print("Red-flag triage (recall of emergency+urgent; over-triage of ordinary messages)")
    for s in SETS:
        data = rows(f"triage_{s}.csv")
        start = time.perf_counter()
        got = [assess(r["text"]).level for r in data]
        per = (time.perf_counter() - start) / len(data) * 1e6
        red = [
            (g, r) for g, r in zip(got, data, strict=True) if r["level"] in ("emergency", "urgent")
        ]
        caught = sum(g in ("emergency", "urgent") for g, _ in red)
        ordinary = [(g, r) for g, r in zip(got, data, strict=True) if r["level"] == "none"]
        over = sum(g != "none" for g, _ in ordinary)
        exact = sum(g == r["level"] for g, r in zip(got, data, strict=True))
        print(
            f"  {s:<8} recall {caught}/{len(red)} = {caught / len(red):6.1%}   "
            f"over-triage {over}/{len(ordinary)} = {over / len(ordinary):5.1%}   "
            f"exact level {exact}/{len(data)}   {per:6.0f} us/message"
        )


if __name__ == "__main__":
    matcher_report()
    triage_report()
