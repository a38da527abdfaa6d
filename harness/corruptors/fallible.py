"""`fallible(p)`: MazeGPT's mistakes. At each decision point (a position before an oracle step with at
least one `wrong` candidate), with probability p write one wrong step, then the task's natural undo,
then carry on with the oracle step. At most one mistake per decision point, always depth one.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from harness.interfaces import Config, Corruptor, PlanError, Problem, Step, Tag, Task


class FallibleConfig(Config):
    p: float = Field(default=0.2, ge=0.0, le=1.0, description="mistake probability per decision point")
    undo: Literal["natural"] = Field(
        default="natural", description="how a mistake is corrected: the task's natural reversal"
    )


class Fallible(Corruptor):
    """At each decision point, with probability p: one wrong step then its natural undo."""

    name = "fallible"
    description = "at each decision point, with probability p, one wrong step then its natural undo"
    Config = FallibleConfig

    def check(self, task: Task) -> None:
        if "wrong" not in task.candidate_kinds:
            raise PlanError(
                f"corruptor 'fallible' needs 'wrong' candidates, which task {task.name!r} does not "
                f"provide (it provides: {sorted(task.candidate_kinds) or 'none'})"
            )
        if not task.has_natural_undo:
            raise PlanError(
                f"corruptor 'fallible' needs a natural undo, and task {task.name!r} has none "
                "(a mistake there can only be retracted with [BACK]: use the retry family)"
            )

    def corrupt(self, task: Task, problem: Problem, trace: list[Step], rng: random.Random) -> list[Step]:
        p = self.config.p
        out: list[Step] = []
        for i, step in enumerate(trace):
            wrong = task.candidates(problem, trace, i, "wrong")
            if wrong:
                if p > 0.0 and rng.random() < p:
                    bad = wrong[rng.randrange(len(wrong))] if len(wrong) > 1 else wrong[0]
                    out.append(task.mistake(problem, bad).as_(Tag.MISTAKE, decision=True))
                    out.append(task.undo(problem, bad).as_(Tag.CORRECTION, decision=False))
                out.append(step.as_(Tag.ORACLE, decision=True))
            else:
                out.append(step)
        return out
