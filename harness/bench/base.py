"""What a benchmark is: a registered noun that measures something of ours next to a baseline.

A plugin registers `Benchmark` subclasses from its `harness_register_benchmarks(register)` hook; the
core (`harness bench`, `harness.bench.suite`) runs whichever are registered and knows no task. A
benchmark's options are its pydantic `Config` (unknown fields are errors); `env` maps option fields to
environment variables that supply them when the command line does not (`--set NAME.FIELD=VALUE` wins).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, ClassVar

from harness.interfaces import Config, Registered

#: progress lines a benchmark writes while it runs (the suite prints them)
Log = Callable[[str], None]


class BenchError(RuntimeError):
    """A benchmark cannot run as configured (a baseline location that does not work, bad options)."""


class BenchConfig(Config):
    """Base of a benchmark's options (extra="forbid", validated on assignment)."""


@dataclass
class BenchRow:
    """One measured line: ours vs a baseline, with the ratio and the target it must reach.

    `ratio` is ours/baseline in the benchmark's own sense (higher is better); `target` is the least
    ratio that counts as met, or None (informational row). With no baseline (`baseline` None) there is
    no ratio and a target is "not checked". `baseline_measured` is False when the baseline is a quoted
    reference rather than measured side by side; `baseline_source` says which, in words."""

    what: str
    ours: float
    baseline: float | None
    ratio: float | None
    target: float | None
    unit: str
    baseline_source: str
    details: dict[str, Any] = field(default_factory=dict)
    baseline_measured: bool = True
    benchmark: str = ""  # filled in by the suite

    def __post_init__(self) -> None:
        if not self.what or not self.unit:
            raise ValueError("a BenchRow needs `what` and `unit`")
        for name in ("ours", "baseline", "ratio", "target"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise ValueError(f"BenchRow {self.what!r}: {name} must be a finite number or None, got {v!r}")
        if self.baseline is None and self.ratio is not None:
            raise ValueError(f"BenchRow {self.what!r}: a ratio without a baseline")
        if self.baseline is not None and self.ratio is None:
            raise ValueError(f"BenchRow {self.what!r}: a baseline without a ratio")

    @property
    def met(self) -> bool | None:
        """True/False against the target; None when there is no target or no baseline to check it."""
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["met"] = self.met
        return out


@dataclass
class BenchTable:
    """An extra table a benchmark provides (printed under the main table, kept in --json)."""

    title: str
    columns: list[str]
    rows: list[list[str]]

    def __post_init__(self) -> None:
        for r in self.rows:
            if len(r) != len(self.columns):
                raise ValueError(f"table {self.title!r}: row {r!r} has {len(r)} cells for {len(self.columns)} columns")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Benchmark(Registered):
    """A measurement of ours side by side with a baseline, registered by a plugin.

    Subclasses set `name`, `description`, `Config` (their options) and optionally `env`, and implement
    `run`. `run` may append extra tables to `self.tables`. It raises `BenchError` with a clear message
    when it cannot run as configured (a baseline it was told to measure does not work)."""

    Config: ClassVar[type[BenchConfig]] = BenchConfig
    #: option field → environment variable read when `--set` does not give the field
    env: ClassVar[dict[str, str]] = {}

    config: BenchConfig

    def __init__(self, config: BenchConfig):
        super().__init__(config)
        self.tables: list[BenchTable] = []

    @abstractmethod
    def run(self, quick: bool, log: Log) -> list[BenchRow]:
        """Measure; `quick` means tiny sizes (tests, smoke checks), not meaningful numbers."""


def fmt_rate(v: float) -> str:
    """77998.3 → '77,998'; 1.034 → '1.03'."""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
