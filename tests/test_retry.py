"""Properties of the generic retry family (retry, retry_weak, retry_miss) over the task seam:
on real mazes, and on a synthetic task with many candidates per position for the geometric law."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.corruptors.retry import Retry, RetryMiss, RetryWeak
from harness.data import LossPolicy, pack
from harness.interfaces import (
    Encoded,
    PlanError,
    Problem,
    Step,
    Tag,
    Task,
    TaskConfig,
    Verdict,
)
from harness_mazes import MazesConfig, MazesTask

MAZES = MazesTask(MazesConfig())


def strip_retries(trace: list[Step]) -> list[Step]:
    """Drop every mistake together with the correction that follows it."""
    out, i = [], 0
    while i < len(trace):
        if trace[i].tag == Tag.MISTAKE:
            assert trace[i + 1].tag == Tag.CORRECTION, "a mistake must be followed at once by its [BACK]"
            i += 2
            continue
        out.append(trace[i])
        i += 1
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rate=st.sampled_from([0.1, 0.5, 0.9]), mask=st.booleans())
def test_retry_on_mazes_retracts_to_oracle_and_verifies(seed, rate, mask):
    rng = random.Random(seed)
    r = Retry(Retry.Config(rate=rate, mask=mask))
    for p in MAZES.sample_batch(rng, 30):
        oracle = MAZES.oracle(p)
        trace = r.corrupt(MAZES, p, oracle, rng)
        assert [(s.text, s.key) for s in strip_retries(trace)] == [(s.text, s.key) for s in oracle]
        # every mistake is a `wrong` candidate at its oracle position; every correction is [BACK]
        pos = 0
        for s in trace:
            if s.tag == Tag.MISTAKE:
                assert s.key in {c.key for c in MAZES.candidates(p, oracle, pos, "wrong")}
            elif s.tag == Tag.CORRECTION:
                assert s.text == "[BACK]"
            else:
                pos += 1
        enc = MAZES.encode(p, trace)
        completion = MAZES.decode(enc.tokens[enc.prompt_len:].tolist())
        v = MAZES.verify(p, completion)
        assert v.correct, (completion, v)
        assert v.details["n_back"] == sum(s.tag == Tag.CORRECTION for s in trace)


def test_mask_removes_exactly_the_mistake_tokens_and_keeps_back():
    rng = random.Random(3)
    r = Retry(Retry.Config(rate=0.7, mask=True))
    samples = [MAZES.encode(p, r.corrupt(MAZES, p, MAZES.oracle(p), rng)) for p in MAZES.sample_batch(rng, 300)]
    data = pack(samples, len(MAZES.vocab), LossPolicy(masked_tags=r.loss_masked_tags()))
    tags = np.concatenate([s.tags for s in samples])
    assert (tags == Tag.MISTAKE).sum() > 20
    assert np.array_equal(~data.loss, tags == Tag.MISTAKE)
    back = MAZES.back_token
    assert data.loss[data.tokens == back].all()
    unmasked = Retry(Retry.Config(rate=0.7)).loss_masked_tags()
    assert unmasked == frozenset()


def test_rate_zero_is_the_oracle():
    rng = random.Random(0)
    for cls in (Retry,):
        r = cls(cls.Config(rate=0.0))
        for p in MAZES.sample_batch(rng, 50):
            assert r.corrupt(MAZES, p, MAZES.oracle(p), rng) == MAZES.oracle(p)


# ------------------------------------------------------------------ a task with many candidates
class ManyConfig(TaskConfig):
    length: int = 6
    width: int = 12


class ManyTask(Task):
    """Steps 0..length-1; before step i, `wrong` = width fake steps, `later` = steps > i,
    `unused` = steps ≥ length (offered by the problem, never used)."""

    name = "many"
    Config = ManyConfig
    candidate_kinds = frozenset({"wrong", "later", "unused"})

    def sample(self, rng):
        return Problem(key=str(rng.random()), payload=None)

    def oracle(self, problem):
        return [Step(f"s{i}", i) for i in range(self.config.length)]

    def candidates(self, problem, trace, i, kind):
        n, w = self.config.length, self.config.width
        if kind == "wrong":
            return [Step(f"w{i}_{j}", ("w", i, j)) for j in range(w)]
        if kind == "later":
            return [Step(f"s{j}", j) for j in range(i + 1, n)]
        return [Step(f"u{j}", ("u", j)) for j in range(w)]

    vocab = ["x", "[BACK]", ";"]
    end_token = 2
    back_token = 1

    def encode(self, problem, trace):  # pragma: no cover - not used here
        return Encoded(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int8), 0)

    def encode_prompt(self, problem):  # pragma: no cover
        return np.zeros(1, dtype=np.int64)

    def decode(self, ids):  # pragma: no cover
        return ""

    def verify(self, problem, completion):  # pragma: no cover
        return Verdict(False)


def _counts_per_position(cls, rate, n, **cfg):
    task = ManyTask(ManyConfig())
    r = cls(cls.Config(rate=rate, **cfg))
    rng = random.Random(12345)
    counts = []
    for _ in range(n):
        p = task.sample(rng)
        trace = r.corrupt(task, p, task.oracle(p), rng)
        k = 0
        for s in trace:
            if s.tag == Tag.MISTAKE:
                k += 1
            elif s.tag == Tag.ORACLE:
                counts.append(k)
                k = 0
    return np.array(counts)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_number_of_mistakes_per_position_is_geometric(rate):
    counts = _counts_per_position(Retry, rate, 4000)
    n = len(counts)
    for j in (1, 2, 3):
        p = rate**j
        observed = (counts >= j).mean()
        tol = 4 * math.sqrt(p * (1 - p) / n)
        assert abs(observed - p) <= tol, (j, observed, p, tol)


def test_candidates_drawn_without_replacement_within_a_position():
    task = ManyTask(ManyConfig(width=3))
    r = Retry(Retry.Config(rate=0.95))
    rng = random.Random(1)
    for _ in range(300):
        p = task.sample(rng)
        trace = r.corrupt(task, p, task.oracle(p), rng)
        spot: list = []
        for s in trace:
            if s.tag == Tag.MISTAKE:
                assert s.key not in spot
                spot.append(s.key)
            elif s.tag == Tag.ORACLE:
                assert len(spot) <= 3
                spot = []


def test_weak_and_miss_use_their_candidate_kinds():
    task = ManyTask(ManyConfig())
    rng = random.Random(2)
    for cls, check in (
        (RetryWeak, lambda key, i: isinstance(key, int) and key > i),
        (RetryMiss, lambda key, i: key[0] == "u"),
    ):
        r = cls(cls.Config(rate=0.6))
        seen = 0
        for _ in range(200):
            p = task.sample(rng)
            i = 0
            for s in r.corrupt(task, p, task.oracle(p), rng):
                if s.tag == Tag.MISTAKE:
                    assert check(s.key, i), (cls.name, s.key, i)
                    seen += 1
                elif s.tag == Tag.ORACLE:
                    i += 1
        assert seen > 50
    # self_contain also allows the current step
    r = RetryWeak(RetryWeak.Config(rate=0.9, self_contain=True))
    hits = 0
    for _ in range(200):
        p = task.sample(rng)
        i = 0
        for s in r.corrupt(task, p, task.oracle(p), rng):
            if s.tag == Tag.MISTAKE and s.key == i:
                hits += 1
            elif s.tag == Tag.ORACLE:
                i += 1
    assert hits > 0


def test_unsupported_combinations_are_refused_at_plan_time():
    with pytest.raises(PlanError, match="later"):
        RetryWeak(RetryWeak.Config()).check(MAZES)
    with pytest.raises(PlanError, match="unused"):
        RetryMiss(RetryMiss.Config()).check(MAZES)
    Retry(Retry.Config()).check(MAZES)
    no_back = ManyTask(ManyConfig())
    no_back.back_token = None  # type: ignore[misc]
    with pytest.raises(PlanError, match="BACK"):
        Retry(Retry.Config()).check(no_back)
