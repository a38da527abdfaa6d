"""Declared metrics: validation, how seeds combine, formatting, and that the core keeps a task's
metrics in their own namespace and drops what a task did not declare."""

from __future__ import annotations

import polars as pl
import pytest

from harness.interfaces import Problem, Verdict
from harness.metrics import CORE_METRICS, Metric, declared_columns, metrics_of
from harness.results import summarize
from harness.pipeline import task_metric_values


def test_metric_validates_its_declaration():
    with pytest.raises(ValueError, match="identifier"):
        Metric("bad name", "x", "y")
    with pytest.raises(ValueError, match="aggregate"):
        Metric("x", "x", "y", aggregate="median")
    with pytest.raises(ValueError, match="format"):
        Metric("x", "x", "y", format="pct")


def test_combine_and_format_follow_the_declaration():
    assert Metric("a", "a", "", aggregate="sum").combine([1, 2, None, float("nan")]) == 3
    assert Metric("a", "a", "", aggregate="max").combine([1, 5, 2]) == 5
    assert Metric("a", "a", "").combine([None]) is None
    assert Metric("a", "a", "", format="percent").fmt(0.1234) == "12.3"
    assert Metric("a", "a", "", format="count").fmt(12345.0) == "12,345"
    assert Metric("a", "a", "").fmt(None) == "–"
    m = Metric("a", "A", "what", higher_is_better=None, format="percent", headline=True)
    assert Metric.from_json(m.as_json()) == m and m.header == "A %"


def test_task_metrics_are_namespaced_beside_the_core_ones():
    cols = declared_columns([Metric("accuracy", "fake", "a task trying to shadow a core column")])
    assert "task.accuracy" in cols and "accuracy" not in cols
    assert all(m.name in cols for m in CORE_METRICS)


def test_metrics_of_reads_declarations_and_shows_undeclared_task_columns():
    declared = {"task.x": Metric("x", "the x", "", aggregate="sum").as_json()}
    got = metrics_of(["accuracy", "dp_correct_prob", "task.x", "task.y", "seed"], declared)
    assert set(got) == {"dp_correct_prob", "task.x", "task.y"}
    assert got["task.x"].aggregate == "sum" and got["task.y"].description == "(undeclared)"


class _Task:
    name = "t"
    metrics = (Metric("hits", "hits", "", aggregate="sum"),)

    def eval_metrics(self, problems, verdicts):
        return {"hits": sum(v.correct for v in verdicts), "accuracy": 1.0, "status": 0.0}


def test_the_runner_keeps_declared_metrics_only():
    logged = []
    out = task_metric_values(_Task(), [Problem("k", None)] * 2, [Verdict(True), Verdict(False)], logged.append)
    assert out == {"task.hits": 1.0}  # `accuracy` and `status` undeclared: dropped, never written
    assert len(logged) == 2 and "does not declare" in logged[0]


def test_summarize_combines_each_metric_as_declared():
    rows = [
        {"condition": "c", "task": "t", "corruptor": "o", "model": "m", "trainer": "p", "seed": s,
         "status": "ok", "accuracy": 0.5, "n_correct": 1, "n_eval": 2, "task.hits": float(s + 1),
         "dp_correct_prob": 0.2 * (s + 1)}
        for s in range(3)
    ]
    declared = {"task.hits": Metric("hits", "hits", "", aggregate="sum").as_json()}
    s = summarize(pl.DataFrame(rows), declared=declared)
    assert s["task.hits"][0] == 6.0  # summed over seeds, as declared
    assert s["dp_correct_prob"][0] == pytest.approx(0.4)  # the core's: a mean
    assert summarize(pl.DataFrame(rows))["task.hits"][0] == 2.0  # undeclared: a plain mean


def test_items_with_details_only_late_in_the_eval_set_make_a_table():
    """Regression: a model that ends its first hundred completions never (details null) and then one
    (details set) failed the cell; also every column keeps one type."""
    from harness.pipeline import items_frame

    rows = [{"item_id": i, "details": None, "meta_x": None} for i in range(150)]
    rows.append({"item_id": 150, "details": '{"n_moves": 116}', "meta_x": 3})
    df = items_frame(rows)
    assert df.height == 151 and df["details"].dtype == pl.Utf8 and df["details"][150] == '{"n_moves": 116}'
    assert df["meta_x"].dtype == pl.Int64
    assert items_frame([{"item_id": 0, "details": None}])["details"].dtype == pl.Utf8
