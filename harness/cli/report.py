"""`harness report` and `harness analyze`: what a finished run directory says."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape

from harness.cli.common import OutputError, _check_out, _console, _manager, _plan_error, _print_paired, _run_dir
from harness.interfaces import PlanError


def cmd_analyze(args: argparse.Namespace) -> int:
    from harness.analysis import run_analysis
    from harness.planning import resolve_items

    console = _console()
    m = _manager(console)
    d = _run_dir(console, args.dir)
    if d is None:
        return 2
    try:
        analyses = [c.instantiate() for c in resolve_items(m, "analysis", args.analysis, m.budget("default"))]
        for a in analyses:
            path, ran = run_analysis(a, d, log=lambda msg: console.print(msg, markup=False), force=args.force)
            console.print(f"{'ran' if ran else 'reused (already done)'} {a.name}: {path}")
    except PlanError as exc:
        return _plan_error(console, exc)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from harness.report import summary_table, write_report
    from harness.results import collect_items, collect_results, read_metric_declarations, summarize

    console = _console()
    d = Path(args.dir)
    if not (d / "cells").exists():
        console.print(f"[red]error:[/red] {d} is not a run directory (no cells/ inside)")
        return 2
    note = args.note
    if note and note.startswith("@"):
        try:
            note = Path(note[1:]).read_text()
        except OSError as exc:
            console.print(f"[red]error:[/red] cannot read the note: {exc}")
            return 2
    try:
        to = _check_out(args.to, "directory", "--to", default=d)
    except OutputError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    try:
        path = write_report(d, to, note=note)
    except OSError as exc:  # a full disk (ENOSPC), a quota, the folder changed since the check
        console.print(f"[red]error:[/red] cannot write the report to {escape(str(to))}: "
                      f"{escape(exc.strerror or str(exc))}")
        return 2
    results, items = collect_results(d), collect_items(d)
    declared = read_metric_declarations(d)
    table = summarize(results, items, declared=declared)
    if table.height:
        console.print(summary_table(table, declared=declared))
    _print_paired(console, results, items)
    console.print(f"report written to {path}")
    return 0
