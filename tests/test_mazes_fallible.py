"""The corruptor seam on real mazes: Fallible(p) mistakes happen only at junctions and are undone."""

from __future__ import annotations

import random

import numpy as np
import pytest

from harness.corruptors.fallible import Fallible
from harness.corruptors.oracle import Oracle
from harness.interfaces import Tag
from harness.data import encode_problems
from harness.interfaces import PlanError

from tests.mazes_helpers import OPPOSITE, problems, strip_mistakes, task


def fallible(p: float) -> Fallible:
    return Fallible(Fallible.Config(p=p))


def test_fallible_structure():
    t = task()
    f = fallible(0.5)
    f.check(t)
    rng = random.Random(0)
    n_mistakes = 0
    for p in problems(3, 3000):
        oracle = t.oracle(p)
        trace = f.corrupt(t, p, oracle, rng)
        # removing each mistake/correction pair gives back the oracle exactly
        clean = strip_mistakes(trace)
        assert [(s.text, s.key) for s in clean] == [(s.text, s.key) for s in oracle]
        # every corrupted trace still solves the maze
        v = t.verify(p, t.trace_text(p, trace))
        assert v.correct, v.reason
        path = p.payload.path
        on_path = set(path)
        i = 0  # oracle steps written so far
        j = 0
        while j < len(trace):
            s = trace[j]
            if s.tag == Tag.MISTAKE:
                n_mistakes += 1
                assert i in p.payload.wrong, "mistake away from a junction"
                assert s.decision
                assert (s.text, s.key) in [(w.text, w.key) for w in p.payload.wrong[i]]
                assert s.key not in on_path
                u = trace[j + 1]
                assert u.tag == Tag.CORRECTION and u.text == OPPOSITE[s.text] and u.key == path[i]
                nxt = trace[j + 2]
                assert nxt.tag == Tag.ORACLE and nxt.decision and nxt.key == path[i + 1]
                j += 2
                continue
            assert s.tag == Tag.ORACLE
            assert s.decision == (i in p.payload.wrong)
            i += 1
            j += 1
        assert i == len(oracle)
    assert n_mistakes > 300


def test_p0_equals_oracle():
    t = task()
    rng = random.Random(1)
    for p in problems(4, 500):
        tr = fallible(0.0).corrupt(t, p, t.oracle(p), rng)
        assert [(s.text, s.key, s.tag) for s in tr] == [(s.text, s.key, Tag.ORACLE) for s in t.oracle(p)]
        assert Oracle(Oracle.Config()).corrupt(t, p, t.oracle(p), rng) == t.oracle(p)


@pytest.mark.parametrize("prob", [0.2, 0.7])
def test_mistake_rate_matches_p(prob):
    t = task()
    rng = random.Random(int(prob * 100))
    decisions = mistakes = 0
    for p in problems(6, 8000):
        tr = fallible(prob).corrupt(t, p, t.oracle(p), rng)
        decisions += p.meta["n_decisions"]
        mistakes += sum(s.tag == Tag.MISTAKE for s in tr)
    sigma = np.sqrt(decisions * prob * (1 - prob))
    assert abs(mistakes - prob * decisions) < 4 * sigma, (mistakes, decisions)


def test_fraction_of_samples_with_a_mistake():
    """From the original code's law: at p=0.2 about 8.1% of samples contain a mistake (0.085 per sample)."""
    t = task()
    rng = random.Random(8)
    counts = [
        sum(s.tag == Tag.MISTAKE for s in fallible(0.2).corrupt(t, p, t.oracle(p), rng))
        for p in problems(8, 20000)
    ]
    c = np.array(counts)
    assert abs((c > 0).mean() - 0.081) < 0.012
    assert abs(c.mean() - 0.085) < 0.015


def test_same_seed_same_data():
    t = task()
    f = fallible(0.2)

    def build(seed):
        rng = random.Random(seed)
        return encode_problems(t, f, t.sample_batch(rng, 1000), rng)

    a, b = build(5), build(5)
    assert all(np.array_equal(x.tokens, y.tokens) and np.array_equal(x.tags, y.tags) for x, y in zip(a, b))
    c = build(6)
    assert not all(len(x.tokens) == len(y.tokens) and np.array_equal(x.tokens, y.tokens) for x, y in zip(a, c))


def test_candidates_contract():
    t = task()
    for p in problems(9, 300):
        tr = t.oracle(p)
        assert list(t.candidates(p, tr, 0, "wrong")) == []
        assert list(t.candidates(p, tr, len(tr), "wrong")) == []
        for i in range(len(tr)):
            c = t.candidates(p, tr, i, "wrong")
            assert bool(c) == (i in p.payload.wrong)
            for w in c:
                u = t.undo(p, w)
                assert u.key == p.payload.path[i] and u.text == OPPOSITE[w.text]
        with pytest.raises(PlanError):
            t.candidates(p, tr, 1, "later")
        with pytest.raises(PlanError):
            t.candidates(p, tr, 1, "unused")


def test_oracle_returns_fresh_list():
    t = task()
    p = problems(1, 1)[0]
    a = t.oracle(p)
    a.append(None)
    assert None not in t.oracle(p)
