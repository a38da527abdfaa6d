"""The `pretrain` training loop (torch), apart from its config so that listing needs no torch.

See trainer.py for what the loop does; `Pretrain.fit` calls `fit` here.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from harness import TrainData, TrainResult
from harness_models.adamw import AdamW
from harness_models.trainer import PretrainConfig, coverage, lr_at, precision_context, resolved_precision


def make_optimizer(model: torch.nn.Module, cfg: PretrainConfig, device: torch.device) -> Any:
    params = [p for p in model.parameters() if p.requires_grad]  # shared (tied) weights appear once
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if device.type == "cuda":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=True)
    # the same updates as torch's (single-tensor) AdamW, without importing torch._dynamo (adamw.py)
    return AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))


def fit(
    cfg: PretrainConfig,
    model: torch.nn.Module,
    data: TrainData,
    budget: Any,
    device: torch.device,
    seed: int,
    progress: Callable[..., Any] | None = None,
    evaluate: Callable[[int], dict[str, float]] | None = None,
) -> TrainResult:
    """Train `model` in place on `data` under `budget` (what `Pretrain.fit` does)."""
    device = torch.device(device)
    cuda = device.type == "cuda"
    iters, B, T = int(budget.iters), int(budget.batch_size), int(budget.block_size)
    block_limit = getattr(model, "block_size", None)
    if block_limit is not None and T > block_limit:
        raise ValueError(f"budget block_size={T} exceeds the model's block_size={block_limit}")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(seed)  # dropout

    # -- the stream, on the device (tiled if shorter than one window) --------------------------
    tok_np = np.asarray(data.tokens, dtype=np.int64)
    loss_np = np.asarray(data.loss, dtype=bool)
    n_orig = len(tok_np)
    if n_orig == 0:
        raise ValueError("empty training stream")
    reps = 1 if n_orig >= T + 1 else -(-(T + 1) // n_orig)
    if reps > 1:
        tok_np, loss_np = np.tile(tok_np, reps), np.tile(loss_np, reps)
    n_stream = len(tok_np)
    tokens = torch.from_numpy(tok_np).to(device)
    flags = torch.from_numpy(loss_np).to(device=device, dtype=torch.float32)
    n_windows = n_stream - T  # window offsets o in [0, n_windows)
    window = torch.arange(T + 1, device=device)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)

    # -- model, optimiser ------------------------------------------------------------------------
    model.to(device)
    n_adapter = 0
    if cfg.lora:
        if not callable(getattr(model, "add_lora", None)):
            raise ValueError(f"lora={cfg.lora}: {type(model).__name__} has no add_lora(r, emb_r)")
        emb_r = 2 * cfg.lora if cfg.lora_embedding_rank is None else cfg.lora_embedding_rank
        n_adapter = model.add_lora(cfg.lora, emb_r)
    model.train()
    opt = make_optimizer(model, cfg, device)
    params = [p for g in opt.param_groups for p in g["params"]]
    use_compile = cfg.compile == "on" or (cfg.compile == "auto" and cuda)
    fwd = torch.compile(model) if use_compile else model
    bf16 = resolved_precision(cfg, device) == "bf16"
    autocast = precision_context(cfg, device)
    # learning-curve points: evenly spaced steps before the end (the runner evaluates the end)
    n_points = int(getattr(budget, "curve_points", 0) or 0) if evaluate is not None else 0
    eval_steps = sorted({round(k * iters / (n_points + 1)) for k in range(1, n_points + 1)} - {0, iters})
    evals: list[dict[str, float]] = []
    eval_seconds = 0.0

    log_every = max(1, iters // 100)
    losses = torch.zeros(iters, device=device)
    offsets = torch.empty((iters, B), dtype=torch.long, device=device)
    curve: list[tuple[int, float]] = []
    total_tokens = iters * B * T
    checked = 0  # losses[:checked] are known finite

    def check(upto: int) -> float:
        nonlocal checked
        chunk = losses[checked:upto]
        finite = torch.isfinite(chunk)
        mean = chunk.mean().item()  # the sync point
        if not math.isfinite(mean):
            bad = checked + int((~finite).nonzero()[0, 0]) if not bool(finite.all()) else upto - 1
            raise FloatingPointError(f"non-finite loss at step {bad}")
        checked = upto
        return mean

    t0 = time.perf_counter()
    for step in range(iters):
        lr = lr_at(step, iters, cfg)
        for g in opt.param_groups:
            g["lr"] = lr
        o = torch.randint(n_windows, (B,), generator=gen, device=device)
        offsets[step] = o
        idx = o[:, None] + window  # [B, T+1]
        w = tokens[idx]
        x, y = w[:, :-1], w[:, 1:]
        m = flags[idx[:, 1:]]
        with autocast:
            try:
                logits = fwd(x)
            except Exception as exc:  # a compile failure under "auto" falls back to eager
                if fwd is model or cfg.compile != "auto" or step > 0:
                    raise
                warnings.warn(f"torch.compile failed ({type(exc).__name__}: {exc}); training eagerly")
                fwd = model
                logits = fwd(x)
            per_tok = F.cross_entropy(
                logits.float().reshape(-1, logits.size(-1)), y.reshape(-1), reduction="none"
            )
            loss = (per_tok * m.reshape(-1)).sum() / m.sum().clamp(min=1.0)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses[step] = loss.detach()
        if (step + 1) % log_every == 0 or step + 1 == iters:
            mean = check(step + 1)
            curve.append((step + 1, mean))
            if progress is not None:
                # the optional 4th argument: structured values (tokens/s: the mean so far, curve evals excluded)
                progress((step + 1) * B * T, total_tokens, mean, {
                    "step": step + 1, "lr": lr,
                    "tokens_per_s": (step + 1) * B * T / max(time.perf_counter() - t0 - eval_seconds, 1e-9)})
        if eval_steps and step + 1 == eval_steps[0]:
            eval_steps.pop(0)
            te = time.perf_counter()
            model.eval()
            point = {"step": float(step + 1), "tokens": float((step + 1) * B * T)}
            # the global RNG (dropout) is restored afterwards: a curve never changes the training
            with torch.random.fork_rng(devices=[device] if cuda else []):
                point.update(evaluate(step + 1))
            evals.append(point)
            model.train()
            eval_seconds += time.perf_counter() - te
    if cuda:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0 - eval_seconds
    if cfg.lora:
        model.merge_lora()  # the checkpoint is a plain model of the family again
    model.eval()

    tail = max(1, iters // 10)
    train_loss = float(losses[-tail:].mean().item())
    problems_seen = coverage(
        offsets.flatten().cpu().numpy(), T, n_stream, n_orig, np.asarray(data.sample_starts)
    )
    metrics = {
        "train_loss": train_loss,
        "tokens_seen": float(total_tokens),
        "problems_seen": float(problems_seen),
        "train_seconds": seconds,
        "tokens_per_s": total_tokens / max(seconds, 1e-9),
        "iters": float(iters),
        "precision": "bf16" if bf16 else "fp32",
    }
    if cfg.lora:
        metrics["trainable_params"] = float(n_adapter)
    return TrainResult(metrics=metrics, curve=curve, evals=evals)
