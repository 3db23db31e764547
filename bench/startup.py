"""Start-up time of `supportline triage` and `supportline ask`, one message on stdin.

Runs each command several times as a fresh process and prints the min and median wall
time (target: under 0.5 s). This machine is shared: quote ranges from several runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MESSAGE = "can i eat before my ct\n"


def supportline() -> str:
    """The console script next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name("supportline")
    if beside.exists():
        return str(beside)
    found = shutil.which("supportline")
    if found is None:
        sys.exit("supportline is not installed (run `make .venv/.installed-stamp`)")
    return found


def wall_times(argv: list[str], runs: int) -> list[float]:
    """Wall time of each run of `argv`, fed one message; fails loudly if it fails."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, input=MESSAGE, text=True, capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Time each command and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    exe = supportline()
    wall_times([exe, "triage"], 1)  # warm the page cache (and any on-disk cache)
    print(f"Start-up, {args.runs} runs each, one message on stdin ({MESSAGE.strip()!r}):")
    for command in ("triage", "ask"):
        times = wall_times([exe, command], args.runs)
        print(
            f"  supportline {command:6}  min {min(times):.3f} s  "
            f"median {statistics.median(times):.3f} s  max {max(times):.3f} s"
        )


if __name__ == "__main__":
    main()
