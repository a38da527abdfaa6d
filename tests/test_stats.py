"""Paired statistics: per-seed t intervals of differences, bootstrap over paired items, McNemar, the
baseline choice, and the report's answer section."""

from __future__ import annotations

import math
import random

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.stats import baselines, bootstrap_mean_ci, mcnemar_p, paired, paired_by, paired_table, t_interval

A = "mazes×oracle×gpt-2L×pretrain"
B = "mazes×fallible(p=0.2)×gpt-2L×pretrain"


def _items(cond, seed, correct, keys=None, **meta):
    n = len(correct)
    d = {
        "condition": [cond] * n,
        "seed": [seed] * n,
        "item_id": list(range(n)),
        "problem_key": keys or [f"k{i}" for i in range(n)],
        "correct": [bool(c) for c in correct],
    }
    d.update({k: v for k, v in meta.items()})
    return pl.DataFrame(d)


def test_t_interval_by_hand():
    m, lo, hi, p = t_interval([0.01, 0.03, 0.05])
    sd = 0.02
    h = 4.302653 * sd / math.sqrt(3)
    assert m == pytest.approx(0.03) and lo == pytest.approx(0.03 - h, rel=1e-5) and hi == pytest.approx(0.03 + h, rel=1e-5)
    from scipy.stats import ttest_1samp

    assert p == pytest.approx(ttest_1samp([0.01, 0.03, 0.05], 0.0).pvalue)
    assert math.isnan(t_interval([0.1])[1]) and t_interval([0.1])[0] == pytest.approx(0.1)
    assert t_interval([0.0, 0.0]) == (0.0, 0.0, 0.0, 1.0)


def test_mcnemar_exact():
    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(10, 0) == pytest.approx(2 * 0.5**10)
    assert mcnemar_p(5, 5) == pytest.approx(1.0)


def test_bootstrap_covers_the_mean_and_is_reproducible():
    rng = np.random.default_rng(0)
    d = rng.choice([-1.0, 0.0, 1.0], p=[0.1, 0.7, 0.2], size=2000)
    lo, hi = bootstrap_mean_ci(d)
    assert lo < d.mean() < hi
    se = d.std(ddof=1) / math.sqrt(len(d))
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.15)
    assert bootstrap_mean_ci(d) == (lo, hi)
    assert bootstrap_mean_ci(np.zeros(10)) == (0.0, 0.0)


def test_paired_difference_of_known_items():
    # seed 0: A right on items 0-4, B right on 0-6; seed 1: A right on 0-5, B right on 0-5 and 8
    a = pl.concat([_items(A, 0, [1] * 5 + [0] * 5), _items(A, 1, [1] * 6 + [0] * 4)])
    b = pl.concat([_items(B, 0, [1] * 7 + [0] * 3), _items(B, 1, [1] * 6 + [0, 0, 1, 0])])
    p = paired(a, b, A, B)
    assert p.n_seeds == 2 and p.n_items == 20
    assert p.diff == pytest.approx((0.2 + 0.1) / 2)
    assert p.items_diff == pytest.approx(3 / 20)
    assert (p.b_only, p.a_only) == (3, 0)
    assert p.mcnemar_p == pytest.approx(0.25)
    assert p.seeds_low < p.diff < p.seeds_high
    s = p.sentence("oracle", "fallible")
    assert s.startswith("fallible − oracle = +15.0 points, 95% CI [") and "2 seeds" in s and "2 × 10 paired items" in s


def test_paired_refuses_different_items():
    a = _items(A, 0, [1, 0], keys=["x", "y"])
    b = _items(B, 0, [1, 0], keys=["x", "z"])
    assert paired(a, b, A, B) is None


def test_paired_interval_is_tighter_than_unpaired():
    # two arms that share most of their wins: the paired interval over items is much narrower than
    # the difference of two unpaired Wilson intervals would suggest
    rng = random.Random(0)
    base = [rng.random() < 0.6 for _ in range(2000)]
    better = [c or rng.random() < 0.05 for c in base]
    p = paired(_items(A, 0, base), _items(B, 0, better), A, B)
    assert p.items_high - p.items_low < 0.03
    assert p.items_low > 0  # the improvement is detected
    assert p.mcnemar_p < 1e-6


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=60))
def test_paired_counts_are_consistent(pairs):
    ca = [x for x, _ in pairs]
    cb = [y for _, y in pairs]
    p = paired(_items(A, 0, ca), _items(B, 0, cb), A, B)
    assert p.b_only - p.a_only == sum(cb) - sum(ca)
    assert p.items_diff == pytest.approx((sum(cb) - sum(ca)) / len(pairs))
    assert p.items_low <= p.items_diff + 1e-12 and p.items_diff <= p.items_high + 1e-12
    assert 0.0 <= p.mcnemar_p <= 1.0


def _res(cond, seed, mistakes, task="mazes", model="gpt-2L"):
    return {"condition": cond, "seed": seed, "status": "ok", "task": task, "corruptor": cond.split("×")[1],
            "model": model, "trainer": "pretrain", "mistakes_per_sample": mistakes}


