"""The gpt-{L}L model family: nanoGPT-style decoders whose depth comes from the name."""

from __future__ import annotations

from typing import Any, ClassVar

from harness import Budget
from harness import ModelFamily
from harness_models.config import GPTConfig


class _GPTClass:
    """`GPTFamily.model_class`, imported when first asked for: listing the family needs no torch."""

    def __get__(self, obj, owner=None) -> type:
        from harness_models.model import GPT

        return GPT


class GPTFamily(ModelFamily):
    """nanoGPT-style GPT (pre-LN, GELU MLP, tied head); gpt-6L at d384 ≈ 10.6M non-embedding params."""

    name: ClassVar[str] = "gpt-{L}L"
    pattern: ClassVar[str] = r"gpt-(?P<n_layer>\d+)L"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = (
        "nanoGPT-style GPT with L layers (pre-LN, GELU 4x MLP, weight-tied head, learned or RoPE "
        "positions); MazeGPT defaults d_model=384, 6 heads, dropout 0.2"
    )
    Config: ClassVar[type[GPTConfig]] = GPTConfig
    model_class = _GPTClass()

    def build(self, vocab_size: int, block_size: int):
        from harness_models.model import GPT

        return GPT(self.config, vocab_size, block_size)

    @classmethod
    def budget_defaults(cls, budget: Budget) -> dict[str, Any]:
        if budget.profile == "cpu":  # learns on 2 cores: narrow, rotary, no dropout (fresh data every step)
            return {"d_model": 128, "n_head": 4, "dropout": 0.0, "pos": "rope"}
        if budget.profile == "pipeline":
            return {"d_model": 64, "n_head": 4, "dropout": 0.0}
        return {}
