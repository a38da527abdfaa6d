"""Paired comparisons of two conditions that share their problems and their eval items.

Cells of one task config and one seed train on the same problems and are scored on the same eval
items (see `harness.data`), so the quantity of interest is the *paired* difference in accuracy,
which is far tighter than two unpaired intervals. Two intervals, each saying what it covers:

- across seeds: the per-seed differences d_s = acc_B,s − acc_A,s, a Student-t interval and a paired
  t-test (n = seeds). It covers seed-to-seed variance: model init, training-data draw and order,
  eval sampling;
- over items: the per-item differences pooled over seeds, a bootstrap interval (resampling distinct
  eval problems with all their paired items, so repeats of a problem count once) and an exact
  McNemar test on the discordant pairs (which treats items as independent). It covers
  item-sampling variance only, given the trained models.

Which conditions are compared: along the corruptor axis when it varies (groups = conditions with the
same task, model and trainer); otherwise along the one axis that varies, if only one does (e.g. two
trainer settings). The baseline of a group is a condition whose training data holds no mistakes
(`mistakes_per_sample == 0`), else the first condition in plan order. Cells evaluated with different
decoders are different arms (the decoder is a grouping key). A fine-tuning condition (its cells
start from a parent cell, `init_from`) is compared with the condition it started from: "did
fine-tuning on this data help the model it began as?" (same task and seed, so the same eval items).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import polars as pl

AXES = ["task", "corruptor", "model", "trainer"]


def t_interval(xs: Sequence[float], level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, low, high, two-sided p-value of mean = 0) of a Student-t interval; nan where n < 2."""
    from scipy import stats

    a = np.asarray([x for x in xs if x is not None and not math.isnan(x)], dtype=float)
    n = len(a)
    if n == 0:
        return (math.nan,) * 4  # type: ignore[return-value]
    m = float(a.mean())
    if n < 2:
        return m, math.nan, math.nan, math.nan
    se = float(a.std(ddof=1)) / math.sqrt(n)
    if se == 0.0:
        return m, m, m, (1.0 if m == 0 else 0.0)
    h = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    p = float(2 * stats.t.sf(abs(m) / se, n - 1))
    return m, m - h, m + h, p


