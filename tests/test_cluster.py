"""The cluster executors: Ray (a real local Ray cluster) and Slurm (submitit's local backend running
real harness workers; the sbatch script it would submit, read back from a fake `sbatch`) give the same
results as the local executor, and say which extra to install when it is missing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.plugin_dirs import run_cli

SPEC = "mazes×oracle,fallible×gpt-2L"
SAME = ["train_loss", "n_correct", "accuracy", "n_train_distinct", "mistakes_per_sample", "dp_correct_prob"]


def _run(out: Path, *extra: str, seeds: int = 2):
    r = run_cli("run", SPEC, "--budget", "tiny", "--seeds", str(seeds), "--out", str(out), *extra,
                env={"OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    return pl.read_parquet(out / "results.parquet").sort("cell_id")


@pytest.fixture(scope="module")
def local_results(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("local") / "run")


@pytest.mark.slow
def test_ray_on_a_local_cluster_gives_the_local_results(tmp_path, local_results):
    pytest.importorskip("ray")
    res = _run(tmp_path / "run", "--executor", "ray(num_cpus=2)")
    assert res["cell_id"].to_list() == local_results["cell_id"].to_list()
    assert res.select(SAME).equals(local_results.select(SAME)), "Ray cells differ from local ones"
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert all("pid" in w and w != run["worker"] for w in res["worker"]), "cells ran in the driver, not in Ray tasks"
    assert run["executor"] == "ray" and "Ray tasks" in run["placement"]
    assert not list((tmp_path / "run" / "claims").glob("*.json"))


@pytest.mark.slow
def test_slurm_workers_through_submitit_give_the_local_results(tmp_path, local_results, monkeypatch):
    pytest.importorskip("submitit")
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)  # set in this process once anything compiled
    out = tmp_path / "run"
    res = _run(out, "--executor", "slurm(cluster=local,workers=2,poll_s=0.5,cpus_per_task=1)")
    assert res["cell_id"].to_list() == local_results["cell_id"].to_list()
    assert res.select(SAME).equals(local_results.select(SAME)), "Slurm-worker cells differ from local ones"
    logs = list((out / "slurm").rglob("*_log.out"))
    assert len(logs) == 2, "expected one log per array task"
    started = [ln for p in logs for ln in p.read_text().splitlines() if ln.startswith("started ")]
    assert len(started) == 4, "each cell must be started by exactly one worker:\n" + "\n".join(started)
    items = pl.read_parquet(out / "items.parquet")
    assert items["cell_id"].n_unique() == 4
    driver = json.loads((out / "run.json").read_text())["worker"]
    assert all(w != driver for w in res["worker"]), "cells ran in the submitting process, not in the workers"
    # every task compiles into the run directory's kernel cache (shared across nodes), not a node's /tmp
    assert all(f"compile cache: {out.resolve() / '.torchinductor'}" in p.read_text() for p in logs)


def test_the_compile_cache_setting():
    from harness_cluster.slurm_executor import compile_cache_dir, use_compile_cache

    run = Path("/shared/runs/x")
    assert compile_cache_dir("run", run) == "/shared/runs/x/.torchinductor"
    assert compile_cache_dir("~/kernels", run) == str(Path.home() / "kernels")
    assert compile_cache_dir(None, run) is None and compile_cache_dir(" ", run) is None
    env: dict[str, str] = {}
    assert use_compile_cache("/a", env) == "/a" and env == {"TORCHINDUCTOR_CACHE_DIR": "/a"}
    assert use_compile_cache("/b", env) == "/a"  # the environment's (setup lines, the user's) wins
    assert use_compile_cache(None, {}) is None


def test_the_sbatch_script_says_what_was_asked(tmp_path, monkeypatch):
    pytest.importorskip("submitit")
    from harness.planning import plan
    from harness.plugins import get_manager
    from harness.runner import CellJob
    from harness_cluster import Slurm

    record = tmp_path / "submitted.sh"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "sbatch"
    fake.write_text(f"#!/bin/sh\ncp \"$1\" {record}\necho 'Submitted batch job 4242'\n")
    fake.chmod(0o755)
    (bindir / "srun").write_text("#!/bin/sh\nexit 0\n")  # submitit looks for srun before it submits
    (bindir / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    cells = plan(get_manager(), SPEC, budget="tiny", seeds=3).cells
    ex = Slurm(Slurm.Config(cluster="slurm", partition="gpu", time_min=90, workers=4, jobs=2, cpus_per_task=8,
                            mem_gb=32, array_parallelism=3, setup=["source /shared/venv/bin/activate"],
                            extra={"constraint": "h100"}, account="lab"))
    jobs = ex.submit(list(cells), CellJob(tmp_path / "run", "cuda"))
    assert len(jobs) == 4 and jobs[0].job_id.startswith("4242")
    text = record.read_text()
    for line in ("#SBATCH --partition=gpu", "#SBATCH --time=90", "#SBATCH --gpus-per-node=1",
                 "#SBATCH --cpus-per-task=8", "#SBATCH --mem=32GB", "#SBATCH --array=0-3%3",
                 "#SBATCH --constraint=h100", "#SBATCH --account=lab", "source /shared/venv/bin/activate"):
        assert line in text, f"{line!r} not in the sbatch script:\n{text}"
    assert str(tmp_path / "run" / "slurm") in text


def test_a_missing_extra_is_named(monkeypatch, tmp_path):
    from harness.interfaces import PlanError
    from harness_cluster import Ray, Slurm

    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "submitit", None)
    with pytest.raises(PlanError, match=r"harness\[ray\]"):
        Ray(Ray.Config())
    with pytest.raises(PlanError, match=r"harness\[slurm\]"):
        Slurm(Slurm.Config())


def test_cluster_executors_are_listed_and_their_parameters_checked(tmp_path):
    r = run_cli("list", "--json")
    names = {e["name"] for e in json.loads(r.stdout)["executor"]}
    assert {"serial", "pool", "ray", "slurm"} <= names
    r = run_cli("run", SPEC, "--budget", "tiny", "--out", str(tmp_path / "r"), "--executor", "slurm(jobz=2)")
    assert r.returncode == 2 and "jobz" in r.stdout and "jobs" in r.stdout, r.stdout
