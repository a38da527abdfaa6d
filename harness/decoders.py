"""Decoders: how a model's completions are produced at evaluation. Registered components like every
other noun (`harness_register_decoders`), chosen per run (`--decoder`), part of each cell's identity,
so beam search or retry-upon-regret can be added as plugins.

The built-ins (this module is the built-in plugin that registers them):
- `sample` (the default): softmax sampling at `temperature`, by default the budget's (0.1, as MazeGPT
  evaluated); temperature 0 is greedy;
- `greedy`: argmax at every step;
- `beam(k, sample, temperature, length_penalty)`: batched beam search (harness/beam.py).
The first two run `harness.decode.generate` (batched, left-padded, KV cache) on any model that follows the
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


class BeamConfig(Config):
    k: int = Field(default=4, ge=1, description="beam width (Physics of LMs: 4 with sampling; 16 and 32 for the "
                                                "error-free baseline)")
    sample: bool = Field(default=False, description="beam sample: draw the 2k candidates (Hugging Face's do_sample=True "
                                                    "with beams, the paper's setting) instead of taking the best")
    temperature: float = Field(default=1.0, gt=0.0, description="softmax temperature of the sampled candidates")
    length_penalty: float = Field(default=1.0, description="hypotheses ranked by logprob / length^penalty "
                                                           "(Hugging Face's default 1.0; 0 = total log-probability)")


class Beam(Decoder):
    """batched beam search over the KV cache (harness.beam): k beams, optionally sampled"""

    name: ClassVar[str] = "beam"
    description: ClassVar[str] = ("batched beam search over the KV cache; beam(k=4, sample=true) is the paper's "
                                  "setting; k=1 is greedy")
    Config: ClassVar[type[BeamConfig]] = BeamConfig

    def generate(self, model, prompts, *, end_token, max_new_tokens, batch_size, device, seed):
        from harness.beam import beam_search

        c = self.config
        hyps = beam_search(model, prompts, end_token=end_token, max_new_tokens=max_new_tokens, k=c.k, sample=c.sample,
                           temperature=c.temperature, length_penalty=c.length_penalty, batch_size=batch_size,
                           device=device, seed=seed)
        return [h[0].tokens if h else [] for h in hyps]


@hookimpl
def harness_register_decoders(register):
    register(Sample, default=True)
    register(Greedy)
    register(Beam)
