"""Result statistics (t interval across seeds, Wilson over items), atomic writes, the run-directory
readers and `summarize` on a synthetic results frame."""

from __future__ import annotations

import json
import math
import os

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.results import (
    breakdown,
    collect_items,
    collect_results,
    mean_ci,
    summarize,
    t975,
    wilson,
    write_tables,
)
from harness.store import atomic_write_bytes, atomic_write_json, atomic_write_parquet, cell_dir, is_done, read_result


# ------------------------------------------------------------------------------------------ mean_ci
def test_mean_ci_n3_by_hand():
    # mean 2, sample sd 1, t(0.975, df=2) = 4.303 → half-width 4.303 / sqrt(3) = 2.48434
    m, lo, hi, n = mean_ci([1.0, 2.0, 3.0])
    assert (m, n) == (2.0, 3)
    assert lo == pytest.approx(2.0 - 2.484338, abs=1e-5)
    assert hi == pytest.approx(2.0 + 2.484338, abs=1e-5)


def test_mean_ci_accuracies():
    m, lo, hi, n = mean_ci([0.5, 0.6, 0.7])
    h = 4.303 * 0.1 / math.sqrt(3)
    assert m == pytest.approx(0.6) and lo == pytest.approx(0.6 - h) and hi == pytest.approx(0.6 + h)


def test_mean_ci_edge_cases():
    m, lo, hi, n = mean_ci([])
    assert n == 0 and math.isnan(m) and math.isnan(lo) and math.isnan(hi)
    m, lo, hi, n = mean_ci([0.25])
    assert (m, n) == (0.25, 1) and math.isnan(lo) and math.isnan(hi)
    # None and NaN (failed seeds) are ignored
    assert mean_ci([0.5, None, float("nan"), 0.7])[::3] == (pytest.approx(0.6), 2)
    m, lo, hi, n = mean_ci([0.4, 0.4, 0.4])
    assert lo == pytest.approx(0.4) and hi == pytest.approx(0.4)


def test_t_quantiles():
    assert t975(1) == 12.706 and t975(2) == 4.303 and t975(30) == 2.042
    assert t975(200) == 1.96
    assert math.isnan(t975(0))


# ------------------------------------------------------------------------------------------- wilson
@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_wilson_known_values(k, n, lo, hi):
    a, b = wilson(k, n)
    assert a == pytest.approx(lo, abs=1e-4) and b == pytest.approx(hi, abs=1e-4)


def test_wilson_empty():
    assert all(math.isnan(x) for x in wilson(0, 0))


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_is_a_proper_interval(kn):
    k, n = kn
    lo, hi = wilson(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


# -------------------------------------------------------------------------------------- atomic io
def _leftovers(d):
    return sorted(p.name for p in d.iterdir() if p.name.endswith(".tmp"))


def test_atomic_writes_leave_no_temp_files(tmp_path):
    atomic_write_bytes(tmp_path / "a.bin", b"abc")
    atomic_write_json(tmp_path / "sub" / "r.json", {"b": 1, "a": [1, 2]})
    atomic_write_parquet(tmp_path / "t.parquet", pl.DataFrame({"x": [1, 2, 3]}))
    assert (tmp_path / "a.bin").read_bytes() == b"abc"
    assert json.loads((tmp_path / "sub" / "r.json").read_text()) == {"a": [1, 2], "b": 1}
    assert pl.read_parquet(tmp_path / "t.parquet")["x"].to_list() == [1, 2, 3]
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "sub", "t.parquet"]
    assert os.listdir(tmp_path / "sub") == ["r.json"]
    # overwriting replaces the whole file
    atomic_write_bytes(tmp_path / "a.bin", b"xy")
    assert (tmp_path / "a.bin").read_bytes() == b"xy"
    assert _leftovers(tmp_path) == []


def test_failed_atomic_write_keeps_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    with pytest.raises(AttributeError):
        atomic_write_parquet(tmp_path / "t.parquet", object())  # type: ignore[arg-type]
    assert not (tmp_path / "t.parquet").exists()
    assert sorted(os.listdir(tmp_path)) == ["a.bin"]


def test_atomic_json_uses_str_for_unknown_types(tmp_path):
    atomic_write_json(tmp_path / "r.json", {"p": tmp_path})
    assert json.loads((tmp_path / "r.json").read_text()) == {"p": str(tmp_path)}


# ------------------------------------------------------------------------------------ synthetic runs
def _row(cond: str, seed: int, acc: float | None, n_eval: int = 100, **extra):
    t, c, m, tr = cond.split("×")
    ok = acc is not None
    return {
        "cell_id": f"{cond}-{seed}",
        "condition": cond,
        "task": t,
        "corruptor": c,
        "model": m,
        "trainer": tr,
        "seed": seed,
        "status": "ok" if ok else "failed",
        "error": None if ok else "RuntimeError: NaN loss",
        "n_eval": n_eval if ok else 0,
        "n_correct": round(acc * n_eval) if ok else 0,
        "accuracy": acc,
        **extra,
    }


A = "mazes×oracle×gpt-2L×pretrain"
B = "mazes×fallible(p=0.2)×gpt-2L×pretrain"
C = "mazes×fallible(p=0.5)×gpt-2L×pretrain"


