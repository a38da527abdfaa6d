"""Probe targets: what a probe is asked to read off the residual stream, registered by tasks
(`harness_register_probe_targets`) so a third-party task adds its own.

A target labels sequences: by default the one encoded sample of a (corrupted) trace
(`labels`), or any number of sequences built from it (`examples`, e.g. a solution prefix with one
query appended per parameter). A target that can also label the *model's own* completion
(`own_steps`) gets the regret rows: how often a probe flags the model's first wrong step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field

from harness.interfaces import Config, Encoded, Problem, Registered, Step, Tag


@dataclass
class ProbeExample:
    """One sequence to probe: its token ids, the positions read (the model has read that token) and
    an integer class per position."""

    tokens: np.ndarray
    positions: np.ndarray
    labels: np.ndarray


@dataclass
class OwnSteps:
    """The model's own completion labelled at its steps: `tokens` = prompt + completion, `positions`
    of its steps up to and including its first wrong one, their `labels`, and `first_wrong`, the
    index (into positions) of that first wrong step, or None when it made no wrong step."""

    tokens: np.ndarray
    positions: np.ndarray
    labels: np.ndarray
    first_wrong: int | None


class ProbeTarget(Registered):
    """What a probe is asked to read off the residual stream, for the tasks it applies to."""

    #: task names it applies to (empty: any task)
    tasks: ClassVar[frozenset[str]] = frozenset()
    #: the corruptor (a spec item, e.g. "fallible(p=0.5)") whose traces are labelled
    corruptor: ClassVar[str] = "oracle"
    #: number of classes of the labels
    n_classes: ClassVar[int] = 2
    #: the class that says "this step is wrong" (a detector's flag), for the regret rows; None: no such class
    flag_class: ClassVar[int | None] = None

    def applies(self, task: Any) -> bool:
        return not self.tasks or task.name in self.tasks

    def labels(self, task: Any, problem: Problem, trace: Sequence[Step], enc: Encoded) -> tuple[np.ndarray, np.ndarray]:
        """(positions, labels) over the encoded trace: the token positions whose residual stream is
        probed and an integer class per position. Override this or `examples`."""
        raise NotImplementedError(f"probe target {self.name!r} defines neither labels nor examples")

    def examples(self, task: Any, problem: Problem, trace: Sequence[Step], enc: Encoded,
                 rng: random.Random) -> list[ProbeExample]:
        """The labelled sequences of one problem (default: the encoded trace with `labels`)."""
        pos, lab = self.labels(task, problem, trace, enc)
        return [ProbeExample(enc.tokens, np.asarray(pos, dtype=np.int64), np.asarray(lab, dtype=np.int64))]

    def check_tokens(self, task: Any) -> frozenset[int]:
        """The generated tokens after which a decoder asks this target's probe (the token it reads at;
        default: the task's step ends)."""
        return frozenset(getattr(task, "step_end_tokens", frozenset()))

    def own_steps(self, task: Any, problem: Problem, completion: Sequence[int]) -> OwnSteps | None:
        """The model's own `completion` (generated ids) labelled at its steps, for the regret rate;
        None when this target cannot label generated text (the default)."""
        return None


def target_corruptor(manager: Any, target: ProbeTarget) -> Any:
    """The corruptor whose traces `target` labels, built from its spec item."""
    from harness.planning import resolve_one

    return resolve_one(manager, "corruptor", target.corruptor, manager.budget("default"),
                       "probe target corruptor").instantiate()


def labelled_sequences(task: Any, target: ProbeTarget, corr: Any, problems: Sequence[Problem],
                       rng: random.Random) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[int]]:
    """(tokens, positions, labels, problem index) of every labelled sequence `target` makes from the
    corrupted traces of `problems` (sequences without a position are dropped)."""
    seqs, poss, labs, groups = [], [], [], []
    for gi, p in enumerate(problems):
        trace = corr.corrupt(task, p, task.oracle(p), rng)
        for ex in target.examples(task, p, trace, task.encode(p, trace), rng):
            if len(ex.positions):
                seqs.append(np.asarray(ex.tokens, dtype=np.int64))
                poss.append(np.asarray(ex.positions, dtype=np.int64))
                labs.append(np.asarray(ex.labels, dtype=np.int64))
                groups.append(gi)
    return seqs, poss, labs, groups


class OnMistakeConfig(Config):
    at: Literal["mistake", "correction"] = Field(
        default="mistake",
        description="which token is labelled 1: the wrong step's first token (the later MazeGPT code) or the "
        "correction's first token (the blog-time notebook); they differ by one position")
    p: float = Field(default=0.5, gt=0.0, le=1.0, description="fallible's mistake rate for the probed traces")


class OnMistake(ProbeTarget):
    """1 on the token where the trace is on a mistake, 0 on every other completion step token"""

    name: ClassVar[str] = "on_mistake"
    description: ClassVar[str] = ("is the model on a mistake? (fallible traces; label 1 on the wrong step's token, "
                                  "or on the correction's with at=correction)")
    Config: ClassVar[type[OnMistakeConfig]] = OnMistakeConfig
    flag_class: ClassVar[int | None] = 1

    @property
    def corruptor(self) -> str:  # type: ignore[override]
        return f"fallible(p={self.config.p})"

    def applies(self, task: Any) -> bool:
        return "wrong" in task.candidate_kinds and task.has_natural_undo

    def own_steps(self, task: Any, problem: Problem, completion: Sequence[int]) -> OwnSteps | None:
        """The model's own steps (tokens the task marks as step ends), labelled 1 where the task's
        ground truth (`step_ok`) calls the step a mistake, up to the first one; at=mistake only."""
        ends = frozenset(getattr(task, "step_end_tokens", frozenset()))
        if self.config.at != "mistake" or not ends:
            return None
        prompt = np.asarray(task.encode_prompt(problem), dtype=np.int64)
        ids = [int(t) for t in completion]
        positions, labels, first = [], [], None
        for j, t in enumerate(ids):
            if t not in ends:
                continue
            ok = task.step_ok(problem, ids[: j + 1])
            if ok is None:
                return None  # the task cannot judge its steps
            positions.append(len(prompt) + j)
            labels.append(int(not ok))
            if not ok:
                first = len(labels) - 1
                break
        if not positions:
            return None
        return OwnSteps(np.concatenate([prompt, np.asarray(ids, dtype=np.int64)]), np.array(positions),
                        np.array(labels), first)

    def labels(self, task, problem, trace, enc):
        want = Tag.MISTAKE if self.config.at == "mistake" else Tag.CORRECTION
        pos = np.array([a for a, _ in enc.step_spans], dtype=np.int64)
        lab = np.array([int(s.tag == want) for s in trace], dtype=np.int64)
        return pos, lab
