"""Data building: the train/eval split (disjoint and overlap), packing with loss policies, and
reproducibility from seeds."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.corruptors.fallible import Fallible, FallibleConfig
from harness.data import (
    LossPolicy,
    corrupt_and_encode,
    draw_problems,
    encode_problems,
    eval_seed,
    is_eval_side,
    pack,
    split_bucket,
    stable_seed,
)
from harness.interfaces import (
    Encoded,
    Problem,
    Step,
    Tag,
    Task,
    TaskConfig,
)

import harness_toy  # installed by conftest.py


def toy(**kw):
    return harness_toy.TreeWalk(harness_toy.TreeWalkConfig(**kw))


# ---------------------------------------------------------------------------------- a tiny inline task
class CountConfig(TaskConfig):
    n_values: int = 1000


class Count(Task):
    """Problems are integers 0..n_values-1; the split key groups them by value // 10 (a "template"),
    so whole groups land on one side. The prompt is tagged no-loss for its last token."""

    name = "count"
    Config = CountConfig
    vocab = ("<end>", "p", "q", "x")
    end_token = 0

    def sample(self, rng):
        v = rng.randrange(self.config.n_values)
        return Problem(key=f"n{v}", payload=v, meta={"v": v})

    def split_key(self, problem):
        return f"group{problem.payload // 10}"

    def oracle(self, problem):
        return [Step("x", key=i) for i in range(problem.payload % 3 + 1)]

    def encode_prompt(self, problem):
        return np.array([1, 2], dtype=np.int64)

    def encode(self, problem, trace):
        tags = [Tag.PROMPT, Tag.PROMPT_NOLOSS]
        tags += [s.tag for s in trace] + [Tag.ORACLE]
        toks = [1, 2] + [3] * len(trace) + [0]
        return Encoded(np.array(toks, dtype=np.int64), np.array(tags, dtype=np.int8), 2)

    def decode(self, ids):
        return "".join("x" for i in ids if i == 3)

    def verify(self, problem, completion):
        from harness.interfaces import Verdict

        return Verdict(len(completion) == problem.payload % 3 + 1)


# ------------------------------------------------------------------------------------------- split
@pytest.mark.parametrize("frac", [0.1, 0.5])
def test_disjoint_split_sides_never_mix_toy(frac):
    task = toy(eval_fraction=frac)
    train = draw_problems(task, random.Random(0), 2000, "train")
    evals = draw_problems(task, random.Random(1), 300, "eval")
    assert len(train) == 2000 and len(evals) == 300
    assert all(split_bucket(task.split_key(p)) >= frac for p in train)
    assert all(split_bucket(task.split_key(p)) < frac for p in evals)
    assert not any(is_eval_side(task, p) for p in train)
    assert all(is_eval_side(task, p) for p in evals)
    assert not {p.key for p in train} & {p.key for p in evals}


def test_disjoint_split_uses_split_key_not_problem_key():
    task = Count(CountConfig(eval_fraction=0.3))
    train = draw_problems(task, random.Random(0), 3000, "train")
    evals = draw_problems(task, random.Random(0), 500, "eval")
    train_groups = {task.split_key(p) for p in train}
    eval_groups = {task.split_key(p) for p in evals}
    assert not train_groups & eval_groups  # whole templates are held out
    assert all(split_bucket(g) < 0.3 for g in eval_groups)
    assert all(split_bucket(g) >= 0.3 for g in train_groups)


def test_disjoint_eval_side_of_a_tiny_space_fails_loudly():
    # 1 group only: it is on one side, so the other side can never be filled
    task = Count(CountConfig(n_values=10, eval_fraction=0.01))
    side = "eval" if split_bucket("group0") >= 0.01 else "train"
    with pytest.raises(RuntimeError, match="too small"):
        draw_problems(task, random.Random(0), 5, side)


def test_overlap_mode_is_independent_draws():
    task = toy(eval_split="overlap", eval_fraction=0.5)
    got = draw_problems(task, random.Random(3), 400, "train")
    want = task.sample_batch(random.Random(3), 400)
    assert [p.key for p in got] == [p.key for p in want]  # no filtering at all
    evals = draw_problems(task, random.Random(4), 400, "eval")
    sides = {is_eval_side(task, p) for p in got} | {is_eval_side(task, p) for p in evals}
    assert sides == {True, False}  # both halves of the hash space appear on both sides


def test_overlap_mode_may_repeat_train_items_in_eval():
    task = Count(CountConfig(n_values=20, eval_split="overlap"))
    train = {p.key for p in draw_problems(task, random.Random(0), 200, "train")}
    evals = {p.key for p in draw_problems(task, random.Random(1), 200, "eval")}
    assert train & evals


def test_draw_problems_validates_side_and_reports_progress():
    task = toy()
    with pytest.raises(ValueError):
        draw_problems(task, random.Random(0), 3, "test")
    seen = []
    draw_problems(task, random.Random(0), 100, "train", chunk=16, on_progress=seen.append)
    assert seen and seen[-1] == 100 and seen == sorted(seen)


def test_split_bucket_is_stable_across_processes():
    here = [split_bucket(k) for k in ("a", "n17", "a>b ?b|")]
    code = "from harness.data import split_bucket as s; print([s(k) for k in ('a', 'n17', 'a>b ?b|')])"
    for hashseed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONHASHSEED": hashseed},
            check=True,
        ).stdout
        assert eval(out) == here
    assert all(0.0 <= b < 1.0 for b in here)


# ---------------------------------------------------------------------------------------- strata
class StrataConfig(TaskConfig):
    pass


class Strata(Count):
    """Count with strata = value // 100 (10 strata). The split groups (value // 10) divide the strata
    unevenly, so filtering whole draws would skew the eval set's strata; splitting within strata must
    not. Stratum 9 is drawn 5x as often as the others."""

    name = "strata"
    Config = CountConfig

    def draw_strata(self, rng, n, side):
        return rng.choices(range(10), weights=[1] * 9 + [5], k=n)

    def sample_stratum(self, rng, stratum, n):
        out = []
        for _ in range(n):
            v = 100 * stratum + rng.randrange(100)
            out.append(Problem(key=f"n{v}", payload=v, meta={"v": v, "stratum": stratum}))
        return out


def test_split_within_strata_keeps_the_law_over_strata():
    from scipy.stats import chisquare

    task = Strata(CountConfig(eval_fraction=0.3))
    law = np.array([1] * 9 + [5]) / 14
    for side in ("train", "eval"):
        got = draw_problems(task, random.Random(0), 3000, side)
        assert all(is_eval_side(task, p) == (side == "eval") for p in got)
        counts = np.bincount([p.meta["stratum"] for p in got], minlength=10)
        assert chisquare(counts, law * len(got)).pvalue > 1e-3, (side, counts)
    # the strata the task drew are the strata returned, position by position
    rng = random.Random(7)
    want = task.draw_strata(random.Random(7), 50, "eval")
    got = draw_problems(task, rng, 50, "eval")
    assert [p.meta["stratum"] for p in got] == want
    # reproducible
    again = draw_problems(task, random.Random(7), 50, "eval")
    assert [p.key for p in again] == [p.key for p in got]


def test_unstratified_draws_skew_what_strata_preserve():
    # the same problems without strata: whole draws filtered by the split hash land unevenly
    class Flat(Strata):
        def draw_strata(self, rng, n, side):
            return None

        def sample_batch(self, rng, n):
            return [self.sample_stratum(rng, s, 1)[0] for s in super().draw_strata(rng, n, "train")]

    from scipy.stats import chisquare

    task = Flat(CountConfig(eval_fraction=0.3))
    got = draw_problems(task, random.Random(0), 3000, "eval")
    counts = np.bincount([p.meta["stratum"] for p in got], minlength=10)
    law = np.array([1] * 9 + [5]) / 14
    assert chisquare(counts, law * len(got)).pvalue < 1e-3  # the bias the strata remove


def test_a_stratum_without_room_on_its_side_fails_loudly_naming_it():
    class OneGroup(Strata):
        def sample_stratum(self, rng, stratum, n):
            # stratum 3 holds a single split group, so one side of it is empty
            vals = [30 + rng.randrange(10) if stratum == 3 else 100 * stratum + rng.randrange(100) for _ in range(n)]
            return [Problem(key=f"n{v}", payload=v, meta={"v": v, "stratum": stratum}) for v in vals]

    task = OneGroup(CountConfig(eval_fraction=0.3))
    side = "train" if split_bucket("group3") < 0.3 else "eval"
    with pytest.raises(RuntimeError, match="stratum 3"):
        draw_problems(task, random.Random(0), 200, side)


def test_strata_must_match_the_count():
    class Short(Strata):
        def draw_strata(self, rng, n, side):
            return [0] * (n - 1)

    with pytest.raises(ValueError, match="strata"):
        draw_problems(Short(CountConfig()), random.Random(0), 5, "train")


def test_overlap_mode_with_strata_draws_without_filtering():
    task = Strata(CountConfig(eval_split="overlap", eval_fraction=0.5))
    got = draw_problems(task, random.Random(0), 600, "eval")
    assert {is_eval_side(task, p) for p in got} == {True, False}


# ---------------------------------------------------------------------------------------- packing
def _enc(tags):
    tags = np.array(tags, dtype=np.int8)
    return Encoded(np.arange(len(tags), dtype=np.int64) % 4, tags, int((tags == Tag.PROMPT).sum()))


def test_pack_default_policy_trains_everything_but_noloss():
    samples = [_enc([0, 0, 4, 1, 2, 3, 1]), _enc([0, 1, 1])]
    data = pack(samples, vocab_size=4)
    assert data.tokens.dtype == np.int64 and data.loss.dtype == bool
    assert data.loss.tolist() == [True, True, False, True, True, True, True] + [True, True, True]
    assert data.sample_starts.tolist() == [0, 7]
    assert data.n_problems == 2 and data.n_distinct == 2 and data.vocab_size == 4


def test_pack_completion_only_masks_prompt():
    samples = [_enc([0, 0, 4, 1, 2, 3, 1]), _enc([0, 1, 1])]
    data = pack(samples, vocab_size=4, policy=LossPolicy(loss_on="completion"))
    assert data.loss.tolist() == [False, False, False, True, True, True, True] + [False, True, True]


def test_pack_masked_tags():
    samples = [_enc([0, 0, 4, 1, 2, 3, 1])]
    data = pack(samples, 4, LossPolicy(masked_tags=frozenset({Tag.MISTAKE})))
    assert data.loss.tolist() == [True, True, False, True, False, True, True]
    data = pack(samples, 4, LossPolicy(loss_on="completion", masked_tags=frozenset({Tag.MISTAKE})), n_distinct=1)
    assert data.loss.tolist() == [False, False, False, True, False, True, True]
    assert data.n_distinct == 1


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from([0, 1, 2, 3, 4]), min_size=1, max_size=20), min_size=1, max_size=8),
    st.sampled_from(["all", "completion"]),
    st.sets(st.sampled_from([Tag.MISTAKE, Tag.CORRECTION])),
)
def test_pack_loss_flags_follow_tags(tag_lists, loss_on, masked):
    policy = LossPolicy(loss_on=loss_on, masked_tags=frozenset(masked))
    data = pack([_enc(t) for t in tag_lists], 4, policy)
    flat = [t for ts in tag_lists for t in ts]
    off = {Tag.PROMPT_NOLOSS, *masked} | ({Tag.PROMPT} if loss_on == "completion" else set())
    assert data.loss.tolist() == [t not in off for t in flat]
    assert len(data.tokens) == len(flat)
    assert data.sample_starts.tolist() == list(np.cumsum([0] + [len(t) for t in tag_lists[:-1]]))


def test_pack_rejects_bad_input():
    with pytest.raises(ValueError, match="no samples"):
        pack([], 4)
    with pytest.raises(ValueError, match="outside vocab"):
        pack([_enc([0, 1, 1, 1, 1])], vocab_size=3)


def test_pack_toy_fallible_with_masked_mistakes():
    task = toy()
    problems = task.sample_batch(random.Random(0), 50)
    fallible = Fallible(FallibleConfig(p=1.0))
    encs = encode_problems(task, fallible, problems, random.Random(0))
    data = pack(encs, len(task.vocab), LossPolicy(loss_on="completion", masked_tags=frozenset({Tag.MISTAKE})))
    tags = np.concatenate([e.tags for e in encs])
    assert (tags == Tag.MISTAKE).any()
    assert not data.loss[tags == Tag.MISTAKE].any() and not data.loss[tags == Tag.PROMPT].any()
    assert data.loss[tags == Tag.CORRECTION].all() and data.loss[tags == Tag.ORACLE].all()
    # every sample ends with the end token
    ends = np.append(data.sample_starts[1:], len(data.tokens)) - 1
    assert (data.tokens[ends] == task.end_token).all()


# ---------------------------------------------------------------------------------- reproducibility
def _build(seed: int, p: float = 0.5):
    task = toy()
    problems = draw_problems(task, random.Random(stable_seed("train", seed)), 300, "train")
    pairs = corrupt_and_encode(task, Fallible(FallibleConfig(p=p)), problems, random.Random(stable_seed("c", seed)))
    return pack([e for _, e in pairs], len(task.vocab)), pairs


def test_same_seed_same_data():
    a, pa = _build(0)
    b, pb = _build(0)
    assert np.array_equal(a.tokens, b.tokens) and np.array_equal(a.loss, b.loss)
    assert [[s.text for s in t] for t, _ in pa] == [[s.text for s in t] for t, _ in pb]
    c, _ = _build(1)
    assert not (len(a.tokens) == len(c.tokens) and np.array_equal(a.tokens, c.tokens))


def test_corrupt_and_encode_matches_encode_problems():
    task = toy()
    problems = task.sample_batch(random.Random(5), 40)
    f = Fallible(FallibleConfig(p=0.5))
    pairs = corrupt_and_encode(task, f, problems, random.Random(9))
    encs = encode_problems(task, f, problems, random.Random(9))
    for (trace, e1), e2 in zip(pairs, encs):
        assert np.array_equal(e1.tokens, e2.tokens) and np.array_equal(e1.tags, e2.tags)


def test_stable_and_eval_seeds():
    assert stable_seed("a", 1, {"x": 2}) == stable_seed("a", 1, {"x": 2})
    assert stable_seed("a", 1) != stable_seed("a", 2)
    assert 0 <= stable_seed("z") < 2**63
    assert eval_seed(toy()) == eval_seed(toy())
    assert eval_seed(toy()) != eval_seed(toy(max_nodes=10))
    # eval problems depend on the task config only: every cell scores the same items
    t = toy()
    e1 = draw_problems(t, random.Random(eval_seed(t)), 50, "eval")
    e2 = draw_problems(toy(), random.Random(eval_seed(toy())), 50, "eval")
    assert [p.key for p in e1] == [p.key for p in e2]
