"""Conformance checks for model families and trainers (they need torch; tiny sizes, CPU, seconds).

    from harness.testing import check_model_family, check_trainer
    def test_my_family_conforms():
        check_model_family(MyFamily(MyFamily.Config(n_layer=1)))
    def test_my_trainer_conforms():
        check_trainer(MyTrainer(MyTrainer.Config()))

A model family must build a model that follows the decode protocol (`harness.interfaces.DecodableModel`):
logits of the right shape, causal, an incremental KV-cache decode that equals the full forward, left
padding that changes nothing for the real tokens, `cache.reorder` for beam search, and the same weights
from the same torch seed; `harness.generate` (the batched decoder every decoder builds on) must give
what the cache-free reference gives. A trainer's `fit` must lower the loss on a tiny stream on the
targets whose loss flag is set (and only those), consume exactly the budget's tokens
(iters × batch × block), be reproducible from its seed (and depend on it), and call `evaluate` at the
budget's learning-curve points in eval mode without changing the training.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from harness.budgets import Budget
from harness.interfaces import (
    DecodableModel,
    ModelFamily,
    PlanError,
    TrainData,
    Trainer,
    TrainResult,
    check_decodable,
)

ModelFactory = Callable[[int, int], torch.nn.Module]


# ------------------------------------------------------------------------------------ model families
def _name(family: Any) -> str:
    return f"{type(family).__name__} ({getattr(family, 'name', '?')})"


def _build(family: ModelFamily, vocab_size: int, block_size: int, seed: int, device: str) -> torch.nn.Module:
    torch.manual_seed(seed)  # what the pipeline does before build (the family is seeded by the caller)
    model = family.build(vocab_size=vocab_size, block_size=block_size)
    return model.to(device).eval()


def _close(a: torch.Tensor, b: torch.Tensor, what: str, atol: float = 1e-4) -> None:
    a, b = a.float(), b.float()
    err = (a - b).abs().max().item() if a.numel() else 0.0
    assert a.shape == b.shape and err <= atol, f"{what} (max abs difference {err:.3g}, shapes {tuple(a.shape)} vs {tuple(b.shape)})"


def check_model_class(family: ModelFamily, vocab_size: int = 13, block_size: int = 24, seed: int = 0,
                      device: str = "cpu") -> None:
    """The declared `model_class` follows the decode protocol (what the planner checks) and `build`
    returns an nn.Module of that class with the block size asked for; the same seed, the same weights."""
    name = _name(family)
    cls = getattr(family, "model_class", None)
    assert isinstance(cls, type), f"{name}: declare `model_class`, the class build() returns"
    try:
        check_decodable(cls, name)
    except PlanError as exc:
        raise AssertionError(str(exc)) from exc
    model = _build(family, vocab_size, block_size, seed, device)
    assert isinstance(model, torch.nn.Module), f"{name}: build must return a torch.nn.Module"
    assert isinstance(model, cls), f"{name}: build returned a {type(model).__name__}, not its model_class {cls.__name__}"
    assert isinstance(model, DecodableModel), (
        f"{name}: the built model does not follow harness.interfaces.DecodableModel (block_size, new_cache)")
    assert isinstance(model.block_size, int) and model.block_size >= block_size, (
        f"{name}: model.block_size={model.block_size!r}, but it was built for {block_size} positions")
    again = _build(family, vocab_size, block_size, seed, device)
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), f"{name}: the same torch seed built different weights ({k})"


def check_model_forward(family: ModelFamily, vocab_size: int = 13, block_size: int = 24, seed: int = 0,
                        device: str = "cpu") -> None:
    """model(idx[B,T]) -> finite logits[B,T,V] for T up to block_size; causal (a later token changes
    no earlier logit); a training step reaches the weights."""
    name = _name(family)
    model = _build(family, vocab_size, block_size, seed, device)
    g = torch.Generator().manual_seed(seed)
    B, T = 3, block_size
    idx = torch.randint(vocab_size, (B, T), generator=g).to(device)
    with torch.no_grad():
        logits = model(idx)
        assert isinstance(logits, torch.Tensor) and tuple(logits.shape) == (B, T, vocab_size), (
            f"{name}: model(idx[{B},{T}]) must give logits [{B},{T},{vocab_size}], got "
            f"{tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}")
        assert torch.isfinite(logits).all(), f"{name}: non-finite logits at initialisation"
        short = model(idx[:, :5])
        assert tuple(short.shape) == (B, 5, vocab_size), f"{name}: a shorter input must work too"
        k = T // 2
        changed = idx.clone()
        changed[:, k] = (changed[:, k] + 1) % vocab_size
        _close(model(changed)[:, :k], logits[:, :k], f"{name}: not causal: changing token {k} changed earlier logits")
    model.train()
    loss = F.cross_entropy(model(idx[:, :-1]).reshape(-1, vocab_size).float(), idx[:, 1:].reshape(-1))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and any(gr is not None and gr.abs().sum() > 0 for gr in grads), (
        f"{name}: a backward pass reaches no weight")


def check_model_cache(family: ModelFamily, vocab_size: int = 13, block_size: int = 24, seed: int = 0,
                      device: str = "cpu", beam: bool = True) -> None:
    """The KV cache: a prompt written at start=0 then one token per call (start = its index) gives the
    logits of the full forward; left padding (`pad[B]`, with and without a cache) leaves each row's
    real tokens' logits as they are alone; `cache.reorder(rows)` (beam search; `beam=False` skips it)
    makes row b continue old row rows[b]."""
    name = _name(family)
    model = _build(family, vocab_size, block_size, seed, device)
    g = torch.Generator().manual_seed(seed + 1)
    B, P, L = 2, 5, min(block_size, 12)
    idx = torch.randint(vocab_size, (B, L), generator=g).to(device)
    with torch.no_grad():
        full = model(idx)
        cache = model.new_cache(B, L, device, None)
        out = model(idx[:, :P], cache=cache, start=0)
        _close(out, full[:, :P], f"{name}: logits of a prompt written into the cache differ from the plain forward")
        for s in range(P, L):
            step = model(idx[:, s : s + 1], cache=cache, start=s)
            _close(step[:, 0], full[:, s], f"{name}: incremental decode with the cache differs from the "
                                           f"full forward at position {s}")
        # left padding: row 1 holds only its last n real tokens
        n = L - 3
        padded = idx.clone()
        padded[1, : L - n] = 0
        padded[1, L - n :] = idx[1, :n]
        pad = torch.tensor([0, L - n], device=device)
        alone = model(idx[1:, :n])
        got = model(padded, pad=pad)
        _close(got[1, L - n :], alone[0], f"{name}: left padding (pad=) changes the logits of a row's real tokens")
        _close(got[0], full[0], f"{name}: pad=0 for a row must leave it as without padding")
        cache = model.new_cache(B, L + 2, device, None)
        first = model(padded[:, : L - 1], cache=cache, start=0, pad=pad)
        _close(first[1, L - n : L - 1], alone[0, : n - 1], f"{name}: a padded prompt written into the cache differs")
        step = model(padded[:, L - 1 : L], cache=cache, start=L - 1, pad=pad)
        _close(step[1, 0], alone[0, n - 1], f"{name}: a padded row's incremental step differs from the row alone")
        if beam:
            cache = model.new_cache(B, L, device, None)
            model(idx[:, :P], cache=cache, start=0)
            assert callable(getattr(cache, "reorder", None)), (
                f"{name}: the cache has no reorder(rows), which beam search needs (check with beam=False to skip)")
            cache.reorder(torch.tensor([1, 1], device=device))
            nxt = model(idx[[1, 1], P : P + 1], cache=cache, start=P)
            _close(nxt[:, 0], full[[1, 1], P], f"{name}: after cache.reorder([1, 1]) both rows must continue row 1")


def check_model_generate(family: ModelFamily, vocab_size: int = 13, block_size: int = 24, seed: int = 0,
                         device: str = "cpu") -> None:
    """`harness.generate` (batched, left-padded, with the cache) gives the same greedy completions as
    the cache-free reference `harness.naive_generate`, for prompts of mixed lengths."""
    from harness.decode import generate, naive_generate

    name = _name(family)
    model = _build(family, vocab_size, block_size, seed, device)
    rng = np.random.default_rng(seed)
    prompts = [rng.integers(0, vocab_size, size=k) for k in (3, 7, 5, 1)]
    kw = dict(end_token=0, max_new_tokens=[6, 4, 8, 10], device=device, seed=seed)
    fast = generate(model, prompts, batch_size=4, **kw)
    slow = naive_generate(model, prompts, **kw)
    assert fast == slow, (f"{name}: batched cached decoding {fast} differs from the reference {slow} "
                          "(check the cache, start= and pad= handling)")


def check_model_autocast(family: ModelFamily, vocab_size: int = 13, block_size: int = 24, seed: int = 0,
                         device: str = "cpu") -> None:
    """Decoding under bf16 autocast (how `pretrain` scores a model it trained in bf16, on CUDA by
    default: `Trainer.inference_context`) works with the cache `new_cache(..., dtype=None)` makes there:
    the attention must accept the dtypes autocast computes and the cache stores (the built-in GPT's
    cache takes the autocast dtype). Checked on the CPU's bf16 autocast."""
    from harness.decode import generate

    name = _name(family)
    model = _build(family, vocab_size, block_size, seed, device)
    prompts = [[1, 2, 3], [4, 5], [6]]
    try:
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
            out = generate(model, prompts, end_token=0, max_new_tokens=4, device=device, seed=seed)
    except RuntimeError as exc:
        raise AssertionError(f"{name}: decoding under bf16 autocast failed ({exc}); a cache made under autocast "
                             "should store what the attention computes there (torch.get_autocast_dtype), or the "
                             "attention should cast its query to the cache's dtype") from exc
    assert len(out) == 3 and all(1 <= len(o) <= 4 and all(0 <= t < vocab_size for t in o) for o in out), (
        f"{name}: decoding under bf16 autocast gave {out}")


