"""What a benchmark is: a registered noun that measures something of ours next to a baseline.

A plugin registers `Benchmark` subclasses from its `harness_register_benchmarks(register)` hook; the
core (`harness bench`, `harness.bench.suite`) runs whichever are registered and knows no task. A
benchmark's options are its pydantic `Config` (unknown fields are errors); `env` maps option fields to
environment variables that supply them when the command line does not (`--set NAME.FIELD=VALUE` wins).

Every benchmark times its sides with one implementation, `interleave`: the sides (ours, the baseline;
or several variants) run in rounds, one after the other within a round and in alternating order from
round to round (A B, B A, A B, ...), each run timed by wall clock and by process CPU time (a side run
in another interpreter times its own loop with both clocks; `ChildCPU` adds the whole child's CPU time
from `resource.RUSAGE_CHILDREN`). A ratio is the median of the per-round ratios (each round pairs the
two sides' runs), printed with its min–max range and the clock it was taken on (`basis`: "cpu" for
one-thread work, where a process that waits for a core accrues no CPU time, so load on a shared
machine moves it far less than the wall clock; "wall" for multi-threaded or GPU work). A baseline that
cannot be run in this session is `quoted` (a `Quote`: the number, the file it is from, the machine it
was measured on) and its target is not judged.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import statistics
import time
from abc import abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, ClassVar, Literal, Sequence

from harness.interfaces import Config, Registered

#: progress lines a benchmark writes while it runs (the suite prints them)
Log = Callable[[str], None]
#: the clock a ratio is taken on
Basis = Literal["cpu", "wall"]
BASES: tuple[str, ...] = ("cpu", "wall")
#: a one-thread side that got less than this share of a core (CPU time / wall time) was kept waiting
CPU_SHARE_WARN = 0.85


class BenchError(RuntimeError):
    """A benchmark cannot run as configured (a baseline location that does not work, bad options)."""


class BenchConfig(Config):
    """Base of a benchmark's options (extra="forbid", validated on assignment)."""


# --------------------------------------------------------------------------------------- timing
@dataclass
class Sample:
    """One timed run of one side: `work` units (mazes, tokens, problems) in `wall_s` seconds of wall
    clock and `cpu_s` seconds of process CPU time (None where it cannot be measured)."""

    work: float
    wall_s: float
    cpu_s: float | None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (self.work > 0 and self.wall_s > 0):
            raise ValueError(f"a Sample needs positive work and wall time, got work={self.work!r}, "
                             f"wall_s={self.wall_s!r}")
        if self.cpu_s is not None and not self.cpu_s > 0:
            raise ValueError(f"a Sample's CPU time must be positive or None, got {self.cpu_s!r}")

    def seconds(self, basis: str) -> float:
        if basis == "wall":
            return self.wall_s
        if basis == "cpu":
            if self.cpu_s is None:
                raise ValueError("this sample has no CPU time")
            return self.cpu_s
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")

    def rate(self, basis: str) -> float:
        return self.work / self.seconds(basis)

    @property
    def cpu_share(self) -> float | None:
        """CPU time / wall time: ~1 for one thread that had a core to itself, less when it waited."""
        return None if self.cpu_s is None else self.cpu_s / self.wall_s

    def as_json(self) -> dict[str, Any]:
        return {"work": self.work, "wall_s": self.wall_s, "cpu_s": self.cpu_s, **self.info}


class Stopwatch:
    """`with Stopwatch() as sw: ...` → `sw.wall_s`, `sw.cpu_s` (this process's CPU time, all threads)."""

    wall_s: float
    cpu_s: float

    def __enter__(self) -> "Stopwatch":
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._w
        self.cpu_s = time.process_time() - self._c

    def sample(self, work: float, **info: Any) -> Sample:
        return Sample(work, self.wall_s, self.cpu_s, info)


class ChildCPU:
    """`with ChildCPU() as cc: subprocess.run(...)` → `cc.cpu_s`, the CPU time (user + system) of the
    children that ended and were waited for inside the block (`resource.RUSAGE_CHILDREN` deltas), and
    `cc.wall_s`. For a baseline in another interpreter this is the whole child (start-up and imports
    included); the child's own timing of its loop is what a ratio uses, this is kept beside it."""

    wall_s: float
    cpu_s: float

    @staticmethod
    def _now() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    def __enter__(self) -> "ChildCPU":
        self._w, self._c = time.perf_counter(), self._now()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._w
        self.cpu_s = self._now() - self._c


