"""Batched KV-cache generation agrees with the naive decoder; stopping, caps, sampling seeds."""

import numpy as np
import pytest
import torch

from harness.decode import generate, naive_generate, teacher_forced_logprobs
from harness_models.model import GPT, GPTConfig

V = 13


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(1)
    return GPT(GPTConfig(n_layer=2, d_model=32, n_head=4, dropout=0.0), V, 64).eval()


def prompts(n=9, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, V, int(rng.integers(1, 25))) for _ in range(n)]


@pytest.mark.parametrize("pos", ["learned", "rope"])
def test_greedy_batched_equals_naive_mixed_lengths(pos):
    torch.manual_seed(2)
    m = GPT(GPTConfig(n_layer=2, d_model=32, n_head=4, dropout=0.0, pos=pos), V, 64).eval()
    ps = prompts()
    caps = [5, 12, 1, 20, 7, 3, 15, 9, 11]
    fast = generate(m, ps, end_token=V + 1, max_new_tokens=caps, batch_size=4)
    slow = naive_generate(m, ps, end_token=V + 1, max_new_tokens=caps)
    assert fast == slow
    assert [len(r) for r in fast] == caps


def test_rows_stop_at_end_token(model):
    ps = prompts(12, seed=3)
    free = generate(model, ps, end_token=V + 1, max_new_tokens=20)
    # pick as end token an id some rows produce early; each row must be cut right after it
    end = free[0][2]
    out = generate(model, ps, end_token=end, max_new_tokens=20)
    ref = naive_generate(model, ps, end_token=end, max_new_tokens=20)
    assert out == ref
    for f, o in zip(free, out):
        if end in f:
            assert o == f[: f.index(end) + 1]
        else:
            assert o == f
    assert out[0][-1] == end and len(out[0]) <= 3


def test_max_new_tokens_respected_and_clipped(model):
    ps = [np.arange(10) % V, np.arange(60) % V]
    out = generate(model, ps, end_token=V + 1, max_new_tokens=[7, 30])
    assert len(out[0]) == 7
    assert len(out[1]) == 4  # 60 + 4 = block_size 64
    assert generate(model, ps, end_token=V + 1, max_new_tokens=0) == [[], []]
    with pytest.raises(ValueError, match="block_size"):
        generate(model, [np.zeros(65, dtype=np.int64)], end_token=0, max_new_tokens=1)


def test_sampling_reproducible(model):
    ps = prompts(6, seed=4)
    a = generate(model, ps, end_token=V + 1, max_new_tokens=15, temperature=1.0, seed=7)
    b = generate(model, ps, end_token=V + 1, max_new_tokens=15, temperature=1.0, seed=7)
    c = generate(model, ps, end_token=V + 1, max_new_tokens=15, temperature=1.0, seed=8)
    assert a == b
    assert a != c


def test_teacher_forced_logprobs(model):
    rng = np.random.default_rng(5)
    seqs = [rng.integers(0, V, int(rng.integers(5, 30))) for _ in range(7)]
    positions = [int(rng.integers(1, len(s) + 1)) for s in seqs]
    targets = [int(rng.integers(0, V)) for _ in seqs]
    got = teacher_forced_logprobs(model, seqs, positions, targets, batch_size=3, device="cpu")
    with torch.no_grad():
        for k, (s, p, t) in enumerate(zip(seqs, positions, targets)):
            lp = torch.log_softmax(model(torch.as_tensor(s[:p])[None])[0, -1], -1)[t].item()
            assert got[k] == pytest.approx(lp, abs=1e-5)


# ------------------------------------------------------------------ finished rows leave the batch
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _end_token_often(model, ps):
    """An id the model produces early for many rows and never for some (so rows end at different times)."""
    free = generate(model, ps, end_token=V + 1, max_new_tokens=30, check_every=1, compact_at=float("inf"))

    def spread(t):
        first = [row.index(t) if t in row else None for row in free]
        early = sum(1 for f in first if f is not None and f < 8)
        never = sum(1 for f in first if f is None)
        return min(early, never)

    return max(range(V), key=spread)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), check_every=st.integers(1, 9), compact_at=st.sampled_from([0.0, 0.1, 0.25, 0.9]),
       batch_size=st.integers(1, 16))
def test_compaction_never_changes_greedy_outputs(model, seed, check_every, compact_at, batch_size):
    ps = prompts(14, seed=seed)
    end = _end_token_often(model, ps)
    caps = [int(c) for c in np.random.default_rng(seed).integers(0, 30, len(ps))]
    base = generate(model, ps, end_token=end, max_new_tokens=caps, batch_size=batch_size, check_every=1,
                    compact_at=float("inf"))
    fast = generate(model, ps, end_token=end, max_new_tokens=caps, batch_size=batch_size, check_every=check_every,
                    compact_at=compact_at)
    assert fast == base
    assert fast == naive_generate(model, ps, end_token=end, max_new_tokens=caps)


def test_finished_rows_stop_costing_compute(model):
    ps = prompts(32, seed=5)
    end = _end_token_often(model, ps)
    old, new = {}, {}
    a = generate(model, ps, end_token=end, max_new_tokens=40, check_every=1, compact_at=float("inf"), stats=old)
    b = generate(model, ps, end_token=end, max_new_tokens=40, check_every=4, compact_at=0.0, stats=new)
    assert a == b and old["generated"] == new["generated"] == sum(len(r) for r in a)
    assert new["prefill"] == old["prefill"]
    assert new["decode"] < old["decode"]  # rows that ended were dropped
    assert min(len(r) for r in a) < 40 and max(len(r) for r in a) == 40  # some ended early, some ran to the cap


def test_sampling_with_compaction_is_seeded_and_keeps_the_cut(model):
    ps = prompts(16, seed=7)
    end = _end_token_often(model, ps)
    one = generate(model, ps, end_token=end, max_new_tokens=25, temperature=1.0, seed=3)
    two = generate(model, ps, end_token=end, max_new_tokens=25, temperature=1.0, seed=3)
    assert one == two
    for row in one:
        assert len(row) <= 25 and (end not in row[:-1])


def test_check_every_must_be_positive(model):
    with pytest.raises(ValueError, match="check_every"):
        generate(model, prompts(2), end_token=0, max_new_tokens=3, check_every=0)