MODEL_CHECKS: list[Callable[..., None]] = [check_model_class, check_model_forward, check_model_cache,
                                           check_model_generate, check_model_autocast]


def check_model_family(family: ModelFamily, vocab_size: int = 13, block_size: int = 24, seed: int = 0,
                       device: str = "cpu", beam: bool = True) -> None:
    """Run every model-family check on a family instance (build it small: e.g. one layer)."""
    for check in MODEL_CHECKS:
        extra = {"beam": beam} if check is check_model_cache else {}
        check(family, vocab_size=vocab_size, block_size=block_size, seed=seed, device=device, **extra)


# ------------------------------------------------------------------------------------------ trainers
class TinyLM(torch.nn.Module):
    """The model `check_trainer` trains by default: token embedding, dropout, linear head (a bigram
    model; it follows the decode protocol trivially, so a trainer sees what it sees in a cell)."""

    def __init__(self, vocab_size: int, block_size: int, d: int = 32, dropout: float = 0.1):
        super().__init__()
        self.block_size = block_size
        self.emb = torch.nn.Embedding(vocab_size, d)
        self.drop = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(d, vocab_size)

    def forward(self, idx: torch.Tensor, cache: Any = None, start: int = 0, pad: Any = None) -> torch.Tensor:
        return self.head(self.drop(self.emb(idx)))

    def new_cache(self, batch: int, max_len: int, device: Any = None, dtype: Any = None) -> None:
        return None


