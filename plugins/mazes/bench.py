"""The `mazes` benchmark: our maze data pipeline vs maze-dataset, measured side by side.

``mazes_side`` times exactly what ``harness.data.encode_problems`` does for a training set:
vectorised generation → oracle → ``fallible(p)`` → encode, end to end, in this process (one core).
``measure_maze_dataset`` runs maze-dataset 1.4.2 (``LatticeMazeGenerators.gen_dfs`` +
``find_shortest_path``) in a separate, throwaway interpreter (``scripts/maze_dataset_venv.sh``), which
times its own loop (wall clock and process CPU time): maze-dataset is LGPL-3.0 with ~111 declared
dependencies and is never a dependency of this project. The two sides run in interleaved rounds
(``Benchmark.interleave``: ours, maze-dataset, then maze-dataset, ours, ...); the ratio is the median
of the per-round ratios on process CPU time, with its range.

    harness bench --only mazes --set mazes.maze_dataset_python=/tmp/maze-dataset-venv/bin/python
    HARNESS_MAZE_DATASET_PYTHON=/tmp/maze-dataset-venv/bin/python harness bench --only mazes

Without an interpreter the baseline is *quoted, not measured*: the rate BENCHMARKS.md records for
maze-dataset on the machine named in ``MAZE_DATASET_QUOTE``; the row says so and its target is not judged.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from typing import Any, Callable

from pydantic import Field, field_validator

from harness import BenchConfig, BenchError, Benchmark, BenchRow, Log

#: maze-dataset's rate (mazes/s, process CPU time of its loop, median of rounds) as BENCHMARKS.md
#: records it: used, marked "quoted, not measured", only when no maze-dataset interpreter is given
MAZE_DATASET_QUOTE = Benchmark.Quote(
    value=976.0, source="BENCHMARKS.md, 2026-12-02 (two runs: 999 and 953)", basis="cpu",
    machine="2-core AMD EPYC VM without AVX-512, shared, load average 2-5; maze-dataset 1.4.2")
TARGET = 10.0

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
t0, c0 = time.perf_counter(), time.process_time()
total = 0
for k in sides:
    m = LatticeMazeGenerators.gen_dfs((k, k))
    a = (rng.randrange(k), rng.randrange(k))
    b = (rng.randrange(k), rng.randrange(k))
    while b == a:
        b = (rng.randrange(k), rng.randrange(k))
    total += len(m.find_shortest_path(a, b))
dt, dc = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"n": n, "seconds": dt, "cpu_seconds": dc, "mazes_per_s": n / dt, "mean_path_nodes": total / n}))
"""


def mazes_side(n: int = 20000, sizes: tuple[int, int] = (4, 9), p: float = 0.2,
               seed: int = 0) -> Callable[[int], Any]:
    """Our side, warmed up: `run(round)` times generate + oracle + fallible(p) + encode of n mazes
    (seed 100 + round) and returns a `Benchmark.Sample` (wall clock and process CPU time)."""
    from harness import component, encode_problems, paused_gc

    from .task import MazesConfig, MazesTask

    task = MazesTask(MazesConfig(min_size=sizes[0], max_size=sizes[1]))
    corruptor = component("corruptor", "fallible", p=p)
    warm = random.Random(seed + 1)
    encode_problems(task, corruptor, task.sample_batch(warm, 2000), warm)  # warm caches

    def run(r: int):
        rng = random.Random(seed + 100 + r)
        with Benchmark.Stopwatch() as gen:
            with paused_gc():  # as harness.data.draw_problems does in a run
                problems = task.sample_batch(rng, n)
        with Benchmark.Stopwatch() as rest:
            encoded = encode_problems(task, corruptor, problems, rng)
        assert len(encoded) == n
        return Benchmark.Sample(n, gen.wall_s + rest.wall_s, gen.cpu_s + rest.cpu_s, {
            "n": n, "sizes": list(sizes), "p": p, "generate_us": gen.wall_s / n * 1e6,
            "oracle_corrupt_encode_us": rest.wall_s / n * 1e6,
            "tokens_per_maze": sum(len(e.tokens) for e in encoded) / n})

    return run


