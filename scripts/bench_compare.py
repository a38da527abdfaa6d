#!/usr/bin/env python3
"""Compare the ratios of two `harness bench --json` outputs, row by row (matched by benchmark and
`what`): each run's median ratio with its min–max range and clock, and run 2 / run 1. Rows with no
ratio (no baseline) are listed by their median rate, and not judged.

    .venv/bin/harness bench --json [--set ...] > run1.json
    .venv/bin/harness bench --json [--set ...] > run2.json
    .venv/bin/python scripts/bench_compare.py run1.json run2.json [--tolerance 0.15]

Prints a Markdown table (the machine and load average of each run above it). Exit status 0 if every
ratio present in both runs agrees within ±tolerance (run 2 / run 1 − 1), 1 otherwise, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys


def _fmt_ratio(v: float) -> str:
    return f"{v:.1f}×" if v >= 10 else f"{v:.2f}×"


def _fmt_rate(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _ratio_cell(row: dict) -> str:
    s = _fmt_ratio(row["ratio"])
    if row.get("ratio_min") is not None and (row.get("rounds") or 0) > 1:
        s += f" ({_fmt_ratio(row['ratio_min']).rstrip('×')}–{_fmt_ratio(row['ratio_max'])})"
    if row.get("baseline_status") == "quoted":
        s += ", quoted"
    return s


def _header(name: str, res: dict) -> str:
    m = res.get("machine")
    summary = m.get("summary") if isinstance(m, dict) else m
    warn = len(res.get("load_warnings") or [])
    return f"{name}: {summary}; load warnings: {warn}; load average at the end: {res.get('load_average_end')}"


def compare(a: dict, b: dict, tolerance: float) -> tuple[list[str], bool]:
    """Markdown lines and whether every shared ratio agrees within ±tolerance."""
    rows_b = {(r["benchmark"], r["what"]): r for r in b["rows"]}
    lines = [_header("run 1", a), "", _header("run 2", b), "",
             "| benchmark | what | timed by | run 1 | run 2 | run 2 / run 1 | within ±{:.0%} |".format(tolerance),
             "|---|---|---|---|---|---|---|"]
    ok = True
    seen = set()
    for ra in a["rows"]:
        key = (ra["benchmark"], ra["what"])
        seen.add(key)
        rb = rows_b.get(key)
        clock = {"cpu": "CPU time", "wall": "wall clock", None: "—"}[ra.get("basis")]
        if rb is None:
            lines.append(f"| {key[0]} | {key[1]} | {clock} | {_ratio_cell(ra) if ra['ratio'] else '—'} | (absent) | — | — |")
            continue
        if ra["ratio"] is None or rb["ratio"] is None:
            q = rb["ours"] / ra["ours"]
            lines.append(f"| {key[0]} | {key[1]} ({ra['unit']}, no baseline) | {clock} | {_fmt_rate(ra['ours'])} | "
                         f"{_fmt_rate(rb['ours'])} | {q:.2f} | (a rate, not judged) |")
            continue
        q = rb["ratio"] / ra["ratio"]
        within = abs(q - 1) <= tolerance
        ok &= within
        lines.append(f"| {key[0]} | {key[1]} | {clock} | {_ratio_cell(ra)} | {_ratio_cell(rb)} | {q:.2f} | "
                     f"{'yes' if within else '**no**'} |")
    for key, rb in rows_b.items():
        if key not in seen:
            lines.append(f"| {key[0]} | {key[1]} | — | (absent) | {_ratio_cell(rb) if rb['ratio'] else '—'} | — | — |")
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run1")
    ap.add_argument("run2")
    ap.add_argument("--tolerance", type=float, default=0.15, help="largest |run 2 / run 1 − 1| that agrees")
    args = ap.parse_args(argv)
    try:
        a, b = (json.load(open(p)) for p in (args.run1, args.run2))
        lines, ok = compare(a, b, args.tolerance)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    print(f"\nevery ratio within ±{args.tolerance:.0%}: {'yes' if ok else 'no'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
