"""Declared metrics: what a number in the results means, so the core reports it without knowing it.

A task declares the per-cell metrics its `eval_metrics` computes (`Task.metrics`, as inspect_ai's
scorers and lm-eval's `metric_list` declare theirs); the core declares its own (decision-point
behaviour, training facts). Results hold a task's metric in the column ``task.<name>``, so a task can
never overwrite a core column such as ``accuracy`` or ``status``. A run directory keeps the
declarations in ``metrics.json``; summaries, the terminal table and the report are built from them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Literal

#: the prefix of every task metric's results column
TASK_PREFIX = "task."
DECODE_PREFIX = "decode."  # a decoder's declared metrics (e.g. decode.retries)

Aggregate = Literal["mean", "sum", "min", "max"]
Format = Literal["percent", "number", "count"]


@dataclass(frozen=True)
class Metric:
    """One per-cell number.

    name: the key `eval_metrics` returns (a task's) or the results column (the core's).
    label: a short column header. description: one sentence saying what it measures.
    higher_is_better: True, False, or None where neither is better (a rate of backtracking).
    aggregate: how a condition's seeds are combined (mean for rates, sum for counts).
    format: percent (a fraction shown ×100), number, or count.
    headline: shown in the terminal table (every declared metric is in the report).
    """

    name: str
    label: str
    description: str
    higher_is_better: bool | None = True
    aggregate: Aggregate = "mean"
    format: Format = "number"
    headline: bool = False

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "a").isalnum():
            raise ValueError(f"metric name {self.name!r} must be a non-empty identifier")
        if self.aggregate not in ("mean", "sum", "min", "max"):
            raise ValueError(f"metric {self.name!r}: aggregate must be mean, sum, min or max, not {self.aggregate!r}")
        if self.format not in ("percent", "number", "count"):
            raise ValueError(f"metric {self.name!r}: format must be percent, number or count, not {self.format!r}")

    def fmt(self, value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if self.format == "percent":
            return f"{100 * value:.1f}"
        if self.format == "count":
            return f"{value:,.0f}"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"

    def combine(self, values: Iterable[Any]) -> float | None:
        xs = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
        if not xs:
            return None
        return {"mean": lambda: sum(xs) / len(xs), "sum": lambda: sum(xs), "min": lambda: min(xs),
                "max": lambda: max(xs)}[self.aggregate]()

    @property
    def header(self) -> str:
        return self.label + (" %" if self.format == "percent" else "")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Metric":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


#: the core's own per-cell metrics (results columns of those names)
CORE_METRICS: tuple[Metric, ...] = (
    Metric("dp_correct_prob", "P(correct | decision point)",
           "mean probability of the oracle step's first token at decision points of held-out oracle traces",
           headline=True),
    Metric("dp_undo_prob", "P(undo | injected mistake)",
           "mean probability of the natural undo right after a wrong step injected at a decision point",
           higher_is_better=None, headline=True),
    Metric("mistakes_per_sample", "mistakes / training sample", "wrong steps per training sample",
           higher_is_better=None, headline=True),
    Metric("train_loss", "train loss", "training loss at the end of training", higher_is_better=False),
    Metric("frac_eval_seen_in_train", "eval seen in training",
           "share of eval items whose problem also occurs in the training stream", higher_is_better=False,
           format="percent"),
    Metric("n_train_distinct", "distinct training problems", "distinct problems in the training stream",
           higher_is_better=None, format="count"),
    Metric("problems_seen", "problems seen", "training samples the trainer's windows covered",
           higher_is_better=None, format="count"),
)


def task_column(name: str) -> str:
    return TASK_PREFIX + name


def declared_columns(task_metrics: Iterable[Metric]) -> dict[str, Metric]:
    """Results column → declaration, for the core metrics plus a task's (namespaced)."""
    out = {m.name: m for m in CORE_METRICS}
    for m in task_metrics:
        out[task_column(m.name)] = m
    return out


def metrics_of(columns: Iterable[str], declared: dict[str, dict[str, Any]] | None = None) -> dict[str, Metric]:
    """The declarations for a results table's columns: those in `declared` (a run's metrics.json),
    else the core's; a ``task.*`` column nobody declared is shown as a plain mean."""
    known = {m.name: m for m in CORE_METRICS}
    for col, d in (declared or {}).items():
        known[col] = Metric.from_json(d)
    out = {}
    for col in columns:
        if col in known:
            out[col] = known[col]
        elif col.startswith((TASK_PREFIX, DECODE_PREFIX)):
            short = col.split(".", 1)[1]
            out[col] = Metric(short, short, "(undeclared)", None)
    return out
