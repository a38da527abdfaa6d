#!/usr/bin/env python
"""Wall time and aggregate training tokens/s of one grid run by 1 worker vs k workers sharing its
results directory, side by side: every round runs each layout once, in alternating order, each in a
fresh directory, and the ratio is taken within a round (so machine load drifts cancel).

Layouts: k=1 is one `harness run` process (one torch thread on CPU); k>1 is either k `harness run`
processes on one directory pulling cells through claims (`--mode processes`, the shared-directory
path) or one `harness run --jobs k` (`--mode pool`, k worker processes; on CUDA all on the one GPU:
the "k cells per GPU" packing measurement; `scripts/bench_gpu_packing.py` runs it with per-cell MFU).

    python scripts/bench_workers.py                              # CPU: tiny 8-cell grid, 1 vs 2 workers
    python scripts/bench_workers.py --mode pool --device cuda --budget default \\
        --spec "mazes×oracle×gpt-8L" --seeds 8 --k 1,2,4,8 --rounds 1 --out reports/gpu-packing.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from harness.bench.base import timed_runs

ROOT = Path(__file__).resolve().parents[1]


def run_grid(args: argparse.Namespace, k: int, out: Path) -> dict[str, float]:
    env = dict(os.environ, COLUMNS="200", OMP_NUM_THREADS=str(args.threads))
    base = [sys.executable, "-m", "harness.cli", "run", args.spec, "--budget", args.budget, "--seeds",
            str(args.seeds), "--out", str(out), "--device", args.device]
    for kv in args.budget_set or ():
        base += ["--budget-set", kv]
    one = base + ["--jobs", "1", "--threads", str(args.threads)]  # each process runs its cells one at a time
    if k == 1:
        cmds = [one]
    elif args.mode == "pool":
        cmds = [base + ["--executor", f"pool(jobs={k},threads={args.threads})"]]
    else:
        cmds = [one] * k
    wall, res = timed_runs(cmds, out, env, ROOT)
    tokens = float(res["tokens_seen"].sum())
    return {"wall_s": wall, "tokens_per_s": tokens / wall, "cells": float(res.height),
            "train_s": float(res["train_seconds"].sum())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default="mazes×oracle,fallible×gpt-2L")
    ap.add_argument("--budget", default="tiny")
    ap.add_argument("--budget-set", action="append", metavar="KEY=VALUE", help="passed to harness run")
    ap.add_argument("--seeds", type=int, default=4, help="seeds (cells = conditions × seeds); default 4 → 8 cells")
    ap.add_argument("--k", default="1,2", help="worker counts to compare (the first is the baseline)")
    ap.add_argument("--mode", choices=["processes", "pool"], default="processes")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", help="also write the table as Markdown to this file")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    ks = [int(x) for x in args.k.split(",")]
    rows: dict[int, list[dict[str, float]]] = {k: [] for k in ks}
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = ks if r % 2 == 0 else ks[::-1]
            for k in order:
                rows[k].append(run_grid(args, k, Path(tmp) / f"r{r}-k{k}"))
                print(f"round {r + 1}/{args.rounds}, {k} worker(s): {rows[k][-1]['wall_s']:.1f} s", file=sys.stderr)
    load1 = os.getloadavg()[0]
    base = ks[0]
    summary = []
    for k in ks:
        walls = [x["wall_s"] for x in rows[k]]
        speed = [b["wall_s"] / x["wall_s"] for b, x in zip(rows[base], rows[k])]
        agg = [x["tokens_per_s"] for x in rows[k]]
        summary.append({"workers": k, "wall_s_median": statistics.median(walls), "wall_s_min": min(walls),
                        "wall_s_max": max(walls), "speedup_median": statistics.median(speed),
                        "speedup_min": min(speed), "speedup_max": max(speed),
                        "agg_tokens_per_s_median": statistics.median(agg), "cells": rows[k][0]["cells"]})
    try:
        from harness.runner import cpu_model
        cpu = cpu_model()
    except Exception:  # noqa: BLE001
        cpu = platform.processor()
    device = f"CPU ({cpu}, {os.cpu_count()} cores)"
    if args.device == "cuda":
        import torch
        device = torch.cuda.get_device_name(0)
    sets = "".join(f" --budget-set {kv}" for kv in args.budget_set or ())
    head = (f"`{args.spec}` --budget {args.budget}{sets} --seeds {args.seeds} ({int(summary[0]['cells'])} cells), "
            f"mode {args.mode}, {args.threads} torch thread(s) per worker, {args.rounds} rounds (alternating "
            f"order); device: {device}; load average {load0:.1f} → {load1:.1f}")
    lines = [head, "", "| workers | wall s (median, range) | speed-up vs 1 (median, range, paired by round) | "
             "aggregate train tokens/s (median) |", "|---|---|---|---|"]
    for s in summary:
        lines.append(f"| {s['workers']} | {s['wall_s_median']:.1f} ({s['wall_s_min']:.1f}–{s['wall_s_max']:.1f}) | "
                     f"{s['speedup_median']:.2f}× ({s['speedup_min']:.2f}–{s['speedup_max']:.2f}) | "
                     f"{s['agg_tokens_per_s_median']:,.0f} |")
    if load1 > (os.cpu_count() or 1):
        lines.append("")
        lines.append(f"warning: load average {load1:.1f} exceeds the {os.cpu_count()} cores; other work shared the machine")
    text = "\n".join(lines)
    print(json.dumps(summary, indent=2) if args.json else text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
