"""`harness bench`: run every registered benchmark (or those `--only` names) and print one table.

The core knows no task and no baseline: each benchmark comes from a plugin (`harness_register_benchmarks`)
and measures its own rows side by side with its own baseline. Options are each benchmark's pydantic
`Config`, set with `--set NAME.FIELD=VALUE` or, for the fields a benchmark maps in `env`, an environment
variable (the command line wins). Exit status (see `harness.cli`): 1 if a checked target is missed
(unless --no-fail), 2 if options are bad or a benchmark failed.

The run opens with the machine (CPU model from /proc/cpuinfo, its matmul-relevant flags, cores, load
average), and warns loudly whenever the 1-minute load average exceeds the core count (at the start,
after each benchmark and in the summary). Each row shows the median ratio of its interleaved rounds
with the min–max range and the clock it was taken on; a row whose baseline is quoted rather than
measured in this run says so and its target is not judged.
"""

from __future__ import annotations

import difflib
import os
import time
import traceback
from dataclasses import dataclass
from typing import Any, Mapping

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.bench.base import (BenchConfig, BenchError, Benchmark, BenchRow, fmt_rate, fmt_ratio, load_average,
                                load_warning, machine_info)
from harness.interfaces import PlanError


def machine() -> str:
    """One line naming the machine (see `machine_info` for the fields)."""
    return machine_info()["summary"]


# ------------------------------------------------------------------------------------------ options
def _did_you_mean(name: str, pool: list[str]) -> str:
    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.5)
    return (" Did you mean " + " or ".join(repr(c) for c in close) + "?") if close else ""


def select(manager, only: str | None) -> list[str]:
    """The benchmark names to run: all registered, or the comma list `only` (checked, in its order)."""
    names = manager.names("benchmark")
    if only is None:
        return names
    picked: list[str] = []
    for raw in only.split(","):
        n = raw.strip()
        if not n:
            continue
        entry, _ = manager.get("benchmark", n)  # PlanError with "did you mean" if unknown
        if entry.name not in picked:
            picked.append(entry.name)
    if not picked:
        raise PlanError(f"--only {only!r} names no benchmark. Available benchmarks: {', '.join(names) or '(none)'}")
    return picked


def _option_value(raw: str) -> Any:
    """A --set or environment value: lists and quoted strings as the spec grammar writes them
    (`[med,hard]`, `"a b"`), none/null → None; anything else is passed as text for pydantic to
    convert (so a path stays a path and `2000` still becomes an int field's 2000)."""
    from harness.spec import parse_value

    t = raw.strip()
    if t[:1] in "[\"'" or t.lower() in ("none", "null"):
        return parse_value(t)
    return t


def parse_sets(items: list[str] | None) -> list[tuple[str, str, str]]:
    """`NAME.FIELD=VALUE` items → (name, field, raw value)."""
    out = []
    for item in items or []:
        key, eq, value = item.partition("=")
        name, dot, fld = key.strip().partition(".")
        if not eq or not dot or not name or not fld.strip():
            raise PlanError(f"--set takes NAME.FIELD=VALUE (e.g. mazes.maze_dataset_python=/path/python), got {item!r}")
        if not value.strip():
            raise PlanError(f"--set {key.strip()}: empty value")
        out.append((name, fld.strip(), value))
    return out


def _fields_help(cls: type[Benchmark]) -> str:
    fields = list(cls.Config.model_fields)
    return ", ".join(fields) if fields else "(none)"


def build_configs(
    manager, names: list[str], sets: list[tuple[str, str, str]], environ: Mapping[str, str]
) -> dict[str, BenchConfig]:
    """Each selected benchmark's validated Config from its env variables and the --set items.

    Raises PlanError naming the benchmark, the field and where the value came from."""
    given: dict[str, dict[str, tuple[Any, str]]] = {n: {} for n in names}
    for name, fld, raw in sets:
        entry, _ = manager.get("benchmark", name)  # unknown name: PlanError with "did you mean"
        if entry.name not in given:
            raise PlanError(f"--set {name}.{fld}: benchmark {entry.name!r} is not selected by --only "
                            f"(selected: {', '.join(names)})")
        cls = entry.cls
        if fld not in cls.Config.model_fields:
            raise PlanError(
                f"--set {name}.{fld}: benchmark {entry.name!r} (plugin {entry.plugin}) has no option {fld!r}."
                + _did_you_mean(fld, list(cls.Config.model_fields))
                + f" Its options: {_fields_help(cls)}")
        given[entry.name][fld] = (_option_value(raw), f"--set {name}.{fld}")
    out: dict[str, BenchConfig] = {}
    for name in names:
        entry, _ = manager.get("benchmark", name)
        cls = entry.cls
        values = dict(given[name])
        for fld, var in cls.env.items():
            if fld not in cls.Config.model_fields:  # the plugin's own mistake: say so plainly
                raise PlanError(f"benchmark {name!r} (plugin {entry.plugin}) maps ${var} to unknown option {fld!r}")
            if fld not in values and environ.get(var, "").strip():
                values[fld] = (_option_value(environ[var]), f"${var}")
        try:
            out[name] = cls.Config(**{k: v for k, (v, _) in values.items()})
        except ValidationError as exc:
            lines = []
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"])
                src = values.get(str(err["loc"][0]), (None, None))[1] if err["loc"] else None
                where = f" (from {src})" if src else ""
                lines.append(f"benchmark {name!r} (plugin {entry.plugin}): option {loc or '(config)'!r}{where}: {err['msg']}")
            raise PlanError("\n".join(lines)) from None
    return out


