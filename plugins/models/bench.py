"""Side-by-side benchmarks of the model plugin's hot paths against their naive baselines, registered
as the benchmarks `decode`, `train` and `precision` (`harness bench --only decode,train`; the
Benchmark classes are in benchmarks.py, which imports this module, and torch, only when one runs).

* `bench_decode`: batched KV-cache `generate` vs `naive_generate` (one sequence, full recompute).
* `bench_train`: `Pretrain.fit` vs a bare torch loop (AdamW, same window gather, forward, backward,
  step; no schedule, clipping or loss mask).
* `bench_precision`: `Pretrain.fit` on the CPU in fp32 vs bf16 autocast (and threads, compile),
  interleaved round by round.

Decode and train use a small random-init gpt-4L at d_model 128 and finish in well under 30 s on 2
CPU cores; precision uses the `cpu` budget's gpt-2L d128.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from harness import get_budget
from harness import generate, naive_generate
from harness import TrainData

from .model import GPT, GPTConfig



def _model(n_layer: int, d_model: int, n_head: int, vocab: int, block: int) -> torch.nn.Module:
    cfg = GPTConfig(n_layer=n_layer, d_model=d_model, n_head=n_head, dropout=0.0)
    return GPT(cfg, vocab, block)


def bench_decode(
    n_prompts: int = 64,
    prompt_len: int = 60,
    max_new_tokens: int = 60,
    n_naive: int = 8,
    n_layer: int = 4,
    d_model: int = 128,
    n_head: int = 4,
    vocab: int = 16,
    device: str = "cpu",
    seed: int = 0,
    rounds: int = 2,
) -> dict[str, Any]:
    """Greedy decode throughput: batched KV cache vs one-at-a-time full recompute (best of `rounds`
    interleaved rounds per side).

    Prompts have mixed lengths (prompt_len ± 10) so left padding is exercised. The end token is an id
    the model never emits (vocab), so every row generates exactly max_new_tokens and the token counts
    are equal. The naive path is timed on the first `n_naive` prompts and compared per token; outputs
    on those prompts must be identical."""
    torch.manual_seed(seed)
    dev = torch.device(device)
    model = _model(n_layer, d_model, n_head, vocab, prompt_len + 10 + max_new_tokens).to(dev).eval()
    rng = np.random.default_rng(seed)
    prompts = [rng.integers(0, vocab, int(rng.integers(prompt_len - 10, prompt_len + 11))) for _ in range(n_prompts)]
    kw = dict(end_token=vocab, max_new_tokens=max_new_tokens, device=dev)

    generate(model, prompts[:4], **kw)  # warm-up
    naive_generate(model, prompts[:1], **{**kw, "max_new_tokens": 4})  # warm-up
    kv_s = naive_s = float("inf")
    for _ in range(rounds):  # interleaved, best kept per side: load drift on a shared CPU hits both
        t0 = time.perf_counter()
        kv_out = generate(model, prompts, batch_size=n_prompts, **kw)
        kv_s = min(kv_s, time.perf_counter() - t0)
        t0 = time.perf_counter()
        naive_out = naive_generate(model, prompts[:n_naive], **kw)
        naive_s = min(naive_s, time.perf_counter() - t0)
    kv_tokens = sum(len(r) for r in kv_out)
    naive_tokens = sum(len(r) for r in naive_out)

    kv_tps = kv_tokens / kv_s
    naive_tps = naive_tokens / naive_s
    return {
        "kv_tokens_per_s": kv_tps,
        "naive_tokens_per_s": naive_tps,
        "ratio": kv_tps / naive_tps,
        "identical": kv_out[:n_naive] == naive_out,
        "kv_seconds": kv_s,
        "naive_seconds": naive_s,
        "n_prompts": n_prompts,
        "n_naive": n_naive,
        "rounds": rounds,
        "prompt_len": prompt_len,
        "max_new_tokens": max_new_tokens,
        "model": f"gpt-{n_layer}L d{d_model} h{n_head} vocab {vocab}",
        "device": str(dev),
    }


def _stream(n: int, vocab: int, seed: int) -> TrainData:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocab, n).astype(np.int64)
    starts = np.arange(0, n, 100, dtype=np.int64)
    return TrainData(tokens, np.ones(n, dtype=bool), len(starts), len(starts), vocab, starts)


def bench_train(
    steps: int = 30,
    warmup_steps: int = 3,
    batch_size: int = 16,
    block_size: int = 128,
    n_layer: int = 4,
    d_model: int = 128,
    n_head: int = 4,
    vocab: int = 16,
    device: str = "cpu",
    seed: int = 0,
) -> dict[str, Any]:
    """Training throughput: `Pretrain.fit` vs a bare AdamW loop on the same model, batch and windows.

    Each side is warmed up with `warmup_steps` steps on a fresh model, then timed (wall clock of the
    whole call for fit, setup included) over `steps` steps."""
    from .trainer import Pretrain, PretrainConfig

    dev = torch.device(device)
    data = _stream(200_000, vocab, seed)
    B, T = batch_size, block_size

    def run_fit(n: int) -> float:
        torch.manual_seed(seed)
        model = _model(n_layer, d_model, n_head, vocab, T)
        budget = get_budget("smoke", train_tokens=n * B * T, batch_size=B, block_size=T)
        trainer = Pretrain(PretrainConfig(compile="off"))
        t0 = time.perf_counter()
        trainer.fit(model, data, budget, dev, seed)
        return time.perf_counter() - t0

    def run_bare(n: int) -> float:
        torch.manual_seed(seed)
        model = _model(n_layer, d_model, n_head, vocab, T).to(dev).train()
        t0 = time.perf_counter()
        tokens = torch.from_numpy(data.tokens).to(dev)
        window = torch.arange(T + 1, device=dev)
        gen = torch.Generator(device=dev)
        gen.manual_seed(seed)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        for _ in range(n):
            o = torch.randint(len(tokens) - T, (B,), generator=gen, device=dev)
            w = tokens[o[:, None] + window]
            logits = model(w[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, vocab), w[:, 1:].reshape(-1))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        loss.item()
        return time.perf_counter() - t0

    run_fit(warmup_steps)
    run_bare(warmup_steps)
    # two timed runs each, interleaved (fit, bare, fit, bare), best kept: load drift on a shared CPU
    # hits both sides alike
    fit_t: list[float] = []
    bare_t: list[float] = []
    for _ in range(2 if steps <= 60 else 1):
        fit_t.append(run_fit(steps))
        bare_t.append(run_bare(steps))
    fit_s, bare_s = min(fit_t), min(bare_t)
    tokens = steps * B * T
    return {
        "trainer_tokens_per_s": tokens / fit_s,
        "bare_tokens_per_s": tokens / bare_s,
        "ratio": bare_s / fit_s,
        "steps": steps,
        "batch_size": B,
        "block_size": T,
        "model": f"gpt-{n_layer}L d{d_model} h{n_head} vocab {vocab}",
        "device": str(dev),
    }


def bench_precision(
    rounds: int = 3,
    steps: int = 40,
    batch_size: int = 8,
    block_size: int = 128,
    n_layer: int = 2,
    d_model: int = 128,
    n_head: int = 4,
    vocab: int = 16,
    variants: tuple[tuple[str, str, int], ...] = (
        ("fp32", "off", 1), ("bf16", "off", 1), ("bf16", "on", 1), ("bf16", "off", 2),
    ),
    seed: int = 0,
) -> dict[str, Any]:
    """CPU training tokens/s of `Pretrain.fit` per (precision, compile, threads) variant, side by side.

    The variants run interleaved (A, B, C, A, B, C, ...) for `rounds` rounds on the `cpu` budget's
    model shape (gpt-2L d128 rope, batch 8 × 128), so load drift on a shared machine hits every
    variant alike; each ratio is the median over rounds of (variant rate / first variant rate) in
    the same round. Rates are wall clock (threads differ, so CPU time would not compare). Each
    variant keeps one model across its runs, so torch.compile compiles once, in the untimed warm-up
    (its one-off cost is reported as `warmup_seconds`)."""
    from .trainer import Pretrain, PretrainConfig

    data = _stream(200_000, vocab, seed)
    B, T = batch_size, block_size
    budget = get_budget("smoke", train_tokens=steps * B * T, batch_size=B, block_size=T)
    before = torch.get_num_threads()

    models = {}
    for v in variants:
        torch.manual_seed(seed)
        models[v] = GPT(GPTConfig(n_layer=n_layer, d_model=d_model, n_head=n_head, dropout=0.0, pos="rope"), vocab, T)

    def run(v: tuple[str, str, int]) -> float:
        precision, compile_, threads = v
        torch.set_num_threads(threads)
        trainer = Pretrain(PretrainConfig(precision=precision, compile=compile_))
        res = trainer.fit(models[v], data, budget, torch.device("cpu"), seed)
        return res.metrics["tokens_per_s"]

    warm: dict[tuple, float] = {}
    try:
        for v in variants:  # warm-up (and compile, if asked) outside the timed rounds
            t0 = time.perf_counter()
            run(v)
            warm[v] = time.perf_counter() - t0
        rates: dict[tuple, list[float]] = {v: [] for v in variants}
        for _ in range(rounds):
            for v in variants:
                rates[v].append(run(v))
    finally:
        torch.set_num_threads(before)
    base = variants[0]
    rows = []
    for v in variants:
        ratios = sorted(r / b for r, b in zip(rates[v], rates[base]))
        rows.append({
            "precision": v[0], "compile": v[1], "threads": v[2],
            "tokens_per_s": float(np.median(rates[v])), "ratio": ratios[len(ratios) // 2],
            "ratio_min": ratios[0], "ratio_max": ratios[-1], "warmup_seconds": warm[v],
        })
    return {
        "rows": rows,
        "rounds": rounds,
        "steps": steps,
        "model": f"gpt-{n_layer}L d{d_model} h{n_head} rope, batch {B} × {T}",
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
