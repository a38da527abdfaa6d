#!/usr/bin/env python
"""Grid wall time with the CPU defaults (cells side by side, one torch thread each) against the old
default (one cell at a time, two torch threads: a process per grid using both cores), side by side:
each round runs both layouts once, in alternating order, each in a fresh directory, and the ratio is
taken within the round, so load drifts cancel. Prints the median and range of the per-round ratios
and the machine's CPU and load.

    python scripts/bench_threads.py                           # smoke grid mazes×oracle,fallible×gpt-2L, 2 seeds
    python scripts/bench_threads.py --rounds 3 --threads 2    # "old" = serial with 2 threads (the default)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from harness.bench.base import timed_runs
from harness.runner import cpu_model

ROOT = Path(__file__).resolve().parents[1]


def run(args: argparse.Namespace, layout: str, out: Path) -> float:
    cmd = [sys.executable, "-m", "harness.cli", "run", args.spec, "--budget", args.budget, "--seeds",
           str(args.seeds), "--out", str(out), "--device", "cpu"]
    for kv in args.budget_set or ():
        cmd += ["--budget-set", kv]
    env = dict(os.environ, COLUMNS="200")
    env.pop("HARNESS_JOBS", None)
    if layout == "old":
        cmd += ["--jobs", "1", "--threads", str(args.threads)]
        env["OMP_NUM_THREADS"] = str(args.threads)
    else:  # the defaults: nothing asked
        env["OMP_NUM_THREADS"] = "1"
    return timed_runs([cmd], out, env, ROOT, what=f"the {layout} run")[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default="mazes×oracle,fallible×gpt-2L")
    ap.add_argument("--budget", default="smoke")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--budget-set", action="append")
    ap.add_argument("--threads", type=int, default=2, help="torch threads of the old one-process layout")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    ratios, walls = [], {"new": [], "old": []}
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        for r in range(args.rounds):
            order = ["new", "old"] if r % 2 == 0 else ["old", "new"]
            w = {lay: run(args, lay, Path(tmp) / f"{lay}-{r}") for lay in order}
            for lay in w:
                walls[lay].append(w[lay])
            ratios.append(w["old"] / w["new"])
            print(f"round {r + 1}: defaults {w['new']:.1f} s, old {w['old']:.1f} s → {ratios[-1]:.2f}× "
                  f"(order {'/'.join(order)})", flush=True)
    cores = len(os.sched_getaffinity(0))
    print(f"\nmachine: {cpu_model()}, {cores} usable cores, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"grid {args.spec} --budget {args.budget} --seeds {args.seeds}: defaults (cells side by side, 1 thread "
          f"each) vs one process with {args.threads} threads, {args.rounds} interleaved round(s)")
    print(f"speed-up (old wall / new wall): median {statistics.median(ratios):.2f}× "
          f"(range {min(ratios):.2f}–{max(ratios):.2f}); median wall {statistics.median(walls['new']):.1f} s vs "
          f"{statistics.median(walls['old']):.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
