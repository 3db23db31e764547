"""Matcher, answer and triage figures on every evaluation set, plus speed.

Matcher sets: *_dev (keywords were tuned on it), *_holdout, *_fresh (written blind).
Triage sets: triage_dev, triage_holdout, triage_fresh (earlier sessions), then the blind
batches triage_b<N>_w<M>.csv (writer M of batch N, written by someone who saw only the
category list and the leaflets; their first-sight figures are in tests/data/BATCHES.md).

Answer sets: questions_*.csv and conversations_*.jsonl, scored by bench/answers.py.

`python bench/accuracy.py triage FILE...` reports on the named files only (first sight of
a new batch); `python bench/accuracy.py answers` the answer sets alone; `--misses` lists
every message assessed below its label or lacking a fact.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.answers import report as answers_report  # noqa: E402
from flows.matcher import default_matcher  # noqa: E402
from flows.triage import LEVELS, RANK, assess  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = ("dev", "holdout", "fresh")
SERIOUS = ("emergency", "urgent")


def rows(name: str | Path) -> list[dict[str, str]]:
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def triage_files() -> list[Path]:
    """Every triage evaluation set: the three older ones, then the blind batches in order."""
    older = [DATA / f"triage_{s}.csv" for s in SETS]
    return older + sorted(DATA.glob("triage_b*_w*.csv"))


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
        # These sets were labelled with the four menu aspects; a more particular answer
        # ("eat_drink" for an eating question labelled "prepare") counts as its menu aspect.
        aspect = sum(
            g.topic == r["topic"] and r["aspect"] in (g.aspect, m.broad(g.topic, g.aspect))
            for g, r in asked
        )
        print(
            f"  {s:<8} topic {topic}/{len(data)} = {topic / len(data):6.1%}   "
            f"aspect {aspect}/{len(asked)} = {aspect / max(1, len(asked)):6.1%}   "
            f"{per:6.0f} us/message"
        )


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {n / d:6.1%}" if d else "  -  "


def figures(pairs: list[tuple[str, dict[str, str]]]) -> dict[str, tuple[int, int]]:
    """The headline figures for (assessed level, row) pairs: name -> (hits, total)."""
    serious = [(g, r) for g, r in pairs if r["level"] in SERIOUS]
    emergency = [(g, r) for g, r in pairs if r["level"] == "emergency"]
    same_day = [(g, r) for g, r in pairs if r["level"] == "same_day"]
    signs = [(g, r) for g, r in pairs if r["level"] != "none"]
    ordinary = [(g, r) for g, r in pairs if r["level"] == "none"]
    return {
        "emergency+urgent at least urgent": (
            sum(g in SERIOUS for g, _ in serious), len(serious)),
        "emergency given emergency": (sum(g == "emergency" for g, _ in emergency), len(emergency)),
        "same_day at least same_day": (sum(g != "none" for g, _ in same_day), len(same_day)),
        "warning signs given none": (sum(g == "none" for g, _ in signs), len(signs)),
        "ordinary over-triaged": (sum(g != "none" for g, _ in ordinary), len(ordinary)),
        "exact level": (sum(g == r["level"] for g, r in pairs), len(pairs)),
    }


def triage_report(files: list[Path], misses: bool = False, detail: bool = True) -> None:
    print("Red-flag triage")
    everything: list[tuple[str, dict[str, str]]] = []
    blind: list[tuple[str, dict[str, str]]] = []
    for path in files:
        data = rows(path)
        start = time.perf_counter()
        got = [assess(r["text"]).level for r in data]
        per = (time.perf_counter() - start) / len(data) * 1e6
        pairs = list(zip(got, data, strict=True))
        everything += pairs
        if path.name.startswith("triage_b"):
            blind += pairs
        f = figures(pairs)
        print(
            f"  {path.stem[7:]:<8} recall {_pct(*f['emergency+urgent at least urgent'])}   "
            f"emergency {_pct(*f['emergency given emergency'])}   "
            f"same_day {_pct(*f['same_day at least same_day'])}   "
            f"over-triage {_pct(*f['ordinary over-triaged'])}   {per:5.0f} us/msg"
        )
    for title, pairs in (("all blind batches", blind), ("every set", everything)):
        if not pairs or (title == "every set" and len(pairs) == len(blind)):
            continue
        print(f"\n  {title} ({len(pairs)} messages)")
        for name, (hit, total) in figures(pairs).items():
            print(f"    {name:<34} {_pct(hit, total)}")
    if detail and blind:
        _per_category(blind)
        _confusion(blind)
    if misses:
        _misses(everything)


def _per_category(pairs: list[tuple[str, dict[str, str]]]) -> None:
    """Recall of warning signs by category; over-triage of ordinary messages by pattern."""
    by_cat: dict[str, list[tuple[str, dict[str, str]]]] = defaultdict(list)
    for g, r in pairs:
        by_cat[r.get("category") or "?"].append((g, r))
    print("\n  warning signs by category (at least the labelled level; any warning at all)")
    signs = {c: v for c, v in by_cat.items() if any(r["level"] != "none" for _, r in v)}
    for cat in sorted(signs, key=lambda c: _rate(signs[c])):
        v = [(g, r) for g, r in signs[cat] if r["level"] != "none"]
        enough = sum(RANK[g] <= RANK[r["level"]] for g, r in v)
        anything = sum(g != "none" for g, _ in v)
        rate = f"{enough:>3}/{len(v):<3} {enough / len(v):6.1%}"
        print(f"    {cat:<24} {rate}   any {anything}/{len(v)}")
    print("\n  ordinary messages by pattern (over-triaged)")
    for cat, v in sorted(by_cat.items()):
        v = [(g, r) for g, r in v if r["level"] == "none"]
        if v:
            over = sum(g != "none" for g, _ in v)
            print(f"    {cat:<24} {over:>3}/{len(v):<3} {over / len(v):6.1%}")


def _rate(v: list[tuple[str, dict[str, str]]]) -> float:
    signs = [(g, r) for g, r in v if r["level"] != "none"]
    return sum(RANK[g] <= RANK[r["level"]] for g, r in signs) / max(1, len(signs))


def _confusion(pairs: list[tuple[str, dict[str, str]]]) -> None:
    counts = Counter((r["level"], g) for g, r in pairs)
    print("\n  confusion (rows: label, columns: assessed)")
    print("    " + " " * 10 + "".join(f"{lv:>11}" for lv in LEVELS))
    for label in LEVELS:
        print(f"    {label:<10}" + "".join(f"{counts[(label, g)]:>11}" for g in LEVELS))


def _misses(pairs: list[tuple[str, dict[str, str]]]) -> None:
    print("\n  assessed below the label, or ordinary messages flagged")
    for g, r in pairs:
        if RANK[g] > RANK[r["level"]] or (r["level"] == "none" and g != "none"):
            print(f"    [{r['level']:>9} -> {g:<9}] {r.get('category', ''):<20} {r['text']!r}")


def speed_report() -> None:
    """Time per message through triage alone and through the whole engine step."""
    from datetime import UTC, datetime

    from flows.conversation import Conversation
    from flows.engine import Context, step

    texts = [r["text"] for path in triage_files() for r in rows(path)]
    texts += [r["text"] for s in SETS for r in rows(f"matcher_{s}.csv")]
    ctx = Context.default(now=datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    print(f"\nTime per message ({len(texts)} messages, each pass in a new order)")
    for name, run in (
        ("triage", lambda t: assess(t)),
        ("engine step", lambda t: step(Conversation(), t, ctx)),
    ):
        for label in ("first pass", "third pass"):
            times = []
            for t in texts:
                start = time.perf_counter()
                run(t)
                times.append((time.perf_counter() - start) * 1e6)
            times.sort()
            p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
            print(f"  {name:<12} {label}: p50 {p50:5.0f} us   p99 {p99:6.0f} us   "
                  f"max {times[-1]:6.0f} us")
            if label == "first pass":
                texts = texts[1::2] + texts[::2]
                for t in texts:
                    run(t)
                texts.reverse()


if __name__ == "__main__":
    args = sys.argv[1:]
    show_misses = "--misses" in args
    args = [a for a in args if a != "--misses"]
    if args[:1] == ["triage"]:
        chosen = [Path(a).resolve() if Path(a).exists() else DATA / a for a in args[1:]]
        triage_report(chosen or triage_files(), show_misses)
    elif args[:1] == ["answers"]:
        answers_report(sorted(DATA.glob("questions_*.csv")),
                       sorted(DATA.glob("conversations_*.jsonl")), show_misses)
    else:
        matcher_report()
        answers_report(sorted(DATA.glob("questions_*.csv")),
                       sorted(DATA.glob("conversations_*.jsonl")))
        triage_report(triage_files(), show_misses)
        speed_report()
