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

import math
from typing import Any, Callable, ClassVar, Literal

import numpy as np
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


def resolved_precision(cfg: PretrainConfig, device: Any) -> str:
    """"bf16" or "fp32": what `precision` means on this device (auto: bf16 on CUDA, fp32 elsewhere)."""
    cuda = getattr(device, "type", str(device)) == "cuda"
    return "bf16" if cfg.precision == "bf16" or (cfg.precision == "auto" and cuda) else "fp32"


def precision_context(cfg: PretrainConfig, device: Any) -> Any:
    """The context the model runs in, training and scoring alike: bf16 autocast, or none for fp32."""
    import contextlib

    import torch

    device = torch.device(device)
    if resolved_precision(cfg, device) == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def lr_at(step: int, iters: int, cfg: PretrainConfig) -> float:
    """Linear warm-up to cfg.lr over warmup_iters, then cosine to cfg.min_lr at the last step."""
    if step < cfg.warmup_iters:
        return cfg.lr * (step + 1) / (cfg.warmup_iters + 1)
    span = max(1, iters - cfg.warmup_iters)
    ratio = min(1.0, (step - cfg.warmup_iters) / span)
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg.lr - cfg.min_lr)


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
    version: ClassVar[str] = "2"  # 2: scored in the precision it trains in (bf16 autocast on CUDA)
    description: ClassVar[str] = (
        "nanoGPT-style training on random windows of the packed stream (AdamW, warm-up + cosine, "
        "grad clip, bf16 on CUDA); loss averaged over loss-flagged targets"
    )
    Config: ClassVar[type[PretrainConfig]] = PretrainConfig

    @classmethod
    def budget_defaults(cls, budget: Budget) -> dict[str, Any]:
        if budget.profile == "cpu":
            # precision stays "auto" (fp32 on a CPU, as nanoGPT trains there): bf16 autocast measured
            # 0.13x fp32's tokens/s on an EPYC without bf16 instructions and 0.93x on a Xeon with AMX
            # (`harness bench --only precision`, BENCHMARKS.md)
            return {"lr": 3e-3, "min_lr": 3e-4, "warmup_iters": 200}
        if budget.profile == "pipeline":
            return {"lr": 3e-3, "min_lr": 3e-4, "warmup_iters": 10}
        return {}

    @property
    def loss_on(self) -> str:
        return self.config.loss_on

    def inference_context(self, device: Any) -> Any:
        """bf16 autocast where training ran in it (the model is scored as it was trained; on CUDA the
        KV cache is then bf16 too, and autocast casts each weight once per evaluation), else none."""
        return precision_context(self.config, device)

    def fit(
        self,
        model: Any,
        data: TrainData,
        budget: Any,
        device: Any,
        seed: int,
        progress: Callable[..., Any] | None = None,
        evaluate: Callable[[int], dict[str, float]] | None = None,
    ) -> TrainResult:
        from harness_models.loop import fit  # torch: imported when a cell trains, not when listing

        return fit(self.config, model, data, budget, device, seed, progress, evaluate)