def tiny_stream(vocab_size: int = 16, n_samples: int = 400, length: int = 12, seed: int = 0) -> TrainData:
    """A packed stream of counting samples: "up" samples (s, s+1, s+2, ... mod V) whose every target
    carries loss and "down" samples (s, s-1, ...) that carry none. A trainer that respects the loss
    flags learns to count up and not down."""
    rng = np.random.default_rng(seed)
    toks, flags = [], []
    for k in range(n_samples):
        up = k % 2 == 0
        s = int(rng.integers(vocab_size))
        toks.append((s + (1 if up else -1) * np.arange(length)) % vocab_size)
        flags.append(np.full(length, up))
    tokens = np.concatenate(toks).astype(np.int64)
    return TrainData(tokens=tokens, loss=np.concatenate(flags), n_problems=n_samples, n_distinct=n_samples,
                     vocab_size=vocab_size, sample_starts=np.arange(n_samples, dtype=np.int64) * length)


def tiny_budget(**overrides: Any) -> Budget:
    """The budget `check_trainer` trains under: 60 steps of 8 × 32 tokens (15,360 tokens)."""
    fields: dict[str, Any] = dict(name="conformance", description="conformance check", profile="pipeline",
                                  train_tokens=60 * 8 * 32, batch_size=8, block_size=32, n_train=400, n_eval=10)
    return Budget(**{**fields, **overrides})


