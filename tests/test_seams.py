"""The seams later work plugs into: decoders, executors, fine-tuning stages (a cell that starts from
another cell's checkpoint), analyses over a finished run, and typed lifecycle events."""

from __future__ import annotations

import json

import polars as pl
import pytest

from harness.analysis import run_analysis
from harness.decoders import Greedy, Sample
from harness.events import CellFinished, CellPhase, CellStarted, RunFinished, RunStarted
from harness.executors import Pool, Serial
from harness.hookspecs import hookimpl
from harness.interfaces import Analysis, Config, Corruptor, PlanError
from harness.planning import plan
from harness.plugins import Manager
from harness.runner import choose_executor, run_plan

pytestmark = pytest.mark.slow

SPEC = "mazes(min_size=3,max_size=3)×oracle×gpt-1L"
FINETUNE = ('mazes(min_size=3,max_size=3)×fallible×gpt-1L'
            '×pretrain(init_from="mazes(min_size=3,max_size=3)×oracle×gpt-1L")')


class Recorder:
    """An observer plugin: every lifecycle event, in order."""

    def __init__(self):
        self.events = []

    @hookimpl
    def harness_run_start(self, event):
        self.events.append(event)

    @hookimpl
    def harness_cell_start(self, event):
        self.events.append(event)

    @hookimpl
    def harness_cell_phase(self, event):
        self.events.append(event)

    @hookimpl
    def harness_cell_end(self, event):
        self.events.append(event)

    @hookimpl
    def harness_run_end(self, event):
        self.events.append(event)


class ExplodeConfig(Config):
    pass


class Explode(Corruptor):
    """always raises"""

    name = "explode"
    Config = ExplodeConfig

    def corrupt(self, task, problem, trace, rng):
        raise RuntimeError("boom from explode")


class _Plugins:
    @hookimpl
    def harness_register_corruptors(self, register):
        register(Explode)


@pytest.fixture(scope="module")
def manager():
    return Manager(strict=True, extra_plugins={"explode": _Plugins()})


# ------------------------------------------------------------------------------------------ decoders
def test_the_default_decoder_samples_at_the_budget_temperature(manager):
    cell = plan(manager, SPEC, budget="tiny").cells[0]
    assert cell.decoder.name == "sample" and cell.decoder.config == {"temperature": 0.1}
    hot = plan(manager, SPEC, budget="tiny", budget_overrides={"temperature": 0.7}).cells[0]
    assert hot.decoder.config == {"temperature": 0.7}
    greedy = plan(manager, SPEC, budget="tiny", decoder="greedy").cells[0]
    assert greedy.decoder.name == "greedy" and greedy.cell_id != cell.cell_id  # part of the identity
    assert plan(manager, SPEC, budget="tiny", decoder="sample(temperature=0)").cells[0].decoder.config == {"temperature": 0.0}


def test_unknown_decoder_is_a_plan_error_with_a_suggestion(manager):
    with pytest.raises(PlanError, match="Did you mean 'greedy'"):
        plan(manager, SPEC, budget="tiny", decoder="gredy")
    with pytest.raises(PlanError, match="temperature"):
        plan(manager, SPEC, budget="tiny", decoder="sample(temperature=-1)")


def test_greedy_equals_sampling_at_temperature_zero():
    import torch

    from harness_models.model import GPT, GPTConfig

    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layer=1, d_model=32, n_head=2, dropout=0.0), vocab_size=11, block_size=32)
    prompts = [torch.randint(0, 11, (n,)).numpy() for n in (3, 5, 4)]
    kw = dict(end_token=0, max_new_tokens=[6, 6, 6], batch_size=2, device=torch.device("cpu"), seed=3)
    g = Greedy(Greedy.Config()).generate(model, prompts, **kw)
    assert g == Sample(Sample.Config(temperature=0.0)).generate(model, prompts, **kw)
    assert all(len(x) <= 6 for x in g)


# ----------------------------------------------------------------------------------------- executors
def test_choose_executor(manager):
    b = manager.budget("tiny")
    assert isinstance(choose_executor(manager, None, 1, b), Serial)
    pool = choose_executor(manager, None, 3, b)
    assert isinstance(pool, Pool) and pool.config.jobs == 3
    assert choose_executor(manager, "pool(jobs=2,threads=1)", 1, b).threads == 1
    with pytest.raises(PlanError, match="Did you mean 'pool'"):
        choose_executor(manager, "pol", 1, b)
    with pytest.raises(PlanError, match="jobs"):
        choose_executor(manager, None, 0, b)


