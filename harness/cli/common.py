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
    """`--budget-set KEY=VALUE` items → overrides, each field's name and value checked (one line each)."""
    from harness.budgets import check_overrides
    from harness.spec import parse_value

    out: dict[str, Any] = {}
    for item in items or []:
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            raise PlanError(f"--budget-set takes KEY=VALUE, got {item!r}")
        try:
            out[k.strip()] = parse_value(v)
        except PlanError as exc:
            raise PlanError(f"--budget-set {item}: {exc}") from None
    try:
        check_overrides(out)
    except PlanError as exc:
        raise PlanError("\n".join(f"--budget-set: {line}" for line in str(exc).splitlines())) from None
    return out


def _resolve_run_args(args: argparse.Namespace, console: Console) -> tuple[Any, str, int, str, dict[str, Any]]:
    from harness.experiment import load_experiment
    from harness.spec import MAX_CELLS, parse_spec

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
    seeds = seeds if seeds is not None else 1
    # the size of the grid before anything is resolved: a sweep of sweeps would plan for minutes
    axes = parse_spec(spec) if isinstance(spec, str) else spec
    n_seeds = seeds if isinstance(seeds, int) else len(seeds)
    n_cells = n_seeds
    for axis in axes:
        n_cells *= len(axis)
    if n_cells > MAX_CELLS:
        sizes = " × ".join(str(len(a)) for a in axes)
        raise PlanError(f"the grid has {n_cells:,} cells ({sizes} alternatives × {n_seeds:,} seeds); at most "
                        f"{MAX_CELLS:,} (each cell is a training run): split the grid into several runs")
    return spec, budget, seeds, device or "auto", overrides


# ------------------------------------------------------------------------------ argument checks
def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (--jobs, --n)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _seed_count(text: str) -> int:
    """An argparse type: a number of seeds, 1 to MAX_SEEDS."""
    from harness.spec import MAX_SEEDS

    n = _positive_int(text)
    if n > MAX_SEEDS:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_SEEDS:,} seeds, got {n:,} (an experiment file's `seeds = [...]` picks any seed numbers)")
    return n


class OutputError(ValueError):
    """An output path that cannot be written (not a PlanError: the spec itself is fine)."""


def _check_out(path: str | Path | None, kind: str = "directory", option: str = "--out",
               default: Path | None = None) -> Path:
    """`path` (or, when it is None, `default`) as a place a command can write its output `kind`
    ("directory" or "file"), checked before any work starts; OutputError naming the option and the
    reason otherwise: empty, an existing file where a directory goes (or the reverse), under a file,
    in a directory that is not writable, or a name too long for the filesystem. Writing is tried
    (a temporary file, removed at once) in the directory the output goes in or under, so a read-only
    mount or a full disk is found too."""
    import errno
    import os
    import stat
    import tempfile

    if path is None:
        if default is None:
            raise OutputError(f"{option} is needed")
        path, option = default, f"output {kind}"
    text = str(path)
    if not text.strip():
        raise OutputError(f"{option} is empty; give a {kind} path")
    shown = text if len(text) <= 60 else text[:57] + "..."
    if "\0" in text:
        raise OutputError(f"{option} {shown!r}: a path cannot hold a NUL character")
    p = Path(text)

    def fail(why: str) -> OutputError:
        return OutputError(f"{option} {shown}: {why}")

    def stat_of(q: Path) -> os.stat_result | None:
        try:
            return os.stat(q)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG):
                return None  # not there (a name too long is reported below, with its length)
            raise fail(exc.strerror or str(exc)) from None

    # the nearest existing ancestor: what is created below it is checked against its filesystem
    anc, st = p, stat_of(p)
    while st is None and anc != anc.parent:
        anc = anc.parent
        st = stat_of(anc)
    if st is None:
        raise fail("no part of the path exists")
    try:
        name_max, path_max = os.pathconf(anc, "PC_NAME_MAX"), os.pathconf(anc, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    for part in p.parts:
        size = len(os.fsencode(part))
        if size > name_max:
            short = part if len(part) <= 24 else part[:21] + "..."
            raise fail(f"the name {short!r} is {size} bytes, too long for the filesystem (at most {name_max})")
    if len(os.fsencode(os.path.abspath(text))) >= path_max:
        raise fail(f"the path is too long for the filesystem (at most {path_max} bytes)")
    is_dir = stat.S_ISDIR(st.st_mode)
    if anc == p:  # it exists
        if kind == "directory" and not is_dir:
            raise fail("is an existing file, not a directory")
        if kind == "file" and is_dir:
            raise fail("is a directory; give a file name")
        if not os.access(p, os.W_OK | (os.X_OK if is_dir else 0)):
            raise fail("is not writable")
        if not is_dir:
            return p
    elif not is_dir:
        raise fail(f"{anc} is a file, so nothing can be created under it")
    elif not os.access(anc, os.W_OK | os.X_OK):
        raise fail(f"cannot be created: {anc} is not writable")
    try:  # what access() cannot see: a read-only mount for root, a full disk, a pseudo-filesystem
        fd, probe = tempfile.mkstemp(prefix=".harness-write-check-", dir=anc)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        where = "is not writable" if anc == p else f"cannot be created in {anc}"
        raise fail(f"{where}: {exc.strerror or exc}") from None
    return p
    if not is_dir:
        raise fail(f"{anc} is a file, so nothing can be created under it")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise fail(f"cannot be created: {anc} is not writable")
    return p


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
