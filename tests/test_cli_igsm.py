"""End-to-end: the mazes × iGSM × corruptor cross product plans, skips the combinations
a task cannot support with the reason, runs every valid cell; `harness score igsm` scores text."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest

from harness_igsm import IGSMConfig, IGSMTask
from tests.plugin_dirs import run_cli

pytestmark = pytest.mark.slow
SPEC = "mazes,igsm×oracle,fallible,retry,retry_weak,retry_miss×gpt-2L"


def test_cross_product_plans_skips_invalid_and_runs_valid_cells(tmp_path):
    r = run_cli("validate", SPEC)
    assert r.returncode == 0, r.stdout + r.stderr
    flat = " ".join(r.stdout.split())
    assert "valid: 7 cells" in flat
    assert "igsm × fallible" in flat and "natural undo" in flat
    assert "mazes × retry_weak" in flat and "'later'" in flat
    assert "mazes × retry_miss" in flat and "'unused'" in flat

    out = tmp_path / "run"
    r = run_cli("run", SPEC, "--budget", "tiny", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    res = pl.read_parquet(out / "results.parquet")
    assert res.height == 7 and set(res["status"]) == {"ok"}
    got = set(zip(res["task"], res["corruptor"]))
    assert got == {("mazes", c) for c in ("oracle", "fallible", "retry")} | {
        ("igsm", c) for c in ("oracle", "retry", "retry_weak", "retry_miss")
    }
    igsm = res.filter(pl.col("task") == "igsm")
    assert {"task.acc_id", "task.acc_ood"} <= set(igsm.columns)
    retry_rows = igsm.filter(pl.col("corruptor") != "oracle")
    assert (retry_rows["mistakes_per_sample"] > 0).all()
    assert (igsm.filter(pl.col("corruptor") == "oracle")["mistakes_per_sample"] == 0).all()
    items = pl.read_parquet(out / "items.parquet")
    ig = items.filter(pl.col("condition").str.starts_with("igsm"))
    assert set(ig["meta_split"]) == {"id", "ood"}
    assert "Accuracy by op" in (out / "README.md").read_text()


def test_score_igsm_from_problem_text(tmp_path):
    task = IGSMTask(IGSMConfig(preset="mini"))
    rng = random.Random(11)
    src = tmp_path / "sols.jsonl"
    n = 30
    with open(src, "w") as f:
        for i, p in enumerate(task.sample_batch(rng, n)):
            sol = task.trace_text(p, task.oracle(p))
            if i % 3 == 0:  # break the final answer
                head, _, ans = sol.rpartition("Answer: ")
                sol = head + "Answer: " + str((int(ans.rstrip(".")) + 1) % 23) + "."
            f.write(json.dumps({"id": i, "problem": task.problem_text(p), "solution": sol}) + "\n")
    r = run_cli("score", "igsm", str(src), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    verdicts = [json.loads(x) for x in (tmp_path / "sols.verdicts.jsonl").read_text().splitlines()]
    for v in verdicts:
        assert v["correct"] == (v["id"] % 3 != 0), v
    assert f"{n - n // 3}/{n} correct" in " ".join(r.stdout.split())
