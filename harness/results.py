"""Results tables read back from a run directory (its layout: `harness.store`), and their aggregates."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable

import polars as pl

from harness.metrics import metrics_of
from harness.store import atomic_write_parquet, cell_dir, read_result

# Student-t 0.975 quantiles for df = 1..30 (scipy-free); above 30 the normal 1.96 is within 2%.
_T975 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]  # fmt: skip

KEY_COLUMNS = ["task", "corruptor", "model", "trainer", "condition"]


def t975(df: int) -> float:
    if df <= 0:
        return float("nan")
    return _T975[df - 1] if df <= len(_T975) else 1.96


def mean_ci(values: Iterable[float]) -> tuple[float, float, float, int]:
    """Mean and 95% Student-t interval across runs (seeds): covers seed-to-seed variance."""
    xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    m = sum(xs) / n
    if n == 1:
        return m, float("nan"), float("nan"), 1
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    h = t975(n - 1) * sd / math.sqrt(n)
    return m, m - h, m + h, n


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for k successes in n items: covers item-sampling variance only."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    # exact at the ends (k = 0 gave -3e-17 from rounding) and never outside [0, 1]
    return (0.0 if k == 0 else max(0.0, c - h)), (1.0 if k == n else min(1.0, c + h))


def _rows_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame()
    keys: list[str] = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    cols: dict[str, list[Any]] = {k: [r.get(k) for r in rows] for k in keys}
    series = []
    for k, vals in cols.items():
        non_null = [v for v in vals if v is not None]
        if non_null and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in non_null):
            if all(isinstance(v, int) for v in non_null):
                series.append(pl.Series(k, vals, dtype=pl.Int64))
            else:
                series.append(pl.Series(k, [None if v is None else float(v) for v in vals], dtype=pl.Float64))
        elif non_null and all(isinstance(v, bool) for v in non_null):
            series.append(pl.Series(k, vals, dtype=pl.Boolean))
        else:
            series.append(pl.Series(k, [None if v is None else str(v) for v in vals], dtype=pl.Utf8))
    return pl.DataFrame(series)


def _cell_order(out_dir: Path) -> list[str]:
    """Cell ids in plan order (plan.json), then any others in the directory, sorted."""
    ids: list[str] = []
    plan = Path(out_dir) / "plan.json"
    if plan.exists():
        try:
            ids = [c["cell_id"] for c in json.loads(plan.read_text()).get("cells", [])]
        except (OSError, json.JSONDecodeError, KeyError, TypeError):
            ids = []
    cells = Path(out_dir) / "cells"
    others = sorted(d.name for d in cells.iterdir()) if cells.exists() else []
    return ids + [c for c in others if c not in set(ids)]


def _plan_labels(out_dir: Path) -> dict[str, dict[str, str]]:
    """cell id → the condition label (and its four axis labels) the latest plan gave it.

    A cell's id is its resolved configuration, so one cell can be reached under two spellings
    (`fallible` and `fallible(p=0.2)`); tables read back a directory under its latest plan's labels."""
    try:
        cells = json.loads((Path(out_dir) / "plan.json").read_text()).get("cells", [])
    except (OSError, json.JSONDecodeError, AttributeError):
        return {}
    out = {}
    for c in cells:
        if not isinstance(c, dict) or not isinstance(c.get("condition"), str):
            continue
        lab = {"condition": c["condition"]}
        if isinstance(c.get("axis_labels"), dict):
            lab.update({k: v for k, v in c["axis_labels"].items() if k in KEY_COLUMNS})
        else:  # plans written before axis labels were stored
            parts = c["condition"].split("×")
            if len(parts) == len(KEY_COLUMNS) - 1:
                lab.update(zip(KEY_COLUMNS[:-1], parts))
        out[c.get("cell_id")] = lab
    return out


def collect_results(out_dir: Path) -> pl.DataFrame:
    """All cells' results rows in a run directory (finished or failed), in plan order, labelled as
    the latest plan names them."""
    rows = []
    labels = _plan_labels(out_dir)
    for cid in _cell_order(out_dir):
        r = read_result(out_dir, cid)
        if r is not None:
            rows.append({**r, **labels.get(cid, {})})
    return _rows_frame(rows)


