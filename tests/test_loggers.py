"""The logger plugins (plugins/loggers): structured progress values from the training loop, TensorBoard
event files and offline Weights & Biases runs written through the real CLI and read back, and a clear
plan-time error when an extra is missing. Offline throughout (WANDB_MODE=offline)."""

from __future__ import annotations

import json
import pickle
import struct
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from harness import PlanError, TrainResult
from harness.cli import main
from harness.events import CellPhase, CellProgress
from harness.pipeline import CellContext, train
from harness.plugins import Manager, reset_manager
from harness_loggers.common import numeric_metrics, slug

SPEC = "mazes(min_size=3,max_size=3)×oracle,fallible×gpt-1L"
ITERS = 6  # the tiny budget: 6 steps, a progress call after each


@pytest.fixture
def strict_manager(monkeypatch):
    """A fresh manager in strict mode: a logger that raises fails the test instead of being switched off."""
    monkeypatch.setenv("COLUMNS", "200")  # one line per message in captured output
    reset_manager(Manager(strict=True))
    yield
    reset_manager(None)


def _run(tmp_path: Path, *extra: str) -> tuple[int, pl.DataFrame | None]:
    out = tmp_path / "run"
    rc = main(["run", SPEC, "--budget", "tiny", "--out", str(out), *extra])
    res = pl.read_parquet(out / "results.parquet") if (out / "results.parquet").exists() else None
    return rc, res


# ---------------------------------------------------------------------------- structured progress values
def test_progress_values_default_empty_and_cross_processes():
    cell = SimpleNamespace(cell_id="c")
    assert CellProgress(cell, 3, "drawing").values == {}  # the three-argument constructor still works
    ev = pickle.loads(pickle.dumps(CellProgress(cell, 10, "loss 1.0", {"loss": 1.0, "lr": 0.1})))
    assert ev.values == {"loss": 1.0, "lr": 0.1} and ev.done == 10


def test_trainer_progress_callback_takes_three_or_four_arguments(tmp_path):
    """A third-party trainer's progress(done, total, loss) still works; the 4th argument adds values."""

    class ThirdParty:
        def fit(self, model, data, budget, device, seed, progress=None, evaluate=None):
            progress(50, 100, np.float32(1.5))  # the old three-argument call (a numpy loss, even)
            progress(100, 100, 1.25, {"step": 2, "lr": np.float64(0.1), "tokens_per_s": 7.0})
            return TrainResult(metrics={}, curve=[], evals=[])

    events = []
    budget = SimpleNamespace(train_tokens=100, n_curve_eval=0, n_decision_eval=0, batch_size=1, block_size=1)
    ctx = CellContext(cell=SimpleNamespace(budget=budget, seed=0), dir=tmp_path, device="cpu",
                      emit=events.append, log=lambda s: None)
    train(ctx, None, ThirdParty(), None, SimpleNamespace(eval_problems=[], train=None),
          SimpleNamespace(model=None), set())
    assert isinstance(events[0], CellPhase)
    progress = [e for e in events if isinstance(e, CellProgress)]
    assert [e.values for e in progress] == [
        {"tokens": 50.0, "loss": 1.5},
        {"tokens": 100.0, "loss": 1.25, "step": 2.0, "lr": 0.1, "tokens_per_s": 7.0},
    ]
    assert progress[0].info == "loss 1.500"
    assert all(type(v) is float for e in progress for v in e.values.values())  # picklable plain floats


def test_helpers():
    assert slug("mazes(max_size=3)×fallible(p=0.2)×gpt-2L×pretrain [beam(k=4)]") == \
        "mazes(max_size=3)_fallible(p=0.2)_gpt-2L_pretrain-beam(k=4)"
    long = slug("x" * 300)
    assert len(long) == 100 and long != slug("x" * 301)  # shortened with a hash of the whole
    assert numeric_metrics({"accuracy": 0.5, "n_eval": np.int64(40), "seed": 1, "ok": True, "err": None,
                            "name": "a", "bad": float("nan")}) == {"accuracy": 0.5, "n_eval": 40.0}


# ------------------------------------------------------------------------------------------- tensorboard
def _accumulator(d: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(d))
    ea.Reload()
    return ea


