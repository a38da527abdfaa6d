"""The mazes benchmark helpers run (speed itself is reported by `harness bench --only mazes`)."""

from __future__ import annotations

import pickle
import random
import statistics

from harness_mazes.bench import bench_maze_dataset, bench_mazes
from harness_mazes import MazesTask


def test_bench_mazes_smoke():
    res = bench_mazes(n=2000, repeats=1)
    assert res["n"] == 2000 and res["mazes_per_s"] > 2000  # sanity only; the target is 45k/s on one core
    assert 55 < res["tokens_per_maze"] < 72


def test_bench_mazes_reports_the_median_round_by_both_clocks():
    res = bench_mazes(n=500, repeats=3)
    assert len(res["rounds_mazes_per_s"]) == len(res["rounds_mazes_per_cpu_s"]) == 3
    assert res["mazes_per_s"] == statistics.median(res["rounds_mazes_per_s"])
    assert res["mazes_per_cpu_s"] == statistics.median(res["rounds_mazes_per_cpu_s"])
    assert res["cpu_seconds"] > 0 and res["seconds"] > 0


def test_bench_maze_dataset_missing_interpreter():
    assert bench_maze_dataset("/nonexistent/python", n=10) is None


def test_problems_pickle():
    t = MazesTask()
    ps = t.sample_batch(random.Random(0), 50)
    back = pickle.loads(pickle.dumps(ps))
    assert [p.key for p in back] == [p.key for p in ps]
    assert [t.oracle(p) for p in back] == [t.oracle(p) for p in ps]
    assert [dict(p.payload.wrong) for p in back] == [dict(p.payload.wrong) for p in ps]
