"""Speed of the mazes data pipeline, and of the maze-dataset baseline it is compared with.

``bench_mazes`` times exactly what ``harness.data.encode_problems`` does for a training set:
vectorised generation → oracle → ``fallible(p)`` → encode, end to end, in this process (one core).
``bench_maze_dataset`` runs maze-dataset 1.4.2 (``LatticeMazeGenerators.gen_dfs`` +
``find_shortest_path``) in a separate, throwaway interpreter (``scripts/maze_dataset_venv.sh``):
maze-dataset is LGPL-3.0 with ~111 declared dependencies and is never a dependency of this project.

    python -m harness.bench.mazes [--n 20000] [--maze-dataset /tmp/maze-dataset-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import time
from typing import Any

_BASELINE_SCRIPT = r"""
import json, math, random, sys, time
import numpy as np
try:
    from maze_dataset import LatticeMazeGenerators
except Exception as exc:  # noqa: BLE001
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(0)
n, lo, hi, seed = (int(a) for a in sys.argv[1:5])
rng = random.Random(seed)
np.random.seed(seed)
# a MazeGPT grid of n tiles holds about ceil(n/2) lattice nodes a side
sides = [math.ceil(rng.randint(lo, hi) / 2) for _ in range(n)]
for k in (2, 3):  # warm-up (imports, caches)
    LatticeMazeGenerators.gen_dfs((k, k)).find_shortest_path((0, 0), (k - 1, k - 1))
t0 = time.perf_counter()
total = 0
for k in sides:
    m = LatticeMazeGenerators.gen_dfs((k, k))
    a = (rng.randrange(k), rng.randrange(k))
    b = (rng.randrange(k), rng.randrange(k))
    while b == a:
        b = (rng.randrange(k), rng.randrange(k))
    total += len(m.find_shortest_path(a, b))
dt = time.perf_counter() - t0
print(json.dumps({"n": n, "seconds": dt, "mazes_per_s": n / dt, "mean_path_nodes": total / n}))
"""


def bench_mazes(
    n: int = 20000, sizes: tuple[int, int] = (4, 9), p: float = 0.2, seed: int = 0, repeats: int = 3
) -> dict[str, Any]:
    """End-to-end mazes/s of generate + oracle + fallible(p) + encode (best of `repeats`)."""
    from harness.corruptors.fallible import Fallible
    from harness.data import encode_problems, paused_gc
    from harness_mazes import MazesConfig, MazesTask

    task = MazesTask(MazesConfig(min_size=sizes[0], max_size=sizes[1]))
    corruptor = Fallible(Fallible.Config(p=p))
    warm = random.Random(seed + 1)
    encode_problems(task, corruptor, task.sample_batch(warm, 2000), warm)  # warm caches
    best: dict[str, Any] | None = None
    for r in range(repeats):
        rng = random.Random(seed + 100 + r)
        t0 = time.perf_counter()
        with paused_gc():  # as harness.data.draw_problems does in a run
            problems = task.sample_batch(rng, n)
        t1 = time.perf_counter()
        encoded = encode_problems(task, corruptor, problems, rng)
        t2 = time.perf_counter()
        assert len(encoded) == n
        res = {
            "n": n,
            "sizes": list(sizes),
            "p": p,
            "seconds": t2 - t0,
            "mazes_per_s": n / (t2 - t0),
            "generate_us": (t1 - t0) / n * 1e6,
            "oracle_corrupt_encode_us": (t2 - t1) / n * 1e6,
            "tokens_per_maze": sum(len(e.tokens) for e in encoded) / n,
        }
        if best is None or res["mazes_per_s"] > best["mazes_per_s"]:
            best = res
    assert best is not None
    return best


def bench_maze_dataset(
    python_exe: str, n: int = 2000, sizes: tuple[int, int] = (4, 9), seed: int = 0, timeout: float = 600
) -> dict[str, Any] | None:
    """mazes/s of maze-dataset's gen_dfs + find_shortest_path in another interpreter, or None.

    On failure returns None and prints the reason (the interpreter is missing or lacks maze_dataset)."""
    if not python_exe or not os.path.exists(python_exe):
        print(f"maze-dataset baseline skipped: no interpreter at {python_exe!r} (run scripts/maze_dataset_venv.sh)")
        return None
    try:
        proc = subprocess.run(
            [python_exe, "-c", _BASELINE_SCRIPT, str(n), str(sizes[0]), str(sizes[1]), str(seed)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except Exception as exc:  # noqa: BLE001
        print(f"maze-dataset baseline failed: {type(exc).__name__}: {exc}")
        return None
    if "error" in out:
        print(f"maze-dataset baseline skipped: {python_exe} cannot import maze_dataset ({out['error']})")
        return None
    out["python"] = python_exe
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--baseline-n", type=int, default=2000)
    ap.add_argument("--maze-dataset", default="/tmp/maze-dataset-venv/bin/python")
    args = ap.parse_args(argv)
    ours = bench_mazes(args.n)
    print(json.dumps({"harness": ours}))
    base = bench_maze_dataset(args.maze_dataset, args.baseline_n)
    if base:
        print(json.dumps({"maze_dataset": base, "ratio": ours["mazes_per_s"] / base["mazes_per_s"]}))


if __name__ == "__main__":
    main()