@pytest.fixture
def results() -> pl.DataFrame:
    from harness.results import _rows_frame

    rows = [
        _row(A, 0, 0.5, train_loss=1.0, dp_correct_prob=0.8),
        _row(A, 1, 0.6, train_loss=2.0, dp_correct_prob=0.9),
        _row(A, 2, 0.7, train_loss=3.0),
        _row(A, 3, None),
        _row(B, 0, 0.9, n_eval=200, mistakes_per_sample=0.5),
        _row(C, 0, None),
        _row(C, 1, None),
    ]
    return _rows_frame(rows)


def test_summarize_counts_and_intervals(results):
    s = summarize(results)
    assert s["condition"].to_list() == [A, B, C]  # order of first appearance
    a, b, c = s.iter_rows(named=True)
    assert (a["n_seeds"], a["n_failed"]) == (3, 1)
    assert a["accuracy"] == pytest.approx(0.6)
    h = 4.303 * 0.1 / math.sqrt(3)
    assert a["ci_low"] == pytest.approx(0.6 - h) and a["ci_high"] == pytest.approx(0.6 + h)
    assert a["n_items"] == 300
    lo, hi = wilson(180, 300)
    assert a["items_low"] == pytest.approx(lo) and a["items_high"] == pytest.approx(hi)
    assert a["train_loss"] == pytest.approx(2.0)
    assert a["dp_correct_prob"] == pytest.approx(0.85)  # mean over the seeds that have it
    assert (a["task"], a["corruptor"], a["model"], a["trainer"]) == ("mazes", "oracle", "gpt-2L", "pretrain")

    assert (b["n_seeds"], b["n_failed"], b["n_items"]) == (1, 0, 200)
    assert b["accuracy"] == pytest.approx(0.9)
    assert b["ci_low"] is None or math.isnan(b["ci_low"])  # one seed: no interval
    assert b["mistakes_per_sample"] == pytest.approx(0.5)

    assert (c["n_seeds"], c["n_failed"], c["n_items"]) == (0, 2, 0)
    assert c["accuracy"] is None or math.isnan(c["accuracy"])


def test_summarize_empty():
    assert summarize(pl.DataFrame()).height == 0


def test_breakdown_averages_over_seeds_first():
    items = pl.DataFrame(
        {
            "condition": [A] * 6,
            "seed": [0, 0, 0, 1, 1, 1],
            "size": [5, 5, 7, 5, 7, 7],
            "correct": [True, False, True, True, False, False],
        }
    )
    bd = breakdown(items, "size")
    got = {r["size"]: r for r in bd.iter_rows(named=True)}
    assert got[5]["accuracy"] == pytest.approx((0.5 + 1.0) / 2) and got[5]["n_seeds"] == 2
    assert got[7]["accuracy"] == pytest.approx((1.0 + 0.0) / 2)
    assert breakdown(items, "nope").height == 0


def test_run_directory_readers(tmp_path, results):
    rows = list(results.iter_rows(named=True))
    for r in rows:
        atomic_write_json(cell_dir(tmp_path, r["cell_id"]) / "result.json", r)
        if r["status"] == "ok":
            items = pl.DataFrame({"condition": [r["condition"]] * 2, "seed": [r["seed"]] * 2, "correct": [True, False]})
            atomic_write_parquet(cell_dir(tmp_path, r["cell_id"]) / "items.parquet", items)
    # a cell still running (no result.json) and one with a torn result are not done
    cell_dir(tmp_path, "running").mkdir(parents=True)
    (cell_dir(tmp_path, "torn")).mkdir(parents=True)
    (cell_dir(tmp_path, "torn") / "result.json").write_text('{"status": "o')
    assert is_done(tmp_path, rows[0]["cell_id"])
    assert not is_done(tmp_path, rows[3]["cell_id"])  # failed
    assert not is_done(tmp_path, "running") and not is_done(tmp_path, "torn")
    assert read_result(tmp_path, "torn") is None

    res = collect_results(tmp_path)
    assert res.height == len(rows)
    assert sorted(res["status"].to_list()) == sorted(r["status"] for r in rows)
    items = collect_items(tmp_path)
    assert items.height == 2 * sum(r["status"] == "ok" for r in rows)
    res2, items2 = write_tables(tmp_path)
    assert pl.read_parquet(tmp_path / "results.parquet").height == len(rows)
    assert pl.read_parquet(tmp_path / "items.parquet").height == items.height
    assert _leftovers(tmp_path) == []
    s = summarize(res2, items2)
    assert s.filter(pl.col("condition") == A)["n_failed"].to_list() == [1]


def test_tables_use_the_latest_plan_labels(tmp_path):
    # one cell reached under two spellings: stored as "fallible", planned as "fallible(p=0.2)"
    row = _row("mazes×fallible×gpt-2L×pretrain", 0, 0.5)
    atomic_write_json(cell_dir(tmp_path, row["cell_id"]) / "result.json", row)
    items = pl.DataFrame({"condition": [row["condition"]] * 2, "seed": [0, 0], "correct": [True, False]})
    atomic_write_parquet(cell_dir(tmp_path, row["cell_id"]) / "items.parquet", items)
    new = "mazes×fallible(p=0.2)×gpt-2L×pretrain"
    atomic_write_json(tmp_path / "plan.json", {"cells": [{"cell_id": row["cell_id"], "condition": new}]})
    res = collect_results(tmp_path)
    assert res["condition"].to_list() == [new] and res["corruptor"].to_list() == ["fallible(p=0.2)"]
    assert collect_items(tmp_path)["condition"].unique().to_list() == [new]
