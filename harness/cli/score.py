"""`harness score`: verdicts for solutions written by any model or tool (harness.scoring).

Exit status: 0 every line scored; 1 scored, but some lines were bad lines (not records: listed, not in
n); 2 nothing scored (an unknown task, a file that cannot be read or is not UTF-8 JSON Lines, no records,
a bad --out), with one error line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table
from rich.text import Text

from harness.cli.common import _console, _manager, _plan_error
from harness.interfaces import PlanError

#: how many bad lines are listed on the console (all of them are in the verdicts file)
SHOW_BAD = 10


def _plain(s: object) -> str:
    """Text from the input, safe to print: control characters and lone surrogates escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(s))


def cmd_score(args: argparse.Namespace) -> int:
    from harness.planning import resolve
    from harness.results import wilson
    from harness.scoring import ScoreInputError, resolve_out, score_file
    from harness.spec import Choice

    console = _console()

    def error(msg: str) -> int:
        console.print(Text("error: ", style="red") + Text(_plain(msg)), soft_wrap=True)
        return 2

    m = _manager(console)
    try:
        task = resolve(m, "task", Choice(args.task), m.budget("default")).instantiate()
    except PlanError as exc:
        return _plan_error(console, exc)
    src = Path(args.file)
    try:
        out = resolve_out(src, args.out)
    except ScoreInputError as exc:
        return error(str(exc))
    try:
        summary = score_file(task, src, out)
    except (ScoreInputError, NotImplementedError) as exc:
        return error(str(exc))
    except OSError as exc:  # reading fails as ScoreInputError: this is the verdicts file
        return error(f"cannot write {out}: {exc.strerror or exc}")
    lo, hi = wilson(summary.n_correct, summary.n)
    console.print(Text(_plain(
        f"{args.task}: {summary.n_correct}/{summary.n} correct = {100 * summary.accuracy:.1f}% "
        f"(95% Wilson interval {100 * lo:.1f}–{100 * hi:.1f}); verdicts with reasons: {out}")), soft_wrap=True)
    if summary.bad_lines:
        k = summary.n_bad
        console.print(Text(f"{k} bad line{'s' if k != 1 else ''} (not records: not scored, not in n):",
                           style="yellow"))
        for line, why in summary.bad_lines[:SHOW_BAD]:
            console.print(Text(_plain(f"  line {line}: {why}")), soft_wrap=True)
        if k > SHOW_BAD:
            console.print(Text(f"  … and {k - SHOW_BAD} more (each is in {out} with \"bad_line\")"))
    if summary.reasons:
        t = Table(title="most common failure kinds")
        t.add_column("kind")
        t.add_column("n", justify="right")
        t.add_column("first (line: reason)")
        for kind, n in summary.reasons.most_common(10):
            line, reason = summary.examples[kind]
            t.add_row(Text(_plain(kind)), str(n), Text(_plain(f"{line}: {reason}")))
        if len(summary.reasons) > 10:
            rest = sum(summary.reasons.values()) - sum(n for _, n in summary.reasons.most_common(10))
            t.add_row(Text(f"({len(summary.reasons) - 10} other kinds)"), str(rest), Text(""))
        console.print(t)
    return 1 if summary.bad_lines else 0