@dataclass
class Stats:
    """Median and min–max of some per-round values."""

    median: float
    min: float
    max: float
    values: list[float]

    @classmethod
    def of(cls, values: Sequence[float]) -> "Stats":
        if not values:
            raise ValueError("no values")
        v = [float(x) for x in values]
        return cls(statistics.median(v), min(v), max(v), v)

    def scaled(self, by: float) -> "Stats":
        return Stats.of([x * by for x in self.values])

    @property
    def spread(self) -> float:
        """(max − min) / median: the relative width of the range."""
        return (self.max - self.min) / self.median if self.median else float("inf")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Side:
    """One side of a comparison: `run(round)` does the work once and returns its timed `Sample`."""

    name: str
    run: Callable[[int], Sample]
    #: False where process CPU time cannot compare (several threads, a GPU): the side's ratios are wall clock
    cpu_comparable: bool = True


@dataclass
class Rounds:
    """What `interleave` measured: every side's samples, round by round, in the order they ran."""

    names: list[str]
    samples: dict[str, list[Sample]]
    order: list[list[str]]
    load_before: float | None
    load_after: float | None
    cpu_comparable: dict[str, bool] = field(default_factory=dict)

    @property
    def rounds(self) -> int:
        return len(self.order)

    def basis_for(self, *names: str) -> str:
        """"cpu" if every named side's CPU time compares (one thread, on the CPU), else "wall"."""
        return "cpu" if all(self.cpu_comparable.get(n, True) and all(s.cpu_s is not None for s in self.samples[n])
                            for n in names) else "wall"

    def rates(self, name: str, basis: str) -> Stats:
        return Stats.of([s.rate(basis) for s in self.samples[name]])

    def ratio(self, a: str, b: str, basis: str) -> Stats:
        """Per-round ratio of a's rate to b's (higher: a is faster), median and range over rounds."""
        return Stats.of([x.rate(basis) / y.rate(basis) for x, y in zip(self.samples[a], self.samples[b])])

    def cpu_share(self, name: str) -> Stats | None:
        shares = [s.cpu_share for s in self.samples[name]]
        return None if any(x is None for x in shares) else Stats.of(shares)  # type: ignore[arg-type]

    def waited(self, names: Sequence[str] | None = None) -> list[str]:
        """Sides timed on CPU time whose median share of a core was below CPU_SHARE_WARN (a sentence each)."""
        out = []
        for n in names or self.names:
            sh = self.cpu_share(n)
            if self.cpu_comparable.get(n, True) and sh is not None and sh.median < CPU_SHARE_WARN:
                out.append(f"{n} got {sh.median:.0%} of a core (median CPU/wall time; range "
                           f"{sh.min:.0%}–{sh.max:.0%}): it waited for a CPU")
        return out

    def as_json(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "order": self.order, "load_before": self.load_before,
                "load_after": self.load_after,
                "samples": {n: [s.as_json() for s in self.samples[n]] for n in self.names}}


