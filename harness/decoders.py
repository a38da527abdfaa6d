"""Decoders: how a model's completions are produced at evaluation. Registered components like every
other noun (`harness_register_decoders`), chosen per run (`--decoder`), part of each cell's identity,
so beam search or retry-upon-regret can be added as plugins.

The built-ins (this module is the built-in plugin that registers them):
- `sample` (the default): softmax sampling at `temperature`, by default the budget's (0.1, as MazeGPT
  evaluated); temperature 0 is greedy;
- `greedy`: argmax at every step.
Both run `harness.decode.generate` (batched, left-padded, KV cache) on any model that follows the
decode protocol (`harness.interfaces.DecodableModel`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from harness.hookspecs import hookimpl
from harness.interfaces import Config, Decoder

if TYPE_CHECKING:  # pragma: no cover
    from harness.budgets import Budget


class SampleConfig(Config):
    temperature: float = Field(default=0.1, ge=0.0, description="softmax temperature (0 = greedy)")


class Sample(Decoder):
    """softmax sampling at a temperature (default: the budget's, 0.1 as MazeGPT); 0 is greedy"""

    name: ClassVar[str] = "sample"
    description: ClassVar[str] = "softmax sampling at `temperature` (default: the budget's, 0.1 as MazeGPT); 0 = greedy"
    Config: ClassVar[type[SampleConfig]] = SampleConfig

    @classmethod
    def budget_defaults(cls, budget: "Budget") -> dict[str, Any]:
        return {"temperature": budget.temperature}

    def generate(self, model, prompts, *, end_token, max_new_tokens, batch_size, device, seed):
        from harness.decode import generate

        return generate(model, prompts, end_token=end_token, max_new_tokens=max_new_tokens,
                        temperature=self.config.temperature, batch_size=batch_size, device=device, seed=seed)


class GreedyConfig(Config):
    pass


class Greedy(Decoder):
    """argmax at every step"""

    name: ClassVar[str] = "greedy"
    description: ClassVar[str] = "argmax at every step"
    Config: ClassVar[type[GreedyConfig]] = GreedyConfig

    def generate(self, model, prompts, *, end_token, max_new_tokens, batch_size, device, seed):
        from harness.decode import generate

        return generate(model, prompts, end_token=end_token, max_new_tokens=max_new_tokens,
                        temperature=0.0, batch_size=batch_size, device=device, seed=seed)


@hookimpl
def harness_register_decoders(register):
    register(Sample, default=True)
    register(Greedy)
