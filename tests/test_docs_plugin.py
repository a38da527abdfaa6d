"""docs/plugins.md stays true: its code blocks are extracted and run — the complete task passes the
conformance kit and trains through a real cell, the corruptor and the analysis work, the observer
sees cells end."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

import polars as pl
import pytest

from harness.analysis import run_analysis
from harness.planning import plan
from harness.plugins import Manager
from harness.runner import run_plan
from harness.testing.conformance import check_task

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def _module(name: str, *codes: str) -> types.ModuleType:
    mod = types.ModuleType(name)
    for code in codes:
        exec(compile(code, f"{DOC}:{name}", "exec"), mod.__dict__)
    return mod


@pytest.fixture(scope="module")
def plugins():
    task = _module("doc_stairs", BLOCKS[0])
    corruptor = _module("doc_skip", BLOCKS[2])
    analysis = _module("doc_count", BLOCKS[3])
    observer = _module("doc_observer", BLOCKS[5])
    return task, corruptor, analysis, observer


def test_the_doc_has_the_blocks_this_test_runs():
    assert len(BLOCKS) == 6 and "class Stairs(Task)" in BLOCKS[0] and "check_task" in BLOCKS[1]
    assert "class AtJunction(ProbeTarget)" in BLOCKS[4]


def test_the_documented_probe_target_labels_each_step(plugins):
    import random

    task = plugins[0]
    target_mod = _module("doc_target", BLOCKS[4])
    stairs = task.Stairs(task.Stairs.Config())
    target = target_mod.AtJunction(target_mod.AtJunction.Config())
    assert not target.applies(stairs) and target.tasks == frozenset({"mytask"})
    p = stairs.sample(random.Random(0))
    trace = stairs.oracle(p)
    enc = stairs.encode(p, trace)
    (ex,) = target.examples(stairs, p, trace, enc, random.Random(0))  # the default examples(): labels() on the trace
    assert len(ex.positions) == len(trace) == len(ex.labels) and (ex.positions >= enc.prompt_len).all()


def test_the_documented_task_conforms(plugins):
    task = plugins[0]
    check_task(task.Stairs(task.Stairs.Config()))
    ns = {"Stairs": task.Stairs}
    exec(BLOCKS[1] + "\ntest_stairs_conforms()\n", ns)  # the doc's own test, as written


@pytest.mark.slow
def test_the_documented_plugins_run_a_grid(plugins, tmp_path, capsys):
    task, corruptor, analysis, observer = plugins
    m = Manager(strict=True, extra_plugins={"stairs": task, "skip": corruptor, "count": analysis,
                                             "observer": observer})
    assert m.get("task", "steps")[0].cls is task.Stairs  # the alias
    p = plan(m, "stairs×oracle,fallible,skip×gpt-1L", budget="tiny")
    assert p.cells[0].task.config["max_climb"] == 6  # budget_defaults by profile
    out = tmp_path / "run"
    summary = run_plan(p, m, out)
    assert not summary.failed and len(summary.ran) == 3
    res = pl.read_parquet(out / "results.parquet")
    by = {r["corruptor"]: r for r in res.iter_rows(named=True)}
    assert by["fallible"]["mistakes_per_sample"] > 0 and by["oracle"]["mistakes_per_sample"] == 0
    assert by["fallible"]["dp_n"] > 0  # decision points come from the documented seam
    assert json.loads((out / "metrics.json").read_text())["task.downs_per_item"]["label"] == "downs / item"
    printed = capsys.readouterr().out
    assert printed.count("stairs×") == 3  # the observer saw every cell end
    count = m.get("analysis", "count-items")[0].cls
    path, ran = run_analysis(count(count.Config()), out, log=lambda msg: None)
    assert ran and (path / "count.txt").read_text() == "3"