def timed_runs(cmds: Sequence[Sequence[str]], out: Any, env: dict[str, str] | None = None,
               cwd: Any = None, what: str = "a run") -> tuple[float, Any]:
    """Start the commands (`harness run` processes on one results directory `out`) at once, wait for
    all, and return the wall seconds and `out`'s results table, which must be whole: every cell "ok"
    and listed once. What the whole-grid benchmarks (scripts/bench_*.py) time; a failure exits with
    the end of the processes' output."""
    import subprocess
    from pathlib import Path

    import polars as pl

    t0 = time.perf_counter()
    procs = [subprocess.Popen(list(c), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for c in cmds]
    logs = [p.communicate()[0] for p in procs]
    wall = time.perf_counter() - t0
    if any(p.returncode for p in procs):
        raise SystemExit(f"{what} failed:\n" + "\n".join(logs)[-4000:])
    res = pl.read_parquet(Path(out) / "results.parquet")
    if res.height != len(set(res["cell_id"])) or set(res["status"]) != {"ok"}:
        raise SystemExit(f"{out}: the tables are not whole (a cell failed or is listed twice)")
    return wall, res


def load_average() -> float | None:
    """The 1-minute load average, or None where the platform has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def interleave(sides: Sequence[Side], rounds: int, *, alternate: bool = True, log: Log | None = None,
               unit: str = "") -> Rounds:
    """Run every side once per round for `rounds` rounds: A B, then B A, then A B, ... (`alternate`;
    otherwise always in the given order), so load drift and order effects fall on every side alike and
    each round pairs runs taken moments apart. Warm-up is the sides' own business (run them once first)."""
    if rounds < 1:
        raise ValueError(f"rounds must be ≥ 1, got {rounds}")
    names = [s.name for s in sides]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"sides need distinct names, got {names}")
    samples: dict[str, list[Sample]] = {n: [] for n in names}
    order: list[list[str]] = []
    before = load_average()
    for r in range(rounds):
        seq = list(sides) if not alternate or r % 2 == 0 else list(reversed(sides))
        order.append([s.name for s in seq])
        for s in seq:
            got = s.run(r)
            if not isinstance(got, Sample):
                raise TypeError(f"side {s.name!r} returned {type(got).__name__}, not a Sample")
            samples[s.name].append(got)
        if log:
            basis = "cpu" if all(samples[n][-1].cpu_s is not None for n in names) else "wall"
            log(f"round {r + 1}/{rounds} ({' then '.join(order[-1])}): "
                + ", ".join(f"{n} {fmt_rate(samples[n][-1].rate('wall'))}" for n in names)
                + (f" {unit}" if unit else "") + " by wall clock"
                + ("; by CPU time " + ", ".join(f"{n} {fmt_rate(samples[n][-1].rate(basis))}" for n in names)
                   if basis == "cpu" else ""))
    return Rounds(names, samples, order, before, load_average(), {s.name: s.cpu_comparable for s in sides})


# --------------------------------------------------------------------------------------- machine
#: /proc/cpuinfo flags that decide how fast matmuls (and so training) run
MATMUL_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")


def _cpuinfo(path: str = "/proc/cpuinfo") -> tuple[str | None, list[str]]:
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None, []
    model, flags = None, []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = value.split()
    return model, flags


def machine_info(cpuinfo: str = "/proc/cpuinfo") -> dict[str, Any]:
    """The machine a run measures: CPU model and its matmul-relevant flags, cores, load, software."""
    from importlib import metadata

    model, flags = _cpuinfo(cpuinfo)
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = None
    try:
        load = list(os.getloadavg())
    except (AttributeError, OSError):
        load = None
    info = {
        "cpu": model or platform.processor() or platform.machine(),
        "arch": platform.machine(),
        "flags": [f for f in MATMUL_FLAGS if f in set(flags)],
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average": load,
        "python": platform.python_version(),
        "torch": torch_version,
        "threads_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ},
    }
    info["summary"] = (
        f"{info['cpu']} ({info['arch']}), {info['cores']} cores"
        + (f" ({usable} usable)" if usable != info["cores"] else "")
        + f", flags: {' '.join(info['flags']) or 'none of ' + '/'.join(MATMUL_FLAGS[:3])}"
        + (f", load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)" if load else "")
        + (f", torch {torch_version}" if torch_version else "") + f", Python {info['python']}")
    return info


def load_warning(load: float | None = None, cores: int | None = None) -> str | None:
    """A warning sentence when the 1-minute load average exceeds the core count, else None."""
    load = load_average() if load is None else load
    cores = os.cpu_count() if cores is None else cores
    if load is None or not cores or load <= cores:
        return None
    return (f"WARNING: the machine is loaded: load average {load:.2f} > {cores} cores. Wall-clock ratios "
            "measured now measure the machine as much as the code (CPU-time ratios less so); rerun when idle.")


# ------------------------------------------------------------------------------------------ rows
@dataclass(frozen=True)
class Quote:
    """A baseline rate that was not measured in this run: where it is from and on what machine."""

    value: float
    source: str  # e.g. "BENCHMARKS.md, 2026-12-02 (session 4)"
    machine: str  # e.g. "2-core AMD EPYC VM"
    basis: str = "cpu"

    def __str__(self) -> str:
        return f"quoted, not measured (from {self.source}, {self.machine})"


