"""Typed payloads of the lifecycle hooks (`harness_run_start` ... `harness_run_end`), by phase.

The runner fires them in the main process, also for cells that run in worker processes (workers send
their events back over a queue), and `CellStarted` fires when a cell really starts, not when it is
queued. Observers (the terminal display, a logger, a dashboard) implement the hooks; their return
values are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from harness.planning import Cell, Plan


@dataclass(frozen=True)
class RunStarted:
    """Every cell of `plan` is validated; `pending` of them will run (the rest are done already)."""

    plan: "Plan"
    out_dir: Path
    pending: int
    executor: str
    layout: str  # where the cells run, in words ("up to 2 cells at once, 1 CPU thread each")


@dataclass(frozen=True)
class CellStarted:
    """A cell starts running (in `worker`: "main" or a worker process id)."""

    cell: "Cell"
    worker: str


@dataclass(frozen=True)
class CellPhase:
    """A cell enters a stage ("data", "train", "eval", ...); `total` is the stage's size if known."""

    cell: "Cell"
    phase: str
    total: float | None


@dataclass(frozen=True)
class CellProgress:
    """Progress within the current stage (`done` of its total), with a short note (the loss) and the
    structured numbers behind it: `values` (during training the trainer's `loss`, `tokens` and, where
    it reports them, `step`, `lr` and `tokens_per_s`; empty otherwise) — what a logger plots."""

    cell: "Cell"
    done: float
    info: str
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CellFinished:
    """A cell ended: `row` is its results row (status "ok" or "failed" with its error), or it was
    `skipped` because an earlier run finished it."""

    cell: "Cell"
    row: dict[str, Any]
    skipped: bool = False


@dataclass(frozen=True)
class RunMessage:
    """Something a person running the grid should read (a warning about a cell, the worker layout)."""

    message: str
    cell: "Cell | None" = None


@dataclass(frozen=True)
class RunFinished:
    """The run ended; `results` is the table written to results.parquet (this plan's cells)."""

    plan: "Plan"
    out_dir: Path
    results: "pl.DataFrame"
    ran: tuple[str, ...]
    skipped: tuple[str, ...]
    failed: tuple[str, ...]
