"""Cells → results. One cell = data → train → checkpoint → eval → metrics, written atomically.

Resumable by construction: a cell is done iff ``cells/<id>/result.json`` says status "ok"; rerunning
the same command skips done cells, and killing the process loses at most the cell in flight. A cell
that raises (NaN loss included) is recorded as failed with its error and the run moves on, unless
``fail_fast`` is set.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl

from harness import __version__
from harness.data import (
    LossPolicy,
    corrupt_and_encode,
    draw_problems,
    eval_seed,
    pack,
    stable_seed,
)
from harness.interfaces import Tag, Verdict
from harness.metrics import declared_columns, task_column
from harness.plugins import Manager
from harness.results import (
    atomic_write_json,
    atomic_write_parquet,
    cell_dir,
    is_done,
    read_result,
    write_tables,
)
from harness.spec import Cell, Plan


def pick_device(requested: str = "auto") -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but torch sees no CUDA device")
    if requested not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {requested!r}; use auto, cpu or cuda")
    return requested


class Reporter:
    """What the runner tells a person while it works; the CLI passes a rich implementation."""

    def phase(self, cell: Cell, name: str, total: float | None = None) -> None: ...
    def advance(self, cell: Cell, done: float, info: str = "") -> None: ...
    def cell_done(self, cell: Cell, row: dict[str, Any], skipped: bool = False) -> None: ...
    def log(self, msg: str) -> None: ...


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
        "harness": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "polars": pl.__version__,
        "pydantic": pydantic.__version__,
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


def run_cell(cell: Cell, out_dir: Path, device: str, reporter: Reporter) -> dict[str, Any]:
    """Run one cell end to end and write its files. Returns its results row."""
    import torch

    d = cell_dir(out_dir, cell.cell_id)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_json(d / "config.json", cell.to_json())
    log = _CellLog(d / "log.txt")
    budget = cell.budget
    row: dict[str, Any] = {
        "cell_id": cell.cell_id,
        "condition": cell.condition,
        "task": cell.task.choice.label,
        "corruptor": cell.corruptor.choice.label,
        "model": cell.model.choice.label,
        "trainer": cell.trainer.choice.label,
        "seed": cell.seed,
        "budget": budget.name,
        "device": device,
        "device_name": device_name(device),
        "status": "running",
        "error": None,
        "n_eval": 0,
        "n_correct": 0,
        "accuracy": None,
        "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    t_start = time.perf_counter()
    log(f"cell {cell.cell_id} {cell.condition} seed={cell.seed} budget={budget.name} device={device}")
    try:
        task = cell.task.instantiate()
        corruptor = cell.corruptor.instantiate()
        family = cell.model.instantiate()
        trainer = cell.trainer.instantiate()

        # ---- data -------------------------------------------------------------------------------
        # Problems depend on (task, seed) only and corruption on (corruptor, task, seed), so oracle
        # and fallible cells of one seed train on the same problems: paired comparisons.
        t0 = time.perf_counter()
        reporter.phase(cell, "data", budget.n_train)
        task_id = cell.task.identity()
        rng_p = random.Random(stable_seed("train-problems", task_id, cell.seed))
        problems = draw_problems(task, rng_p, budget.n_train, "train", on_progress=lambda k: reporter.advance(cell, k))
        rng_c = random.Random(stable_seed("corrupt", cell.corruptor.identity(), task_id, cell.seed))
        pairs = corrupt_and_encode(task, corruptor, problems, rng_c)
        n_mistakes = [sum(1 for s in tr if s.tag == Tag.MISTAKE) for tr, _ in pairs]
        train_keys = {p.key for p in problems}
        policy = LossPolicy(
            loss_on=trainer.loss_on, masked_tags=corruptor.loss_masked_tags()
        )
        data = pack([e for _, e in pairs], len(task.vocab), policy, n_distinct=len(train_keys))
        del pairs
        row.update(
            n_train_problems=len(problems),
            n_train_distinct=len(train_keys),
            train_stream_tokens=int(len(data.tokens)),
            mistakes_per_sample=sum(n_mistakes) / max(1, len(n_mistakes)),
            frac_samples_with_mistake=sum(1 for m in n_mistakes if m) / max(1, len(n_mistakes)),
            data_seconds=time.perf_counter() - t0,
        )
        log(f"data: {len(problems)} problems ({len(train_keys)} distinct), {len(data.tokens)} tokens")
        lengths = np.diff(np.append(data.sample_starts, len(data.tokens)))
        median = int(np.median(lengths))
        if budget.block_size < median:
            warn = (f"warning: training windows of {budget.block_size} tokens are shorter than the median "
                    f"training sample ({median} tokens), so most samples are never seen whole; raise "
                    f"--budget-set block_size (and lower batch_size to keep the tokens per step)")
            log(warn)
            reporter.log(f"{cell.condition} seed {cell.seed}: {warn}")

        # ---- model + training -------------------------------------------------------------------
        # The eval problems are fixed by the task config alone; drawn now so the model's context
        # covers the longest prompt + generation cap (training windows stay budget.block_size).
        eval_problems = draw_problems(task, random.Random(eval_seed(task)), budget.n_eval, "eval")
        mixes = {"train": composition(problems), "eval": composition(eval_problems)}
        atomic_write_json(d / "data.json", mixes)
        row["n_eval_distinct"] = len({p.key for p in eval_problems})
        longest = max(len(task.encode_prompt(p)) + task.max_new_tokens(p) for p in eval_problems)
        block = max(budget.block_size, longest)
        torch.manual_seed(stable_seed("init", cell.model.identity(), cell.seed) % (2**63))
        model = family.build(vocab_size=len(task.vocab), block_size=block)
        n_params = sum(p.numel() for p in model.parameters())
        row["n_params"] = int(n_params)
        row["context"] = int(block)
        if hasattr(model, "num_params"):
            with contextlib.suppress(Exception):
                row["n_params_non_embedding"] = int(model.num_params(non_embedding=True))
        dev = torch.device(device)
        model.to(dev)
        reporter.phase(cell, "train", budget.train_tokens)

        def progress(done: float, total: float, loss: float) -> None:
            reporter.advance(cell, done, f"loss {loss:.3f}")

        from harness.decision import decision_metrics

        # Learning curve: the first n_curve_eval eval problems, scored at a few points in training
        # (and at the end, from the final evaluation) with the same decoding as the final eval.
        curve_problems = eval_problems[: budget.n_curve_eval]
        dp_problems = eval_problems[: budget.n_decision_eval]

        def evaluate_point(step: int) -> dict[str, float]:
            reporter.advance(cell, step * budget.batch_size * budget.block_size, "learning-curve eval")
            pts, _ = evaluate(task, model, curve_problems, budget, dev, cell, train_keys, tag=f"curve-{step}")
            point = {"accuracy": float(pts["correct"].mean()), "n_eval": float(pts.height)}
            point.update(decision_metrics(model, task, dp_problems, dev, batch_size=budget.eval_batch_size))
            log(f"curve: step {step} {point}")
            return point

        tr = trainer.fit(model, data, budget, dev, cell.seed, progress=progress, evaluate=evaluate_point)
        row.update({k: (float(v) if isinstance(v, (int, float)) else v) for k, v in tr.metrics.items()})
        row["distinct_problems_seen"] = row.get("problems_seen")
        log(f"train: {tr.metrics}")
        _save_checkpoint(model, d / "model.safetensors")

        # ---- evaluation -------------------------------------------------------------------------
        t0 = time.perf_counter()
        reporter.phase(cell, "eval", budget.n_eval)
        items, verdicts = evaluate(task, model, eval_problems, budget, dev, cell, train_keys)
        reporter.advance(cell, budget.n_eval)
        atomic_write_parquet(d / "items.parquet", items)
        n_correct = int(items["correct"].sum())
        row.update(
            n_eval=items.height,
            n_correct=n_correct,
            accuracy=n_correct / max(1, items.height),
            frac_eval_seen_in_train=float(items["seen_in_train"].mean()),
            eval_seconds=time.perf_counter() - t0,
        )
        row.update(task_metric_values(task, eval_problems, verdicts, log))

        reporter.phase(cell, "decision points", None)
        dp = decision_metrics(model, task, dp_problems, dev, batch_size=budget.eval_batch_size)
        row.update(dp)
        evals = list(tr.evals)
        if evals:  # the end of the curve: the final model on the same curve problems
            head = items.filter(pl.col("item_id") < len(curve_problems))
            last = {"step": float(budget.iters), "tokens": float(budget.iters * budget.batch_size * budget.block_size)}
            evals.append({**last, "accuracy": float(head["correct"].mean()), "n_eval": float(head.height), **dp})
        atomic_write_json(d / "curve.json", {"loss": tr.curve, "eval": evals})
        row["status"] = "ok"
        log(f"eval: accuracy {row['accuracy']:.4f} on {row['n_eval']}; {dp}")
    except Exception as exc:  # noqa: BLE001 - a failing cell must not take the others down
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}"
        log("FAILED\n" + traceback.format_exc())
    finally:
        row["seconds"] = time.perf_counter() - t_start
        row["finished_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        log.close()
    atomic_write_json(d / "result.json", row)
    return row


def task_metric_values(task, problems, verdicts, log: Callable[[str], None]) -> dict[str, float]:
    """The task's declared metrics as results columns (``task.<name>``); undeclared names are dropped
    with a log line (a task cannot add or overwrite a column it did not declare)."""
    declared = {m.name for m in task.metrics}
    out: dict[str, float] = {}
    for name, value in task.eval_metrics(problems, verdicts).items():
        if name not in declared:
            log(f"warning: task {task.name!r} returned metric {name!r} that it does not declare (Task.metrics); dropped")
            continue
        out[task_column(name)] = None if value is None else float(value)
    return out


def write_metric_declarations(out_dir: Path, plan: Plan) -> None:
    """metrics.json: results column → declaration, for the core's metrics and every task of the plan
    (merged with what the directory already holds, so cells of earlier plans stay described)."""
    path = Path(out_dir) / "metrics.json"
    known: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        known = json.loads(path.read_text())
    tasks = {c.task.name: c.task.cls for c in plan.cells}
    for cls in tasks.values():
        known.update({col: m.as_json() for col, m in declared_columns(cls.metrics).items()})
    atomic_write_json(path, known)


def composition(problems) -> dict[str, dict[str, Any]]:
    """Per meta field with few values (≤ 40: size, op, split, ...): value → {"n", "distinct"} problems.
    Written per cell (data.json), so a report can show the eval set's mix beside the training mix."""
    values: dict[str, dict[Any, list[str]]] = {}
    for p in problems:
        for k, v in p.meta.items():
            if isinstance(v, (bool, int, str)):
                values.setdefault(k, {}).setdefault(v, []).append(p.key)
    out: dict[str, dict[str, Any]] = {}
    for k, by in values.items():
        if len(by) <= 40:
            order = sorted(by, key=lambda v: (isinstance(v, str), v if not isinstance(v, str) else 0, str(v)))
            out[k] = {str(v): {"n": len(by[v]), "distinct": len(set(by[v]))} for v in order}
    return out