@dataclass
class BenchInfo:
    name: str
    plugin: str
    description: str
    options: list[dict[str, Any]]


def describe(manager) -> list[BenchInfo]:
    """Every registered benchmark with its options (field, type, default, environment variable)."""
    out = []
    for name in manager.names("benchmark"):
        entry, _ = manager.get("benchmark", name)
        cls = entry.cls
        opts = []
        for fld, info in cls.Config.model_fields.items():
            ann = info.annotation
            opts.append({
                "name": fld,
                "type": getattr(ann, "__name__", None) if isinstance(ann, type) else str(ann).replace("typing.", ""),
                "default": None if info.is_required() else info.get_default(call_default_factory=True),
                "env": cls.env.get(fld),
                "description": info.description or "",
            })
        out.append(BenchInfo(name, entry.plugin, entry.description, opts))
    return out


# ------------------------------------------------------------------------------------------ running
#: console width from which the main table holds each row's description
WIDE = 150


def _range(lo: float, hi: float, fmt) -> str:
    return f"({fmt(lo).rstrip('×')}–{fmt(hi)})"


def _fmt_baseline(r: BenchRow) -> str:
    if r.baseline is None:
        return "—"
    return fmt_rate(r.baseline) + ("" if r.baseline_measured else "\n(quoted)")


def _fmt_ratio(r: BenchRow) -> str:
    if r.ratio is None:
        return "—"
    s = fmt_ratio(r.ratio)
    if r.ratio_min is not None and r.ratio_max is not None and (r.rounds or 0) > 1:
        s += "\n" + _range(r.ratio_min, r.ratio_max, fmt_ratio)
    return s if r.baseline_measured else s + "\nvs a quote"


def _fmt_ours(r: BenchRow) -> str:
    s = fmt_rate(r.ours)
    if r.ours_min is not None and r.ours_max is not None and (r.rounds or 0) > 1:
        s += "\n" + _range(r.ours_min, r.ours_max, fmt_rate)
    return s


def _fmt_clock(r: BenchRow) -> str:
    if r.basis is None:
        return "—"
    clock = {"cpu": "CPU", "wall": "wall"}[r.basis]
    return f"{clock}\n{r.rounds} round{'s' if r.rounds != 1 else ''}" if r.rounds else clock


def _fmt_met(r: BenchRow) -> str:
    m = r.met
    if m is None:
        if r.target is None:
            return "—"
        return "[yellow]not\njudged[/yellow]" if r.status == "quoted" else "[yellow]not\nchecked[/yellow]"
    return "[green]yes[/green]" if m else "[red]no[/red]"


def _loud(console: Console, msg: str) -> None:
    console.print(f"[bold red]{escape(msg)}[/bold red]")


