"""The pretrain trainer: learning, loss masking, NaN detection, token arithmetic, determinism."""

import numpy as np
import pytest
import torch

from harness.budgets import get_budget
from harness.interfaces import TrainData
from harness_models.model import GPT, GPTConfig
from harness_models.trainer import Pretrain, PretrainConfig, coverage

V = 12


def model(seed=0, block=32, dropout=0.0):
    torch.manual_seed(seed)
    return GPT(GPTConfig(n_layer=2, d_model=32, n_head=4, dropout=dropout), V, block)


def stream(tokens, loss=None, sample_len=8):
    tokens = np.asarray(tokens, dtype=np.int64)
    loss = np.ones(len(tokens), dtype=bool) if loss is None else loss
    starts = np.arange(0, len(tokens), sample_len, dtype=np.int64)
    return TrainData(tokens, loss, len(starts), len(starts), V, starts)


def budget(iters, B=8, T=32):
    return get_budget("smoke", train_tokens=iters * B * T, batch_size=B, block_size=T)


def trainer(**kw):
    return Pretrain(PretrainConfig(**{"lr": 3e-3, "min_lr": 3e-4, "warmup_iters": 5, **kw}))


def test_loss_decreases_on_repetitive_stream():
    data = stream(np.tile(np.arange(8), 500))
    seen = []
    res = trainer().fit(model(), data, budget(80), torch.device("cpu"), seed=0, progress=lambda *a: seen.append(a))
    assert res.curve[0][1] > 1.5
    assert res.metrics["train_loss"] < 0.3
    assert seen and seen[-1][0] == seen[-1][1] == 80 * 8 * 32
    assert res.curve[-1][0] == 80


def test_loss_mask_respected():
    # even positions: noise (masked out); odd positions: a deterministic function of the previous token
    rng = np.random.default_rng(0)
    n = 6000
    toks = np.empty(n, dtype=np.int64)
    toks[0::2] = rng.integers(0, V, n // 2)
    toks[1::2] = (toks[0::2] * 5 + 1) % V
    loss = np.zeros(n, dtype=bool)
    loss[1::2] = True
    res = trainer().fit(model(), stream(toks, loss), budget(100), torch.device("cpu"), seed=0)
    assert res.metrics["train_loss"] < 0.3  # unmasked targets learnt; noise (loss ≈ ln 12) ignored
    res_all = trainer().fit(model(), stream(toks), budget(100), torch.device("cpu"), seed=0)
    assert res_all.metrics["train_loss"] > 1.0


def test_nan_detection_raises():
    m = model()
    with torch.no_grad():
        m.wte.weight[3] = float("nan")
    with pytest.raises(FloatingPointError, match="non-finite loss at step 0"):
        trainer().fit(m, stream(np.tile(np.arange(8), 100)), budget(5), torch.device("cpu"), seed=0)


def test_token_arithmetic_and_short_stream():
    data = stream(np.arange(10) % V, sample_len=5)  # shorter than one window: tiled
    res = trainer().fit(model(), data, budget(7, B=3, T=32), torch.device("cpu"), seed=0)
    assert res.metrics["tokens_seen"] == 7 * 3 * 32
    assert res.metrics["iters"] == 7
    assert res.metrics["problems_seen"] == 2
    assert res.metrics["tokens_per_s"] > 0


def test_coverage_counts_samples_with_targets():
    starts = np.array([0, 10, 20, 30])
    # window at 0 of length 5 covers targets 1..5 → sample 0 only
    assert coverage(np.array([0]), 5, 40, 40, starts) == 1
    # window at 8 covers 9..13 → samples 0 and 1
    assert coverage(np.array([8]), 5, 40, 40, starts) == 2
    # window at 9 covers 10..14 → only sample 1 (its first token is a target)
    assert coverage(np.array([9, 30]), 5, 40, 40, starts) == 2


def test_same_seed_same_weights():
    data = stream(np.random.default_rng(1).integers(0, V, 3000))
    outs = []
    for _ in range(2):
        m = model(seed=3, dropout=0.1)  # dropout draws from the seeded global RNG
        torch.manual_seed(123)  # fit seeds its own randomness; global state must not matter
        trainer().fit(m, data, budget(6), torch.device("cpu"), seed=11)
        outs.append({k: v.clone() for k, v in m.state_dict().items()})
    for k in outs[0]:
        assert torch.equal(outs[0][k], outs[1][k]), k


def test_bf16_precision_learns_on_cpu_and_reports_it():
    data = stream(np.tile(np.arange(8), 500))
    res = trainer(precision="bf16").fit(model(), data, budget(80), torch.device("cpu"), seed=0)
    assert res.metrics["precision"] == "bf16"
    assert res.metrics["train_loss"] < 0.3
    assert trainer().fit(model(), data, budget(3), torch.device("cpu"), seed=0).metrics["precision"] == "fp32"
    # weights and optimiser state stay fp32 under autocast
    m = model()
    trainer(precision="bf16").fit(m, data, budget(3), torch.device("cpu"), seed=0)
    assert all(p.dtype == torch.float32 for p in m.parameters())


def test_learning_curve_points_do_not_change_training():
    data = stream(np.random.default_rng(2).integers(0, V, 3000))
    b = get_budget("smoke", train_tokens=12 * 8 * 32, batch_size=8, block_size=32, curve_points=3)
    calls = []

    def evaluate(step):
        m_eval = calls_model[0]
        calls.append((step, m_eval.training))
        with torch.no_grad():  # an evaluation that draws randomness must not move the training stream
            torch.rand(5)
        return {"accuracy": step / 100}

    outs = []
    for ev in (None, evaluate):
        m = model(seed=4, dropout=0.1)
        calls_model = [m]
        res = trainer().fit(m, data, b, torch.device("cpu"), seed=5, evaluate=ev)
        outs.append((res, {k: v.clone() for k, v in m.state_dict().items()}))
    assert [s for s, _ in calls] == [3, 6, 9]  # evenly spaced before the end (the runner scores the end)
    assert not any(training for _, training in calls)  # called in eval mode
    (r0, w0), (r1, w1) = outs
    assert r0.evals == [] and [e["step"] for e in r1.evals] == [3, 6, 9]
    assert r1.evals[0]["tokens"] == 3 * 8 * 32 and r1.evals[-1]["accuracy"] == pytest.approx(0.09)
    for k in w0:
        assert torch.equal(w0[k], w1[k]), k
