"""Cells → results: resume, order, failures and the tables; where cells run is the executor's job.

Resumable by construction: a cell is done iff ``cells/<id>/result.json`` says status "ok"; rerunning
the same command skips done cells, and killing the process loses at most the cells in flight. Every
cell is claimed before it runs (harness.claims), so several processes on one directory (shards, or
workers pulling the next undone cell, on one machine or many) never run a cell twice at once. A cell
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
from typing import Any, Callable, Iterator, Sequence

import polars as pl

from harness import __version__
from harness.claims import DEFAULT_LEASE_S, Claims, FileLock, list_claims, worker_name
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
from harness.prefetch import Prefetcher
from harness.progress_log import every_s_from_env
from harness.plugins import CORE, Manager
from harness.results import _cell_order, _plan_labels, _rows_frame
from harness.schema import identity_columns, now, results_row
from harness.store import (
    atomic_write_json,
    atomic_write_parquet,
    cell_dir,
    check_finished,
    clean_temp_files,
    read_result,
)

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


def provenance_of(manager: Manager, plan: Plan) -> dict[str, Any]:
    """Where the code of this run's cells comes from: each taking-part plugin's source hash and folder,
    and the git commit and dirty flag of every checkout holding one of them (or the working directory)."""
    from harness.provenance import git_state

    import harness

    plugins = sorted({name for c in plan.cells for name in c.plugin_sources})
    paths = {**manager.source_paths(), CORE: str(Path(harness.__file__).parent)}
    sources = {name: {"hash": manager.source_hash(name), "path": paths.get(name)} for name in plugins}
    checkouts: dict[str, Any] = {}
    for where in [os.getcwd(), *(s["path"] for s in sources.values() if s["path"])]:
        state = git_state(where)
        if state is not None and state["root"] not in checkouts:
            checkouts[state["root"]] = {"commit": state["commit"], "dirty": state["dirty"]}
    for s in sources.values():
        s["checkout"] = next((root for root in checkouts if s["path"] and
                              os.path.commonpath([root, s["path"]]) == root), None)
    return {"sources": sources, "git": checkouts}


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
        ctx = CellContext(cell, d, torch.device(device), emit, log, log_every_s=every_s_from_env(), run_dir=Path(out_dir))
        task, corruptor = cell.task.instantiate(), cell.corruptor.instantiate()
        family, trainer, decoder = cell.model.instantiate(), cell.trainer.instantiate(), cell.decoder.instantiate()
        data = build_data(ctx, task, corruptor, trainer)
        atomic_write_json(d / "data.json", data.composition)
        model = build_model(ctx, task, family, data)
        trained = reuse_training(ctx, model) or train(ctx, task, trainer, decoder, data, model, data.train_keys)
        _check_finite(model.model)
        save_checkpoint(model.model, d / "model.safetensors")
        ev = final_evaluation(ctx, task, decoder, trainer, model, data)
        atomic_write_parquet(d / "items.parquet", ev.items)
        atomic_write_json(d / "curve.json", {"loss": trained.curve,
                                             "eval": learning_curve(trained, ev, cell.budget, cell.budget.n_curve_eval)})
        row = results_row(cell, device, name, data, model, trained.metrics, ev)
    except Exception as exc:  # noqa: BLE001 - a failing cell must not take the others down
        row = {**identity_columns(cell, device, name), "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        log("FAILED\n" + traceback.format_exc())
    row.update(seconds=time.perf_counter() - t_start, started_at=started, finished_at=now(), worker=worker_name())
    log.close()
    atomic_write_json(d / "result.json", row)
    return row


def _check_finite(model: Any) -> None:
    """A cell whose training left NaN or inf in its weights is a failed cell, not an "ok" one with
    garbage numbers (the last loss can still be finite: it is computed before the last update)."""
    import torch

    params = list(model.named_parameters())
    bad = [n for n, p in params if not bool(torch.isfinite(p.detach()).all())]
    if bad:
        raise FloatingPointError(f"training left non-finite weights (NaN/inf) in {len(bad)} of {len(params)} "
                                 f"tensors, e.g. {bad[0]}; is the learning rate too high?")


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
    (here or, on a shared directory, in other processes: `refresh` reads the result files that
    changed since the last look). results.parquet is rewritten after every cell, items.parquet when
    the run ends, each under the directory's table lock and merged with what others wrote first, so
    several processes on one directory never drop each other's rows (the per-cell files are the
    record either way)."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.order = _cell_order(out_dir)
        self.labels = _plan_labels(out_dir)
        self.rows: dict[str, dict[str, Any]] = {}
        self.items: dict[str, pl.DataFrame] = {}
        self.seen: dict[str, float] = {}  # cell id → mtime of the result.json read
        self.invalid: dict[str, str] = {}  # cell id → why its "ok" files cannot be trusted (check_finished)
        self.lock = FileLock(self.out_dir / ".tables.lock")
        self.refresh()

    def refresh(self) -> list[str]:
        """Read every result.json that appeared or changed since the last call; their cell ids."""
        changed = []
        cells = self.out_dir / "cells"
        for d in (sorted(cells.iterdir()) if cells.is_dir() else ()):
            p = d / "result.json"
            try:
                mtime = p.stat().st_mtime
            except OSError:
                continue
            if self.seen.get(d.name) == mtime:
                continue
            row = read_result(self.out_dir, d.name)
            if row is None:
                continue
            self.seen[d.name] = mtime
            self._set(d.name, row)
            changed.append(d.name)
        return changed

    def _set(self, cell_id: str, row: dict[str, Any]) -> None:
        self.items.pop(cell_id, None)
        self.invalid.pop(cell_id, None)
        df = None
        if row.get("status") == "ok":
            try:
                df = pl.read_parquet(cell_dir(self.out_dir, cell_id) / "items.parquet", glob=False)
            except Exception:  # noqa: BLE001 - missing or damaged: check_finished says which
                df = None
            why = check_finished(self.out_dir, cell_id, row, df) if df is not None else \
                check_finished(self.out_dir, cell_id, row)
            if why is not None:  # not a result: the cell is recomputed, its row left out of the tables
                self.invalid[cell_id] = why
                self.rows.pop(cell_id, None)
                return
        self.rows[cell_id] = {**row, **self.labels.get(cell_id, {})}
        if cell_id not in self.order:
            self.order.append(cell_id)
        if df is not None:
            if cell_id in self.labels and "condition" in df.columns:
                df = df.with_columns(pl.lit(self.labels[cell_id]["condition"]).alias("condition"))
            self.items[cell_id] = df

    def add(self, cell: Cell, row: dict[str, Any]) -> None:
        self._set(cell.cell_id, row)
        try:
            self.seen[cell.cell_id] = (cell_dir(self.out_dir, cell.cell_id) / "result.json").stat().st_mtime
        except OSError:
            pass

    def mtime(self, cell_id: str) -> float:
        return self.seen.get(cell_id, 0.0)

    def results(self) -> pl.DataFrame:
        return _rows_frame([self.rows[c] for c in self.order if c in self.rows])

    def all_items(self) -> pl.DataFrame:
        frames = [self.items[c] for c in self.order if c in self.items]
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    def write_results(self) -> None:
        with self.lock:
            self.refresh()
            res = self.results()
            if res.height:
                atomic_write_parquet(self.out_dir / "results.parquet", res)

    def write_items(self) -> None:
        with self.lock:
            self.refresh()
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


def choose_executor(manager: Manager, spec: str | None, jobs: int | None, budget: Any, device: str = "cpu",
                    n_cells: int = 1, threads: int | None = None) -> Executor:
    """The executor a run uses: `spec` (e.g. "pool(jobs=4)") if given; else, with `jobs` unset, on a
    CPU as many cells at once as there are cells and usable cores (one torch thread each: small
    models gain more from cells side by side than from threads, which compete on a shared machine),
    and one at a time on CUDA; `pool(jobs=N)` for `jobs` > 1; else the declared default (serial). A
    lone cell keeps torch's own thread setting (the cores, or OMP_NUM_THREADS). `threads` overrides the
    torch threads per cell."""
    from harness.executors import usable_cores
    from harness.planning import resolve_one

    if jobs is not None and jobs < 1:
        raise PlanError(f"--jobs must be at least 1, got {jobs}")
    if threads is not None and threads < 1:
        raise PlanError(f"--threads must be at least 1, got {threads}")
    if spec:
        return resolve_one(manager, "executor", spec, budget, "--executor").instantiate()
    cores = usable_cores()
    if jobs is None:
        jobs = max(1, min(n_cells, cores)) if device == "cpu" else 1
    if jobs > 1:
        t = threads or (1 if device == "cpu" else max(1, cores // jobs))
        return resolve_one(manager, "executor", f"pool(jobs={jobs},threads={t})", budget, "--executor").instantiate()
    executor = resolve_one(manager, "executor", None, budget, "--executor").instantiate()
    if threads and "threads" in type(executor.config).model_fields:  # else torch's own (OMP_NUM_THREADS) setting
        executor.config.threads = threads
    return executor


def shard_of(plan_cells: Sequence[Cell], index: int, count: int) -> list[Cell]:
    """The cells of static shard `index` of `count`: the groups (a cell, the cells that fine-tune
    from it and the ones that differ from it only in their decoder, which reuse its training) sorted
    by their first cell id, every `count`-th from `index`. Shards together are the plan, each cell
    in exactly one, and a cell never waits on another shard."""
    if count < 1 or not 0 <= index < count:
        raise PlanError(f"--shard must be I/N with 0 <= I < N, got {index}/{count}")

    def root(c: Cell) -> Cell:
        while c.parent is not None:
            c = c.parent
        return c

    groups: dict[str, list[Cell]] = {}
    for c in plan_cells:
        groups.setdefault(root(c).train_key(), []).append(c)
    keys = sorted(groups, key=lambda k: min(c.cell_id for c in groups[k]))
    mine = {c.cell_id for k in keys[index::count] for c in groups[k]}
    return [c for c in plan_cells if c.cell_id in mine]


def select_rerun(cells: Sequence[Cell], ids: Sequence[str] | None, force: bool = False) -> list[Cell]:
    """The cells to recompute: all of `cells` with `force`, else those whose id starts with one of `ids`
    (each must name exactly one cell of the plan), with the cells that depend on their training: the
    fine-tunes that start from them and their decoder siblings (which reuse a sibling's training)."""
    if force:
        return list(cells)
    chosen: dict[str, Cell] = {}
    for text in ids or ():
        hits = [c for c in cells if c.cell_id.startswith(text)]
        if len(text) < 4 or len(hits) != 1:
            why = "is too short (give at least 4 characters)" if len(text) < 4 else (
                f"matches {len(hits)} cells" if hits else "matches no cell of this plan (harness validate lists them)")
            raise PlanError(f"--rerun {text!r} {why}")
        chosen[hits[0].cell_id] = hits[0]
    keys = {c.train_key() for c in chosen.values()}

    def depends(c: Cell) -> bool:
        p = c
        while p is not None:
            if p.cell_id in chosen or p.train_key() in keys:
                return True
            p = p.parent
        return False

    return [c for c in cells if depends(c)]


def forget_results(out_dir: Path, cells: Sequence[Cell]) -> list[str]:
    """Make finished cells pending again: each result.json is kept as result.previous.json (nothing is
    deleted), so the next run recomputes them. The ids of the cells that had a result."""
    forgotten = []
    for c in cells:
        p = cell_dir(out_dir, c.cell_id) / "result.json"
        if p.is_file():
            os.replace(p, p.with_name("result.previous.json"))
            forgotten.append(c.cell_id)
    return forgotten


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """"I/N" → (I, N); None for None."""
    if text is None:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise PlanError(f"--shard must look like I/N (e.g. 0/4: the first of 4 shards), got {text!r}") from None
    if n < 1 or not 0 <= i < n:
        raise PlanError(f"--shard must be I/N with 0 <= I < N, got {text!r}")
    return i, n


def run_plan(
    plan: Plan,
    manager: Manager,
    out_dir: Path,
    device: str = "cpu",
    executor: Executor | None = None,
    fail_fast: bool = False,
    command: str | None = None,
    shard: tuple[int, int] | None = None,
    lease_s: float = DEFAULT_LEASE_S,
    wait: bool = True,
    poll_s: float = 2.0,
    rerun: Sequence[Cell] = (),
    prefetch: bool = False,
) -> RunSummary:
    """Run every unfinished cell of the plan (or of its `shard` (i, n)) on `executor` (default:
    serial, in this process), parents before the cells that fine-tune from them.

    Each cell is claimed in `out_dir/claims` before it runs (harness.claims), so several processes
    on one directory share the work: a cell claimed by a live worker is left to it (and waited for,
    unless `wait` is False), a dead worker's claim is taken over. A cell that failed in another
    process after this one started counts as failed here too (a fresh invocation retries it).
    The `rerun` cells (select_rerun) are recomputed even if finished (--force, --rerun). With
    `prefetch`, a background process draws the pending cells' problems ahead of them
    (harness.prefetch; results are the same either way)."""
    from harness.executors import Serial

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    executor = executor or Serial(Serial.Config())

    def emit(event: Any) -> None:
        manager.notify(HOOK_OF_EVENT[type(event)], event)

    cells = shard_of(plan.cells, *shard) if shard else list(plan.cells)
    placement = executor.placement(device)
    atomic_write_json(out_dir / "plan.json", {"spec": plan.spec, "cells": [c.to_json() for c in plan.cells]})
    meta = {
        "command": command or " ".join(sys.argv), "spec": plan.spec, "budget": plan.budget.model_dump(mode="json"),
        "seeds": plan.seeds, "device": device, "device_name": device_name(device),
        "executor": executor.name, "jobs": getattr(executor.config, "jobs", 1), "versions": versions(),
        "plugins": manager.describe(), "skipped_combinations": plan.skipped, "started_at": now(),
        "shard": f"{shard[0]}/{shard[1]}" if shard else None, "worker": worker_name(), "placement": placement,
        "provenance": provenance_of(manager, plan), "prefetch": prefetch,
    }
    if not shard:  # a shard's worker leaves the run's record to the unsharded command
        atomic_write_json(out_dir / "run.json", meta)
    write_metric_declarations(out_dir, plan)
    mine = {c.cell_id for c in cells}
    forgotten = forget_results(out_dir, [c for c in rerun if c.cell_id in mine])
    cleaned = clean_temp_files(out_dir)
    tables = Tables(out_dir)
    summary = RunSummary(pl.DataFrame(), pl.DataFrame())
    done = {c.cell_id for c in cells if (tables.rows.get(c.cell_id) or {}).get("status") == "ok"}
    summary.skipped.extend(c.cell_id for c in cells if c.cell_id in done)
    pending = [c for c in cells if c.cell_id not in done]
    emit(RunStarted(plan, out_dir, len(pending), executor.name, placement))
    for c in cells:
        if c.cell_id in tables.invalid:
            emit(RunMessage(f"cell {c.cell_id}: its finished files do not check out ({tables.invalid[c.cell_id]}); "
                            "recomputing it", c))
    if cleaned:
        emit(RunMessage(f"removed {cleaned} temporary file(s) left by a killed run"))
    if forgotten:
        emit(RunMessage(f"recomputing {len(forgotten)} finished cell(s) as asked (--force/--rerun; each old "
                        "result.json kept as result.previous.json)"))
    for cell in cells:
        if cell.cell_id in done:
            emit(CellFinished(cell, tables.rows[cell.cell_id], skipped=True))
    claims = Claims(out_dir, lease_s=lease_s)
    work = _Work(out_dir, device, executor, claims, tables, summary, emit, fail_fast, done)
    ahead = Prefetcher(out_dir, pending if prefetch else ())
    try:
        with ahead:
            if ahead.proc is not None:
                emit(RunMessage(f"prefetch: drawing {len(ahead.jobs)} problem set(s) ahead of the cells in a "
                                f"background process ({ahead.log_path})"))
            elif ahead.error:
                emit(RunMessage(f"prefetch: could not start ({ahead.error}); each cell draws its own problems"))
            work.run(pending, plan_ids={c.cell_id for c in plan.cells}, wait=wait, poll_s=poll_s)
    finally:
        claims.release_all()
        tables.write_results()
        tables.write_items()
    ids = {c.cell_id for c in cells}
    results, items = tables.results(), tables.all_items()
    summary.results = results.filter(pl.col("cell_id").is_in(list(ids))) if results.height else results
    summary.items = items.filter(pl.col("cell_id").is_in(list(ids))) if items.height else items
    if not shard:
        meta["finished_at"] = now()
        atomic_write_json(out_dir / "run.json", meta)
    emit(RunFinished(plan, out_dir, summary.results, tuple(summary.ran), tuple(summary.skipped), tuple(summary.failed)))
    return summary


class _Work:
    """The claim-and-run loop over one process's pending cells (run_plan's core; also what a cluster
    worker runs)."""

    def __init__(self, out_dir: Path, device: str, executor: Executor, claims: Claims, tables: Tables,
                 summary: RunSummary, emit: Callable[[Any], None], fail_fast: bool, done: set[str]):
        self.out_dir, self.device, self.executor, self.claims = out_dir, device, executor, claims
        self.tables, self.summary, self.emit, self.fail_fast = tables, summary, emit, fail_fast
        self.done = done
        self.failed: dict[str, str] = {}
        self.t0 = time.time()  # failures written after this, by anyone, are final for this run
        # an executor whose workers claim cells themselves (a cluster of `harness` workers) gets them unclaimed
        self.runner_claims = getattr(executor, "claims_cells", True)

    def finish(self, cell: Cell, row: dict[str, Any]) -> bool:
        """Record a cell this process ran; True if the run must stop (--fail-fast)."""
        self.summary.ran.append(cell.cell_id)
        if row.get("status") == "ok":
            self.done.add(cell.cell_id)
        else:
            self.failed[cell.cell_id] = str(row.get("error"))
            self.summary.failed.append(cell.cell_id)
        self.tables.add(cell, row)
        self.tables.write_results()
        self.emit(CellFinished(cell, row))
        if self.fail_fast and row.get("status") != "ok":
            self.emit(RunMessage(f"--fail-fast: stopping after failed cell {cell.cell_id}: {row.get('error')}", cell))
            return True
        return False

    def settle_from_disk(self, pending: list[Cell]) -> list[Cell]:
        """Take the cells another process finished (or failed since we started) out of `pending`."""
        self.tables.refresh()
        left = []
        for c in pending:
            row = self.tables.rows.get(c.cell_id)
            if row and row.get("status") == "ok":
                self.done.add(c.cell_id)
                self.summary.skipped.append(c.cell_id)
                self.emit(CellFinished(c, row, skipped=True))
            elif row and self.tables.mtime(c.cell_id) >= self.t0 and c.cell_id not in self.failed:
                self.failed[c.cell_id] = str(row.get("error"))
                self.emit(CellFinished(c, row, skipped=True))
            else:
                left.append(c)
        return left

    def claim(self, cell: Cell) -> bool:
        """Claim a cell and make sure nobody finished it in between; True if it is ours to run."""
        if not self.runner_claims:
            return True
        if not self.claims.try_claim(cell.cell_id):
            return False
        row = read_result(self.out_dir, cell.cell_id)
        if row is not None:
            written = (cell_dir(self.out_dir, cell.cell_id) / "result.json").stat().st_mtime
            trusted = row.get("status") == "ok" and check_finished(self.out_dir, cell.cell_id, row) is None
            if trusted or written >= self.t0:  # finished (or failed) elsewhere meanwhile
                self.claims.release(cell.cell_id)
                return False
        return True

    def run(self, pending: list[Cell], plan_ids: set[str], wait: bool, poll_s: float) -> None:
        while pending:
            pending = self.settle_from_disk(pending)
            if not pending:
                return
            in_flight_elsewhere = {i["cell_id"] for i in list_claims(self.out_dir) if not i["stale"]}
            blocked = [c for c in pending if c.parent is not None and (
                c.parent.cell_id in self.failed or (c.parent.cell_id not in plan_ids and c.parent.cell_id not in self.done))]
            ready = [c for c in pending if c.parent is None or c.parent.cell_id in self.done]
            # cells that differ only in their decoder: the first trains, the others wait and reuse it
            keys = {c.train_key() for c in pending if c.cell_id in in_flight_elsewhere}
            batch = []
            for c in ready:
                if c.cell_id in in_flight_elsewhere:
                    continue
                if c.train_key() not in keys:
                    batch.append(c)
                keys.add(c.train_key())
            progressed = False
            for cell in blocked:
                if not self.claim(cell):
                    continue
                why = (f"parent cell {cell.parent.cell_id} ({cell.parent.condition}) failed: "
                       f"{self.failed.get(cell.parent.cell_id, 'it did not run')}")
                stop = self.finish(cell, _failed_without_running(cell, self.out_dir, self.device, why))
                self.claims.release(cell.cell_id)
                progressed = True
                if stop:
                    return
            ran: set[str] = set()

            def claimed() -> Iterator[Cell]:
                for c in batch:
                    if self.claim(c):
                        ran.add(c.cell_id)
                        yield c

            job = CellJob(self.out_dir, self.device)
            for cell, row in self.executor.run(claimed(), job, self.emit):
                if self.runner_claims and not self.claims.holds(cell.cell_id):
                    self.emit(RunMessage(f"cell {cell.cell_id}: its claim expired while it ran (a stall longer "
                                         "than the lease) and another worker took it over; its row is theirs", cell))
                    self.claims.release(cell.cell_id)
                    continue
                stop = self.finish(cell, row)
                self.claims.release(cell.cell_id)
                if stop:
                    return
            pending = [c for c in pending if c.cell_id not in self.done and c.cell_id not in self.failed]
            progressed = progressed or bool(ran)
            if not progressed:
                if not wait:
                    self.emit(RunMessage(f"{len(pending)} cell(s) left to other workers (--no-wait)"))
                    return
                time.sleep(poll_s)


def work_cells(cells: Sequence[Cell], out_dir: Path, device: str, executor: Executor | None = None,
               lease_s: float = DEFAULT_LEASE_S, emit: Callable[[Any], None] = lambda e: None,
               poll_s: float = 5.0) -> RunSummary:
    """A worker's loop over a shared run directory: claim and run the given cells (whose parents are
    done or among them) until every one is done or failed, here or by another worker, waiting for
    cells other live workers hold and taking over the cells of dead ones. What a cluster executor's
    remote workers run (each one `harness` process per node or GPU); the tables are merged under
    the directory's lock as cells finish."""
    from harness.executors import Serial

    out_dir = Path(out_dir)
    executor = executor or Serial(Serial.Config())
    tables = Tables(out_dir)
    summary = RunSummary(pl.DataFrame(), pl.DataFrame())
    done = {cid for cid, r in tables.rows.items() if r.get("status") == "ok"}
    pending = [c for c in cells if c.cell_id not in done]
    claims = Claims(out_dir, lease_s=lease_s)
    ids = {c.cell_id for c in cells}
    try:
        _Work(out_dir, device, executor, claims, tables, summary, emit, False, done).run(
            pending, plan_ids=ids, wait=True, poll_s=poll_s)
    finally:
        claims.release_all()
        tables.write_results()
    return summary
