"""Side-by-side benchmarks of the model plugin's hot paths against their naive baselines, registered
as the benchmarks `decode`, `train` and `precision` (`harness bench --only decode,train`; the
Benchmark classes are in benchmarks.py, which imports this module, and torch, only when one runs).

Each function here builds the sides of one comparison (`Benchmark.Side`s, warmed up) for
`Benchmark.interleave`, which runs them in alternating rounds and times each run by wall clock and
process CPU time:

* `decode_sides`: batched KV-cache `generate` ("kv") vs `naive_generate` ("naive": one sequence, full
  recompute), greedy; outputs must be identical.
* `train_sides`: `Pretrain.fit` ("trainer") vs a bare torch loop ("bare": AdamW, same window gather,
  forward, backward, step; no schedule, clipping or loss mask).
* `precision_sides`: `Pretrain.fit` on the CPU per (precision, compile, threads) variant.

On the CPU the torch thread count is set for the timed runs (`threads`, default 1: then process CPU
time compares and is the ratio's clock; with more threads, or on a GPU, the wall clock is).
Decode and train use a small random-init gpt-4L at d_model 128; precision uses the `cpu` budget's
gpt-2L d128.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from harness import Benchmark, TrainData, generate, get_budget, naive_generate

from .model import GPT, GPTConfig


def _model(n_layer: int, d_model: int, n_head: int, vocab: int, block: int) -> torch.nn.Module:
    cfg = GPTConfig(n_layer=n_layer, d_model=d_model, n_head=n_head, dropout=0.0)
    return GPT(cfg, vocab, block)


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to n inside the block (None: left as it is), restored after."""
    before = torch.get_num_threads()
    try:
        if n is not None:
            torch.set_num_threads(n)
        yield
    finally:
        torch.set_num_threads(before)


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def decode_sides(
    n_prompts: int = 64,
    prompt_len: int = 60,
    max_new_tokens: int = 60,
    n_naive: int = 8,
    n_layer: int = 4,
    d_model: int = 128,
    n_head: int = 4,
    vocab: int = 16,
    device: str = "cpu",
    threads: int | None = 1,
    seed: int = 0,
) -> tuple[list, dict[str, Any]]:
    """The sides "kv" (batched KV cache, all prompts) and "naive" (one sequence at a time, full
    recompute, the first `n_naive` prompts), warmed up, and a dict describing the set-up in which
    `identical` collects, per naive run, whether its outputs equal the KV cache's on those prompts.

    Prompts have mixed lengths (prompt_len ± 10) so left padding is exercised. The end token is an id
    the model never emits (vocab), so every row generates exactly max_new_tokens; rates are per token.
    Call the sides inside `torch_threads(threads)`."""
    torch.manual_seed(seed)
    dev = torch.device(device)
    model = _model(n_layer, d_model, n_head, vocab, prompt_len + 10 + max_new_tokens).to(dev).eval()
    rng = np.random.default_rng(seed)
    prompts = [rng.integers(0, vocab, int(rng.integers(prompt_len - 10, prompt_len + 11))) for _ in range(n_prompts)]
    kw = dict(end_token=vocab, max_new_tokens=max_new_tokens, device=dev)
    cpu_ok = dev.type == "cpu" and threads == 1
    meta: dict[str, Any] = {
        "n_prompts": n_prompts, "n_naive": n_naive, "prompt_len": prompt_len, "max_new_tokens": max_new_tokens,
        "model": f"gpt-{n_layer}L d{d_model} h{n_head} vocab {vocab}", "device": str(dev), "threads": threads,
        "identical": [],
    }
    last_kv: list[list[int]] = []

    with torch_threads(threads):
        last_kv[:] = generate(model, prompts[:4], **kw)  # warm-up
        naive_generate(model, prompts[:1], **{**kw, "max_new_tokens": 4})  # warm-up

    def kv(r: int):
        with Benchmark.Stopwatch() as sw:
            out = generate(model, prompts, batch_size=n_prompts, **kw)
            _sync(dev)
        last_kv[:] = out
        return sw.sample(sum(len(x) for x in out))

    def naive(r: int):
        with Benchmark.Stopwatch() as sw:
            out = naive_generate(model, prompts[:n_naive], **kw)
            _sync(dev)
        if len(last_kv) >= n_naive:
            meta["identical"].append(last_kv[:n_naive] == out)
        return sw.sample(sum(len(x) for x in out))

    return [Benchmark.Side("kv", kv, cpu_comparable=cpu_ok),
            Benchmark.Side("naive", naive, cpu_comparable=cpu_ok)], meta


