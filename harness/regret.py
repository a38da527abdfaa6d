"""Retry upon regret (Physics of LMs 2.2 §3): decode, and after every step the task marks as a step
end (`Task.step_end_tokens`: an iGSM sentence's ".", a maze move) ask a detector whether the step is
a mistake; if it says so, roll back to the end of the previous step and regenerate it by sampling,
at most `max_retries` times per solution (the paper: 10; "versionP50": 50).

Detectors: `oracle` is the task's ground truth (`Task.step_ok`: can_next for iGSM, "the move leaves
the shortest path" for mazes; the paper's versionP, the perfect detector), asked at step ends;
`never` never fires (the same decoding without regret, a control); a `ProbeDetector`
(harness.probing.detector: a probe fitted on the cell's own model, the paper's version1 with the
V-probe) is asked after each token its target reads at (`check_tokens`: "Define <A> as" for
can_next), and a flag there rolls the unfinished step back too.

Rows are decoded one at a time over the model's KV cache: a rollback only moves the row's write
position back (entries past it are overwritten and never attended to), so no prefix is recomputed.
Each row's extras: `retries` (regenerations used), `steps` (checks made), `flagged` (checks the
detector flagged), `bad` (checks the task's ground truth calls mistakes), `flagged_bad`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from harness.decode import _as_lists, _caps
from harness.interfaces import PlanError


@torch.inference_mode()
def regret_decode(
    model: torch.nn.Module,
    prompts: Sequence[np.ndarray | Sequence[int]],
    *,
    task: Any,
    problems: Sequence[Any],
    end_token: int,
    max_new_tokens: int | Sequence[int],
    detector: Any = "oracle",
    max_retries: int = 10,
    first: str = "greedy",
    temperature: float = 1.0,
    device: torch.device | str = "cpu",
    seed: int = 0,
) -> list[tuple[list[int], dict[str, int]]]:
    """(completion ids, extras) per prompt, in the prompts' order."""
    ends = frozenset(getattr(task, "step_end_tokens", frozenset()))
    if not ends:
        raise PlanError(f"the regret decoder needs step ends; task {task.name!r} declares no step_end_tokens")
    if isinstance(detector, str) and detector not in ("oracle", "never"):
        raise PlanError(f"unknown regret detector {detector!r}; use oracle, never or a fitted ProbeDetector")
    device = torch.device(device)
    model.eval()
    plist = _as_lists(prompts)
    caps = _caps(model, plist, max_new_tokens)
    out = []
    for i, (prompt, cap, problem) in enumerate(zip(plist, caps, problems)):
        gen = torch.Generator(device=device)
        gen.manual_seed((seed * 1_000_003 + i) % (2**63))
        out.append(_one(model, prompt, cap, problem, task, end_token, ends, detector, max_retries, first,
                        temperature, device, gen))
    return out


def _one(model, prompt: list[int], cap: int, problem: Any, task: Any, end: int, ends: frozenset[int], detector: str,
         max_retries: int, first: str, temperature: float, device: torch.device,
         gen: torch.Generator) -> tuple[list[int], dict[str, int]]:
    stats = {"retries": 0, "steps": 0, "flagged": 0, "bad": 0, "flagged_bad": 0}
    probe = None if isinstance(detector, str) else detector
    checks = ends if probe is None else probe.check_tokens
    ids: list[int] = []
    if cap == 0:
        return ids, stats
    P = len(prompt)
    cache = model.new_cache(1, P + cap, device, None)
    logits = model(torch.tensor([prompt], dtype=torch.long, device=device), cache=cache, start=0)[:, -1]
    boundary, boundary_logits, resampling = 0, logits, False
    while len(ids) < cap:
        if resampling or first == "sample":
            probs = torch.softmax(logits.float() / temperature, dim=-1)
            tok = int(torch.multinomial(probs, 1, generator=gen))
        else:
            tok = int(logits.argmax(-1))
        ids.append(tok)
        if tok == end:
            break
        if tok in checks:
            ok = task.step_ok(problem, ids)
            stats["steps"] += 1
            bad = ok is False
            if probe is not None:
                flag = probe.flags(np.asarray(prompt + ids, dtype=np.int64), P + len(ids) - 1)
            else:
                flag = detector == "oracle" and bad
            stats["bad"] += bad
            stats["flagged"] += flag
            stats["flagged_bad"] += flag and bad
            if flag and stats["retries"] < max_retries:
                stats["retries"] += 1
                del ids[boundary:]
                logits, resampling = boundary_logits, True
                continue
            if tok in ends:
                resampling = False
        if len(ids) == cap:
            break
        logits = model(torch.tensor([[tok]], dtype=torch.long, device=device), cache=cache, start=P + len(ids) - 1)[:, -1]
        if tok in ends:
            boundary, boundary_logits = len(ids), logits
    return ids, stats
