#!/usr/bin/env python3
"""Compare two run directories cell by cell, matched by condition and seed (not by cell id, which a
version bump changes): every numeric per-cell metric (timings left out) and every eval completion.

    .venv/bin/python scripts/compare_runs.py RUN_A RUN_B

Exit status 0 if they are identical, 1 otherwise. Used to check that a refactor left results
unchanged (CHANGELOG.md, 0.2.0).
"""

import sys

import polars as pl

SKIP = ("seconds", "per_s", "_at")


def main(a: str, b: str) -> int:
    ra, rb = (pl.read_parquet(f"{d}/results.parquet").sort(["condition", "seed"]) for d in (a, b))
    ia, ib = (pl.read_parquet(f"{d}/items.parquet").sort(["condition", "seed", "item_id"]) for d in (a, b))
    same = ra.select("condition", "seed").equals(rb.select("condition", "seed"))
    print(f"cells: {ra.height} vs {rb.height}, same conditions and seeds: {same}")
    cols = [c for c in ra.columns if c in rb.columns and ra[c].dtype.is_numeric() and not any(s in c for s in SKIP)]
    diffs = [c for c in cols if ra[c].to_list() != rb[c].to_list()]
    print(f"numeric per-cell columns compared: {len(cols)}; differing: {diffs or 'none'}")
    equal_items = ia["completion"].to_list() == ib["completion"].to_list() and ia["correct"].to_list() == ib["correct"].to_list()
    print(f"eval items: {ia.height} vs {ib.height}; completions and verdicts identical: {equal_items}")
    only = sorted(set(ra.columns) ^ set(rb.columns))
    print(f"columns in only one of them: {only or 'none'}")
    return 0 if same and not diffs and equal_items else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
