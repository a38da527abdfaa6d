"""A model is scored in the precision it trained in: the trainer's `inference_context` wraps every
evaluation (learning-curve points, the final evaluation, decision points), and the GPT's KV cache
follows autocast (bf16 keys and values). On CUDA `pretrain` trains in bf16, so it is scored in bf16;
on a CPU it trains and scores in fp32 unless `precision=bf16` asks otherwise (tested here on a CPU)."""

from __future__ import annotations

import contextlib

import pytest
import torch
from harness_models.config import GPTConfig
from harness_models.model import GPT
from harness_models.trainer import Pretrain, resolved_precision

import harness.pipeline as pipeline
from harness.decode import generate
from harness.planning import plan
from harness.plugins import get_manager
from harness.runner import run_plan

MANAGER = get_manager()


def tiny_gpt() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(n_layer=2, n_head=2, d_model=32, dropout=0.0), 11, 32)


def test_the_cache_takes_the_autocast_dtype():
    m = tiny_gpt()
    assert m.new_cache(2, 8).k.dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        c = m.new_cache(2, 8, "cpu")
        assert c.k.dtype == c.v.dtype == torch.bfloat16
        assert m.new_cache(2, 8, "cpu", torch.float32).k.dtype == torch.float32  # an explicit dtype wins
    assert m.new_cache(2, 8).k.dtype == torch.float32


def test_decoding_under_autocast_fills_a_bf16_cache():
    m = tiny_gpt().eval()
    made = []
    real = m.new_cache

    def spy(*a, **k):
        made.append(real(*a, **k))
        return made[-1]

    m.new_cache = spy
    prompts = [[1, 2, 3], [4, 5], [6, 7, 8, 9]]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = generate(m, prompts, end_token=10, max_new_tokens=6)
    assert made and all(c.k.dtype == torch.bfloat16 for c in made)
    assert len(out) == 3 and all(1 <= len(o) <= 6 and all(0 <= t < 11 for t in o) for o in out)
    assert float(made[0].k.abs().sum()) > 0  # the keys were written, not left at zero


def test_pretrain_scores_in_the_precision_it_trains_in():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    auto, bf16, fp32 = (Pretrain(Pretrain.Config(precision=p)) for p in ("auto", "bf16", "fp32"))
    assert resolved_precision(auto.config, cuda) == "bf16" and resolved_precision(auto.config, cpu) == "fp32"
    assert resolved_precision(fp32.config, cuda) == "fp32" and resolved_precision(bf16.config, cpu) == "bf16"
    assert isinstance(auto.inference_context(cpu), contextlib.nullcontext)
    ctx = bf16.inference_context(cpu)
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == torch.bfloat16


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_every_evaluation_of_a_cell_runs_in_the_trainers_context(tmp_path, monkeypatch, precision):
    seen: list[tuple[str, bool]] = []
    real_eval, real_dp = pipeline.evaluate, pipeline.decision_metrics

    def spy_eval(*a, **k):
        seen.append(("decode", torch.is_autocast_enabled("cpu")))
        return real_eval(*a, **k)

    def spy_dp(*a, **k):
        seen.append(("decision", torch.is_autocast_enabled("cpu")))
        return real_dp(*a, **k)

    monkeypatch.setattr(pipeline, "evaluate", spy_eval)
    monkeypatch.setattr(pipeline, "decision_metrics", spy_dp)
    p = plan(MANAGER, f"mazes(min_size=3,max_size=3)×oracle×gpt-1L×pretrain(precision={precision})", budget="tiny",
             budget_overrides={"curve_points": 2})
    s = run_plan(p, MANAGER, tmp_path / "run")
    assert s.results["status"].to_list() == ["ok"] and s.results["precision"].to_list() == [precision]
    # two curve points and the final evaluation, each decoding and scoring decision points
    assert sorted(k for k, _ in seen) == ["decision"] * 3 + ["decode"] * 3
    assert all(on == (precision == "bf16") for _, on in seen), seen
    log = next((tmp_path / "run" / "cells").glob("*/log.txt")).read_text()
    assert ("eval: in the trainer's inference context: autocast to torch.bfloat16" in log) == (precision == "bf16")
