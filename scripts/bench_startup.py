#!/usr/bin/env python
"""Start-up time of the CLI, side by side with the bare interpreter: `python -c pass`, `harness
--help`, `harness list`, `harness plugins`, each run in a fresh process, interleaved over rounds
(order rotating), median and min–max of wall time, and whether the command imported torch.

    python scripts/bench_startup.py --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

PROBE = "import sys, runpy; sys.argv = ['harness', *{args!r}]; " \
        "import contextlib, io\n" \
        "with contextlib.redirect_stdout(io.StringIO()):\n" \
        "    try:\n        runpy.run_module('harness.cli', run_name='__main__')\n" \
        "    except SystemExit:\n        pass\n" \
        "print('torch' in sys.modules, file=sys.stderr)"


def once(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, COLUMNS="120"))
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"{cmd} failed: {p.stderr[-2000:]}")
    return wall, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "harness --help": [sys.executable, "-c", PROBE.format(args=["--help"])],
        "harness list": [sys.executable, "-c", PROBE.format(args=["list"])],
        "harness plugins": [sys.executable, "-c", PROBE.format(args=["plugins"])],
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    torch_loaded: dict[str, str] = {}
    names = list(cases)
    for r in range(args.rounds):
        for k in names[r % len(names):] + names[: r % len(names)]:
            wall, flag = once(cases[k])
            times[k].append(wall)
            torch_loaded[k] = flag
    base = statistics.median(times["python -c pass"])
    print(f"{args.rounds} interleaved rounds, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for k, ts in times.items():
        med = statistics.median(ts)
        extra = "" if k == "python -c pass" else f", {med / base:.1f}× the bare interpreter, torch imported: {torch_loaded[k]}"
        print(f"  {k:16s} median {med:.3f} s (min–max {min(ts):.3f}–{max(ts):.3f}){extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
