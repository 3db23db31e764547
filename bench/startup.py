"""Start-up time of `supportline triage` and `supportline ask`, one message on stdin.

Runs each command several times as a fresh process and prints the min and median wall
time (target: under 0.5 s). Two ways: with Python's bytecode cache, as any installed app
runs, and compiling the project's source on every start, as under
PYTHONDONTWRITEBYTECODE=1 (which this machine's shells set). Runs are interleaved, so a
swing in the shared machine's load falls on all four alike; quote ranges from several runs.
The first run builds the word-frequency cache if it is missing (not counted).
"""

from __future__ import annotations

import argparse
import os
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


MODES = {
    "bytecode cached": {},
    "source compiled": {"PYTHONDONTWRITEBYTECODE": "1"},
}


def wall_time(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one run of `argv`, fed one message; fails loudly if it fails."""
    start = time.perf_counter()
    subprocess.run(
        argv, input=MESSAGE, text=True, capture_output=True, check=True, cwd=ROOT, env=env
    )
    return time.perf_counter() - start


def main() -> None:
    """Time each command both ways and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--exe", help="the CLI to time instead of this checkout's (e.g. another commit's)"
    )
    args = parser.parse_args()
    exe = args.exe or supportline()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cases = [
        (command, mode, {**base, **extra})
        for command in ("triage", "ask")
        for mode, extra in MODES.items()
    ]
    for command, _, env in cases:  # write the bytecode, build any missing cache
        wall_time([exe, command], env)
    times: dict[tuple[str, str], list[float]] = {(c, m): [] for c, m, _ in cases}
    for _ in range(args.runs):
        for command, mode, env in cases:
            times[command, mode].append(wall_time([exe, command], env))
    print(f"Start-up of {exe}, {args.runs} runs each, one message on stdin ({MESSAGE.strip()!r}):")
    for (command, mode), t in times.items():
        print(
            f"  supportline {command:6} {mode:15}  min {min(t):.3f} s  "
            f"median {statistics.median(t):.3f} s  max {max(t):.3f} s"
        )


if __name__ == "__main__":
    main()
