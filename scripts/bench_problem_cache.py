#!/usr/bin/env python
"""What the problem cache saves a cell: drawing a cell's training problems (what every corruptor cell
of a seed did before) against reading them back from the run directory's problems folder (what the
second and later cells of that seed, and a resumed run, now do), side by side in interleaved rounds,
timed by process CPU time on one thread. Checks that the problems read back encode to the same oracle
tokens as the drawn ones, and prints the file's size.

Both sides build their problems with the cycle collector paused (harness.data.paused_gc), which defers
one scan of everything they allocated to the next allocation after it resumes: each side's timing
ends with that scan (`gc.collect(0)`), so neither is charged the other's, and each sample starts from
the same heap (everything alive before it frozen out of the collector's reach: `gc.freeze`), so no
side pays for the objects another left. A third side reads back with the collector left on, to show
what the pause saves on a heap of only the problems themselves (a cell's process holds more, which
the collector's passes also scan).

    python scripts/bench_problem_cache.py                       # igsm (the default config), 20,000 problems
    python scripts/bench_problem_cache.py --task mazes --n 100000   # a task without records: says so
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="igsm", help="a task spec item, e.g. igsm or igsm(preset=med)")
    ap.add_argument("--budget", default="default", help="the budget whose defaults the task takes")
    ap.add_argument("--n", type=int, default=20_000, help="training problems per side and round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    import harness.data
    from harness.bench.base import Side, Stopwatch, interleave, load_warning
    from harness.budgets import get_budget
    from harness.data import draw_problems, stable_seed
    from harness.planning import resolve_one
    from harness.plugins import get_manager
    from harness.problem_cache import ProblemCache, cache_identity, supported
    from harness.runner import cpu_model

    manager = get_manager()
    comp = resolve_one(manager, "task", args.task, get_budget(args.budget), "--task")
    task = comp.instantiate()
    if not supported(task):
        print(f"task {comp.name!r} keeps no problem records (it does not implement problem_record and "
              "problem_from_record): its cells draw their problems, nothing to compare")
        return 0
    ident_task = comp.identity()
    sources: dict[str, str | None] = {}  # the run adds source hashes to the key; no matter here

    def draw(rnd: int):
        rng = random.Random(stable_seed("train-problems", ident_task, rnd))
        return draw_problems(task, rng, args.n, "train")

    with tempfile.TemporaryDirectory(prefix="bench-problem-cache-") as tmp:
        cache = ProblemCache(Path(tmp) / "problems")
        kept = {}
        for rnd in range(args.rounds):  # one file per round (a seed each), written before timing
            ident = cache_identity(ident_task, sources, rnd, "train", args.n)
            kept[rnd] = cache.get(task, ident, lambda _p, r=rnd: draw(r))
        size = sum(f.stat().st_size for f in (Path(tmp) / "problems").glob("*.parquet")) / args.rounds

        def timed(make):
            """One sample of `make()`, from the same heap every time: everything alive before it is
            frozen out of the collector's reach, so a side pays for the objects it makes and no
            other side's; the scan a paused collector deferred (see the docstring) is included."""
            gc.collect()
            gc.freeze()
            try:
                with Stopwatch() as sw:
                    n = len(make())
                    gc.collect(0)
                return sw.sample(n)
            finally:
                gc.unfreeze()

        def drawn(rnd: int):
            return timed(lambda: draw(rnd))

        def read_back(rnd: int):
            ident = cache_identity(ident_task, sources, rnd, "train", args.n)
            return timed(lambda: cache.get(task, ident, lambda _p: (_ for _ in ()).throw(RuntimeError("not kept"))))

        def read_back_collecting(rnd: int):  # the same read with the cycle collector left on
            real = harness.data.paused_gc
            harness.data.paused_gc = contextlib.nullcontext
            try:
                return read_back(rnd)
            finally:
                harness.data.paused_gc = real

        rd = interleave([Side("read back", read_back), Side("drawn", drawn),
                         Side("read back, collector on", read_back_collecting)], args.rounds,
                        log=lambda m: print(m, flush=True), unit="problems/s")
        # the problems read back are the problems drawn: same keys, meta and oracle tokens
        again = draw(0)
        same = all(a.key == b.key and a.meta == b.meta
                   and np.array_equal(task.encode(a, task.oracle(a)).tokens, task.encode(b, task.oracle(b)).tokens)
                   for a, b in zip(again, kept[0]))
    ratio = rd.ratio("read back", "drawn", "cpu")
    paused = rd.ratio("read back", "read back, collector on", "cpu")
    print(f"\nmachine: {cpu_model()}, {len(os.sched_getaffinity(0))} usable cores, load average "
          f"{rd.load_before:.2f} → {rd.load_after:.2f}")
    if (w := load_warning()):
        print(w)
    for w in rd.waited():
        print(f"warning: {w}")
    print(f"task {comp.choice.label} (budget {args.budget}), {args.n:,} training problems, {args.rounds} interleaved "
          f"round(s), process CPU time, 1 thread")
    print(f"drawn:     {rd.rates('drawn', 'cpu').median:,.0f} problems/s")
    print(f"read back: {rd.rates('read back', 'cpu').median:,.0f} problems/s")
    print(f"read back, collector on: {rd.rates('read back, collector on', 'cpu').median:,.0f} problems/s")
    print(f"read back / drawn: median {ratio.median:.2f}× (range {ratio.min:.2f}–{ratio.max:.2f}); "
          f"file {size / args.n:,.0f} bytes a problem ({size / 1e6:.1f} MB); identical oracle tokens: {same}")
    print(f"read back with the collector paused / left on: median {paused.median:.2f}× "
          f"(range {paused.min:.2f}–{paused.max:.2f})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