def test_baseline_is_the_mistake_free_condition_of_each_group():
    C = "mazes×fallible(p=0.4)×gpt-2L×pretrain"
    D = "mazes×oracle×gpt-4L×pretrain"
    res = pl.DataFrame([_res(B, 0, 0.3), _res(A, 0, 0.0), _res(C, 0, 0.5), _res(D, 0, 0.0, model="gpt-4L")])
    assert baselines(res) == {B: A, C: A}  # D is alone in its group
    # without a mistake-free condition, the first in plan order
    res2 = pl.DataFrame([_res(B, 0, 0.3), _res(C, 0, 0.5)])
    assert baselines(res2, order=[C, B]) == {B: C}


def test_without_corruptor_differences_the_single_varying_axis_is_compared():
    P32 = "mazes×oracle×gpt-2L×pretrain(precision=fp32)"
    P16 = "mazes×oracle×gpt-2L×pretrain(precision=bf16)"
    rows = [_res(P32, 0, 0.0), _res(P16, 0, 0.0)]
    rows[0]["trainer"], rows[1]["trainer"] = "pretrain(precision=fp32)", "pretrain(precision=bf16)"
    assert baselines(pl.DataFrame(rows), order=[P32, P16]) == {P16: P32}
    # two axes vary and the corruptor is not one of them: nothing is paired
    rows[1]["model"] = "gpt-4L"
    assert baselines(pl.DataFrame(rows)) == {}


def test_paired_table_and_by_value():
    a = pl.concat([_items(A, s, [1, 1, 0, 0], meta_size=[5, 6, 5, 6]) for s in (0, 1)])
    b = pl.concat([_items(B, s, [1, 1, 1, 0], meta_size=[5, 6, 5, 6]) for s in (0, 1)])
    res = pl.DataFrame([_res(A, 0, 0.0), _res(A, 1, 0.0), _res(B, 0, 0.2), _res(B, 1, 0.2)])
    (p,) = paired_table(res, pl.concat([a, b]))
    assert (p.baseline, p.condition, p.n_items) == (A, B, 8)
    by = paired_by(pl.concat([a, b]), A, B, "meta_size")
    got = {r["meta_size"]: r for r in by.iter_rows(named=True)}
    assert got[5]["diff"] == pytest.approx(0.5) and got[6]["diff"] == pytest.approx(0.0)
    assert got[5]["baseline_acc"] == pytest.approx(0.5) and got[5]["condition_acc"] == pytest.approx(1.0)


def test_repeated_eval_problems_widen_the_item_interval():
    # the same 2,000 outcomes, once as 2,000 distinct problems, once as 100 problems seen 20 times
    # each (repeats agree with each other): the clustered bootstrap must not count repeats as evidence
    rng = random.Random(1)
    per_problem = [(rng.random() < 0.5, rng.random() < 0.6) for _ in range(100)]
    ca = [a for a, _ in per_problem for _ in range(20)]
    cb = [b for _, b in per_problem for _ in range(20)]
    distinct = paired(_items(A, 0, ca), _items(B, 0, cb), A, B)
    keys = [f"p{i}" for i in range(100) for _ in range(20)]
    repeated = paired(_items(A, 0, ca, keys=keys), _items(B, 0, cb, keys=keys), A, B)
    assert repeated.n_distinct == 100 and distinct.n_distinct == 2000
    assert repeated.items_diff == pytest.approx(distinct.items_diff)
    w_rep = repeated.items_high - repeated.items_low
    w_dis = distinct.items_high - distinct.items_low
    assert w_rep > 3 * w_dis  # ~sqrt(20) wider
    assert "100 distinct problems" in repeated.sentence()


def test_baselines_pair_within_a_decoder_and_fine_tunes_with_their_parent():
    import polars as pl

    from harness.stats import baselines

    rows = []
    for dec in ("greedy", "beam(k=4)"):
        for cid, corr, trainer, parent, mps in (("o", "oracle", "pretrain", None, 0.0),
                                                ("r", "retry", "pretrain", None, 0.3),
                                                ("f", "retry", "pretrain(init_from=o,lora=8)", "o", 0.3)):
            rows.append({"cell_id": f"{cid}-{dec}", "condition": f"{corr}×{trainer} [{dec}]", "task": "igsm",
                         "corruptor": corr, "model": "gpt-1L", "trainer": trainer, "decoder": dec, "status": "ok",
                         "mistakes_per_sample": mps, "init_from": None if parent is None else f"{parent}-{dec}"})
    got = baselines(pl.DataFrame(rows))
    for dec in ("greedy", "beam(k=4)"):
        assert got[f"retry×pretrain [{dec}]"] == f"oracle×pretrain [{dec}]"  # the same decoder's error-free arm
        assert got[f"retry×pretrain(init_from=o,lora=8) [{dec}]"] == f"oracle×pretrain [{dec}]"  # its parent
    assert len(got) == 4
