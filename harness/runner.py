"""Cells → results: resume, order, failures and the tables; where cells run is the executor's job.

Resumable by construction: a cell is done iff ``cells/<id>/result.json`` says status "ok"; rerunning
the same command skips done cells, and killing the process loses at most the cells in flight. A cell
that raises (NaN loss included) is recorded as failed with its error and the run moves on, unless
``fail_fast`` is set. A fine-tuning cell runs after its parent (reusing a parent finished earlier);
if the parent fails, the child is recorded as failed with the parent's reason. Cells that differ only
in their decoder run after the first of them, whose training they reuse.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import polars as pl

from harness import __version__
from harness.events import CellFinished, CellPhase, CellProgress, CellStarted, RunFinished, RunMessage, RunStarted
from harness.interfaces import Executor, PlanError
from harness.metrics import DECODE_PREFIX, declared_columns
from harness.pipeline import (
    CellContext,
    build_data,
    build_model,
    reuse_training,
    final_evaluation,
    learning_curve,
    save_checkpoint,
    train,
)
from harness.planning import Cell, Plan
from harness.plugins import Manager
from harness.results import _cell_order, _plan_labels, _rows_frame, collect_items, collect_results
from harness.schema import identity_columns, now, results_row
from harness.store import atomic_write_json, atomic_write_parquet, cell_dir

#: lifecycle event type → the hook that observes it
HOOK_OF_EVENT: dict[type, str] = {
    RunStarted: "harness_run_start", CellStarted: "harness_cell_start", CellPhase: "harness_cell_phase",
    CellProgress: "harness_cell_progress", CellFinished: "harness_cell_end", RunMessage: "harness_run_message",
    RunFinished: "harness_run_end",
}


def pick_device(requested: str = "auto") -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but torch sees no CUDA device")
    if requested not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {requested!r}; use auto, cpu or cuda")
    return requested


@dataclass
class RunSummary:
    results: pl.DataFrame
    items: pl.DataFrame
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class _CellLog:
    def __init__(self, path: Path):
        self.f = open(path, "a", buffering=1)

    def __call__(self, msg: str) -> None:
        self.f.write(f"{_dt.datetime.now().isoformat(timespec='seconds')} {msg}\n")

    def close(self) -> None:
        self.f.close()


def versions() -> dict[str, str]:
    import numpy
    import pluggy
    import pydantic
    import torch

    return {
        "harness": __version__, "python": platform.python_version(), "torch": torch.__version__,
        "numpy": numpy.__version__, "polars": pl.__version__, "pydantic": pydantic.__version__,
        "pluggy": pluggy.__version__,
    }


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str) -> str:
    import torch

    if device == "cuda":
        return torch.cuda.get_device_name(0)
    threads = torch.get_num_threads()
    return f"CPU ({cpu_model()}, {platform.machine()}, {os.cpu_count()} cores, {threads} torch thread{'s' * (threads != 1)})"


# ---------------------------------------------------------------------------------------------- cell
def run_cell(cell: Cell, out_dir: Path, device: str, emit: Callable[[Any], None] = lambda e: None) -> dict[str, Any]:
    """Run one cell's stages and write its files; returns its results row. Never raises."""
    import torch

    d = cell_dir(out_dir, cell.cell_id)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_json(d / "config.json", cell.to_json())
    log = _CellLog(d / "log.txt")
    started, t_start = now(), time.perf_counter()
    name = device_name(device)
    log(f"cell {cell.cell_id} {cell.condition} seed={cell.seed} budget={cell.budget.name} device={device}")
    try:
        ctx = CellContext(cell, d, torch.device(device), emit, log)
        task, corruptor = cell.task.instantiate(), cell.corruptor.instantiate()
        family, trainer, decoder = cell.model.instantiate(), cell.trainer.instantiate(), cell.decoder.instantiate()
        data = build_data(ctx, task, corruptor, trainer)
        atomic_write_json(d / "data.json", data.composition)
        model = build_model(ctx, task, family, data)
        trained = reuse_training(ctx, model) or train(ctx, task, trainer, decoder, data, model, data.train_keys)
        save_checkpoint(model.model, d / "model.safetensors")
        ev = final_evaluation(ctx, task, decoder, model, data)
        atomic_write_parquet(d / "items.parquet", ev.items)
        atomic_write_json(d / "curve.json", {"loss": trained.curve,
                                             "eval": learning_curve(trained, ev, cell.budget, cell.budget.n_curve_eval)})
        row = results_row(cell, device, name, data, model, trained.metrics, ev)
    except Exception as exc:  # noqa: BLE001 - a failing cell must not take the others down
        row = {**identity_columns(cell, device, name), "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        log("FAILED\n" + traceback.format_exc())
    row.update(seconds=time.perf_counter() - t_start, started_at=started, finished_at=now())
    log.close()
    atomic_write_json(d / "result.json", row)
    return row


@dataclass(frozen=True)
class CellJob:
    """What an executor runs for each cell: `job(cell, emit) -> row` (picklable, for worker processes)."""

    out_dir: Path
    device: str

    def __call__(self, cell: Cell, emit: Callable[[Any], None]) -> dict[str, Any]:
        return run_cell(cell, self.out_dir, self.device, emit)


def _failed_without_running(cell: Cell, out_dir: Path, device: str, why: str) -> dict[str, Any]:
    """A cell that cannot start (its parent failed): recorded as failed with the reason."""
    row = {**identity_columns(cell, device, device_name(device)), "status": "failed", "error": why,
           "seconds": 0.0, "started_at": now(), "finished_at": now()}
    d = cell_dir(out_dir, cell.cell_id)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_json(d / "config.json", cell.to_json())
    atomic_write_json(d / "result.json", row)
    return row


# ---------------------------------------------------------------------------------------------- run
class Tables:
    """The run directory's results and items, read once at the start and updated as cells finish
    (not rebuilt from every cell's files after each one). results.parquet is rewritten after every
    cell; items.parquet when the run ends (the per-cell items files are the record either way)."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.order = _cell_order(out_dir)
        self.labels = _plan_labels(out_dir)
        res = collect_results(out_dir)
        self.rows: dict[str, dict[str, Any]] = {r["cell_id"]: r for r in res.iter_rows(named=True)} if res.height else {}
        items = collect_items(out_dir)
        self.items: dict[str, pl.DataFrame] = (
            {key[0]: part for key, part in items.partition_by(["cell_id"], as_dict=True, maintain_order=True).items()}
            if items.height else {})  # one pass, not one filter per cell

    def add(self, cell: Cell, row: dict[str, Any]) -> None:
        self.rows[cell.cell_id] = {**row, **self.labels.get(cell.cell_id, {})}
        if cell.cell_id not in self.order:
            self.order.append(cell.cell_id)
        p = cell_dir(self.out_dir, cell.cell_id) / "items.parquet"
        self.items.pop(cell.cell_id, None)
        if row.get("status") == "ok" and p.exists():
            df = pl.read_parquet(p)
            if cell.cell_id in self.labels:
                df = df.with_columns(pl.lit(self.labels[cell.cell_id]["condition"]).alias("condition"))
            self.items[cell.cell_id] = df

    def results(self) -> pl.DataFrame:
        return _rows_frame([self.rows[c] for c in self.order if c in self.rows])

    def all_items(self) -> pl.DataFrame:
        frames = [self.items[c] for c in self.order if c in self.items]
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    def write_results(self) -> None:
        res = self.results()
        if res.height:
            atomic_write_parquet(self.out_dir / "results.parquet", res)

    def write_items(self) -> None:
        items = self.all_items()
        if items.height:
            atomic_write_parquet(self.out_dir / "items.parquet", items)


def write_metric_declarations(out_dir: Path, plan: Plan) -> None:
    """metrics.json: results column → declaration, for the core's metrics and every task of the plan
    (merged with what the directory already holds, so cells of earlier plans stay described)."""
    path = Path(out_dir) / "metrics.json"
    known: dict[str, Any] = {}
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    for cls in {c.task.name: c.task.cls for c in plan.cells}.values():
        known.update({col: m.as_json() for col, m in declared_columns(cls.metrics).items()})
    for cls in {c.decoder.name: c.decoder.cls for c in plan.cells}.values():
        known.update({DECODE_PREFIX + m.name: m.as_json() for m in getattr(cls, "metrics", ())})
    atomic_write_json(path, known)


def choose_executor(manager: Manager, spec: str | None, jobs: int, budget: Any) -> Executor:
    """The executor a run uses: `spec` (e.g. "pool(jobs=4)") if given, else `pool(jobs=N)` for
    `jobs` > 1, else the declared default (serial)."""
    from harness.planning import resolve_one

    if jobs < 1:
        raise PlanError(f"--jobs must be at least 1, got {jobs}")
    if not spec and jobs > 1:
        spec = f"pool(jobs={jobs})"
    return resolve_one(manager, "executor", spec, budget, "--executor").instantiate()


def run_plan(
    plan: Plan,
    manager: Manager,
    out_dir: Path,
    device: str = "cpu",
    executor: Executor | None = None,
    fail_fast: bool = False,
    command: str | None = None,
) -> RunSummary:
    """Run every unfinished cell of the plan on `executor` (default: serial, in this process),
    parents before the cells that fine-tune from them."""
    from harness.executors import Serial

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    executor = executor or Serial(Serial.Config())

    def emit(event: Any) -> None:
        getattr(manager.hook, HOOK_OF_EVENT[type(event)])(event=event)

    atomic_write_json(out_dir / "plan.json", {"spec": plan.spec, "cells": [c.to_json() for c in plan.cells]})
    meta = {
        "command": command or " ".join(sys.argv), "spec": plan.spec, "budget": plan.budget.model_dump(mode="json"),
        "seeds": plan.seeds, "device": device, "device_name": device_name(device),
        "executor": executor.name, "jobs": getattr(executor.config, "jobs", 1), "versions": versions(),
        "plugins": manager.describe(), "skipped_combinations": plan.skipped, "started_at": now(),
    }
    atomic_write_json(out_dir / "run.json", meta)
    write_metric_declarations(out_dir, plan)
    tables = Tables(out_dir)
    summary = RunSummary(pl.DataFrame(), pl.DataFrame())
    done: set[str] = set()
    failed: dict[str, str] = {}
    pending: list[Cell] = []
    for cell in plan.cells:
        r = tables.rows.get(cell.cell_id)
        if r and r.get("status") == "ok":
            done.add(cell.cell_id)
            summary.skipped.append(cell.cell_id)
        else:
            pending.append(cell)
    emit(RunStarted(plan, out_dir, len(pending), executor.name, executor.layout()))
    for cell in plan.cells:
        if cell.cell_id in done:
            emit(CellFinished(cell, tables.rows[cell.cell_id], skipped=True))

    def finish(cell: Cell, row: dict[str, Any]) -> bool:
        """Record a finished cell; True if the run must stop (--fail-fast)."""
        summary.ran.append(cell.cell_id)
        if row.get("status") == "ok":
            done.add(cell.cell_id)
        else:
            failed[cell.cell_id] = str(row.get("error"))
            summary.failed.append(cell.cell_id)
        tables.add(cell, row)
        tables.write_results()
        emit(CellFinished(cell, row))
        if fail_fast and row.get("status") != "ok":
            emit(RunMessage(f"--fail-fast: stopping after failed cell {cell.cell_id}: {row.get('error')}", cell))
            return True
        return False

    job = CellJob(out_dir, device)
    stop = False
    try:
        while pending and not stop:
            blocked = [c for c in pending if c.parent is not None and c.parent.cell_id in failed]
            ready = [c for c in pending if c.parent is None or c.parent.cell_id in done]
            if not blocked and not ready:  # a parent that is neither done nor in this plan
                blocked = pending
            # cells that differ only in their decoder: the first trains, the others wait a wave and reuse it
            keys: set[str] = set()
            waiting = []
            for c in ready:
                (waiting if c.train_key() in keys else []).append(c)
                keys.add(c.train_key())
            ready = [c for c in ready if c not in waiting]
            for cell in blocked:
                why = (f"parent cell {cell.parent.cell_id} ({cell.parent.condition}) failed: "
                       f"{failed.get(cell.parent.cell_id, 'it did not run')}")
                stop = finish(cell, _failed_without_running(cell, out_dir, device, why))
                if stop:
                    break
            taken = {c.cell_id for c in blocked} | {c.cell_id for c in ready}
            pending = [c for c in pending if c.cell_id not in taken]
            if stop or not ready:
                continue
            for cell, row in executor.run(ready, job, emit):
                if finish(cell, row):
                    stop = True
                    break
    finally:
        tables.write_results()
        tables.write_items()
    ids = {c.cell_id for c in plan.cells}
    results, items = tables.results(), tables.all_items()
    summary.results = results.filter(pl.col("cell_id").is_in(list(ids))) if results.height else results
    summary.items = items.filter(pl.col("cell_id").is_in(list(ids))) if items.height else items
    meta["finished_at"] = now()
    atomic_write_json(out_dir / "run.json", meta)
    emit(RunFinished(plan, out_dir, summary.results, tuple(summary.ran), tuple(summary.skipped), tuple(summary.failed)))
    return summary
