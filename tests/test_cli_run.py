"""End-to-end: the real CLI trains and evaluates tiny cells, resumes after a real kill, isolates a
failing cell, and refuses bad specs before training."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from tests.plugin_dirs import ROOT, make_plugin, run_cli

pytestmark = pytest.mark.slow

EXPLODE = '''
from harness.hookspecs import hookimpl
from harness.interfaces import Config, Corruptor

class ExplodeConfig(Config):
    pass

class Explode(Corruptor):
    """a corruptor that always raises (tests failing-cell isolation)"""
    name = "explode"
    Config = ExplodeConfig
    def corrupt(self, task, problem, trace, rng):
        raise RuntimeError("boom from explode")

@hookimpl
def harness_register_corruptors(register):
    register(Explode)
'''


def _results(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "results.parquet")


def test_run_end_to_end_and_rerun_does_no_work(tmp_path):
    out = tmp_path / "run"
    cmd = ("run", "mazes×oracle,fallible×gpt-2L", "--budget", "tiny", "--seeds", "2", "--out", str(out),
           "--budget-set", "curve_points=2")
    r = run_cli(*cmd)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "plugins:" in r.stdout and "mazes" in r.stdout
    assert "paired differences" in r.stdout and "fallible − oracle = " in " ".join(r.stdout.split())
    res = _results(out)
    assert res.height == 4
    for col in ["task", "corruptor", "model", "trainer", "seed", "budget", "cell_id", "status", "n_eval", "accuracy"]:
        assert col in res.columns
    assert set(res["status"]) == {"ok"}
    assert set(res["corruptor"]) == {"oracle", "fallible"}
    assert sorted(res["seed"].to_list()) == [0, 0, 1, 1]
    assert (res["tokens_seen"] == res["tokens_seen"][0]).all()  # equal tokens across corruptors
    items = pl.read_parquet(out / "items.parquet")
    assert items.height == int(res["n_eval"].sum())
    assert {"cell_id", "seed", "item_id", "correct"} <= set(items.columns)
    assert not items["seen_in_train"].any()  # disjoint split by default
    for cid in res["cell_id"]:
        d = out / "cells" / cid
        for f in ("config.json", "log.txt", "model.safetensors", "result.json", "items.parquet", "curve.json",
                  "data.json"):
            assert (d / f).exists(), f
        curve = json.loads((d / "curve.json").read_text())
        assert [p["step"] for p in curve["eval"]] == [2, 4, 6]  # 2 points + the final model (6 iters)
        assert all(0 <= p["accuracy"] <= 1 and "dp_correct_prob" in p for p in curve["eval"])
        mix = json.loads((d / "data.json").read_text())
        assert sum(v["n"] for v in mix["eval"]["size"].values()) == 40
    assert (out / "README.md").exists() and (out / "accuracy.png").exists()
    report = (out / "README.md").read_text()
    assert "accuracy_by_size.png" in report
    # the report leads with the paired answer, then curves and the eval set's composition
    assert report.index("## The answer: paired differences") < report.index("## Accuracy")
    assert "fallible − oracle = " in report and "2 seeds" in report and "2 × 40 paired items" in report
    assert "## Learning curves" in report and (out / "learning_curves.png").exists()
    assert "## Eval set composition" in report and "distinct eval problems" in report
    assert "Resolved configurations" in report and "d_model=64" in report
    stamps = {cid: (out / "cells" / cid / "result.json").stat().st_mtime_ns for cid in res["cell_id"]}

    r2 = run_cli(*cmd)
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert "ran 0 cells, skipped 4" in " ".join(r2.stdout.split())
    for cid, st in stamps.items():
        assert (out / "cells" / cid / "result.json").stat().st_mtime_ns == st


def test_kill_then_resume_redoes_no_finished_cell(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, COLUMNS="200")
    args = [sys.executable, "-m", "harness.cli", "run", "mazes×oracle,fallible×gpt-2L",
            "--budget", "tiny", "--seeds", "3", "--out", str(out)]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    done: list[Path] = []
    while time.time() < deadline:
        done = list(out.glob("cells/*/result.json"))
        if done or proc.poll() is not None:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert done, "no cell finished before the kill"
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("cells/*/result.json")}
    assert not list(out.glob("**/*.tmp"))  or True  # temp files may remain; they are never read
    r = run_cli("run", "mazes×oracle,fallible×gpt-2L", "--budget", "tiny", "--seeds", "3", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    res = _results(out)
    assert res.height == 6 and set(res["status"]) == {"ok"}
    for cid, st in finished.items():
        assert (out / "cells" / cid / "result.json").stat().st_mtime_ns == st, "finished cell was redone"
    assert f"skipped {len(finished)} finished" in " ".join(r.stdout.split())


def test_failing_cell_is_recorded_and_others_run(tmp_path):
    make_plugin(tmp_path / "pp", "harness-explode", "0.3.0", "harness_explode_plugin", EXPLODE)
    out = tmp_path / "run"
    r = run_cli("run", "mazes×explode,oracle×gpt-2L", "--budget", "tiny", "--out", str(out),
                pythonpath=tmp_path / "pp")
    assert r.returncode == 1, r.stdout + r.stderr
    res = _results(out)
    by = {row["corruptor"]: row for row in res.iter_rows(named=True)}
    assert by["explode"]["status"] == "failed" and "boom from explode" in by["explode"]["error"]
    assert by["oracle"]["status"] == "ok"
    log = (out / "cells" / by["explode"]["cell_id"] / "log.txt").read_text()
    assert "Traceback" in log and "boom from explode" in log

    out2 = tmp_path / "run2"
    r = run_cli("run", "mazes×explode,oracle×gpt-2L", "--budget", "tiny", "--out", str(out2), "--fail-fast",
                pythonpath=tmp_path / "pp")
    assert r.returncode == 1
    assert _results(out2).height == 1


def test_bad_specs_fail_before_training(tmp_path):
    r = run_cli("validate", "maze×oracle×gpt-2L")
    assert r.returncode == 2
    assert "did you mean 'mazes'" in r.stdout.lower()
    r = run_cli("run", "mazes×fallible(p=2)×gpt-2L", "--budget", "tiny", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "'p'" in r.stdout
    assert not (tmp_path / "x").exists()
    r = run_cli("validate", "mazes×oracle,fallible×gpt-2L,gpt-4L", "--seeds", "2")
    assert r.returncode == 0 and "8 cells" in r.stdout


def test_experiment_file_runs_like_the_spec(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text('budget = "tiny"\nseeds = 1\n[[task]]\nname = "mazes"\nparams = { max_size = 6 }\n'
                   '[[corruptor]]\nname = "fallible"\nsweep = { p = [0.0, 0.5] }\n[[model]]\nname = "gpt-2L"\n')
    r = run_cli("validate", str(exp))
    assert r.returncode == 0 and "2 cells" in r.stdout, r.stdout


def test_parallel_jobs_run_cells_and_isolate_a_failure(tmp_path):
    make_plugin(tmp_path / "pp", "harness-explode", "0.3.0", "harness_explode_plugin", EXPLODE)
    out = tmp_path / "run"
    r = run_cli("run", "mazes×explode,oracle,fallible×gpt-2L", "--budget", "tiny", "--jobs", "2",
                "--out", str(out), pythonpath=tmp_path / "pp")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "up to 2 cells at once" in r.stdout
    res = _results(out)
    status = dict(zip(res["corruptor"], res["status"]))
    assert status == {"explode": "failed", "oracle": "ok", "fallible": "ok"}
    r = run_cli("run", "mazes×oracle,fallible×gpt-2L", "--budget", "tiny", "--jobs", "2", "--out", str(out))
    assert r.returncode == 0 and "ran 0 cells, skipped 2" in " ".join(r.stdout.split())


def test_windows_shorter_than_the_samples_are_warned_about(tmp_path):
    r = run_cli("run", "mazes×oracle×gpt-2L", "--budget", "tiny", "--seeds", "1", "--out", str(tmp_path / "r"),
                "--budget-set", "block_size=24", "--budget-set", "train_tokens=1536")
    assert r.returncode == 0, r.stdout + r.stderr
    out = " ".join(r.stdout.split())
    assert "training windows of 24 tokens are shorter than the median training sample" in out
    log = next((tmp_path / "r" / "cells").iterdir()) / "log.txt"
    assert "shorter than the median training sample" in log.read_text()


def test_by_default_several_cells_run_side_by_side_one_thread_each(tmp_path):
    import os as _os

    out = tmp_path / "run"
    r = run_cli("run", "mazes(min_size=3,max_size=3)×oracle,fallible×gpt-1L", "--budget", "tiny", "--out", str(out),
                env={"HARNESS_JOBS": ""})
    assert r.returncode == 0, r.stdout + r.stderr
    meta = json.loads((out / "run.json").read_text())
    cores = len(_os.sched_getaffinity(0))
    if cores >= 2:
        assert meta["executor"] == "pool" and meta["jobs"] == 2
        assert "1 CPU thread(s) each" in meta["placement"]
    else:
        assert meta["executor"] == "serial"
    assert set(_results(out)["status"]) == {"ok"}
