"""`harness run --prefetch`: a background process draws the pending cells' problem sets ahead of them
into the run's problems folder; the cells read them back; results are identical with or without it;
stopping it mid-draw leaves nothing that blocks a later run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import polars as pl
import pytest

from harness.planning import plan
from harness.plugins import get_manager
from harness.prefetch import Prefetcher, prefetch_jobs, want_prefetch
from harness.problem_cache import ProblemCache, cache_identity
from tests.plugin_dirs import run_cli

MANAGER = get_manager()
SPEC = "igsm×oracle,retry×gpt-2L"


def cell_logs(out):
    return {p.parent.name: p.read_text() for p in sorted((out / "cells").glob("*/log.txt"))}


def test_one_job_per_distinct_problem_set_the_first_training_set_last():
    p = plan(MANAGER, SPEC, budget="tiny", seeds=2)
    jobs = prefetch_jobs(p.cells)
    # 4 cells: oracle and retry of a seed share their training problems; every cell the eval set
    assert [(j.side, j.seed if j.side == "train" else None) for j in jobs] == [
        ("eval", None), ("train", 1), ("train", 0)]
    assert all(j.n == (p.budget.n_train if j.side == "train" else p.budget.n_eval) for j in jobs)
    assert prefetch_jobs(plan(MANAGER, "mazes×oracle,fallible×gpt-2L", budget="tiny", seeds=2).cells) == []


def test_auto_prefetches_on_cuda_only_where_the_cells_run():
    assert want_prefetch("auto", "cuda") and not want_prefetch("auto", "cpu")
    assert want_prefetch("on", "cpu") and not want_prefetch("off", "cuda")
    serial, slurm = type("E", (), {"name": "serial"})(), type("E", (), {"name": "slurm"})()
    assert want_prefetch("auto", "cuda", serial) and not want_prefetch("auto", "cuda", slurm)
    assert want_prefetch("on", "cuda", slurm)
    with pytest.raises(ValueError, match="auto, on or off"):
        want_prefetch("yes", "cpu")


def test_cells_read_back_what_the_prefetcher_drew(tmp_path):
    out = tmp_path / "run"
    p = plan(MANAGER, SPEC, budget="tiny", seeds=2)
    with Prefetcher(out, p.cells) as ahead:
        ahead.proc.join(120)
        assert ahead.proc.exitcode == 0
    log = ahead.log_path.read_text()
    assert log.count("kept 300 train problems") == 2 and log.count("kept 40 eval problems") == 1, log
    assert "prefetch: done" in log
    r = run_cli("run", SPEC, "--budget", "tiny", "--seeds", "2", "--out", str(out), "--prefetch", "off",
                env={"HARNESS_JOBS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    logs = cell_logs(out)
    assert len(logs) == 4 and not any("kept" in lg for lg in logs.values()), logs
    assert all("read 300 train problems back" in lg and "read 40 eval problems back" in lg for lg in logs.values())


def test_results_are_the_same_with_and_without_prefetch(tmp_path):
    runs = {}
    for setting in ("on", "off"):
        out = tmp_path / setting
        r = run_cli("run", SPEC, "--budget", "tiny", "--seeds", "2", "--out", str(out), "--prefetch", setting,
                    env={"HARNESS_JOBS": "1"})
        assert r.returncode == 0, r.stdout + r.stderr
        runs[setting] = pl.read_parquet(out / "results.parquet").sort("cell_id")
        kept = sum(lg.count("problem cache: kept") for lg in cell_logs(out).values())
        prefetch_log = out / "problems" / "prefetch.log"
        if setting == "on":  # every set drawn exactly once, by the prefetcher or by a cell
            assert "prefetch: drawing 3 problem set(s)" in r.stdout + r.stderr
            kept += prefetch_log.read_text().count("problem cache: kept")
        else:
            assert not prefetch_log.exists()
        assert kept == 3, setting
    on, off = runs["on"], runs["off"]
    assert on["cell_id"].to_list() == off["cell_id"].to_list()
    for col in ("train_loss", "accuracy", "mistakes_per_sample", "n_correct"):
        assert on[col].to_list() == off[col].to_list(), col


def test_stopping_mid_draw_leaves_nothing_that_blocks(tmp_path):
    out = tmp_path / "run"
    cells = plan(MANAGER, "igsm×oracle×gpt-2L", budget="tiny", seeds=1,
                 budget_overrides={"n_train": 200_000}).cells
    ahead = Prefetcher(out, cells)
    assert [j.side for j in ahead.jobs] == ["eval", "train"]
    with ahead:
        deadline = time.monotonic() + 120
        while not list((out / "problems" / "locks").glob("*.json")) or "kept 40 eval" not in _read(ahead.log_path):
            assert time.monotonic() < deadline and ahead.proc.is_alive()
            time.sleep(0.05)
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 10 and ahead.proc is None  # stopped, not waited for
    assert "prefetch: stopped" in _read(ahead.log_path)
    # whatever it left (its lock, released or not) does not make a cell wait
    job = ahead.jobs[-1]
    ident = cache_identity(job.task.identity(), job.sources, job.seed, "train", job.n)
    lock = ProblemCache(out / "problems").lock(ident)
    t0 = time.monotonic()
    assert lock.acquire(timeout=0.0) is True
    lock.release()
    assert time.monotonic() - t0 < 5
    assert not ProblemCache(out / "problems").path(ident).exists()  # nothing half-written kept


def test_a_prefetcher_whose_run_was_killed_stops(tmp_path):
    """SIGKILL of the run (no __exit__, no daemon clean-up): the prefetcher notices its parent is gone
    and stops drawing sets nobody will read."""
    out = tmp_path / "run"
    code = textwrap.dedent(f"""
        import os, sys, time
        from harness.planning import plan
        from harness.plugins import get_manager
        from harness.prefetch import Prefetcher
        cells = plan(get_manager(), "igsm×oracle×gpt-2L", budget="tiny", seeds=3,
                     budget_overrides={{"n_train": 200_000}}).cells
        ahead = Prefetcher({str(out)!r}, cells).__enter__()
        print(ahead.proc.pid, flush=True)
        while "kept 40 eval" not in (open(ahead.log_path).read() if ahead.log_path.exists() else ""):
            time.sleep(0.05)
        os.kill(os.getpid(), 9)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(p.stdout.readline())
    p.wait(timeout=120)
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), "the prefetcher outlived its run"
    assert "prefetch: stopped" in (out / "problems" / "prefetch.log").read_text()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] not in "ZX"
    except OSError:
        return False


def _read(path):
    try:
        return path.read_text()
    except OSError:
        return ""
