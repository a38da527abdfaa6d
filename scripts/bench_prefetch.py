#!/usr/bin/env python
"""What `--prefetch` saves a grid whose cells run one at a time (a GPU's layout): the same grid with
the prefetcher on and off, each in a fresh directory, in rounds of alternating order, by wall clock
(the prefetcher's gain is work moved off the critical path onto an idle core, which CPU time cannot
show). Prints per round the grid's wall time and the cells' summed data-stage seconds (what the cells
spent getting their problems: drawing them, or reading back what the prefetcher drew).

On this CPU one torch thread trains the cells and the prefetcher has the other core: a stand-in for
a GPU machine, where training runs on the GPU and the data stage on a CPU core.

    python scripts/bench_prefetch.py --rounds 2     # igsm, 3 seeds × oracle, retry, 20,000 problems a seed
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.bench.base import timed_runs  # noqa: E402


def run(args: argparse.Namespace, prefetch: str, out: Path) -> dict[str, float]:
    cmd = [sys.executable, "-m", "harness.cli", "run", args.spec, "--budget", args.budget, "--seeds", str(args.seeds),
           "--out", str(out), "--jobs", "1", "--threads", "1", "--prefetch", prefetch, "--device", "cpu"]
    for kv in args.budget_set:
        cmd += ["--budget-set", kv]
    wall, res = timed_runs([cmd], out, dict(os.environ, COLUMNS="200"), ROOT, what=f"the {prefetch} run")
    return {"wall": wall, "data": float(res["data_seconds"].sum()), "cells": float(res.height),
            "loss": tuple(res.sort("condition", "seed")["train_loss"].to_list())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default="igsm×oracle,retry×gpt-2L")
    ap.add_argument("--budget", default="tiny")
    ap.add_argument("--budget-set", action="append", default=None, metavar="KEY=VALUE")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if args.budget_set is None:
        args.budget_set = ["n_train=20000"]
    from harness.bench.base import load_warning
    from harness.runner import cpu_model

    rows = []
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-prefetch-") as tmp:
        for r in range(args.rounds):
            order = ("on", "off") if r % 2 == 0 else ("off", "on")
            got = {s: run(args, s, Path(tmp) / f"{s}-{r}") for s in order}
            if got["on"]["loss"] != got["off"]["loss"]:
                raise SystemExit("the runs with and without prefetch trained differently")
            rows.append(got)
            print(f"round {r + 1}/{args.rounds} ({order[0]} first): wall on {got['on']['wall']:.1f} s, off "
                  f"{got['off']['wall']:.1f} s (ratio {got['off']['wall'] / got['on']['wall']:.2f}×); cells' data "
                  f"stage on {got['on']['data']:.1f} s, off {got['off']['data']:.1f} s", flush=True)
    ratios = [g["off"]["wall"] / g["on"]["wall"] for g in rows]
    print(f"\nmachine: {cpu_model()}, {len(os.sched_getaffinity(0))} usable cores, load average {load0:.2f} → "
          f"{os.getloadavg()[0]:.2f}")
    if (w := load_warning()):
        print(w)
    print(f"grid {args.spec} --budget {args.budget} {' '.join('--budget-set ' + kv for kv in args.budget_set)} "
          f"--seeds {args.seeds} ({int(rows[0]['on']['cells'])} cells, --jobs 1 --threads 1), {args.rounds} round(s)")
    print(f"wall time off / on: median {statistics.median(ratios):.2f}× (range {min(ratios):.2f}–{max(ratios):.2f}); "
          f"cells' data stage median {statistics.median(g['off']['data'] for g in rows):.1f} s off, "
          f"{statistics.median(g['on']['data'] for g in rows):.1f} s on; identical training losses: True")
    return 0


if __name__ == "__main__":
    sys.exit(main())