def collect_items(out_dir: Path) -> pl.DataFrame:
    frames = []
    labels = _plan_labels(out_dir)
    for cid in _cell_order(out_dir):
        p = cell_dir(out_dir, cid) / "items.parquet"
        r = read_result(out_dir, cid)
        if p.exists() and r and r.get("status") == "ok":
            df = pl.read_parquet(p, glob=False)
            if cid in labels and "condition" in df.columns:
                df = df.with_columns(pl.lit(labels[cid]["condition"]).alias("condition"))
            frames.append(df)
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames, how="diagonal_relaxed")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def collect_curves(out_dir: Path) -> pl.DataFrame:
    """Learning curves of the finished cells: one row per (cell, point) with the held-out metrics."""
    rows = []
    labels = _plan_labels(out_dir)
    for cid in _cell_order(out_dir):
        r = read_result(out_dir, cid)
        if not (r and r.get("status") == "ok"):
            continue
        r = {**r, **labels.get(cid, {})}
        curve = _read_json(cell_dir(out_dir, cid) / "curve.json")
        points = curve.get("eval", []) if isinstance(curve, dict) else []
        for pt in points:
            rows.append({"cell_id": cid, "condition": r.get("condition"), "seed": r.get("seed"), **pt})
    return _rows_frame(rows)


def collect_mixes(out_dir: Path) -> dict[str, Any]:
    """The training and eval composition (cells/<id>/data.json) of each finished cell, by cell id."""
    out = {}
    labels = _plan_labels(out_dir)
    for cid in _cell_order(out_dir):
        r = read_result(out_dir, cid)
        mix = _read_json(cell_dir(out_dir, cid) / "data.json")
        if r and r.get("status") == "ok" and isinstance(mix, dict):
            cond = labels.get(cid, {}).get("condition", r.get("condition"))
            out[cid] = {"condition": cond, "seed": r.get("seed"), **mix}
    return out


def read_metric_declarations(out_dir: Path) -> dict[str, dict[str, Any]]:
    """A run directory's metrics.json (results column → declaration as JSON); {} if absent."""
    declared = _read_json(Path(out_dir) / "metrics.json")
    return declared if isinstance(declared, dict) else {}


def write_tables(out_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    results = collect_results(out_dir)
    items = collect_items(out_dir)
    if results.height:
        atomic_write_parquet(Path(out_dir) / "results.parquet", results)
    if items.height:
        atomic_write_parquet(Path(out_dir) / "items.parquet", items)
    return results, items


# ------------------------------------------------------------------------------------- aggregation
def summarize(
    results: pl.DataFrame,
    items: pl.DataFrame | None = None,
    order: list[str] | None = None,
    declared: dict[str, dict[str, Any]] | None = None,
) -> pl.DataFrame:
    """One row per condition: mean accuracy over seeds with a 95% t-interval across seeds (n = seeds),
    plus a Wilson interval over the pooled eval items (item-sampling variance only), and every declared
    metric (`declared`: a run's metrics.json; the core's metrics are always known) combined over
    seeds as it declares."""
    metrics = metrics_of(results.columns, declared)
    if results.height == 0 or "status" not in results.columns:
        return pl.DataFrame()
    ok = results.filter(pl.col("status") == "ok")
    present = list(dict.fromkeys(results["condition"].to_list()))
    order = [c for c in (order or []) if c in present] + [c for c in present if c not in (order or [])]
    rows = []
    for cond in order:
        sub = ok.filter(pl.col("condition") == cond)
        allsub = results.filter(pl.col("condition") == cond)
        first = allsub.row(0, named=True)
        m, lo, hi, n = mean_ci(sub["accuracy"].to_list() if sub.height else [])
        row: dict[str, Any] = {k: first.get(k) for k in KEY_COLUMNS}
        row.update(
            n_seeds=n,
            n_failed=allsub.height - sub.height,
            accuracy=m,
            ci_low=lo,
            ci_high=hi,
        )
        k_items = int(sum(r["n_correct"] for r in sub.iter_rows(named=True))) if sub.height else 0
        n_items = int(sum(r["n_eval"] for r in sub.iter_rows(named=True))) if sub.height else 0
        row["items_low"], row["items_high"] = wilson(k_items, n_items)
        row["n_items"] = n_items
        for col, metric in metrics.items():
            if col in sub.columns:
                row[col] = metric.combine(sub[col].to_list())
        rows.append(row)
    return _rows_frame(rows)


def breakdown(items: pl.DataFrame, by: str) -> pl.DataFrame:
    """Accuracy per condition and value of an item column (e.g. size), averaged over seeds first."""
    if items.height == 0 or by not in items.columns:
        return pl.DataFrame()
    per_seed = items.group_by(["condition", "seed", by]).agg(pl.col("correct").mean().alias("acc"))
    return (
        per_seed.group_by(["condition", by])
        .agg(
            pl.col("acc").mean().alias("accuracy"),
            pl.col("acc").std().alias("sd"),
            pl.len().alias("n_seeds"),
        )
        .sort(["condition", by])
    )
