"""scripts/bench_workers.py: the 1-vs-k-workers benchmark runs end to end on a tiny grid and prints a
paired speed-up for each layout (its CPU path; the GPU packing table uses the same code)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.plugin_dirs import ROOT

pytestmark = pytest.mark.slow


def test_the_workers_benchmark_prints_a_paired_ratio(tmp_path):
    md = tmp_path / "t.md"
    r = subprocess.run([sys.executable, "scripts/bench_workers.py", "--rounds", "1", "--seeds", "1", "--k", "1,2",
                        "--json", "--out", str(md)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = json.loads(r.stdout)
    assert [x["workers"] for x in rows] == [1, 2] and rows[0]["speedup_median"] == 1.0
    assert rows[1]["speedup_median"] > 0 and rows[1]["cells"] == 2
    text = md.read_text()
    assert "| 2 |" in text and "speed-up vs 1" in text and "CPU (" in text


def test_the_threads_benchmark_runs_both_layouts_and_prints_a_ratio():
    r = subprocess.run([sys.executable, "scripts/bench_threads.py", "--rounds", "1", "--budget", "tiny",
                        "--spec", "mazes(min_size=3,max_size=3)×oracle,fallible×gpt-1L", "--seeds", "1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "round 1: defaults" in r.stdout and "speed-up (old wall / new wall): median" in r.stdout
    assert "usable cores" in r.stdout
