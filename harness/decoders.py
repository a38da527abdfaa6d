"""Decoders: how a model's completions are produced at evaluation. Registered components like every
other noun (`harness_register_decoders`), chosen per run (`--decoder`), part of each cell's identity,
so beam search or retry-upon-regret can be added as plugins.

The built-ins (this module is the built-in plugin that registers them):
- `sample` (the default): softmax sampling at `temperature`, by default the budget's (0.1, as MazeGPT
  evaluated); temperature 0 is greedy;
- `greedy`: argmax at every step;
- `beam(k, sample, temperature, length_penalty)`: batched beam search (harness/beam.py);
- `regret(detector, max_retries, first, temperature)`: retry upon regret (harness/regret.py).
The first two run `harness.decode.generate` (batched, left-padded, KV cache) on any model that follows the
decode protocol (`harness.interfaces.DecodableModel`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from harness.hookspecs import hookimpl
from harness.interfaces import Config, Decoder, PlanError
from harness.metrics import Metric

if TYPE_CHECKING:  # pragma: no cover
    from harness.budgets import Budget


class SampleConfig(Config):
    temperature: float = Field(default=0.1, ge=0.0, description="softmax temperature (0 = greedy)")


class Sample(Decoder):
    """softmax sampling at a temperature (default: the budget's, 0.1 as MazeGPT); 0 is greedy"""

    name: ClassVar[str] = "sample"
    #: 2: rows that ended leave the batch (harness.decode.generate), so a seed draws other samples than in 1
    version: ClassVar[str] = "2"
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


class RegretConfig(Config):
    detector: Literal["oracle", "never", "probe"] = Field(
        default="oracle", description="oracle: the task's ground truth on each step (the paper's versionP); never: "
                                      "no detector (the same decoding without regret, a control); probe: a probe "
                                      "fitted on this cell's model at evaluation time (the paper's version1)")
    target: str = Field(default="", description="detector=probe: the probe target (a spec item, e.g. can_next or "
                                                "on_mistake); default: the first registered target for the task")
    probe: Literal["linear", "mlp", "mlp2", "vprobe"] = Field(
        default="linear", description="detector=probe: which probe (vprobe = the paper's version1, slower to fit)")
    layer: int = Field(default=-1, description="detector=probe: block index of the residual stream read "
                                               "(−1 = the last; the V-probe always reads the last)")
    probe_problems: int = Field(default=400, ge=10, description="detector=probe: training-side problems to fit on")
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0, description="detector=probe: flag when P(flag) exceeds this")
    max_retries: int = Field(default=10, ge=0, description="regenerations per solution at most (the paper: 10; "
                                                           "versionP50: 50)")
    first: Literal["greedy", "sample"] = Field(default="greedy", description="how steps are written before any regret "
                                                                            "(regenerations are always sampled)")
    temperature: float = Field(default=1.0, gt=0.0, description="softmax temperature of sampled steps (the paper: "
                                                                "multinomial, 1.0)")


class Regret(Decoder):
    """retry upon regret (harness.regret): roll back a step the detector flags and resample it"""

    name: ClassVar[str] = "regret"
    description: ClassVar[str] = ("retry upon regret (Physics of LMs 2.2): after each step the detector flags, roll "
                                  "back and resample, at most max_retries times")
    Config: ClassVar[type[RegretConfig]] = RegretConfig
    needs_task: ClassVar[bool] = True
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("retries", "retries / item", "regenerations used per eval item", higher_is_better=None),
        Metric("flagged", "flagged / item", "steps the detector flagged per eval item", higher_is_better=None),
        Metric("detector_precision", "detector precision",
               "of the model's own steps the detector flagged, the share the task's ground truth calls mistakes",
               format="percent"),
        Metric("detector_recall", "detector recall",
               "of the model's own steps the ground truth calls mistakes, the share the detector flagged",
               format="percent"),
    )

    def generate(self, model, prompts, *, end_token, max_new_tokens, batch_size, device, seed, task=None,
                 problems=None):
        from harness.regret import regret_decode

        if task is None or problems is None:
            raise PlanError("the regret decoder needs the task and the problems (Decoder.needs_task)")
        c = self.config
        detector: Any = c.detector
        if c.detector == "probe":
            detector = self._fit_probe(model, task, device, seed)
        return regret_decode(model, prompts, task=task, problems=problems, end_token=end_token,
                             max_new_tokens=max_new_tokens, detector=detector, max_retries=c.max_retries,
                             first=c.first, temperature=c.temperature, device=device, seed=seed)

    def _fit_probe(self, model, task, device, seed):
        from harness.planning import resolve_one
        from harness.plugins import get_manager
        from harness.probing.detector import fit_detector

        c, m = self.config, get_manager()
        if c.target:
            target = resolve_one(m, "probe_target", c.target, m.budget("default"), "regret target").instantiate()
        else:
            fits = [e.cls(e.cls.Config()) for e in m.entries["probe_target"].values()]
            fits = [t for t in fits if t.applies(task) and t.flag_class is not None]
            if not fits:
                raise PlanError(f"regret(detector=probe): no probe target with a flag class applies to task {task.name!r}")
            target = fits[0]
        return fit_detector(model, task, target, c.probe, c.layer, "resid_post", c.probe_problems, seed % (2**31),
                            device, threshold=c.threshold)

    def summarize(self, extras):
        tot = {k: sum(int(e.get(k, 0)) for e in extras) for k in ("flagged", "bad", "flagged_bad")}
        out = {k: sum(float(e.get(k, 0)) for e in extras) / max(1, len(extras)) for k in ("retries", "flagged")}
        if tot["flagged"]:
            out["detector_precision"] = tot["flagged_bad"] / tot["flagged"]
        if tot["bad"]:
            out["detector_recall"] = tot["flagged_bad"] / tot["bad"]
        return out


@hookimpl
def harness_register_decoders(register):
    register(Sample, default=True)
    register(Greedy)
    register(Beam)
    register(Regret)
