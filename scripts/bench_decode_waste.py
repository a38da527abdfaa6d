#!/usr/bin/env python
"""How much of the decoding work goes into rows that already ended: a trained smoke cell's eval set
decoded greedily by `harness.decode.generate` without compaction (every row computed until the
longest ends, a host sync every token: `check_every=1, compact_at=inf`, the loop before 0.3) and with
the defaults (finished rows dropped from the batch and the KV cache, a sync every 8 steps), side by
side. Prints the token slots each computes, their ratio, whether the outputs are identical, and the
wall and CPU time of interleaved rounds.

    python scripts/bench_decode_waste.py                      # trains mazes×oracle×gpt-2L on the smoke budget
    python scripts/bench_decode_waste.py --run runs/DIR       # a finished run's first ok cell instead
    python scripts/bench_decode_waste.py --budget cpu --budget-set train_tokens=2048000 \
        --budget-set n_train=20000 --budget-set n_eval=500 --budget-set curve_points=0   # a model that ends
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default="mazes×oracle×gpt-2L")
    ap.add_argument("--budget", default="smoke")
    ap.add_argument("--budget-set", action="append", default=[], metavar="KEY=VALUE",
                    help="override budget fields, e.g. train_tokens=2048000 (as harness run --budget-set)")
    ap.add_argument("--run", type=Path, default=None, help="a run directory holding a finished cell of --spec")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch
    from safetensors.torch import load_model

    from harness.data import draw_problems, eval_seed
    from harness.decode import generate
    from harness.planning import plan
    from harness.plugins import Manager
    from harness.runner import run_plan
    from harness.store import read_result

    torch.set_num_threads(args.threads)
    m = Manager()
    from harness.spec import parse_value

    overrides = {k: parse_value(v) for k, v in (kv.split("=", 1) for kv in args.budget_set)}
    cell = plan(m, args.spec, budget=args.budget, budget_overrides=overrides).cells[0]
    tmp = None
    run = args.run
    if run is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-decode-")
        run = Path(tmp.name) / "run"
        print(f"training {cell.condition} on the {args.budget} budget ...", flush=True)
        s = run_plan(plan(m, args.spec, budget=args.budget, budget_overrides=overrides), m, run)
        if s.failed:
            raise SystemExit("the cell failed")
    row = read_result(run, cell.cell_id) or {}
    if row.get("status") != "ok":
        raise SystemExit(f"{run}: cell {cell.cell_id} ({cell.condition}) is not finished")
    task = cell.task.instantiate()
    model = cell.model.instantiate().build(vocab_size=len(task.vocab), block_size=int(row["context"]))
    load_model(model, str(run / "cells" / cell.cell_id / "model.safetensors"))
    model.eval()
    problems = draw_problems(task, random.Random(eval_seed(task)), cell.budget.n_eval, "eval")
    prompts = [task.encode_prompt(p) for p in problems]
    caps = [task.max_new_tokens(p) for p in problems]
    kw = dict(end_token=task.end_token, max_new_tokens=caps, batch_size=cell.budget.eval_batch_size, device="cpu")
    sides = {"before": dict(check_every=1, compact_at=float("inf")), "now": {}}
    stats = {k: {} for k in sides}
    outs = {k: generate(model, prompts, **kw, **v, stats=stats[k]) for k, v in sides.items()}
    wall = {k: [] for k in sides}
    cpu = {k: [] for k in sides}
    for r in range(args.rounds):
        for k in (list(sides) if r % 2 == 0 else list(sides)[::-1]):
            t0, c0 = time.perf_counter(), time.process_time()
            generate(model, prompts, **kw, **sides[k])
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    b, n = stats["before"], stats["now"]
    ratio = n["decode"] / max(1, b["decode"])
    total = (n["decode"] + n["prefill"]) / max(1, b["decode"] + b["prefill"])
    ended = sum(1 for o in outs["before"] if o and o[-1] == task.end_token)
    print(json.dumps({"cell": cell.condition, "n_eval": len(problems), "ended": ended, "stats": stats}, indent=1))
    print(f"\n{cell.condition} ({args.budget} budget), {len(problems)} eval prompts, greedy, "
          f"{args.threads} thread(s); {ended} completions ended, {len(problems) - ended} ran to their cap")
    print(f"decode-step token slots: before {b['decode']:,}, now {n['decode']:,} = {100 * ratio:.1f}% "
          f"(with the prompts' prefill: {100 * total:.1f}%); generated tokens kept: {n['generated']:,}")
    print(f"greedy outputs identical: {outs['before'] == outs['now']}")
    sp = [bw / nw for bw, nw in zip(wall["before"], wall["now"])]
    cp = [bc / nc for bc, nc in zip(cpu["before"], cpu["now"])]
    print(f"speed-up over {args.rounds} interleaved rounds: wall median {statistics.median(sp):.2f}× "
          f"({min(sp):.2f}–{max(sp):.2f}), CPU time median {statistics.median(cp):.2f}× ({min(cp):.2f}–{max(cp):.2f}); "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if tmp is not None:
        tmp.cleanup()
    return 0 if outs["before"] == outs["now"] else 1


if __name__ == "__main__":
    sys.exit(main())
