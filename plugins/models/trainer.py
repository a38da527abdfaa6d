"""`pretrain`: nanoGPT's training loop over a packed token stream, under a token budget.

Each step draws `batch_size` random windows of `block_size + 1` tokens from the packed stream (kept on
the device; windows are gathered by index arithmetic), and minimises next-token cross-entropy averaged
over the targets whose loss flag is set (`TrainData.loss`). AdamW (weight decay on 2-D weights only,
fused on CUDA), linear warm-up then cosine decay to `min_lr`, gradient clipping, bf16 autocast (by default
on CUDA; `precision="bf16"` on CPU too), TF32 on CUDA, optional torch.compile. With an `evaluate`
callback it pauses at `budget.curve_points` evenly spaced steps to record a learning curve. The loop never synchronises with the device except at log points
(about every 1% of the steps), where it also checks that the loss is finite.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from typing import Any, Callable, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field

from harness import Budget
from harness import TrainData, Trainer, TrainerConfig, TrainResult


class PretrainConfig(TrainerConfig):
    lr: float = Field(default=1e-3, gt=0, description="peak learning rate")
    min_lr: float = Field(default=1e-4, ge=0, description="learning rate at the end of the cosine")
    warmup_iters: int = Field(default=100, ge=0, description="linear warm-up steps")
    weight_decay: float = Field(default=0.1, ge=0, description="AdamW decay (2-D weights only)")
    beta1: float = Field(default=0.9, ge=0, lt=1)
    beta2: float = Field(default=0.99, ge=0, lt=1)
    grad_clip: float = Field(default=1.0, ge=0, description="max grad norm; 0 disables clipping")
    compile: Literal["auto", "on", "off"] = Field(
        default="auto", description="torch.compile the model (auto: on for CUDA, off on CPU)"
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto",
        description="matmul precision: bf16 autocast (weights and optimiser stay fp32) or fp32; "
        "auto = bf16 on CUDA, fp32 on CPU",
    )
    loss_on: Literal["all", "completion"] = Field(
        default="all",
        description="which tokens carry loss: all, or completion only (the core builds the mask)",
    )
    lora: int = Field(
        default=0, ge=0, json_schema_extra={"identity": "when_set"},
        description="LoRA rank r: freeze the model and train rank-r adapters on every block's query and value "
        "projections (and 2r on the token embedding), merged into the weights at the end (Physics of LMs "
        "2.2's fine-tuning recipe); 0 = train every weight",
    )
    lora_embedding_rank: int | None = Field(
        default=None, ge=0, json_schema_extra={"identity": "when_set"},
        description="rank of the embedding adapter (default 2·lora, the paper's; 0 = none). The embedding is tied "
        "to the output head, so its update moves both (what merging an adapter into a tied GPT-2 does)",
    )


def lr_at(step: int, iters: int, cfg: PretrainConfig) -> float:
    """Linear warm-up to cfg.lr over warmup_iters, then cosine to cfg.min_lr at the last step."""
    if step < cfg.warmup_iters:
        return cfg.lr * (step + 1) / (cfg.warmup_iters + 1)
    span = max(1, iters - cfg.warmup_iters)
    ratio = min(1.0, (step - cfg.warmup_iters) / span)
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg.lr - cfg.min_lr)


def make_optimizer(model: torch.nn.Module, cfg: PretrainConfig, device: torch.device) -> torch.optim.AdamW:
    params = [p for p in model.parameters() if p.requires_grad]  # shared (tied) weights appear once
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    extra = {"fused": True} if device.type == "cuda" else {}
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), **extra)


def coverage(offsets: np.ndarray, block: int, n_stream: int, n_orig: int, starts: np.ndarray) -> int:
    """How many samples had ≥1 target token (index o+1..o+block of a window at o) in some window.

    The stream may be a tiling of the original (n_stream = reps · n_orig); coverage folds back."""
    if len(starts) == 0 or len(offsets) == 0:
        return 0
    diff = np.zeros(n_stream + 1, dtype=np.int64)
    np.add.at(diff, offsets + 1, 1)
    np.add.at(diff, np.minimum(offsets + block + 1, n_stream), -1)
    covered = np.cumsum(diff[:-1]) > 0
    if n_stream != n_orig:
        covered = covered.reshape(-1, n_orig).any(axis=0)
    starts = np.asarray(starts, dtype=np.int64)
    hit = np.add.reduceat(covered.astype(np.int64), starts) > 0
    return int(hit.sum())


class Pretrain(Trainer):
    """nanoGPT pre-training on the packed stream: random windows, AdamW, warm-up + cosine, clipping."""

    name: ClassVar[str] = "pretrain"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = (
        "nanoGPT-style training on random windows of the packed stream (AdamW, warm-up + cosine, "
        "grad clip, bf16 on CUDA); loss averaged over loss-flagged targets"
    )
    Config: ClassVar[type[PretrainConfig]] = PretrainConfig

    @classmethod
    def budget_defaults(cls, budget: Budget) -> dict[str, Any]:
        if budget.profile == "cpu":
            return {"lr": 3e-3, "min_lr": 3e-4, "warmup_iters": 200, "precision": "bf16"}
        if budget.profile == "pipeline":
            return {"lr": 3e-3, "min_lr": 3e-4, "warmup_iters": 10}
        return {}

    @property
    def loss_on(self) -> str:
        return self.config.loss_on

    def fit(
        self,
        model: torch.nn.Module,
        data: TrainData,
        budget: Any,
        device: torch.device,
        seed: int,
        progress: Callable[[int, int, float], Any] | None = None,
        evaluate: Callable[[int], dict[str, float]] | None = None,
    ) -> TrainResult:
        cfg: PretrainConfig = self.config
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
        bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and cuda)
        autocast = (
            torch.autocast(device_type=device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        )
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
                    progress((step + 1) * B * T, total_tokens, mean)
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
