"""Analyses over a finished run directory (`harness analyze DIR NAME`), and the built-in `paired` one.

An analysis is a registered component (`harness_register_analyses`). `run_analysis` gives it a fresh
temporary folder and renames it to ``DIR/analyses/<name>-<id>/`` only when the analysis returned, with
a ``done.json`` last; the id hashes the analysis (name, version, config) and the finished cells it
saw, so rerunning reuses a finished analysis and a killed one leaves nothing behind. New cells in the
directory (or another config) give a new id, hence a fresh result beside the old one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, ClassVar

from harness.hookspecs import hookimpl
from harness.interfaces import Analysis, Config, PlanError


def _store():
    """harness.store (polars), imported when an analysis runs rather than when the plugin loads."""
    from harness import store

    return store


def finished_cells(run_dir: Path) -> list[str]:
    cells = Path(run_dir) / "cells"
    if not cells.is_dir():
        return []
    return sorted(d.name for d in cells.iterdir() if (_store().read_result(run_dir, d.name) or {}).get("status") == "ok")


def analysis_id(analysis: Analysis, cells: list[str]) -> str:
    blob = json.dumps({"name": analysis.name, "version": analysis.version,
                       "config": analysis.config.model_dump(mode="json"), "cells": cells}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_analysis(analysis: Analysis, run_dir: Path, log: Callable[[str], None] = print,
                 force: bool = False) -> tuple[Path, bool]:
    """Run (or reuse) one analysis; returns its output folder and whether it ran now."""
    run_dir = Path(run_dir)
    cells = finished_cells(run_dir)
    if not cells:
        raise PlanError(f"{run_dir} has no finished cell to analyse")
    final = run_dir / "analyses" / f"{analysis.name}-{analysis_id(analysis, cells)}"
    if (final / "done.json").exists() and not force:
        return final, False
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}."))
    try:
        summary = analysis.run(run_dir, tmp, log)
        _store().atomic_write_json(tmp / "done.json", {"analysis": analysis.name, "version": analysis.version,
                                              "config": analysis.config.model_dump(mode="json"),
                                              "cells": cells, "summary": summary})
        if final.exists():  # --force: replace the old result whole
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, True


# ------------------------------------------------------------------------------------------ paired
class PairedConfig(Config):
    pass


class PairedTables(Analysis):
    """the paired differences of a run as Parquet tables (overall and per breakdown value)"""

    name: ClassVar[str] = "paired"
    description: ClassVar[str] = "paired differences (seeds and items) of every condition against its baseline, as Parquet"
    Config: ClassVar[type[PairedConfig]] = PairedConfig

    def run(self, run_dir: Path, out: Path, log: Callable[[str], None]) -> dict[str, Any]:
        import polars as pl

        from harness.results import collect_items, collect_results
        from harness.stats import paired_by, paired_table

        results, items = collect_results(run_dir), collect_items(run_dir)
        pairs = paired_table(results, items)
        _store().atomic_write_parquet(out / "paired.parquet", pl.DataFrame([p.as_row() for p in pairs]))
        written = ["paired.parquet"]
        for col in [c for c in items.columns if c.startswith("meta_")] if items.height else []:
            frames = [paired_by(items, p.baseline, p.condition, col).with_columns(
                pl.lit(p.baseline).alias("baseline"), pl.lit(p.condition).alias("condition")) for p in pairs]
            frames = [f for f in frames if f.height]
            if frames:
                name = f"paired_by_{col[len('meta_'):]}.parquet"
                _store().atomic_write_parquet(out / name, pl.concat(frames, how="diagonal_relaxed"))
                written.append(name)
        log(f"paired: {len(pairs)} comparisons; wrote {', '.join(written)}")
        return {"comparisons": len(pairs), "files": written}


@hookimpl
def harness_register_analyses(register):
    register(PairedTables)
