"""Decision-point behaviour (the seed study's table of moves at branching points), generic over tasks.

With teacher forcing on held-out oracle traces:
- `dp_correct_prob`: mean probability the model gives the first token of the oracle step at decision
  points (positions with ≥1 `wrong` candidate);
- `dp_undo_prob`: after an injected wrong step (each wrong candidate in turn), the mean probability of
  the first token of the task's natural undo. Only for tasks with a natural undo.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.interfaces import Problem, Tag, Task


def decision_metrics(
    model, task: Task, problems: Sequence[Problem], device, batch_size: int = 256
) -> dict[str, float]:
    from harness.decode import teacher_forced_logprobs

    if "wrong" not in task.candidate_kinds or not problems:
        return {}
    seqs, pos, tgt = [], [], []
    useqs, upos, utgt = [], [], []
    for p in problems:
        trace = task.oracle(p)
        enc = task.encode(p, trace)
        for i, step in enumerate(trace):
            wrong = task.candidates(p, trace, i, "wrong")
            if not wrong:
                continue
            s = enc.step_spans[i][0]
            seqs.append(enc.tokens)
            pos.append(s)
            tgt.append(int(enc.tokens[s]))
            if not task.has_natural_undo:
                continue
            for w in wrong:
                t2 = [*trace[:i], task.mistake(p, w).as_(Tag.MISTAKE), task.undo(p, w).as_(Tag.CORRECTION), *trace[i:]]
                enc2 = task.encode(p, t2)
                s2 = enc2.step_spans[i + 1][0]
                useqs.append(enc2.tokens)
                upos.append(s2)
                utgt.append(int(enc2.tokens[s2]))
    out: dict[str, float] = {"dp_n": float(len(seqs))}
    if seqs:
        lp = teacher_forced_logprobs(model, seqs, pos, tgt, batch_size=batch_size, device=device)
        out["dp_correct_prob"] = float(np.exp(lp).mean())
    if useqs:
        lp = teacher_forced_logprobs(model, useqs, upos, utgt, batch_size=batch_size, device=device)
        out["dp_undo_prob"] = float(np.exp(lp).mean())
        out["dp_undo_n"] = float(len(useqs))
    return out
