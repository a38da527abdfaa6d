"""The hooks a harness plugin may implement.

Plugins are modules or objects registered under the entry-point group ``harness``; the built-in
plugins (the core corruptors, mazes, the GPT models) use that same group. Registry hooks receive a
``register`` callback (the idiom of simonw's llm): the host validates, de-duplicates and records which
plugin registered what, so `harness plugins --json` can say it. Lifecycle hooks are observers: a
reporter or a logger hangs off them; their return values are ignored.

A hook implementation with a misspelled name is rejected at load time (``check_pending``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from harness.events import CellFinished, CellPhase, CellProgress, CellStarted, RunFinished, RunMessage, RunStarted

hookspec = pluggy.HookspecMarker("harness")
hookimpl = pluggy.HookimplMarker("harness")

#: register(cls, *, aliases=(), default=False) — cls is a subclass of the hook's noun (Task, Corruptor,
#: ModelFamily, Trainer, Decoder, Executor, Analysis, Benchmark); ``default=True`` makes it the one used
#: when a spec leaves its axis out (the trainer, the decoder, the executor).
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
def harness_register_decoders(register: Register) -> None:
    """Register Decoder subclasses (``sample``, ``greedy``; beam search as a plugin)."""


@hookspec
def harness_register_benchmarks(register: Register) -> None:
    """Register Benchmark subclasses (``harness.bench.Benchmark``): what ``harness bench`` runs."""


@hookspec
def harness_register_executors(register: Register) -> None:
    """Register Executor subclasses (``serial``, ``pool``; a cluster engine as a plugin)."""


@hookspec
def harness_register_analyses(register: Register) -> None:
    """Register Analysis subclasses: work over a finished run directory (``harness analyze``)."""


@hookspec
def harness_register_probe_targets(register: Register) -> None:
    """Register ProbeTarget subclasses: labels over encoded samples that `harness probe` reads off the
    residual stream (built in: ``on_mistake``)."""


@hookspec
def harness_register_loggers(register: Register) -> None:
    """Register Logger subclasses: observers a run switches on by name (``harness run --log NAME``) that
    send its progress and metrics elsewhere (Weights & Biases, TensorBoard)."""


@hookspec
def harness_register_budgets(register: Register) -> None:
    """Register named budgets: ``register(Budget(name=..., profile="gpu", ...))``. A budget's
    ``profile`` says which scale it stands for; plugins adapt their defaults to the profile."""


# ---- lifecycle observers: each receives one typed event (harness.events), in the main process --------
# Each observer is called on its own (Manager.notify): one that raises or calls sys.exit is reported by
# plugin name and switched off for the rest of the run, and the run goes on (fatal under
# HARNESS_STRICT_PLUGINS=1).
@hookspec
def harness_run_start(event: "RunStarted") -> None:
    """A run is about to execute its plan (every cell validated)."""


@hookspec
def harness_cell_start(event: "CellStarted") -> None:
    """A cell really starts (in this process or a worker); not called for cells skipped on resume."""


@hookspec
def harness_cell_phase(event: "CellPhase") -> None:
    """A running cell enters a stage (data, train, eval, ...)."""


@hookspec
def harness_cell_progress(event: "CellProgress") -> None:
    """Progress within a running cell's stage."""


@hookspec
def harness_cell_end(event: "CellFinished") -> None:
    """A cell ended (status "ok" or "failed" with its error), or was skipped as already done."""


@hookspec
def harness_run_message(event: "RunMessage") -> None:
    """A message for the person running the grid (a warning about a cell, the worker layout)."""


@hookspec
def harness_run_end(event: "RunFinished") -> None:
    """The run ended; the event carries the results table of this plan's cells."""
