"""What every command shares: the console, the plugin manager, plan errors, run arguments."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from harness.interfaces import PlanError
from harness.plugins import Manager, PluginLoadError, get_manager


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False)


def _manager(console: Console) -> Manager:
    try:
        m = get_manager()
    except PluginLoadError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(2) from None
    for f in m.failures():
        console.print(f"[red]plugin {escape(repr(f.name))} ({escape(f.dist or '?')} {escape(f.version or '?')}) "
                      "failed to load:[/red] ", end="")
        console.print(str(f.error), markup=False)  # an error's own text is not markup
    return m


def _plugins_header(m: Manager) -> str:
    ok = [f"{p.name}-{p.version or '?'}" for p in m.plugins.values() if not p.error]
    return "plugins: " + ", ".join(sorted(ok))


def _plan_error(console: Console, exc: PlanError) -> int:
    console.print("[red]error:[/red] the spec cannot run:")
    for line in str(exc).splitlines():
        console.print(f"  {line}", markup=False)
    return 2


def _default_out(spec: str, budget: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "-", spec.replace("×", "x").replace("*", "x")).strip("-")
    return Path("runs") / f"{slug[:80]}-{budget}"


def _parse_sets(items: list[str] | None) -> dict[str, Any]:
    from harness.spec import parse_value

    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise PlanError(f"--budget-set takes KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_value(v)
    return out


def _resolve_run_args(args: argparse.Namespace, console: Console) -> tuple[Any, str, int, str, dict[str, Any]]:
    from harness.experiment import load_experiment

    spec: Any = args.spec
    budget, seeds, device = args.budget, args.seeds, args.device
    overrides: dict[str, Any] = {}
    if args.spec.endswith(".toml"):
        exp = load_experiment(args.spec)
        spec = exp["axes"]
        budget = budget or exp.get("budget")
        seeds = seeds if seeds is not None else exp.get("seeds")
        device = device or exp.get("device")
        overrides.update(exp.get("budget_overrides", {}))
    overrides.update(_parse_sets(getattr(args, "budget_set", None)))
    return spec, budget, seeds if seeds is not None else 1, device or "auto", overrides


def _quote(a: str) -> str:
    return a if re.fullmatch(r"[A-Za-z0-9_./=:-]+", a) else "'" + a.replace("'", "'\\''") + "'"


def _print_paired(console, results, items, order=None) -> None:
    """The paired differences (each condition against its group's mistake-free baseline), one line each."""
    from harness.report import short_names
    from harness.stats import paired_table

    if not results.height or not items.height:
        return
    pairs = paired_table(results, items, order=order)
    if not pairs:
        return
    short = short_names(list(dict.fromkeys([*(order or []), *results["condition"].to_list()])))
    console.print("[bold]paired differences[/bold] (same problems and eval items per seed):")
    for pr in pairs:
        console.print("  " + pr.sentence(short.get(pr.baseline), short.get(pr.condition)), markup=False)


def _run_dir(console: Console, path: str) -> Path | None:
    """`path` as a run directory, or None after saying why it is not one."""
    d = Path(path)
    if not (d / "cells").is_dir():
        console.print(f"[red]error:[/red] {d} is not a run directory (no cells/)")
        return None
    return d


def _task_corruptor(m: Manager, spec: str):
    """The task and corruptor of a two-axis spec, resolved as a run resolves them (default budget):
    (task component, corruptor component, task, corruptor); the corruptor is checked against the task."""
    from harness.planning import resolve
    from harness.spec import parse_spec

    axes = parse_spec(spec, min_axes=2, max_axes=2)
    if len(axes[0]) != 1 or len(axes[1]) != 1:
        raise PlanError("give exactly one task and one corruptor, e.g. 'mazes×fallible(p=0.2)'")
    t = resolve(m, "task", axes[0][0], m.budget("default"))
    c = resolve(m, "corruptor", axes[1][0], m.budget("default"))
    task, corruptor = t.instantiate(), c.instantiate()
    corruptor.check(task)
    return t, c, task, corruptor
