"""harness: a plugin-based benchmark harness for training on mistakes.

This module is the public API for plugin authors (docs/plugins.md): the hook marker, the nouns a
plugin registers, the data types that flow between them, metric and budget declarations, the errors,
and the few helpers a plugin's own code may use. A plugin imports from here (and from
`harness.testing` in its tests), never from the core's private modules; the layout behind these
names may change between versions, these names only with a CHANGELOG entry.
"""

__version__ = "0.2.0"

# The public names resolve on first use (PEP 562), so `harness --help` and a plugin's registration
# pay only for the modules they touch (no numpy, polars or torch to print a help text).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "harness.bench.base": ("BenchConfig", "BenchError", "Benchmark", "BenchRow", "BenchTable", "Log"),
    "harness.budgets": ("Budget", "get_budget"),
    "harness.claims": ("DEFAULT_LEASE_S",),
    "harness.data": ("draw_problems", "encode_problems", "is_eval_side", "paused_gc", "stable_seed"),
    "harness.events": ("CellFinished", "CellPhase", "CellProgress", "CellStarted", "RunFinished", "RunMessage",
                       "RunStarted"),
    "harness.hookspecs": ("hookimpl",),
    "harness.interfaces": ("Analysis", "Config", "Corruptor", "DecodableModel", "Decoder", "Encoded", "Executor",
                           "GoalGrid", "Logger", "ModelFamily", "PlanError", "Problem", "Registered", "Step", "Tag", "Task",
                           "TaskConfig", "TrainData", "Trainer", "TrainerConfig", "TrainResult", "Verdict"),
    "harness.metrics": ("Metric",),
    "harness.probing": ("OwnSteps", "ProbeExample", "ProbeTarget"),
}
_MODULE_OF = {name: mod for mod, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    mod = _MODULE_OF.get(name)
    if mod is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


def component(kind: str, name: str, budget: str = "default", **params):
    """A registered component by name, built as a spec would build it: e.g.
    ``component("corruptor", "fallible", p=0.2)`` (budget defaults of `budget`, then `params`).
    Unknown names and bad parameters raise PlanError with the reason."""
    from harness.planning import resolve
    from harness.plugins import get_manager
    from harness.spec import Choice

    m = get_manager()
    return resolve(m, kind, Choice(name, tuple(params.items())), m.budget(budget)).instantiate()


def generate(*args, **kwargs):
    """Batched generation with a KV cache over any `DecodableModel` (harness.decode.generate)."""
    from harness.decode import generate as _generate

    return _generate(*args, **kwargs)


def naive_generate(*args, **kwargs):
    """The reference decoder: one sequence at a time, recomputing the prefix (harness.decode)."""
    from harness.decode import naive_generate as _naive

    return _naive(*args, **kwargs)


def local_executor(jobs: int = 1, threads: int | None = None):
    """The built-in local executor: `serial` for one job, else `pool(jobs, threads)` (what a cluster
    worker uses to run its share of cells on its node)."""
    from harness.executors import Pool, PoolConfig, Serial, SerialConfig

    return Pool(PoolConfig(jobs=jobs, threads=threads)) if jobs > 1 else Serial(SerialConfig())


def work_cells(*args, **kwargs):
    """A worker's claim-and-run loop over cells of a shared run directory (harness.runner.work_cells):
    what a cluster executor's remote workers run."""
    from harness.runner import work_cells as _work

    return _work(*args, **kwargs)


def read_cell_result(out_dir, cell_id: str) -> dict | None:
    """A cell's results row from a run directory (its result.json), or None if it has none yet."""
    from harness.store import read_result

    return read_result(out_dir, cell_id)


__all__ = [
    "__version__", "hookimpl",
    # the nouns a plugin registers
    "Task", "TaskConfig", "Corruptor", "ModelFamily", "Trainer", "TrainerConfig", "Decoder", "Executor",
    "Analysis", "Logger", "Benchmark", "BenchConfig", "ProbeTarget", "ProbeExample", "OwnSteps", "Registered", "Config",
    # what flows between them
    "Step", "Problem", "Encoded", "Verdict", "Tag", "GoalGrid", "TrainData", "TrainResult", "DecodableModel",
    "BenchRow", "BenchTable", "BenchError", "Log",
    # declarations, errors, events
    "Metric", "Budget", "PlanError",
    "RunStarted", "CellStarted", "CellPhase", "CellProgress", "CellFinished", "RunMessage", "RunFinished",
    # helpers
    "component", "get_budget", "draw_problems", "encode_problems", "is_eval_side", "paused_gc",
    "stable_seed", "generate", "naive_generate",
    # for executors
    "DEFAULT_LEASE_S", "local_executor", "work_cells", "read_cell_result",
]