def mcnemar_p(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value: b, c = the two kinds of discordant pairs."""
    from scipy.stats import binomtest

    if b + c == 0:
        return 1.0
    return float(binomtest(b, b + c, 0.5).pvalue)


def bootstrap_mean_ci(
    d: np.ndarray, clusters: Sequence[Any] | None = None, level: float = 0.95, n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of paired differences (reproducible: fixed seed).

    With `clusters` (e.g. the problem key of each item), whole clusters are resampled: an eval set
    drawn from a small problem space repeats problems, and repeats of one problem are not
    independent evidence."""
    from scipy.stats import bootstrap

    d = np.asarray(d, dtype=float)
    if len(d) < 2 or np.all(d == d[0]):
        v = float(d.mean()) if len(d) else math.nan
        return v, v
    rng = np.random.default_rng(seed)
    if clusters is None:
        res = bootstrap((d,), np.mean, confidence_level=level, n_resamples=n_resamples, method="percentile",
                        random_state=rng, vectorized=True)
    else:
        _, inv = np.unique(np.asarray(clusters), return_inverse=True)
        sums = np.bincount(inv, weights=d)
        counts = np.bincount(inv).astype(float)
        if len(sums) < 2:
            v = float(d.mean())
            return v, v

        def ratio(s, n, axis=-1):
            return s.sum(axis=axis) / n.sum(axis=axis)

        res = bootstrap((sums, counts), ratio, paired=True, confidence_level=level, n_resamples=n_resamples,
                        method="percentile", random_state=rng, vectorized=True)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


@dataclass
class Paired:
    """B − A for two conditions that share problems and eval items."""

    baseline: str
    condition: str
    n_seeds: int
    n_items: int  # paired items pooled over seeds
    n_distinct: int  # distinct eval problems among them (the bootstrap resamples these)
    diff: float  # mean over seeds of the per-seed accuracy difference
    seeds_low: float
    seeds_high: float
    seeds_p: float
    items_diff: float  # mean of the pooled per-item differences
    items_low: float
    items_high: float
    mcnemar_p: float
    b_only: int  # items the condition got right and the baseline wrong
    a_only: int  # the reverse

    def sentence(self, short_a: str | None = None, short_b: str | None = None) -> str:
        a, b = short_a or self.baseline, short_b or self.condition
        pts = lambda x: "nan" if x is None or math.isnan(x) else f"{100 * x:+.1f}"  # noqa: E731
        per_seed = self.n_items // max(1, self.n_seeds)
        s = f"{b} − {a} = {pts(self.diff)} points"
        if self.n_seeds >= 2:
            s += (f", 95% CI [{pts(self.seeds_low)}, {pts(self.seeds_high)}] across {self.n_seeds} seeds "
                  f"(paired t, p = {_p(self.seeds_p)})")
        else:
            s += " (1 seed: no interval across seeds)"
        distinct = f", {self.n_distinct:,} distinct problems" if self.n_distinct < per_seed else ""
        s += (f"; over {self.n_seeds} × {per_seed:,} paired items{distinct} [{pts(self.items_low)}, "
              f"{pts(self.items_high)}] (bootstrap), McNemar p = {_p(self.mcnemar_p)}")
        return s

    def as_row(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _p(p: float) -> str:
    if p is None or math.isnan(p):
        return "nan"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.0e}"


def paired(items_a: pl.DataFrame, items_b: pl.DataFrame, baseline: str, condition: str) -> Paired | None:
    """Pair two conditions' items on (seed, item_id), checking they are the same problems."""
    cols = ["seed", "item_id", "problem_key", "correct"]
    a = items_a.select(cols)
    b = items_b.select(cols)
    j = a.join(b, on=["seed", "item_id"], how="inner", suffix="_b")
    if j.height == 0:
        return None
    if (j["problem_key"] != j["problem_key_b"]).any():
        return None  # not the same eval items: no paired comparison
    ca = j["correct"].cast(pl.Int8).to_numpy()
    cb = j["correct_b"].cast(pl.Int8).to_numpy()
    d = (cb - ca).astype(float)
    per_seed = (
        j.with_columns((pl.col("correct_b").cast(pl.Float64) - pl.col("correct").cast(pl.Float64)).alias("d"))
        .group_by("seed")
        .agg(pl.col("d").mean())
        .sort("seed")["d"]
        .to_list()
    )
    m, lo, hi, p = t_interval(per_seed)
    keys = j["problem_key"].to_list()
    n_distinct = len(set(keys))
    ilo, ihi = bootstrap_mean_ci(d, clusters=keys if n_distinct < len(keys) else None)
    b_only = int(((cb == 1) & (ca == 0)).sum())
    a_only = int(((ca == 1) & (cb == 0)).sum())
    return Paired(
        baseline=baseline, condition=condition, n_seeds=len(per_seed), n_items=len(d), n_distinct=n_distinct, diff=m,
        seeds_low=lo, seeds_high=hi, seeds_p=p, items_diff=float(d.mean()), items_low=ilo, items_high=ihi,
        mcnemar_p=mcnemar_p(b_only, a_only), b_only=b_only, a_only=a_only,
    )


def baselines(results: pl.DataFrame, order: Sequence[str] | None = None) -> dict[str, str]:
    """condition → the baseline condition of its group, or a fine-tune's parent (see the module docstring)."""
    if results.height == 0 or "condition" not in results.columns:
        return {}
    ok = results.filter(pl.col("status") == "ok") if "status" in results.columns else results
    conds = list(dict.fromkeys([*(order or []), *ok["condition"].to_list()]))
    conds = [c for c in conds if c in set(ok["condition"].to_list())]
    first = {c: ok.filter(pl.col("condition") == c).row(0, named=True) for c in conds}
    keys = (*AXES, "decoder")  # cells evaluated by different decoders are different arms
    varying = [a for a in keys if len({first[c].get(a) for c in conds}) > 1]
    if "corruptor" in varying:
        along = "corruptor"
    elif len(varying) == 1:
        along = varying[0]
    else:
        return _parents(ok, conds, first)
    groups: dict[tuple, list[str]] = {}
    for c in conds:
        groups.setdefault(tuple(first[c].get(k) for k in keys if k != along), []).append(c)
    out: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        clean = [c for c in members if (first[c].get("mistakes_per_sample") or 0.0) == 0.0]
        base = clean[0] if clean else members[0]
        for c in members:
            if c != base:
                out[c] = base
    return {**out, **_parents(ok, conds, first)}


def _parents(ok: pl.DataFrame, conds: list[str], first: dict[str, dict[str, Any]]) -> dict[str, str]:
    """condition → the condition of its cells' parent (fine-tuning stages), where that is in the table."""
    if "init_from" not in ok.columns or "cell_id" not in ok.columns:
        return {}
    cond_of = dict(zip(ok["cell_id"].to_list(), ok["condition"].to_list()))
    out = {}
    for c in conds:
        parent = cond_of.get(first[c].get("init_from"))
        if parent is not None and parent != c:
            out[c] = parent
    return out


def paired_table(results: pl.DataFrame, items: pl.DataFrame, order: Sequence[str] | None = None) -> list[Paired]:
    """Every condition against its group's baseline, paired on shared eval items."""
    if items.height == 0:
        return []
    out = []
    for cond, base in baselines(results, order).items():
        p = paired(items.filter(pl.col("condition") == base), items.filter(pl.col("condition") == cond), base, cond)
        if p is not None:
            out.append(p)
    return out


def paired_by(items: pl.DataFrame, base: str, cond: str, by: str) -> pl.DataFrame:
    """The paired difference per value of an item column (e.g. maze size), pooled over seeds, with a
    bootstrap interval over items (item-sampling variance only)."""
    rows = []
    a = items.filter(pl.col("condition") == base)
    b = items.filter(pl.col("condition") == cond)
    if by not in items.columns:
        return pl.DataFrame()
    for v in sorted(x for x in a[by].unique().to_list() if x is not None):
        p = paired(a.filter(pl.col(by) == v), b.filter(pl.col(by) == v), base, cond)
        if p is None:
            continue
        rows.append({by: v, "n_items": p.n_items, "baseline_acc": None, "diff": p.items_diff,
                     "low": p.items_low, "high": p.items_high, "mcnemar_p": p.mcnemar_p})
        sub = a.filter(pl.col(by) == v)
        rows[-1]["baseline_acc"] = float(sub["correct"].mean())
        rows[-1]["condition_acc"] = float(b.filter(pl.col(by) == v)["correct"].mean())
    return pl.DataFrame(rows) if rows else pl.DataFrame()