def _save_checkpoint(model, path: Path) -> None:
    from safetensors.torch import save_model

    tmp = path.with_name(f".{path.name}.tmp")
    save_model(model, str(tmp))
    os.replace(tmp, path)


def evaluate(task, model, problems, budget, device, cell: Cell, train_keys: set[str], tag: str = ""):
    """Generate completions for every eval problem in batches and verify each (`tag` varies the
    sampling seed, e.g. per learning-curve point; the final evaluation has none)."""
    from harness.decode import generate

    prompts = [task.encode_prompt(p) for p in problems]
    caps = [task.max_new_tokens(p) for p in problems]
    outs = generate(
        model,
        prompts,
        end_token=task.end_token,
        max_new_tokens=caps,
        temperature=budget.temperature,
        batch_size=budget.eval_batch_size,
        device=device,
        seed=stable_seed("decode", cell.cell_id, *([tag] if tag else [])) % (2**63),
    )
    rows = []
    verdicts = []
    end = task.end_token
    for i, (p, ids, cap) in enumerate(zip(problems, outs, caps)):
        ids = list(ids)
        completion = task.decode(ids)
        if end not in ids:
            v = Verdict(False, f"no end token within {cap} new tokens")
        else:
            try:
                v = task.verify(p, completion)
            except Exception as exc:  # noqa: BLE001 - a verifier bug must not lose the cell
                v = Verdict(False, f"verifier raised {type(exc).__name__}: {exc}")
        verdicts.append(v)
        r = {
            "cell_id": cell.cell_id,
            "condition": cell.condition,
            "seed": cell.seed,
            "item_id": i,
            "problem_key": p.key,
            "correct": bool(v.correct),
            "reason": v.reason,
            "details": json.dumps(v.details, sort_keys=True, default=str) if v.details else None,
            "completion": completion,
            "n_new_tokens": len(ids),
            "seen_in_train": p.key in train_keys,
        }
        for k, val in p.meta.items():
            r[f"meta_{k}"] = val
        rows.append(r)
    return pl.DataFrame(rows), verdicts