def bench_mazes(
    n: int = 20000, sizes: tuple[int, int] = (4, 9), p: float = 0.2, seed: int = 0, repeats: int = 3
) -> dict[str, Any]:
    """End-to-end mazes/s of generate + oracle + fallible(p) + encode: the median of `repeats` rounds,
    by wall clock (`mazes_per_s`) and process CPU time (`mazes_per_cpu_s`), with each round's rates."""
    run = mazes_side(n, sizes, p, seed)
    samples = [run(r) for r in range(repeats)]
    wall = Benchmark.Stats.of([s.rate("wall") for s in samples])
    cpu = Benchmark.Stats.of([s.rate("cpu") for s in samples])
    med = sorted(samples, key=lambda s: s.rate("cpu"))[len(samples) // 2]
    return {**med.info, "seconds": med.wall_s, "cpu_seconds": med.cpu_s, "mazes_per_s": wall.median,
            "mazes_per_cpu_s": cpu.median, "rounds_mazes_per_s": wall.values, "rounds_mazes_per_cpu_s": cpu.values}


def bench_maze_dataset(
    python_exe: str, n: int = 2000, sizes: tuple[int, int] = (4, 9), seed: int = 0, timeout: float = 600,
    log: Callable[[str], None] = print,
) -> dict[str, Any] | None:
    """mazes/s of maze-dataset's gen_dfs + find_shortest_path in another interpreter, or None.

    On failure returns None and logs the reason (the interpreter is missing or lacks maze_dataset)."""
    why = measure_maze_dataset(python_exe, n, sizes, seed, timeout)
    if isinstance(why, str):
        log(why)
        return None
    return why


def measure_maze_dataset(
    python_exe: str, n: int, sizes: tuple[int, int], seed: int, timeout: float
) -> dict[str, Any] | str:
    """The baseline's measurement (its loop's `seconds` and `cpu_seconds`, and the whole child's CPU
    time from RUSAGE_CHILDREN as `process_cpu_seconds`), or why there is none (a sentence)."""
    if not python_exe or not os.path.exists(python_exe):
        return f"maze-dataset baseline skipped: no interpreter at {python_exe!r} (run scripts/maze_dataset_venv.sh)"
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    try:
        with Benchmark.ChildCPU() as child:
            proc = subprocess.run(
                [python_exe, "-c", _BASELINE_SCRIPT, str(n), str(sizes[0]), str(sizes[1]), str(seed)],
                capture_output=True, text=True, timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"maze-dataset baseline failed: {type(exc).__name__}: {exc}"
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        err = proc.stderr.strip().splitlines()
        return (f"maze-dataset baseline failed: {python_exe} exited with status {proc.returncode} without a "
                f"result{': ' + err[-1] if err else ''}")
    if "error" in out:
        return f"maze-dataset baseline skipped: {python_exe} cannot import maze_dataset ({out['error']})"
    out["python"] = python_exe
    out["process_cpu_seconds"] = child.cpu_s
    out["process_wall_seconds"] = child.wall_s
    return out


class MazesBenchConfig(BenchConfig):
    maze_dataset_python: str | None = Field(
        default=None, description="python of a throwaway venv with maze-dataset 1.4.2 (scripts/maze_dataset_venv.sh); "
        "without it the baseline is quoted from BENCHMARKS.md, not measured, and the target is not judged")
    n: int | None = Field(default=None, ge=100, description="mazes timed on our side (default 40,000; --quick 4,000)")
    baseline_n: int | None = Field(default=None, ge=10, description="mazes timed by maze-dataset (default 4,000; --quick 500)")
    repeats: int | None = Field(default=None, ge=1, description="rounds, interleaved with maze-dataset's (order "
                                "alternating); the ratio is the median of the per-round ratios (default 5; --quick 2)")

    @field_validator("maze_dataset_python")
    @classmethod
    def _exists(cls, v: str | None) -> str | None:
        if v is not None and not os.path.isfile(v):
            raise ValueError(f"no file at {v!r} (build the throwaway venv with scripts/maze_dataset_venv.sh)")
        return v


class MazesBenchmark(Benchmark):
    name = "mazes"
    description = "maze data (generate + oracle + fallible(0.2) + encode) vs maze-dataset's gen_dfs + find_shortest_path"
    Config = MazesBenchConfig
    env = {"maze_dataset_python": "HARNESS_MAZE_DATASET_PYTHON"}

    config: MazesBenchConfig

    def run(self, quick: bool, log: Log) -> list[BenchRow]:
        c = self.config
        n = c.n or (4000 if quick else 40000)
        rounds = c.repeats or (2 if quick else 5)
        base_n = c.baseline_n or (500 if quick else 4000)
        py = c.maze_dataset_python
        log(f"ours: generate + oracle + fallible(0.2) + encode, {n:,} mazes of sizes 4..9"
            + (f"; maze-dataset: gen_dfs + find_shortest_path, {base_n:,} mazes, in {py}" if py else "")
            + f"; {rounds} round(s)" + (", interleaved" if py else ""))
        sides = [Benchmark.Side("ours", mazes_side(n=n))]

        if py:
            def baseline(r: int):
                base = measure_maze_dataset(py, base_n, (4, 9), r, 600)
                if isinstance(base, str):
                    raise BenchError(f"{base}; fix the interpreter or leave maze_dataset_python unset "
                                     "(then the baseline is quoted, not measured)")
                return Benchmark.Sample(base["n"], base["seconds"], base["cpu_seconds"], base)

            sides.append(Benchmark.Side("maze-dataset", baseline))
        rd = self.interleave(sides, rounds, log=log, unit="mazes/s")
        what = f"maze data: generate + oracle + fallible(p=0.2) + encode (sizes 4..9, {n:,} mazes)"
        if py:
            return [BenchRow.side_by_side(
                what, "mazes/s", rd, "ours", "maze-dataset", target=TARGET,
                baseline_source=(f"maze-dataset 1.4.2 gen_dfs + find_shortest_path, lattice ceil(n/2) a side, "
                                 f"{base_n:,} mazes, measured side by side in {py} (its loop timed in the child)"))]
        return [BenchRow.quoted(
            what, "mazes/s", rd, "ours", MAZE_DATASET_QUOTE, target=TARGET,
            baseline_source=(f"maze-dataset 1.4.2 gen_dfs + find_shortest_path, {MAZE_DATASET_QUOTE.value:,.0f} "
                             "mazes/s; give mazes.maze_dataset_python or $HARNESS_MAZE_DATASET_PYTHON "
                             "(scripts/maze_dataset_venv.sh) to measure it"))]
