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

Every write goes to a temporary file first and is renamed into place (os.replace), so killing the
process at any moment leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import polars as pl


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed onto `path` when the block ends, removed if
    it raises, so readers see the old file or the whole new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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


def read_result(out_dir: Path, cell_id: str) -> dict[str, Any] | None:
    p = cell_dir(out_dir, cell_id) / "result.json"
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def is_done(out_dir: Path, cell_id: str) -> bool:
    r = read_result(out_dir, cell_id)
    return bool(r and r.get("status") == "ok")
