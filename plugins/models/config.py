"""The shape of a gpt-{L}L model, apart from the model so that listing and planning need no torch."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harness import Config


class GPTConfig(Config):
    """Shape of a gpt-{L}L model. ``n_layer`` comes from the model name (gpt-8L → 8)."""

    n_layer: int = Field(gt=0, le=1024, description="transformer blocks (from the name gpt-{L}L)")
    d_model: int = Field(default=384, gt=0, le=65536, description="residual width (MazeGPT's n_embd)")
    n_head: int = Field(default=6, gt=0, le=4096, description="attention heads; must divide d_model")
    dropout: float = Field(default=0.2, ge=0.0, lt=1.0, description="dropout on attention and residuals")
    bias: bool = Field(default=False, description="biases in Linear and LayerNorm layers")
    pos: Literal["learned", "rope"] = Field(default="learned", description="position encoding")
    block_size: int | None = Field(
        default=None, gt=0, description="context length; None = the block size passed to build()"
    )

    @model_validator(mode="after")
    def _check_heads(self) -> "GPTConfig":
        if self.d_model % self.n_head != 0:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_head={self.n_head} "
                f"(each head gets d_model / n_head dimensions)"
            )
        if self.pos == "rope" and (self.d_model // self.n_head) % 2 != 0:
            raise ValueError(
                f"pos='rope' needs an even head size, but d_model / n_head = "
                f"{self.d_model}/{self.n_head} = {self.d_model // self.n_head}"
            )
        return self