def _targets_loss(model: torch.nn.Module, data: TrainData, device: str) -> tuple[float, float]:
    """Mean next-token cross-entropy over the stream's flagged and unflagged targets (eval mode)."""
    was = model.training
    model.eval()
    tokens = torch.as_tensor(data.tokens, device=device)
    flags = torch.as_tensor(data.loss, device=device)
    T = int(getattr(model, "block_size", 32))
    per = []
    with torch.no_grad():
        for a in range(0, len(tokens) - 1, T):
            x = tokens[a : a + T][None]
            y = tokens[a + 1 : a + T + 1]
            x = x[:, : len(y)]
            per.append(F.cross_entropy(model(x)[0].float(), y, reduction="none"))
    ce = torch.cat(per)
    f = flags[1 : len(ce) + 1]
    model.train(was)
    return float(ce[f].mean()), float(ce[~f].mean())


class _Counter:
    """Counts the tokens forwarded in training mode: what the trainer consumed."""

    def __init__(self, model: torch.nn.Module):
        self.train_tokens = 0
        self.handle = model.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        idx = args[0] if args else kwargs.get("idx")
        if module.training and isinstance(idx, torch.Tensor):
            self.train_tokens += int(idx.numel())


def _fit(trainer: Trainer, factory: ModelFactory, data: TrainData, budget: Budget, seed: int, device: str,
         evaluate: Callable[[int], dict[str, float]] | None = None, init_seed: int = 1234,
         progress: Callable[[int, int, float], Any] | None = None):
    torch.manual_seed(init_seed)  # as the pipeline does: the model is initialised from a fixed seed
    model = factory(data.vocab_size, budget.block_size).to(device)
    before = _targets_loss(model, data, device)
    counter = _Counter(model)
    try:
        result = trainer.fit(model, data, budget, torch.device(device), seed, progress=progress, evaluate=evaluate)
    finally:
        counter.handle.remove()
    assert isinstance(result, TrainResult), f"{type(trainer).__name__}.fit must return a TrainResult"
    return model, result, before, counter.train_tokens


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _factory(model_factory: ModelFactory | None) -> ModelFactory:
    return model_factory or (lambda vocab_size, block_size: TinyLM(vocab_size, block_size))


def check_trainer_learns(trainer: Trainer, model_factory: ModelFactory | None = None, budget: Budget | None = None,
                         device: str = "cpu", seed: int = 0) -> None:
    """fit lowers the loss on the targets whose loss flag is set, and learns much less (or unlearns)
    where the flag is off: `TrainData.loss` decides what is trained."""
    name = type(trainer).__name__
    data, budget = tiny_stream(), budget or tiny_budget()
    model, result, (on0, off0), _ = _fit(trainer, _factory(model_factory), data, budget, seed, device)
    on1, off1 = _targets_loss(model, data, device)
    assert on1 < 0.9 * on0, (f"{name}: fit did not lower the loss on the trained targets "
                             f"({on0:.3f} -> {on1:.3f}) in {budget.iters} steps")
    assert (off0 - off1) < 0.5 * (on0 - on1), (
        f"{name}: the loss on targets whose loss flag is off fell almost as much ({off0:.3f} -> {off1:.3f}) as on "
        f"the flagged ones ({on0:.3f} -> {on1:.3f}): train only where TrainData.loss is set")
    for step, loss in result.curve:
        assert math.isfinite(float(loss)), f"{name}: a non-finite loss in TrainResult.curve at step {step}"


def check_trainer_budget(trainer: Trainer, model_factory: ModelFactory | None = None, budget: Budget | None = None,
                         device: str = "cpu", seed: int = 0) -> None:
    """fit forwards exactly the budget's tokens (iters × batch_size × block_size, the number every cell
    of a grid is compared at), reports them as `tokens_seen` if it reports that, and calls
    `progress(done, total, loss)` with done rising to at most total = those tokens."""
    name = type(trainer).__name__
    data, budget = tiny_stream(), budget or tiny_budget()
    want = budget.iters * budget.batch_size * budget.block_size
    calls: list[tuple[float, float, float]] = []
    _, result, _, used = _fit(trainer, _factory(model_factory), data, budget, seed, device,
                              progress=lambda done, total, loss, *more: calls.append((done, total, loss)))
    assert used == want, (f"{name}: fit forwarded {used:,} tokens in training mode; the budget is {budget.iters} steps "
                          f"× {budget.batch_size} × {budget.block_size} = {want:,}")
    seen = result.metrics.get("tokens_seen")
    assert seen is None or int(seen) == want, f"{name}: reports tokens_seen={seen}, but the budget is {want:,}"
    done = [c[0] for c in calls]
    assert done == sorted(done), f"{name}: progress(done, ...) must not go backwards: {done}"
    assert all(c[1] == want and 0 <= c[0] <= want for c in calls), (
        f"{name}: progress must be called with total={want:,} and 0 <= done <= total: {calls[:3]}")


