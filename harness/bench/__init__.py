"""Benchmarks: the base class plugins register (`harness_register_benchmarks`), the one timing helper
every benchmark uses (`interleave`: sides in alternating rounds, wall and process CPU time, median and
range of per-round ratios) and the generic suite (`harness bench`, `harness.bench.suite`). The core
knows no task: every benchmark comes from a plugin."""

from harness.bench.base import (
    BenchConfig,
    BenchError,
    Benchmark,
    BenchRow,
    BenchTable,
    ChildCPU,
    Log,
    Quote,
    Rounds,
    Sample,
    Side,
    Stats,
    Stopwatch,
    interleave,
    load_warning,
    machine_info,
)

__all__ = ["BenchConfig", "BenchError", "BenchRow", "BenchTable", "Benchmark", "ChildCPU", "Log", "Quote",
           "Rounds", "Sample", "Side", "Stats", "Stopwatch", "interleave", "load_warning", "machine_info"]
