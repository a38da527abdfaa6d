"""Benchmarks: the base class plugins register (`harness_register_benchmarks`) and the generic suite
(`harness bench`, `harness.bench.suite`). The core knows no task: every benchmark comes from a plugin."""

from harness.bench.base import BenchConfig, BenchError, Benchmark, BenchRow, BenchTable, Log

__all__ = ["BenchConfig", "BenchError", "BenchRow", "BenchTable", "Benchmark", "Log"]
