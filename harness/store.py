"""The run directory: its layout, atomic writes and which cells are done.

Layout of a run directory::

    DIR/run.json                      the command, budget, seeds, device, versions (latest invocation)
    DIR/plan.json                     every cell of the plan (the manifest)
    DIR/metrics.json                  results column → declared metric (harness.metrics), core and tasks
    DIR/cells/<cell_id>/config.json   the cell's resolved configuration
    DIR/cells/<cell_id>/log.txt       its log (tracebacks of failures included)
    DIR/cells/<cell_id>/model.safetensors
    DIR/cells/<cell_id>/curve.json    training loss, and held-out metrics at a few points (learning curve)
    DIR/cells/<cell_id>/data.json     the training and eval sets' composition (per meta value: n, distinct)
    DIR/cells/<cell_id>/items.parquet one row per eval item
    DIR/cells/<cell_id>/result.json   its results row; written last, atomically: a cell is done iff
                                      this exists with status "ok"
    DIR/results.parquet               one row per cell × seed (all cells of the directory)
    DIR/items.parquet                 one row per eval item (all cells of the directory)
    DIR/analyses/<name>-<id>/         what an analysis wrote (harness analyze), with its done.json
    DIR/problems/<key>.parquet        the problems of one (task, seed, side, n), drawn once and read
                                      back by the other cells of that seed (harness.problem_cache);
                                      <key>.json says what they are, locks/<key>.json who is drawing
                                      them (a claim, harness.claims); safe to delete

Every write goes to a temporary file first and is renamed into place (os.replace), so killing the
process at any moment leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import polars as pl


#: who writes a temporary file (host and pid in its name), so a later run can tell a dead writer's leftovers
_TMP_OWNER = f"{socket.gethostname().replace('.', '_')}-{os.getpid()}"
_TMP_RE = re.compile(r"^\..+\.(?P<host>[^.]+)-(?P<pid>\d+)\.[^.]+\.tmp$")
#: a temporary file whose writer cannot be checked (another host, an older name) is removed after this long
STALE_TMP_S = 24 * 3600.0


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed onto `path` when the block ends, removed if
    it raises, so readers see the old file or the whole new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_TMP_OWNER}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())


def atomic_write_parquet(path: Path, df: pl.DataFrame) -> None:
    with atomic_path(path) as tmp:
        df.write_parquet(tmp)


# ---------------------------------------------------------------------------------------- reading
def cell_dir(out_dir: Path, cell_id: str) -> Path:
    return Path(out_dir) / "cells" / cell_id


def problems_dir(out_dir: Path) -> Path:
    """Where the run keeps drawn problems (harness.problem_cache)."""
    return Path(out_dir) / "problems"


def read_result(out_dir: Path, cell_id: str) -> dict[str, Any] | None:
    p = cell_dir(out_dir, cell_id) / "result.json"
    if not p.exists():
        return None
    try:
        row = json.loads(p.read_text())
    except (OSError, ValueError, RecursionError):  # unreadable, not UTF-8, not JSON
        return None
    return row if isinstance(row, dict) else None


def check_finished(out_dir: Path, cell_id: str, row: dict[str, Any], items: pl.DataFrame | None = None) -> str | None:
    """Why a cell whose result.json says "ok" cannot be trusted (None if it can): the row is another
    cell's, lacks its counts, or disagrees with the cell's items.parquet (missing, unreadable, a
    different row count, another cell's ids, other totals). A run recomputes such a cell."""
    if row.get("cell_id") != cell_id:
        return f"result.json belongs to cell {row.get('cell_id')!r}"
    try:
        n_eval, n_correct, acc = int(row["n_eval"]), int(row["n_correct"]), float(row["accuracy"])
    except (KeyError, TypeError, ValueError):
        return "result.json lacks n_eval, n_correct or accuracy"
    if items is None:
        try:
            items = pl.read_parquet(cell_dir(out_dir, cell_id) / "items.parquet", glob=False)
        except Exception as exc:  # noqa: BLE001 - polars raises several kinds for a damaged file
            return f"items.parquet is missing or unreadable ({type(exc).__name__})"
    if items.height != n_eval:
        return f"items.parquet has {items.height} rows, result.json says n_eval={n_eval}"
    if "cell_id" in items.columns and items["cell_id"].n_unique() and set(items["cell_id"].unique()) != {cell_id}:
        return "items.parquet holds another cell's items"
    if "correct" in items.columns and int(items["correct"].sum()) != n_correct:
        return f"items.parquet has {int(items['correct'].sum())} correct items, result.json says {n_correct}"
    if not 0.0 <= acc <= 1.0 or abs(acc - n_correct / max(1, n_eval)) > 1e-9:
        return f"accuracy={acc} does not equal n_correct / n_eval = {n_correct}/{n_eval}"
    return None


def clean_temp_files(out_dir: Path) -> int:
    """Remove the temporary files killed writers left in the run directory (its top level and each
    cell's folder, and the problems folder): those of a dead process on this host at once, others after STALE_TMP_S. Returns
    how many were removed. A live writer's file is never touched."""
    from harness.claims import _alive

    out_dir = Path(out_dir)
    host = socket.gethostname().replace(".", "_")
    cells = out_dir / "cells"
    folders = [out_dir, problems_dir(out_dir),
               *(sorted(p for p in cells.iterdir() if p.is_dir()) if cells.is_dir() else [])]
    removed = 0
    for folder in folders:
        for p in folder.glob(".*.tmp"):
            m = _TMP_RE.match(p.name)
            try:
                if m and m["host"] == host:
                    dead = int(m["pid"]) != os.getpid() and not _alive(int(m["pid"]), None)
                else:
                    dead = time.time() - p.stat().st_mtime > STALE_TMP_S
                if dead and p.is_file():
                    p.unlink()
                    removed += 1
            except OSError:
                continue
    return removed


def is_done(out_dir: Path, cell_id: str) -> bool:
    r = read_result(out_dir, cell_id)
    return bool(r and r.get("status") == "ok")
