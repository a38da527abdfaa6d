"""`harness score`: verdicts for solutions written by any model or tool (harness.scoring)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from harness.cli.common import _console, _manager, _plan_error
from harness.interfaces import PlanError


def cmd_score(args: argparse.Namespace) -> int:
    from harness.planning import resolve
    from harness.results import wilson
    from harness.scoring import score_file
    from harness.spec import Choice

    console = _console()
    m = _manager(console)
    try:
        task = resolve(m, "task", Choice(args.task), m.budget("default")).instantiate()
    except PlanError as exc:
        return _plan_error(console, exc)
    src = Path(args.file)
    out = Path(args.out) if args.out else src.with_suffix(".verdicts.jsonl")
    try:
        summary = score_file(task, src, out)
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot read {src} or write {out}: {exc}")
        return 2
    except NotImplementedError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    lo, hi = wilson(summary.n_correct, summary.n)
    console.print(
        f"{args.task}: {summary.n_correct}/{summary.n} correct = {100 * summary.accuracy:.1f}% "
        f"(95% Wilson interval {100 * lo:.1f}–{100 * hi:.1f}); verdicts with reasons: {out}"
    )
    if summary.reasons:
        t = Table(title="most common failure reasons")
        t.add_column("reason")
        t.add_column("n", justify="right")
        for r, k in summary.reasons.most_common(10):
            t.add_row(r, str(k))
        console.print(t)
    return 0
