"""AdamW for the CPU path, written out so that training on a CPU never imports `torch._dynamo`.

`torch.optim.AdamW` imports `torch._dynamo` (about 1.5 s and ~150 MB) the first time it is built or
stepped, which every cell in a fresh worker process pays. This is the same algorithm as torch's
single-tensor AdamW (decoupled weight decay, bias-corrected moments, `eps` outside the square root;
no amsgrad, no maximize), operation for operation, so its updates equal torch's bit for bit
(tests/test_trainer.py checks that). On CUDA the trainer keeps torch's fused AdamW.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch


class AdamW:
    """The subset of the torch.optim interface the training loop uses: `param_groups` (each with its
    own "lr" and "weight_decay"), `step()` and `zero_grad(set_to_none=True)`."""

    def __init__(self, groups: Iterable[dict[str, Any]], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2):
        self.param_groups: list[dict[str, Any]] = []
        for g in groups:
            g = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, **g}
            g["params"] = list(g["params"])
            self.param_groups.append(g)
        self.state: dict[torch.Tensor, dict[str, Any]] = {}

    @torch.no_grad()
    def step(self) -> None:
        for g in self.param_groups:
            lr, (beta1, beta2), eps, wd = g["lr"], g["betas"], g["eps"], g["weight_decay"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = {"step": 0, "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                                          "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}
                st["step"] += 1
                step, exp_avg, exp_avg_sq, grad = st["step"], st["exp_avg"], st["exp_avg_sq"], p.grad
                p.mul_(1 - lr * wd)
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                step_size = lr / (1 - beta1 ** step)
                denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** step)).add_(eps)
                p.addcdiv_(exp_avg, denom, value=-step_size)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()
