"""Start-up time of `supportline triage` and `supportline ask`, one message on stdin.

Runs each command several times as a fresh process, the two interleaved so a swing in
the shared machine's load falls on both alike, and prints the min, median and max wall
time (target: under 0.5 s). Quote ranges from several runs.

By default the project's bytecode is cached, as for any installed app (a first untimed
run writes it, and builds the word-frequency cache if missing). With --no-bytecode the
project's `__pycache__` directories are removed and every run compiles its source again,
as in a fresh checkout under PYTHONDONTWRITEBYTECODE=1 (which this machine's shells set).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "flows", "workers")
MESSAGE = "can i eat before my ct\n"
COMMANDS = ("triage", "ask")


def supportline() -> str:
    """The console script next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name("supportline")
    if beside.exists():
        return str(beside)
    found = shutil.which("supportline")
    if found is None:
        sys.exit("supportline is not installed (run `make .venv/.installed-stamp`)")
    return found


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU time (user and system) of one run of `argv`, fed one message.

    CPU time swings far less than wall time with the shared machine's load.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        argv, input=MESSAGE, text=True, capture_output=True, check=True, cwd=ROOT, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> None:
    """Time each command and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-bytecode", action="store_true", help="compile source every run")
    parser.add_argument("--exe", help="the CLI to time instead of this checkout's")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout --exe runs (for --no-bytecode)"
    )
    args = parser.parse_args()
    exe = args.exe or supportline()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for command in COMMANDS:  # untimed: write the bytecode, build any missing cache
        run_once([exe, command], env)
    if args.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        for package in PACKAGES:
            for cache in (args.root / package).rglob("__pycache__"):
                shutil.rmtree(cache)
    walls: dict[str, list[float]] = {command: [] for command in COMMANDS}
    cpus: dict[str, list[float]] = {command: [] for command in COMMANDS}
    for _ in range(args.runs):
        for command in COMMANDS:
            wall, cpu = run_once([exe, command], env)
            walls[command].append(wall)
            cpus[command].append(cpu)
    mode = "compiling the project's source" if args.no_bytecode else "bytecode cached"
    print(f"Start-up of {exe} ({mode}), {args.runs} runs each, fed {MESSAGE.strip()!r}:")
    for command, t in walls.items():
        print(
            f"  supportline {command:6}  wall min {min(t):.3f} s  "
            f"median {statistics.median(t):.3f} s  max {max(t):.3f} s;  "
            f"CPU median {statistics.median(cpus[command]):.3f} s"
        )


if __name__ == "__main__":
    main()
