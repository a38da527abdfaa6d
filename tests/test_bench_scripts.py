"""The CPU paths of the data-stage benchmarks run and print their comparison (their numbers are in
BENCHMARKS.md; what is asserted here is that each side really ran and agreed, not a speed)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def script(name: str, *args: str) -> str:
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=600, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "200"})
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def test_bench_problem_cache_compares_reading_back_with_drawing():
    out = script("bench_problem_cache.py", "--budget", "tiny", "--n", "200", "--rounds", "2")
    m = re.search(r"read back / drawn: median ([\d.]+)× .* identical oracle tokens: True", out)
    assert m and float(m.group(1)) > 0, out
    assert re.search(r"read back with the collector paused / left on: median [\d.]+×", out), out
    assert "round 2/2" in out
    out = script("bench_problem_cache.py", "--task", "mazes", "--budget", "tiny")
    assert "keeps no problem records" in out


def test_bench_prefetch_runs_the_grid_both_ways():
    out = script("bench_prefetch.py", "--seeds", "1", "--rounds", "1", "--budget-set", "n_train=300")
    assert re.search(r"wall time off / on: median [\d.]+×", out), out
    assert "identical training losses: True" in out and "(2 cells, --jobs 1 --threads 1)" in out