def check_trainer_deterministic(trainer: Trainer, model_factory: ModelFactory | None = None,
                                budget: Budget | None = None, device: str = "cpu", seed: int = 0) -> None:
    """The same seed (from the same initial weights) gives the same trained weights and loss; another
    seed gives other weights (seeds of a grid are replicates, not copies)."""
    name = type(trainer).__name__
    data, budget, factory = tiny_stream(), budget or tiny_budget(), _factory(model_factory)
    a, ra, _, _ = _fit(trainer, factory, data, budget, seed, device)
    b, rb, _, _ = _fit(trainer, factory, data, budget, seed, device)
    c, _, _, _ = _fit(trainer, factory, data, budget, seed + 1, device)
    wa, wb, wc = _weights(a), _weights(b), _weights(c)
    for k in wa:
        assert torch.equal(wa[k], wb[k]), f"{name}: two fits with seed {seed} gave different weights ({k})"
    assert ra.metrics.get("train_loss") == rb.metrics.get("train_loss"), f"{name}: the same seed, another train_loss"
    assert any(not torch.equal(wa[k], wc[k]) for k in wa), (
        f"{name}: seeds {seed} and {seed + 1} trained identical weights: draw the windows/order from the seed")


def check_trainer_curve(trainer: Trainer, model_factory: ModelFactory | None = None, budget: Budget | None = None,
                        device: str = "cpu", seed: int = 0) -> None:
    """With `evaluate`, fit calls it at `budget.curve_points` evenly spaced steps (before the end), with
    the model in eval mode, returns each point in `TrainResult.evals`, and trains exactly as without it."""
    name = type(trainer).__name__
    budget = (budget or tiny_budget()).model_copy(update={"curve_points": 2})
    data, factory = tiny_stream(), _factory(model_factory)
    ref, _, _, _ = _fit(trainer, factory, data, budget, seed, device)
    calls: list[tuple[int, bool]] = []
    holder: dict[str, torch.nn.Module] = {}

    def evaluate(step: int) -> dict[str, float]:
        m = holder["model"]
        calls.append((int(step), bool(m.training)))
        with torch.no_grad():
            m(torch.zeros((1, 4), dtype=torch.long, device=device))
        return {"accuracy": 0.25}

    def factory_kept(vocab_size: int, block_size: int) -> torch.nn.Module:
        holder["model"] = factory(vocab_size, block_size)
        return holder["model"]

    model, result, _, _ = _fit(trainer, factory_kept, data, budget, seed, device, evaluate=evaluate)
    steps = [s for s, _ in calls]
    assert len(calls) == budget.curve_points, (
        f"{name}: evaluate was called {len(calls)} times, not budget.curve_points={budget.curve_points}")
    assert steps == sorted(set(steps)) and all(0 < s < budget.iters for s in steps), (
        f"{name}: evaluate must be called at increasing steps before the last ({budget.iters}): {steps}")
    assert not any(training for _, training in calls), f"{name}: evaluate must be called with the model in eval mode"
    assert len(result.evals) == len(calls) and all(e.get("accuracy") == 0.25 for e in result.evals), (
        f"{name}: TrainResult.evals must hold each evaluate() point: {result.evals}")
    wr, wm = _weights(ref), _weights(model)
    assert all(torch.equal(wr[k], wm[k]) for k in wr), (
        f"{name}: a learning curve changed the training (is the model back in train mode after evaluate?)")


TRAINER_CHECKS: list[Callable[..., None]] = [check_trainer_learns, check_trainer_budget,
                                             check_trainer_deterministic, check_trainer_curve]


def check_trainer(trainer: Trainer, model_factory: ModelFactory | None = None, budget: Budget | None = None,
                  device: str = "cpu", seed: int = 0) -> None:
    """Run every trainer check. `model_factory(vocab_size, block_size)` builds the model it trains
    (default `TinyLM`; pass e.g. ``lambda v, t: family.build(v, t)`` for a family's model), `budget`
    the budget (default `tiny_budget()`: give the trainer a config that learns in its 60 steps)."""
    for check in TRAINER_CHECKS:
        check(trainer, model_factory=model_factory, budget=budget, device=device, seed=seed)