@pytest.mark.slow
def test_tensorboard_from_a_pool_run_per_condition_folders(tmp_path, strict_manager):
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.hparams import plugin_data_pb2

    rc, res = _run(tmp_path, "--jobs", "2", "--log", "tensorboard")  # events come back from pool workers
    assert rc == 0 and res is not None and res.height == 2
    root = tmp_path / "run" / "tensorboard"
    assert len(list(root.iterdir())) == 2  # one folder per condition
    for row in res.iter_rows(named=True):
        d = root / slug(row["condition"]) / row["cell_id"]
        assert d.is_dir(), sorted(p.relative_to(root) for p in root.rglob("*"))
        ea = _accumulator(d)
        tags = ea.Tags()["scalars"]
        loss = ea.Scalars("train/loss")
        assert [s.step for s in loss] == list(range(1, ITERS + 1))  # per step, x = the optimizer step
        assert loss[-1].value == pytest.approx(row["train_loss"], rel=1e-5)  # the last step's loss
        assert len(ea.Scalars("train/lr")) == ITERS and ea.Scalars("train/lr")[0].value > 0
        assert all(s.value > 0 for s in ea.Scalars("train/tokens_per_s"))
        assert [s.value for s in ea.Scalars("train/tokens")][-1] == row["tokens_seen"]
        # the final metrics: the row's numeric columns, at the last step
        for col in ("accuracy", "n_eval", "train_loss", "tokens_per_s"):
            assert f"metrics/{col}" in tags
        acc = ea.Scalars("metrics/accuracy")
        assert len(acc) == 1 and acc[0].step == ITERS and acc[0].value == pytest.approx(row["accuracy"])
        # the config: text (the resolved config as JSON) and hparams (flat)
        text = ea.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
        assert json.loads(text.strip("`\n"))["cell_id"] == row["cell_id"]
        content = ea.PluginTagToContent("hparams")
        ssi = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
        hp = {k: v.string_value or v.number_value for k, v in ssi.session_start_info.hparams.items()}
        assert hp["corruptor"] == row["corruptor"] and hp["condition"] == row["condition"]
        assert hp["status"] == "ok" and hp["budget.name"] == "tiny"
    # a rerun finds both cells finished: they are skipped and logged nowhere (no new event files)
    before = sorted(root.rglob("events.out.tfevents.*"))
    rc, _ = _run(tmp_path, "--log", "tensorboard")
    assert rc == 0 and sorted(root.rglob("events.out.tfevents.*")) == before


def _cells(n: int = 2):
    from harness.planning import plan
    from harness.plugins import get_manager

    return plan(get_manager(), SPEC, budget="tiny", seeds=2).cells[:n]


def _drive(logger, out: Path, cells, rows) -> None:
    """The lifecycle as the runner fires it: the first cell ran (three-argument trainer progress, then a
    value-less note), the rest were finished before (skipped)."""
    from harness.events import CellFinished, CellStarted, RunStarted

    logger.harness_run_start(RunStarted(plan=None, out_dir=out, pending=1, executor="serial", layout=""))
    first, *done = cells
    logger.harness_cell_start(CellStarted(first, "main"))
    logger.harness_cell_progress(CellProgress(first, 2048, "loss 2.000", {"tokens": 2048, "loss": 2.0}))
    logger.harness_cell_progress(CellProgress(first, 4096, "loss 1.500", {"tokens": 4096, "loss": 1.5}))
    logger.harness_cell_progress(CellProgress(first, 10, "learning-curve eval"))  # no values: not plotted
    logger.harness_cell_end(CellFinished(first, rows[0]))
    for cell, row in zip(done, rows[1:], strict=True):
        logger.harness_cell_end(CellFinished(cell, row, skipped=True))


