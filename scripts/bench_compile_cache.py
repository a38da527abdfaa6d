#!/usr/bin/env python
"""What torch.compile costs a cell, cold and warm: time to train a few steps of a compiled `pretrain`
cell (almost all of it compilation) in a fresh process whose inductor cache directory is empty
(cold), in a fresh process whose directory an earlier process filled (warm across cells: what every
`--jobs` worker and every later cell of a machine or a shared cache directory gets), and for a second
model in the same process (warm in memory: what a serial run's next cell gets). Rounds alternate
the order of the cold and warm processes; each round uses a new directory.

On one machine torch's own on-disk cache (/tmp/torchinductor_$USER) already keeps every process warm:
the cells of a serial run, the `--jobs` workers, later runs. Across the nodes of a Slurm array the
`slurm` executor points every task at RUN_DIR/.torchinductor (`compile_cache`), since a node's /tmp
is often wiped between jobs.

    python scripts/bench_compile_cache.py --rounds 2            # CPU: the cpu budget's gpt-2L, 4 steps
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from harness import TrainData
from harness.budgets import get_budget
from harness_models.config import GPTConfig
from harness_models.model import GPT
from harness_models.trainer import Pretrain

steps, device = int(sys.argv[1]), sys.argv[2]
budget = get_budget("cpu", train_tokens=steps * 8 * 128, batch_size=8, block_size=128, curve_points=0)
rng = np.random.default_rng(0)
n = 20_000
data = TrainData(rng.integers(0, 64, n).astype(np.int64), np.ones(n, dtype=bool), 200, 200, 64,
                 np.arange(0, n, 100, dtype=np.int64))
out = []
for k in range(2):  # the second model: the next cell of a serial run, in the same process
    torch.manual_seed(k)
    model = GPT(GPTConfig(n_layer=2, n_head=4, d_model=128, pos="rope", dropout=0.0), 64, 128)
    t0 = time.perf_counter()
    Pretrain(Pretrain.Config(compile="on", warmup_iters=1)).fit(model, data, budget, torch.device(device), k)
    out.append(time.perf_counter() - t0)
print("RESULT " + json.dumps(out))
"""


def child(cache: Path, steps: int, device: str) -> list[float]:
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=str(cache), OMP_NUM_THREADS="1")
    env.pop("HARNESS_COMPILE_CACHE", None)
    p = subprocess.run([sys.executable, "-c", CHILD, str(steps), device], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    line = next((x for x in p.stdout.splitlines() if x.startswith("RESULT ")), None)
    if p.returncode or line is None:
        raise SystemExit(f"the child failed:\n{(p.stdout + p.stderr)[-3000:]}")
    return json.loads(line[len("RESULT "):])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    from harness.runner import cpu_model

    cold, warm, same = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-compile-cache-") as tmp:
        for r in range(args.rounds):
            a, b = Path(tmp) / f"a{r}", Path(tmp) / f"b{r}"
            if r % 2 == 0:  # cold first (it fills a), then warm on a
                c = child(a, args.steps, args.device)
                w = child(a, args.steps, args.device)
            else:  # warm first: b was filled beforehand by an untimed process
                child(b, args.steps, args.device)
                w = child(b, args.steps, args.device)
                c = child(a, args.steps, args.device)
            cold.append(c[0])
            warm.append(w[0])
            same.append(c[1])
            print(f"round {r + 1}/{args.rounds}: cold process {c[0]:.1f} s, warm process {w[0]:.1f} s, "
                  f"second model in the cold process {c[1]:.1f} s", flush=True)
    print(f"\nmachine: {cpu_model()}, device {args.device}, {args.steps} compiled training steps of gpt-2L d128 "
          f"(batch 8 × 128), one thread")
    print(f"first compiled cell of a process: cold cache median {statistics.median(cold):.1f} s, warm cache "
          f"{statistics.median(warm):.1f} s: cold / warm {statistics.median(c / w for c, w in zip(cold, warm)):.2f}× "
          f"(range {min(c / w for c, w in zip(cold, warm)):.2f}–{max(c / w for c, w in zip(cold, warm)):.2f}); "
          f"the next cell in the same process {statistics.median(same):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
