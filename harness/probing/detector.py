"""A probe as a mistake detector for decoding (`regret(detector=probe)`): fitted on the cell's own
model at evaluation time, then asked at every token where its target reads (`check_tokens`).

The probe is fitted on labelled sequences of *training-side* problems (the distribution the model
learned; never the eval items), exactly as `harness probe` fits it (class-balanced; linear / MLP on
the residual stream at one layer, or the V-probe), and flags a step when its probability of the
target's `flag_class` exceeds `threshold`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from harness.interfaces import PlanError
from harness.probing.probes import ACTIVATION_PROBES, fit_probe, fit_vprobe


@dataclass
class ProbeDetector:
    """P(flag) at a position of a sequence, and the tokens after which it is asked."""

    check_tokens: frozenset[int]
    p_flag: Callable[[np.ndarray, int], float]
    threshold: float = 0.5
    description: str = ""

    def flags(self, tokens: np.ndarray, position: int) -> bool:
        return self.p_flag(tokens, position) > self.threshold


def fit_detector(model: Any, task: Any, target: Any, kind: str, layer: int, site: str, n_problems: int, seed: int,
                 device: Any, threshold: float = 0.5, vprobe: dict[str, int] | None = None) -> ProbeDetector:
    """Fit `kind` for `target` on `model` (layer −1 = the last) from `n_problems` training-side problems."""
    import torch

    from harness.data import draw_problems, stable_seed
    from harness.plugins import get_manager
    from harness.probing.run import _layers, activations
    from harness.probing.targets import labelled_sequences, target_corruptor

    if target.flag_class is None:
        raise PlanError(f"probe target {target.name!r} declares no flag_class: it cannot serve as a detector")
    if not target.applies(task):
        raise PlanError(f"probe target {target.name!r} does not apply to task {task.name!r}")
    corr = target_corruptor(get_manager(), target)
    rng = random.Random(stable_seed("detector", target.name, seed))
    problems = draw_problems(task, random.Random(stable_seed("detector-problems", seed)), n_problems, "train")
    seqs, poss, labs, _ = labelled_sequences(task, target, corr, problems, rng)
    if not seqs or len(np.unique(np.concatenate(labs))) < 2:
        raise PlanError(f"probe detector {target.name!r}: the training problems give one class only")
    flag = int(target.flag_class)
    layers = _layers(model, seqs[0], site, device)
    L = layers[layer] if kind != "vprobe" else layers[-1]
    hook = f"blocks.{L}.hook_{site if kind != 'vprobe' else 'resid_post'}"
    checks = frozenset(target.check_tokens(task))
    if kind == "vprobe":
        v = vprobe or {"rank": 8, "steps": 500}
        predict = fit_vprobe(model, seqs, poss, labs, int(target.n_classes), seed, device, rank=v["rank"], steps=v["steps"])
        return ProbeDetector(checks, lambda toks, pos: float(predict([toks], [np.array([pos])])[0, flag]), threshold,
                             f"vprobe at {hook}")
    if kind not in ACTIVATION_PROBES:
        raise PlanError(f"unknown probe {kind!r}")
    x = activations(model, seqs, poss, [hook], device)[hook]
    predict = fit_probe(kind, x, np.concatenate(labs), int(target.n_classes), seed)

    def p_flag(toks: np.ndarray, pos: int) -> float:
        with torch.no_grad():
            h = model.residual_stream(torch.from_numpy(np.asarray(toks[: pos + 1], dtype=np.int64)[None, :]).to(device))[hook]
        return float(predict(h[0, pos : pos + 1].float().cpu().numpy())[0, flag])

    return ProbeDetector(checks, p_flag, threshold, f"{kind} at {hook}")