def test_cells_run_side_by_side_with_one_thread_each_by_default_on_a_cpu(manager, monkeypatch):
    from harness import executors

    b = manager.budget("tiny")
    monkeypatch.setattr(executors, "usable_cores", lambda: 4)
    pool = choose_executor(manager, None, None, b, device="cpu", n_cells=8)
    assert isinstance(pool, Pool) and pool.config.jobs == 4 and pool.threads == 1
    few = choose_executor(manager, None, None, b, device="cpu", n_cells=3)
    assert few.config.jobs == 3 and few.threads == 1
    lone = choose_executor(manager, None, None, b, device="cpu", n_cells=1)
    assert isinstance(lone, Serial) and lone.config.threads is None  # a lone cell keeps torch's setting (the cores)
    assert isinstance(choose_executor(manager, None, None, b, device="cuda", n_cells=8), Serial)
    assert choose_executor(manager, None, None, b, device="cpu", n_cells=8, threads=2).threads == 2
    assert choose_executor(manager, None, 1, b, device="cpu", n_cells=8, threads=1).config.threads == 1
    with pytest.raises(PlanError, match="threads"):
        choose_executor(manager, None, None, b, threads=0)


@pytest.mark.parametrize("executor", [Serial(Serial.Config()), Pool(Pool.Config(jobs=2, threads=1))],
                         ids=["serial", "pool"])
def test_events_are_typed_and_a_cell_starts_before_it_ends(manager, tmp_path, executor):
    rec = Recorder()
    manager.pm.register(rec, name=f"recorder-{executor.name}")
    try:
        p = plan(manager, "mazes(min_size=3,max_size=3)×oracle,explode×gpt-1L", budget="tiny")
        summary = run_plan(p, manager, tmp_path / "run", executor=executor)
    finally:
        manager.pm.unregister(rec)
    ev = rec.events
    assert isinstance(ev[0], RunStarted) and ev[0].pending == 2 and isinstance(ev[-1], RunFinished)
    for cell in p.cells:
        kinds = [type(e) for e in ev if getattr(e, "cell", None) is not None and e.cell.cell_id == cell.cell_id]
        assert kinds[0] is CellStarted and kinds[-1] is CellFinished  # really started, then ended
        assert CellPhase in kinds
    ends = {e.cell.corruptor.name: e.row for e in ev if isinstance(e, CellFinished)}
    assert ends["oracle"]["status"] == "ok" and "boom from explode" in ends["explode"]["error"]
    assert set(summary.failed) == {c.cell_id for c in p.cells if c.corruptor.name == "explode"}
    assert pl.read_parquet(tmp_path / "run" / "results.parquet").height == 2


# -------------------------------------------------------------------------------------------- stages
def test_a_finetuning_cell_brings_its_parent_into_the_plan(manager):
    p = plan(manager, FINETUNE, budget="tiny", seeds=2)
    assert len(p.cells) == 4  # each seed: the parent, then its child
    parents, children = p.cells[0::2], p.cells[1::2]
    for par, child in zip(parents, children):
        assert child.parent is par and par.parent is None and par.seed == child.seed
        assert par.corruptor.name == "oracle" and child.corruptor.name == "fallible"
        assert child.identity()["parent"] == par.cell_id
    direct = plan(manager, SPEC, budget="tiny", seeds=2)
    assert [c.cell_id for c in direct.cells] == [c.cell_id for c in parents]  # the same cell as planned alone


@pytest.mark.parametrize("bad, why", [
    ('pretrain(init_from="mazes(min_size=3,max_size=3)×oracle×gpt-2L")', "parent's model 'gpt-2L' differs"),
    ('pretrain(init_from="mazes(min_size=4,max_size=4)×oracle×gpt-1L")', "parent's task"),
    ('pretrain(init_from="mazes×oracle,fallible×gpt-1L")', "must name one condition"),
    ('pretrain(init_from="mazes×oracle×gpt-1L×nosuchtrainer")', "unknown trainer 'nosuchtrainer'"),
])
def test_an_impossible_parent_is_a_plan_error(manager, bad, why):
    with pytest.raises(PlanError, match=why):
        plan(manager, f"mazes(min_size=3,max_size=3)×fallible×gpt-1L×{bad}", budget="tiny")


def test_the_child_starts_from_the_parent_checkpoint_and_resume_reuses_the_parent(manager, tmp_path):
    from safetensors.torch import load_file

    out = tmp_path / "run"
    # a vanishing learning rate for the child: its checkpoint must be the parent's, not a fresh init
    p = plan(manager, FINETUNE.replace('pretrain(', 'pretrain(lr=1e-9,min_lr=1e-10,weight_decay=0.0,'), budget="tiny")
    parent, child = p.cells
    s1 = run_plan(p, manager, out)
    assert s1.ran == [parent.cell_id, child.cell_id] and not s1.failed
    a = load_file(str(out / "cells" / parent.cell_id / "model.safetensors"))
    b = load_file(str(out / "cells" / child.cell_id / "model.safetensors"))
    assert a.keys() == b.keys() and max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5
    assert "starts from the checkpoint of parent cell" in (out / "cells" / child.cell_id / "log.txt").read_text()
    res = {r["cell_id"]: r for r in pl.read_parquet(out / "results.parquet").iter_rows(named=True)}
    assert res[child.cell_id]["init_from"] == parent.cell_id and res[parent.cell_id]["init_from"] is None
    s2 = run_plan(p, manager, out)
    assert s2.ran == [] and s2.skipped == [parent.cell_id, child.cell_id]


