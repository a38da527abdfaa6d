"""`oracle` (alias `none`): the oracle trace, unchanged."""

from __future__ import annotations

import random

from harness.interfaces import Config, Corruptor, Problem, Step, Task


class OracleConfig(Config):
    pass


class Oracle(Corruptor):
    """No mistakes: the task's oracle solution as it is."""

    name = "oracle"
    description = "no mistakes: the oracle solution as it is"
    Config = OracleConfig

    def corrupt(self, task: Task, problem: Problem, trace: list[Step], rng: random.Random) -> list[Step]:
        return list(trace)