def run_plan(
    plan: Plan,
    manager: Manager,
    out_dir: Path,
    device: str = "cpu",
    reporter: Reporter | None = None,
    fail_fast: bool = False,
    command: str | None = None,
    jobs: int = 1,
) -> RunSummary:
    """Run every unfinished cell of the plan. `jobs` > 1 runs that many cells at once in worker
    processes (each with its share of the CPU threads; on one GPU they share the device)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reporter = reporter or Reporter()
    atomic_write_json(out_dir / "plan.json", {"spec": plan.spec, "cells": [c.to_json() for c in plan.cells]})
    meta = {
        "command": command or " ".join(sys.argv),
        "spec": plan.spec,
        "budget": plan.budget.model_dump(mode="json"),
        "seeds": plan.seeds,
        "device": device,
        "device_name": device_name(device),
        "jobs": jobs,
        "versions": versions(),
        "plugins": manager.describe(),
        "skipped_combinations": plan.skipped,
        "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_json(out_dir / "run.json", meta)
    write_metric_declarations(out_dir, plan)
    manager.hook.harness_run_start(plan=plan, out_dir=str(out_dir))
    summary = RunSummary(pl.DataFrame(), pl.DataFrame())
    pending = []
    for cell in plan.cells:
        if is_done(out_dir, cell.cell_id):
            summary.skipped.append(cell.cell_id)
            reporter.cell_done(cell, read_result(out_dir, cell.cell_id) or {}, skipped=True)
        else:
            pending.append(cell)

    def finish(cell: Cell, row: dict[str, Any]) -> bool:
        """Record a finished cell; True if the run must stop (--fail-fast)."""
        summary.ran.append(cell.cell_id)
        if row["status"] != "ok":
            summary.failed.append(cell.cell_id)
        manager.hook.harness_cell_end(cell=cell, result=row)
        reporter.cell_done(cell, row)
        write_tables(out_dir)
        if fail_fast and row["status"] != "ok":
            reporter.log(f"--fail-fast: stopping after failed cell {cell.cell_id}: {row['error']}")
            return True
        return False

    if jobs <= 1 or len(pending) <= 1:
        for cell in pending:
            manager.hook.harness_cell_start(cell=cell)
            if finish(cell, run_cell(cell, out_dir, device, reporter)):
                break
    else:
        _run_parallel(pending, out_dir, device, jobs, manager, reporter, finish)
    results, items = write_tables(out_dir)
    ids = {c.cell_id for c in plan.cells}
    if results.height:
        results = results.filter(pl.col("cell_id").is_in(list(ids)))
    if items.height:
        items = items.filter(pl.col("cell_id").is_in(list(ids)))
    summary.results, summary.items = results, items
    meta["finished_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    atomic_write_json(out_dir / "run.json", meta)
    manager.hook.harness_run_end(plan=plan, out_dir=str(out_dir), results=results)
    return summary


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _worker(cell: Cell, out_dir: Path, device: str) -> dict[str, Any]:
    return run_cell(cell, out_dir, device, Reporter())


def _run_parallel(pending, out_dir, device, jobs, manager, reporter, finish) -> None:
    """Cells in `jobs` spawned worker processes; results are recorded here as they finish. A worker
    killed mid-cell loses that cell only: its result.json is never written, so a rerun redoes it."""
    import concurrent.futures as cf
    import multiprocessing as mp

    threads = max(1, (os.cpu_count() or 1) // jobs)
    reporter.log(f"running up to {jobs} cells at once ({threads} CPU thread(s) each)")
    with cf.ProcessPoolExecutor(
        max_workers=jobs, mp_context=mp.get_context("spawn"), initializer=_init_worker, initargs=(threads,)
    ) as pool:
        futures = {}
        for cell in pending:
            manager.hook.harness_cell_start(cell=cell)
            futures[pool.submit(_worker, cell, out_dir, device)] = cell
        try:
            for fut in cf.as_completed(futures):
                cell = futures[fut]
                try:
                    row = fut.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker fails its cell, not the run
                    row = read_result(out_dir, cell.cell_id) or {
                        "cell_id": cell.cell_id, "condition": cell.condition, "seed": cell.seed,
                        "status": "failed", "error": f"worker died: {type(exc).__name__}: {exc}",
                    }
                if finish(cell, row):
                    for f in futures:
                        f.cancel()
                    break
        except BaseException:
            for f in futures:
                f.cancel()
            raise


Callback = Callable[..., None]