@dataclass
class BenchRow:
    """One measured line: ours vs a baseline, with the ratio and the target it must reach.

    `ratio` is ours/baseline in the benchmark's own sense (higher is better): the median of the
    per-round ratios, `ratio_min`–`ratio_max` their range over `rounds` rounds, taken on the clock
    `basis` ("cpu" or "wall"); `ours` and `baseline` are the median rates on that clock. `target` is the
    least ratio that counts as met, or None (informational row). With no baseline (`baseline` None)
    there is no ratio and a target is "not checked". `baseline_measured` is False when the baseline
    is a quoted rate (`quoted_from` says from where) rather than measured side by side in this run:
    such a ratio is shown, marked, and its target is never judged. `baseline_source` says in words
    what the baseline is. `ratio_other` holds the same ratio on the other clock, for comparison.
    Build rows from `interleave`'s `Rounds` with `side_by_side`, `quoted` or `alone`."""

    what: str
    ours: float
    baseline: float | None
    ratio: float | None
    target: float | None
    unit: str
    baseline_source: str
    details: dict[str, Any] = field(default_factory=dict)
    baseline_measured: bool = True
    ratio_min: float | None = None
    ratio_max: float | None = None
    basis: str | None = None
    rounds: int | None = None
    quoted_from: str | None = None
    ratio_other: dict[str, Any] | None = None
    ours_min: float | None = None
    ours_max: float | None = None
    benchmark: str = ""  # filled in by the suite

    def __post_init__(self) -> None:
        if not self.what or not self.unit:
            raise ValueError("a BenchRow needs `what` and `unit`")
        for name in ("ours", "baseline", "ratio", "target", "ratio_min", "ratio_max", "ours_min", "ours_max"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise ValueError(f"BenchRow {self.what!r}: {name} must be a finite number or None, got {v!r}")
        if self.baseline is None and self.ratio is not None:
            raise ValueError(f"BenchRow {self.what!r}: a ratio without a baseline")
        if self.baseline is not None and self.ratio is None:
            raise ValueError(f"BenchRow {self.what!r}: a baseline without a ratio")
        if (self.ratio_min is None) != (self.ratio_max is None):
            raise ValueError(f"BenchRow {self.what!r}: give both ratio_min and ratio_max, or neither")
        if self.ratio_min is not None:
            if self.ratio is None:
                raise ValueError(f"BenchRow {self.what!r}: a ratio range without a ratio")
            if not self.ratio_min <= self.ratio <= self.ratio_max:  # type: ignore[operator]
                raise ValueError(f"BenchRow {self.what!r}: ratio {self.ratio} outside its range "
                                 f"{self.ratio_min}–{self.ratio_max}")
        if self.basis is not None and self.basis not in BASES:
            raise ValueError(f"BenchRow {self.what!r}: basis must be one of {BASES}, got {self.basis!r}")
        if self.baseline is not None and not self.baseline_measured and not self.quoted_from:
            raise ValueError(f"BenchRow {self.what!r}: a baseline that is not measured must say where it is "
                             "quoted from (quoted_from)")

    @property
    def met(self) -> bool | None:
        """True/False against the target; None when there is no target, or no baseline measured in
        this run to check it against (a quoted baseline is never judged)."""
        if self.target is None or self.ratio is None or not self.baseline_measured:
            return None
        return self.ratio >= self.target

    @property
    def status(self) -> str:
        """"measured" (a baseline measured side by side in this run), "quoted" or "none"."""
        if self.baseline is None:
            return "none"
        return "measured" if self.baseline_measured else "quoted"

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["met"] = self.met
        out["baseline_status"] = self.status
        return out

    # -- builders from interleaved rounds --------------------------------------------------------
    @staticmethod
    def _other(rounds: Rounds, basis: str, a: str, b: str | None, scale: float = 1.0) -> dict[str, Any] | None:
        other = "wall" if basis == "cpu" else "cpu"
        if other == "cpu" and rounds.basis_for(a, *([b] if b else [])) != "cpu":
            return None
        st = rounds.ratio(a, b, other) if b else rounds.rates(a, other).scaled(scale)
        return {"basis": other, "median": st.median, "min": st.min, "max": st.max}

    @classmethod
    def side_by_side(cls, what: str, unit: str, rounds: Rounds, ours: str, baseline: str, *,
                     target: float | None, baseline_source: str, basis: str | None = None,
                     details: dict[str, Any] | None = None) -> "BenchRow":
        """Ours vs a baseline measured in the same rounds: median rates, the median per-round ratio
        and its range, on `basis` (default: CPU time where both sides' compare, else wall clock)."""
        basis = basis or rounds.basis_for(ours, baseline)
        r = rounds.ratio(ours, baseline, basis)
        o = rounds.rates(ours, basis)
        return cls(
            what=what, ours=o.median, baseline=rounds.rates(baseline, basis).median, ratio=r.median,
            target=target, unit=unit, baseline_source=baseline_source,
            details={**(details or {}), "rounds": rounds.as_json(), "round_ratios": r.values},
            ratio_min=r.min, ratio_max=r.max, basis=basis, rounds=rounds.rounds,
            ratio_other=cls._other(rounds, basis, ours, baseline), ours_min=o.min, ours_max=o.max)

    @classmethod
    def quoted(cls, what: str, unit: str, rounds: Rounds, ours: str, quote: Quote, *, target: float | None,
               baseline_source: str, details: dict[str, Any] | None = None) -> "BenchRow":
        """Ours measured, the baseline a `Quote`: the ratio is ours / the quoted rate (range: ours' range),
        marked as such; its target is not judged."""
        basis = quote.basis if rounds.basis_for(ours) == "cpu" else "wall"
        o = rounds.rates(ours, basis)
        r = o.scaled(1 / quote.value)
        return cls(
            what=what, ours=o.median, baseline=quote.value, ratio=r.median, target=target, unit=unit,
            baseline_source=f"{quote}: {baseline_source}", baseline_measured=False,
            details={**(details or {}), "rounds": rounds.as_json(), "quote": asdict(quote)},
            ratio_min=r.min, ratio_max=r.max, basis=basis, rounds=rounds.rounds, quoted_from=str(quote),
            ratio_other=None, ours_min=o.min, ours_max=o.max)

    @classmethod
    def alone(cls, what: str, unit: str, rounds: Rounds, ours: str, *, target: float | None = None,
              baseline_source: str, details: dict[str, Any] | None = None) -> "BenchRow":
        """Ours with no baseline: the median rate and its range, no ratio."""
        basis = rounds.basis_for(ours)
        o = rounds.rates(ours, basis)
        return cls(what=what, ours=o.median, baseline=None, ratio=None, target=target, unit=unit,
                   baseline_source=baseline_source, baseline_measured=False,
                   details={**(details or {}), "rounds": rounds.as_json()}, basis=basis, rounds=rounds.rounds,
                   ours_min=o.min, ours_max=o.max)


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
    `run`, timing their sides with `self.interleave` and building rows with `BenchRow.side_by_side`,
    `.quoted` or `.alone`. `run` may append extra tables to `self.tables` and warnings (sentences) to
    `self.warnings`. It raises `BenchError` with a clear message when it cannot run as configured (a
    baseline it was told to measure does not work).

    The timing toolkit is reachable from this class, since a plugin imports only `harness`:
    `Benchmark.Side`, `.Sample`, `.Stopwatch`, `.ChildCPU`, `.Quote`, `.Stats`."""

    Config: ClassVar[type[BenchConfig]] = BenchConfig
    #: option field → environment variable read when `--set` does not give the field
    env: ClassVar[dict[str, str]] = {}

    Side: ClassVar[type[Side]] = Side
    Sample: ClassVar[type[Sample]] = Sample
    Stopwatch: ClassVar[type[Stopwatch]] = Stopwatch
    ChildCPU: ClassVar[type[ChildCPU]] = ChildCPU
    Quote: ClassVar[type[Quote]] = Quote
    Stats: ClassVar[type[Stats]] = Stats

    config: BenchConfig

    def __init__(self, config: BenchConfig):
        super().__init__(config)
        self.tables: list[BenchTable] = []
        self.warnings: list[str] = []

    def interleave(self, sides: Sequence[Side], rounds: int, *, label: str = "", alternate: bool = True,
                   log: Log | None = None, unit: str = "") -> Rounds:
        """`interleave` (the module function), plus a warning in `self.warnings` for each side that
        waited for a CPU (`label`, if given, names the comparison in it)."""
        got = interleave(sides, rounds, alternate=alternate, log=log, unit=unit)
        self.warnings.extend(f"{label}: {w}" if label else w for w in got.waited())
        return got

    @abstractmethod
    def run(self, quick: bool, log: Log) -> list[BenchRow]:
        """Measure; `quick` means tiny sizes (tests, smoke checks), not meaningful numbers."""


def fmt_rate(v: float) -> str:
    """77998.3 → '77,998'; 1.034 → '1.03'."""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def fmt_ratio(v: float) -> str:
    """18.43 → '18.4×'; 1.034 → '1.03×'."""
    return f"{v:.1f}×" if v >= 10 else f"{v:.2f}×"

