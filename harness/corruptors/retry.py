"""The retry family of Physics of LMs 2.2, generic over the task seam.

Before every oracle step (the first included, never after the last), k wrong candidates are written,
each as the task's mistake prefix followed by the task's [BACK] step, then the oracle step itself.
k is geometric: another candidate follows with probability `rate` each time, so P(k ≥ j) = rate^j,
drawn without replacement at one position (capped by the number of candidates). A candidate used at
one position may be used again at a later one.

- `retry`: `wrong` candidates (provably wrong here: iGSM, not computable yet and not yet computed;
  mazes, a move into a side branch at a branching tile);
- `retry_weak`: `later` candidates (steps that appear later in the oracle trace: fake mistakes that
  teach "don't skip steps"); `self_contain=true` also allows the current step, as the public code does;
- `retry_miss`: `unused` candidates (steps the problem offers that the trace has not used yet).

`mask=true` removes the mistake tokens from the loss; the [BACK] step keeps its loss, so the model
still learns to retract.
"""

from __future__ import annotations

import random
from typing import ClassVar

from pydantic import Field

from harness.interfaces import Config, Corruptor, PlanError, Problem, Step, Task, Tag


class RetryConfig(Config):
    rate: float = Field(
        default=0.2, ge=0.0, lt=1.0,
        description="probability of one more wrong step at a position (geometric); the paper uses 0.05–0.5",
    )
    mask: bool = Field(default=False, description="no loss on the mistake tokens ([BACK] keeps its loss)")


class RetryWeakConfig(RetryConfig):
    self_contain: bool = Field(
        default=False,
        description="also allow the current step as a 'later' candidate (the public code's default; "
        "the paper's definition excludes it)",
    )


class _Retry(Corruptor):
    kind: ClassVar[str]
    Config = RetryConfig

    def check(self, task: Task) -> None:
        if self.kind not in task.candidate_kinds:
            raise PlanError(
                f"corruptor {self.name!r} needs {self.kind!r} candidates, which task {task.name!r} does "
                f"not provide (it provides: {', '.join(sorted(task.candidate_kinds)) or 'none'})"
            )
        if task.back_token is None:
            raise PlanError(f"corruptor {self.name!r} needs a [BACK] token, which task {task.name!r} lacks")

    def _candidates(self, task: Task, problem: Problem, trace: list[Step], i: int) -> list[Step]:
        return list(task.candidates(problem, trace, i, self.kind))

    def corrupt(self, task: Task, problem: Problem, trace: list[Step], rng: random.Random) -> list[Step]:
        rate = self.config.rate
        if rate <= 0.0:
            return list(trace)
        back = task.back(problem).as_(Tag.CORRECTION)
        mistake = task.mistake
        out: list[Step] = []
        for i, step in enumerate(trace):
            if rng.random() < rate:  # at least one wrong step here (if there is a candidate)
                pool = self._candidates(task, problem, trace, i)
                while pool:
                    j = rng.randrange(len(pool))
                    wrong = pool[j]
                    pool[j] = pool[-1]
                    pool.pop()
                    out.append(mistake(problem, wrong).as_(Tag.MISTAKE, decision=True))
                    out.append(back)
                    if not rng.random() < rate:
                        break
            out.append(step)
        return out

    def loss_masked_tags(self) -> frozenset[int]:
        return frozenset({Tag.MISTAKE}) if self.config.mask else frozenset()


class Retry(_Retry):
    """Before each step, k ~ geometric(rate) not-yet-possible wrong steps, each retracted with [BACK]."""

    name = "retry"
    kind = "wrong"
    description = "before each step, geometric(rate) provably wrong steps, each followed by [BACK]"


class RetryWeak(_Retry):
    """retry with fake mistakes: candidates are steps that appear later in the oracle trace."""

    name = "retry_weak"
    kind = "later"
    description = "retry with steps from later in the oracle trace as the (fake) mistakes"
    Config = RetryWeakConfig

    def _candidates(self, task: Task, problem: Problem, trace: list[Step], i: int) -> list[Step]:
        cands = list(task.candidates(problem, trace, i, self.kind))
        if self.config.self_contain:
            cands.append(trace[i])
        return cands


class RetryMiss(_Retry):
    """retry with candidates the problem offers but the trace has not used yet."""

    name = "retry_miss"
    kind = "unused"
    description = "retry with not-yet-used steps offered by the problem as the mistakes"
