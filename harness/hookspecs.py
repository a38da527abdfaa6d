"""The hooks a harness plugin may implement.

Plugins are modules or objects registered under the entry-point group ``harness``; the built-in
plugins (the core corruptors, mazes, the GPT models) use that same group. Registry hooks receive a
``register`` callback (the idiom of simonw's llm): the host validates, de-duplicates and records which
plugin registered what, so `harness plugins --json` can say it. Lifecycle hooks are observers: a
reporter or a logger hangs off them; their return values are ignored.

A hook implementation with a misspelled name is rejected at load time (``check_pending``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from harness.interfaces import Corruptor, ModelFamily, Task, Trainer
    from harness.spec import Cell, Plan

hookspec = pluggy.HookspecMarker("harness")
hookimpl = pluggy.HookimplMarker("harness")

#: register(cls, *, aliases=()) — cls is a Task/Corruptor/ModelFamily/Trainer/Benchmark subclass.
Register = Callable[..., None]


@hookspec
def harness_register_tasks(register: Register) -> None:
    """Register Task subclasses: ``register(MyTask, aliases=("my",))``."""


@hookspec
def harness_register_corruptors(register: Register) -> None:
    """Register Corruptor subclasses (oracle, fallible, retry, ...)."""


@hookspec
def harness_register_models(register: Register) -> None:
    """Register ModelFamily subclasses; a family matches names by its ``pattern`` (``gpt-8L``)."""


@hookspec
def harness_register_trainers(register: Register) -> None:
    """Register Trainer subclasses (``pretrain``)."""


@hookspec
def harness_register_benchmarks(register: Register) -> None:
    """Register Benchmark subclasses (``harness.bench.Benchmark``): what ``harness bench`` runs."""


@hookspec
def harness_run_start(plan: "Plan", out_dir: str) -> None:
    """A run is about to execute ``plan`` (all cells validated), writing under ``out_dir``."""


@hookspec
def harness_run_end(plan: "Plan", out_dir: str, results: Any) -> None:
    """A run finished; ``results`` is the Polars DataFrame written to results.parquet."""


@hookspec
def harness_cell_start(cell: "Cell") -> None:
    """A cell (one task×corruptor×model×trainer×seed) starts; not called for cells skipped on resume."""


@hookspec
def harness_cell_end(cell: "Cell", result: dict[str, Any]) -> None:
    """A cell ended; ``result`` is its results row (``status`` is "ok" or "failed", with ``error``)."""