def test_a_failed_parent_fails_its_child_with_the_reason(manager, tmp_path):
    spec = ('mazes(min_size=3,max_size=3)×oracle×gpt-1L'
            '×pretrain(init_from="mazes(min_size=3,max_size=3)×explode×gpt-1L")')
    p = plan(manager, spec, budget="tiny")
    parent, child = p.cells
    s = run_plan(p, manager, tmp_path / "run")
    assert set(s.failed) == {parent.cell_id, child.cell_id}
    row = json.loads((tmp_path / "run" / "cells" / child.cell_id / "result.json").read_text())
    assert row["status"] == "failed" and f"parent cell {parent.cell_id}" in row["error"]
    assert "boom from explode" in row["error"]


# ------------------------------------------------------------------------------------------ analyses
class BrokenConfig(Config):
    pass


class Broken(Analysis):
    """writes a file, then raises"""

    name = "broken"
    Config = BrokenConfig

    def run(self, run_dir, out, log):
        (out / "half.txt").write_text("half")
        raise RuntimeError("analysis crashed")


def test_an_analysis_runs_once_is_reused_and_redone_for_new_cells(manager, tmp_path):
    out = tmp_path / "run"
    run_plan(plan(manager, "mazes(min_size=3,max_size=3)×oracle,fallible×gpt-1L", budget="tiny"), manager, out)
    paired = manager.get("analysis", "paired")[0].cls
    a = paired(paired.Config())
    path, ran = run_analysis(a, out, log=lambda m: None)
    assert ran and (path / "done.json").exists()
    table = pl.read_parquet(path / "paired.parquet")
    assert table.height == 1 and table["condition"][0].startswith("mazes(min_size=3,max_size=3)×fallible")
    assert (path / "paired_by_size.parquet").exists()
    again, ran2 = run_analysis(a, out, log=lambda m: None)
    assert again == path and not ran2  # nothing changed: reused
    run_plan(plan(manager, "mazes(min_size=3,max_size=3)×oracle,fallible×gpt-1L", budget="tiny", seeds=[1]),
             manager, out)
    newer, ran3 = run_analysis(a, out, log=lambda m: None)
    assert ran3 and newer != path and json.loads((newer / "done.json").read_text())["summary"]["comparisons"] == 1


def test_a_crashing_analysis_leaves_nothing_behind(manager, tmp_path):
    out = tmp_path / "run"
    run_plan(plan(manager, SPEC, budget="tiny"), manager, out)
    with pytest.raises(RuntimeError, match="analysis crashed"):
        run_analysis(Broken(Broken.Config()), out, log=lambda m: None)
    assert list((out / "analyses").iterdir()) == []


def test_an_analysis_needs_finished_cells(tmp_path):
    (tmp_path / "cells").mkdir()
    with pytest.raises(PlanError, match="no finished cell"):
        run_analysis(Broken(Broken.Config()), tmp_path)


def test_harness_data_shows_what_a_cell_trains_and_is_scored_on(manager, tmp_path):
    """`harness data` draws with the runner's own function: the eval split is exactly the cell's eval
    items, and the training split has the cell's training composition."""
    from collections import Counter

    from tests.plugin_dirs import run_cli

    spec = "mazes(min_size=3,max_size=4)×fallible×gpt-1L"
    out = tmp_path / "run"
    p = plan(manager, spec, budget="tiny", seeds=[3])
    run_plan(p, manager, out)
    cell = p.cells[0]
    for split, n in (("eval", cell.budget.n_eval), ("train", cell.budget.n_train)):
        r = run_cli("data", "mazes(min_size=3,max_size=4)×fallible", "--n", str(n), "--seed", "3",
                    "--split", split, "--out", str(tmp_path / f"{split}.parquet"))
        assert r.returncode == 0, r.stdout + r.stderr
    ev = pl.read_parquet(tmp_path / "eval.parquet")
    items = pl.read_parquet(out / "cells" / cell.cell_id / "items.parquet").sort("item_id")
    assert ev["problem_key"].to_list() == items["problem_key"].to_list()
    tr = pl.read_parquet(tmp_path / "train.parquet")
    mix = json.loads((out / "cells" / cell.cell_id / "data.json").read_text())["train"]["size"]
    assert dict(Counter(str(v) for v in tr["meta_size"].to_list())) == {k: v["n"] for k, v in mix.items()}
    res = json.loads((out / "cells" / cell.cell_id / "result.json").read_text())
    assert tr["n_mistakes"].mean() == pytest.approx(res["mistakes_per_sample"])
