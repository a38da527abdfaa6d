"""The mazes eval set has the training mix: sizes exactly in law (the split acts within each size) and
path lengths within sampling error, while staying disjoint from training."""

from __future__ import annotations

import random

import numpy as np
from scipy.stats import chisquare, mannwhitneyu

from harness.data import draw_problems, eval_seed, is_eval_side
from tests.mazes_helpers import task


def _draw(t, n_train=12_000, n_eval=2_000):
    train = draw_problems(t, random.Random(1), n_train, "train")
    evals = draw_problems(t, random.Random(eval_seed(t)), n_eval, "eval")
    return train, evals


def test_eval_sizes_follow_the_training_law():
    t = task()
    train, evals = _draw(t)
    sizes = range(t.config.min_size, t.config.max_size + 1)
    for ps in (train, evals):
        counts = np.array([sum(p.meta["size"] == s for p in ps) for s in sizes])
        assert chisquare(counts).pvalue > 1e-3, counts  # uniform over sizes, as training draws them
    assert not {p.key for p in train} & {p.key for p in evals}
    assert all(is_eval_side(t, p) for p in evals) and not any(is_eval_side(t, p) for p in train)


def test_eval_path_lengths_match_training_within_each_size():
    # sizes 5..9 have hundreds of distinct eval-side mazes, so their path lengths follow the training
    # law within sampling error; size 4 has only ~15 eval-side mazes in all (see the README)
    t = task(min_size=5)
    train, evals = _draw(t)
    for s in range(5, 10):
        a = [p.meta["path_len"] for p in train if p.meta["size"] == s]
        b = [p.meta["path_len"] for p in evals if p.meta["size"] == s]
        assert mannwhitneyu(a, b).pvalue > 1e-3, (s, np.mean(a), np.mean(b))
        da = [p.meta["n_decisions"] for p in train if p.meta["size"] == s]
        db = [p.meta["n_decisions"] for p in evals if p.meta["size"] == s]
        assert mannwhitneyu(da, db).pvalue > 1e-3, (s, np.mean(da), np.mean(db))
