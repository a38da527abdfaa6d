"""`harness status RUN_DIR`: done / running / failed / pending cells of a (possibly shared) run directory."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from rich.table import Table
from rich.text import Text

from harness.cli.common import _console

_STYLE = {"done": "green", "running": "cyan", "stalled": "yellow", "failed": "red", "pending": "dim"}


def cmd_status(args: argparse.Namespace) -> int:
    from harness.status import counts, run_status

    console = _console()
    try:
        rows = run_status(args.dir)
    except FileNotFoundError as exc:
        console.print("[red]error:[/red] ", end="")
        console.print(str(exc), markup=False)
        return 2
    if args.json:
        print(json.dumps({"counts": counts(rows), "cells": rows}, indent=2, default=str))
        return 0
    t = Table(title=Text(f"{args.dir}: {len(rows)} cells"))
    for col in ("cell_id", "condition", "seed", "state", "worker", "detail"):
        t.add_column(col)
    for r in rows:
        if r["state"] in ("running", "stalled"):
            since = dt.datetime.fromtimestamp(r["since"]).isoformat(timespec="seconds") if r.get("since") else "?"
            detail = f"since {since}, heartbeat {r['heartbeat_age_s']} s ago"
            if r["state"] == "stalled":
                detail += " (worker gone: the next worker takes it over)"
        elif r["state"] == "failed":
            detail = str(r.get("error"))[:80]
        elif r["state"] == "done":
            detail = f"{r['seconds']:.0f} s" if isinstance(r.get("seconds"), (int, float)) else ""
        else:
            detail = ""
        st = r["state"]
        # names, workers and errors are printed as plain text: a "[/x]" in them is not markup
        t.add_row(Text(r["cell_id"]), Text(str(r.get("condition") or "")), str(r.get("seed")),
                  Text(st, style=_STYLE[st]), Text(str(r.get("worker") or "")), Text(detail))
    console.print(t)
    console.print(", ".join(f"{n} {s}" for s, n in counts(rows).items()))
    return 0