def _stream(n: int, vocab: int, seed: int) -> TrainData:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocab, n).astype(np.int64)
    starts = np.arange(0, n, 100, dtype=np.int64)
    return TrainData(tokens, np.ones(n, dtype=bool), len(starts), len(starts), vocab, starts)


def train_sides(
    steps: int = 30,
    warmup_steps: int = 3,
    batch_size: int = 16,
    block_size: int = 128,
    n_layer: int = 4,
    d_model: int = 128,
    n_head: int = 4,
    vocab: int = 16,
    device: str = "cpu",
    threads: int | None = 1,
    seed: int = 0,
) -> tuple[list, dict[str, Any]]:
    """The sides "trainer" (`Pretrain.fit`) and "bare" (a bare AdamW loop) on the same model, batch and
    windows, each warmed up with `warmup_steps` steps on a fresh model. A timed run builds a fresh model
    (untimed) and times the whole call over `steps` steps (set-up included: fit's, and the bare loop's
    data transfer and optimizer). Call the sides inside `torch_threads(threads)`."""
    from .trainer import Pretrain, PretrainConfig

    dev = torch.device(device)
    data = _stream(200_000, vocab, seed)
    B, T = batch_size, block_size
    cpu_ok = dev.type == "cpu" and threads == 1

    def run_fit(n: int):
        torch.manual_seed(seed)
        model = _model(n_layer, d_model, n_head, vocab, T)
        budget = get_budget("smoke", train_tokens=n * B * T, batch_size=B, block_size=T)
        trainer = Pretrain(PretrainConfig(compile="off"))
        with Benchmark.Stopwatch() as sw:
            trainer.fit(model, data, budget, dev, seed)
            _sync(dev)
        return sw.sample(n * B * T)

    def run_bare(n: int):
        torch.manual_seed(seed)
        model = _model(n_layer, d_model, n_head, vocab, T).to(dev).train()
        with Benchmark.Stopwatch() as sw:
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
        return sw.sample(n * B * T)

    with torch_threads(threads):
        run_fit(warmup_steps)
        run_bare(warmup_steps)
    meta = {"steps": steps, "warmup_steps": warmup_steps, "batch_size": B, "block_size": T,
            "model": f"gpt-{n_layer}L d{d_model} h{n_head} vocab {vocab}", "device": str(dev), "threads": threads}
    return [Benchmark.Side("trainer", lambda r: run_fit(steps), cpu_comparable=cpu_ok),
            Benchmark.Side("bare", lambda r: run_bare(steps), cpu_comparable=cpu_ok)], meta


def variant_name(v: tuple[str, str, int]) -> str:
    """("bf16", "on", 1) → "bf16/compile/1t"."""
    return f"{v[0]}/{'compile' if v[1] == 'on' else 'eager'}/{v[2]}t"


def precision_sides(
    steps: int = 12,
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
) -> tuple[list, dict[str, Any]]:
    """One side per (precision, compile, threads) variant (named by `variant_name`): CPU `Pretrain.fit`
    over `steps` steps on the `cpu` budget's model shape (gpt-2L d128 rope, batch 8 × 128), each run
    under its own torch thread count (restored after). Each variant keeps one model across its runs, so
    torch.compile compiles once, in the untimed warm-up (its one-off cost is `meta["warmup_seconds"]`).
    A variant with more than one thread is timed by wall clock (CPU time sums its threads)."""
    from .trainer import Pretrain, PretrainConfig

    data = _stream(200_000, vocab, seed)
    B, T = batch_size, block_size
    budget = get_budget("smoke", train_tokens=steps * B * T, batch_size=B, block_size=T)
    models = {}
    for v in variants:
        torch.manual_seed(seed)
        models[v] = GPT(GPTConfig(n_layer=n_layer, d_model=d_model, n_head=n_head, dropout=0.0, pos="rope"), vocab, T)

    def run(v: tuple[str, str, int]):
        precision, compile_, threads = v
        trainer = Pretrain(PretrainConfig(precision=precision, compile=compile_))
        with torch_threads(threads), Benchmark.Stopwatch() as sw:
            trainer.fit(models[v], data, budget, torch.device("cpu"), seed)
        return sw.sample(steps * B * T)

    warm: dict[str, float] = {}
    for v in variants:  # warm-up (and compile, if asked) outside the timed rounds
        warm[variant_name(v)] = run(v).wall_s
    meta = {"steps": steps, "model": f"gpt-{n_layer}L d{d_model} h{n_head} rope, batch {B} × {T}",
            "variants": [{"name": variant_name(v), "precision": v[0], "compile": v[1], "threads": v[2]}
                         for v in variants],
            "warmup_seconds": warm}
    return [Benchmark.Side(variant_name(v), lambda r, v=v: run(v), cpu_comparable=v[2] == 1) for v in variants], meta