def run_suite(
    manager,
    console: Console,
    quick: bool = False,
    only: str | None = None,
    sets: list[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run the selected benchmarks; print the machine, progress, the table and each row's baseline
    source to `console`, with a loud warning whenever the machine is loaded (load average > cores).

    Raises PlanError (before anything runs) for an unknown name or a bad option. A benchmark that raises
    while running is reported and recorded (`failed`); the others still run."""
    environ = os.environ if environ is None else environ
    names = select(manager, only)
    configs = build_configs(manager, names, parse_sets(sets), environ)
    info = machine_info()
    res: dict[str, Any] = {"machine": info, "machine_summary": info["summary"], "quick": quick,
                           "benchmarks": {}, "rows": []}
    load_warnings: list[str] = []

    def check_load(when: str) -> None:
        w = load_warning()
        if w:
            msg = f"{w} ({when})"
            load_warnings.append(msg)
            _loud(console, msg)

    if not names:
        console.print("[yellow]no benchmark is registered (every plugin that provides one is disabled or failed)[/yellow]")
    console.print(f"machine: {escape(info['summary'])}")
    check_load("at the start")
    rows: list[BenchRow] = []
    failed: list[str] = []
    warnings: list[str] = []
    for name in names:
        entry, _ = manager.get("benchmark", name)
        cfg = configs[name]
        bench = entry.cls(cfg)
        rec: dict[str, Any] = {"plugin": entry.plugin, "description": entry.description,
                               "options": cfg.model_dump(mode="json"), "load_before": load_average()}
        console.print(f"[bold]{name}[/bold] ({entry.plugin}): {escape(entry.description)}")

        def log(msg: str) -> None:
            console.print(f"  {escape(msg)}")

        t0 = time.perf_counter()
        try:
            got = bench.run(quick, log)
            if not isinstance(got, list) or not all(isinstance(r, BenchRow) for r in got):
                raise TypeError(f"{entry.cls.__name__}.run must return a list of BenchRow, got {type(got).__name__}")
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            msg = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
            console.print(f"[red]benchmark {name!r} failed:[/red] {escape(msg)}")
            rec.update(status="failed", error=msg, seconds=time.perf_counter() - t0, load_after=load_average())
            if not isinstance(exc, BenchError):
                rec["traceback"] = "".join(traceback.format_exception(exc))
            failed.append(name)
            res["benchmarks"][name] = rec
            check_load(f"after {name}")
            continue
        for r in got:
            r.benchmark = name
        rows.extend(got)
        bench_warnings = [f"{name}: {w}" for w in getattr(bench, "warnings", [])]
        for w in bench_warnings:
            _loud(console, f"WARNING: {w}")
        warnings.extend(bench_warnings)
        rec.update(status="ok", seconds=time.perf_counter() - t0, load_after=load_average(),
                   rows=[r.as_json() for r in got], tables=[t.as_json() for t in bench.tables],
                   warnings=bench_warnings)
        res["benchmarks"][name] = rec
        check_load(f"after {name}")

    # a wide console gets each row's description in the table; a narrow one, its number (the
    # descriptions are listed under the table either way, with each row's baseline)
    wide = console.width >= WIDE
    t = Table(title="harness bench" + (" (--quick: tiny sizes, numbers not meaningful)" if quick else ""))
    t.add_column("#", overflow="fold")
    if wide:
        t.add_column("what", ratio=1)
        t.add_column("unit", overflow="fold")
    for c in ("harness", "baseline", "ratio", "clock", "target", "met"):
        t.add_column(c, overflow="fold")  # numbers fold onto a second line rather than being cut
    for i, r in enumerate(rows, 1):
        t.add_row(str(i), *([escape(r.what), escape(r.unit)] if wide else []), _fmt_ours(r), _fmt_baseline(r),
                  _fmt_ratio(r), _fmt_clock(r), "—" if r.target is None else f"≥ {r.target:g}×", _fmt_met(r))
    if rows:
        console.print(t)
    for name in names:
        rec = res["benchmarks"][name]
        for tab in rec.get("tables", []):
            et = Table(title=tab["title"])
            for c in tab["columns"]:
                et.add_column(escape(c))
            for row in tab["rows"]:
                et.add_row(*(escape(x) for x in row))
            console.print(et)
    for i, r in enumerate(rows, 1):
        other = ""
        if r.ratio_other:
            o = r.ratio_other
            other = (f"; by {'CPU time' if o['basis'] == 'cpu' else 'wall clock'} the ratio is "
                     f"{fmt_ratio(o['median'])} {_range(o['min'], o['max'], fmt_ratio)}")
        console.print(f"[dim]#{i} {escape(r.benchmark)}: {escape(r.what)} ({escape(r.unit)}): baseline "
                      f"{escape(r.baseline_source)}{escape(other)}[/dim]")
    if any(r.status == "quoted" for r in rows):
        console.print("[dim]quoted, not measured: the baseline rate is quoted from an earlier run on another (or the "
                      "same) machine, not measured side by side in this run; such a ratio measures this machine "
                      "against that one, so its target is not judged[/dim]")
    console.print("[dim]harness, baseline: median rates over the rounds (harness: min–max under it); ratio: "
                  "the median over rounds of ours/baseline within a round (sides interleaved, order alternating), "
                  "min–max across rounds under it; clock: CPU = process CPU time of the timed work on one "
                  "thread, wall = wall clock, where CPU time does not compare (several threads, a GPU); "
                  "met: not judged = the baseline is quoted, not measured in this run; not checked = no "
                  "baseline[/dim]")

    missed = [f"{r.benchmark}: {r.what}" for r in rows if r.met is False]
    unchecked = [f"{r.benchmark}: {r.what}" for r in rows if r.met is None and r.target is not None]
    res["rows"] = [r.as_json() for r in rows]
    res["targets_missed"] = missed
    res["targets_not_checked"] = unchecked
    res["failed"] = failed
    res["warnings"] = warnings
    res["load_warnings"] = load_warnings
    res["load_average_end"] = load_average()
    res["all_targets_met"] = not missed and not unchecked and not failed
    n_checked = sum(r.met is not None for r in rows)
    summary = f"targets: {n_checked - len(missed)} of {n_checked} checked met"
    if unchecked:
        summary += (f"; {len(unchecked)} not checked (no baseline measured in this run): "
                    + escape("; ".join(unchecked)))
    if missed:
        summary += "; [red]missed[/red]: " + escape("; ".join(missed))
    if failed:
        summary += "; [red]failed benchmarks[/red]: " + ", ".join(failed)
    console.print(summary)
    if load_warnings or warnings:
        _loud(console, f"WARNING: {len(load_warnings)} load warning(s) and {len(warnings)} waiting-for-CPU "
                       "warning(s) in this run (above): read its ratios with care")
    return res