def test_tensorboard_dir_option_failed_cell_and_skipped_cells(tmp_path, strict_manager):
    pytest.importorskip("tensorboard")
    from harness_loggers import TensorBoard

    cells = _cells()
    logger = TensorBoard(TensorBoard.Config(dir=str(tmp_path / "tb")))
    failed = {"cell_id": cells[0].cell_id, "status": "failed", "error": "boom", "seed": 0, "seconds": 1.5}
    _drive(logger, tmp_path / "run", cells, [failed, {"status": "ok", "accuracy": 1.0}])
    logger.close()
    assert not (tmp_path / "run").exists()  # the dir option wins over <run dir>/tensorboard
    d = tmp_path / "tb" / slug(cells[0].condition) / cells[0].cell_id
    assert [p.relative_to(tmp_path / "tb") for p in (tmp_path / "tb").glob("*/*")] == [d.relative_to(tmp_path / "tb")]
    ea = _accumulator(d)
    # a three-argument trainer reports no step: the x-axis is the tokens done
    assert [(s.step, s.value) for s in ea.Scalars("train/loss")] == [(2048, 2.0), (4096, 1.5)]
    assert [s.step for s in ea.Scalars("metrics/seconds")] == [4096] and "metrics/seed" not in ea.Tags()["scalars"]
    assert ea.Tensors("error/text_summary")[0].tensor_proto.string_val[0].decode() == "boom"


# ------------------------------------------------------------------------------------------------ wandb
def _wandb_env(monkeypatch, tmp_path: Path) -> Path:
    wdir = tmp_path / "wb"
    for k, v in {"WANDB_MODE": "offline", "WANDB_DIR": str(wdir), "WANDB_CONFIG_DIR": str(tmp_path / "wbcfg"),
                 "WANDB_CACHE_DIR": str(tmp_path / "wbcache"), "WANDB_DATA_DIR": str(tmp_path / "wbdata")}.items():
        monkeypatch.setenv(k, v)
    return wdir


def _wandb_records(path: Path) -> list:
    """The records of an offline run's .wandb file: a 7-byte header (":W&B", magic, version), then
    LevelDB-log framed chunks (crc32 4, length 2, type 1; 32 KiB blocks) of protobuf `Record`s."""
    from wandb.proto import wandb_internal_pb2 as pb

    data, block = path.read_bytes(), 32768
    assert data[:4] == b":W&B"
    pos, buf, out = 7, b"", []
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:  # the block's tail is padding
            pos += left
            continue
        _crc, n, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if kind == 0:
            pos += left
            continue
        chunk, pos = data[pos + 7:pos + 7 + n], pos + 7 + n
        if kind == 1:  # full
            out.append(pb.Record.FromString(chunk))
        elif kind == 2:  # first
            buf = chunk
        elif kind == 3:  # middle
            buf += chunk
        else:  # last
            out.append(pb.Record.FromString(buf + chunk))
            buf = b""
    return out


def _key(item) -> str:
    return item.key or "/".join(item.nested_key)


def _read_run(path: Path) -> dict:
    run, history, summary, exit_code = None, [], {}, None
    for r in _wandb_records(path):
        kind = r.WhichOneof("record_type")
        if kind == "run":
            run = r.run
        elif kind == "history":
            history.append({_key(i): json.loads(i.value_json) for i in r.history.item})
        elif kind == "summary":
            summary.update({_key(i): json.loads(i.value_json) for i in r.summary.update})
        elif kind == "exit":
            exit_code = r.exit.exit_code
    config = {_key(i): json.loads(i.value_json) for i in run.config.update}
    return {"group": run.run_group, "name": run.display_name, "job_type": run.job_type, "tags": list(run.tags),
            "project": run.project, "config": config, "history": history, "summary": summary, "exit": exit_code}


@pytest.mark.slow
def test_wandb_offline_one_run_per_cell_grouped_by_condition(tmp_path, strict_manager, monkeypatch):
    wandb = pytest.importorskip("wandb")
    wdir = _wandb_env(monkeypatch, tmp_path)
    try:
        rc, res = _run(tmp_path, "--log", 'wandb(project=mistakes,tags="smoke,ci")')
    finally:
        wandb.teardown()
    assert rc == 0 and res is not None and res.height == 2
    files = sorted(wdir.glob("wandb/offline-run-*/run-*.wandb"))
    assert len(files) == 2  # one offline run per cell, where WANDB_DIR says
    runs = {r["config"]["cell_id"]: r for r in map(_read_run, files)}
    for row in res.iter_rows(named=True):
        r = runs[row["cell_id"]]
        assert r["project"] == "mistakes" and r["tags"] == ["smoke", "ci"]
        assert r["group"] == row["condition"] and row["cell_id"] in r["name"] and row["condition"] in r["name"]
        assert r["job_type"] == row["corruptor"]
        # the config is the cell's resolved config
        assert r["config"]["seed"] == row["seed"] and r["config"]["condition"] == row["condition"]
        assert r["config"]["corruptor"]["name"] == row["corruptor"]
        assert r["config"]["budget"]["name"] == "tiny"
        steps = [h for h in r["history"] if "train/loss" in h]
        assert [h["_step"] for h in steps] == list(range(1, ITERS + 1))
        assert all(h["train/lr"] > 0 and h["train/tokens_per_s"] > 0 for h in steps)
        assert steps[-1]["train/loss"] == pytest.approx(row["train_loss"], rel=1e-5)
        assert r["summary"]["accuracy"] == pytest.approx(row["accuracy"]) and r["summary"]["status"] == "ok"
        assert r["summary"]["n_eval"] == row["n_eval"]
        assert r["exit"] == 0  # finished at the cell's end


def test_wandb_failed_and_interrupted_cells_end_as_failed_runs(tmp_path, strict_manager, monkeypatch, capsys):
    wandb = pytest.importorskip("wandb")
    from harness.events import CellStarted
    from harness_loggers import WandB

    wdir = _wandb_env(monkeypatch, tmp_path)
    monkeypatch.delenv("WANDB_DIR")  # default: the run directory
    cells = _cells(3)
    logger = WandB(WandB.Config(group_by="run"))
    try:
        failed = {"cell_id": cells[0].cell_id, "status": "failed", "error": "boom", "seed": 0, "seconds": 1.5}
        _drive(logger, tmp_path / "run", cells[:2], [failed, {"status": "ok", "accuracy": 1.0}])
        logger.harness_cell_start(CellStarted(cells[2], "main"))  # then the run is interrupted
        logger.close()
    finally:
        wandb.teardown()
    assert not wdir.exists()
    runs = {r["config"]["cell_id"]: r for r in map(_read_run, (tmp_path / "run").glob("wandb/*/run-*.wandb"))}
    assert set(runs) == {cells[0].cell_id, cells[2].cell_id}  # the skipped cell made no run
    first = runs[cells[0].cell_id]
    assert first["exit"] == 1 and first["summary"]["status"] == "failed" and first["summary"]["error"] == "boom"
    assert [(h["_step"], h["train/loss"]) for h in first["history"] if "train/loss" in h] == [(2048, 2.0), (4096, 1.5)]
    assert first["group"] == "run" and runs[cells[2].cell_id]["exit"] == 1
    assert "wandb: 2 run(s) logged offline in" in capsys.readouterr().err


def test_wandb_group_by_and_tags_config():
    pytest.importorskip("wandb")
    from harness_loggers import WandB

    cfg = WandB.Config(tags="a, b,", group_by="corruptor")
    assert cfg.tags == ("a", "b")
    cell = SimpleNamespace(condition="t×c×m×p", corruptor=SimpleNamespace(choice=SimpleNamespace(label="c(p=1)")))
    assert WandB(cfg).group(cell) == "c(p=1)"
    assert WandB(WandB.Config()).group(cell) == "t×c×m×p"
    assert WandB(WandB.Config(group_by="none")).group(cell) is None
    with pytest.raises(ValueError):
        WandB.Config(group_by="colour")


# ----------------------------------------------------------------------------------------- missing extras
@pytest.mark.parametrize("name, module", [("wandb", "wandb"), ("tensorboard", "tensorboard")])
def test_a_missing_extra_refuses_the_run_at_plan_time(tmp_path, strict_manager, monkeypatch, capsys, name, module):
    monkeypatch.setitem(sys.modules, module, None)  # `import wandb` now raises ImportError
    rc, res = _run(tmp_path, "--log", name)
    out = capsys.readouterr().out
    assert rc == 2 and res is None and not (tmp_path / "run" / "cells").exists()  # nothing trained
    assert f"pip install 'harness[{name}]'" in out and f"logger {name!r} needs {name}" in out


def test_a_missing_extra_is_a_plan_error_on_construction(monkeypatch):
    from harness_loggers import TensorBoard

    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(PlanError, match=r"pip install 'harness\[tensorboard\]'"):
        TensorBoard(TensorBoard.Config())
