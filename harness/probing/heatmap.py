"""MazeGPT's probe heatmap (`harness probe --heatmap`): take one held-out corrupted sample, cut it
right after its first flagged step (the wrong move, or its correction with `at=correction`), move
the task's goal over every place it can be (`Task.goal_variants`), and plot the probe's P(flag) at
that step for each goal position.

Beside it, the ground truth for each goal position, from the task's own oracle for the moved goal:
1 where the trace before the mistake step follows the new goal's oracle and the mistake step leaves
it (the step is a mistake for that goal), 0 where the mistake step follows it too (it is on the way),
undefined where the trace had already left it before. Their agreement
(`heatmap_balanced_accuracy`, probe P(flag) > 0.5 against that truth, pooled over up to 20
samples) says whether the probe reads "this step is wrong for this goal" or only "a step was taken
at a decision point". The same agreement for
the probes fitted on the untrained model is the control (`weights = random-init`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.interfaces import Tag


@dataclass
class GoalHeatmapInput:
    """The sequences of one heatmap: per goal position its cell, tokens, the read position, truth."""

    shape: tuple[int, int]
    cells: list[tuple[int, int]]
    seqs: list[np.ndarray]
    poss: list[np.ndarray]
    truth: np.ndarray  # 1 mistake, 0 on the way, nan undefined
    marks: dict[str, tuple[int, int]]
    problem_index: int


def goal_heatmap_inputs(task: Any, target: Any, corr: Any, problems: list, seed: int,
                        limit: int = 20) -> list[GoalHeatmapInput]:
    """Heatmap sequences for up to `limit` of `problems` whose corrupted trace has a flagged step (the
    first is drawn; all count in the agreement); empty when the task has no goal variants."""
    flag = target.flag_class
    if flag is None:
        return []
    rng = random.Random(seed)
    out: list[GoalHeatmapInput] = []
    while len(out) < limit and problems:
        h = _one(task, target, corr, problems, rng, flag)
        if h is None:
            break
        out.append(h)
        problems = problems[h.problem_index + 1 :]
    return out


def _one(task: Any, target: Any, corr: Any, problems: list, rng: random.Random, flag: int) -> GoalHeatmapInput | None:
    for pi, p in enumerate(problems):
        grid = task.goal_variants(p)
        if grid is None:
            return None
        trace = corr.corrupt(task, p, task.oracle(p), rng)
        enc = task.encode(p, trace)
        pos, lab = target.labels(task, p, trace, enc)
        hits = np.flatnonzero(np.asarray(lab) == flag)
        if len(hits) == 0:
            continue
        j = int(hits[0])  # the index of the flagged step (target.labels labels one position per step)
        cut = trace[: j + 1]
        k = next((i for i, s in enumerate(cut) if s.tag == Tag.MISTAKE), None)
        cells, seqs, poss, truth = [], [], [], []
        for cell, pv in grid.cells:
            ev = task.encode(pv, cut)
            pv_pos, _ = target.labels(task, pv, cut, ev)
            cells.append(cell)
            seqs.append(ev.tokens)
            poss.append(np.array([pv_pos[j]], dtype=np.int64))
            truth.append(_truth(task.oracle(pv), cut, k))
        return GoalHeatmapInput(grid.shape, cells, seqs, poss, np.array(truth, dtype=float), grid.marks, pi)
    return None


def _truth(oracle: list, cut: list, k: int | None) -> float:
    """1: the trace follows the goal's oracle up to step k and step k leaves it; 0: step k is on it
    too; nan: the trace had left it before (or reached the goal). Steps after k (a correction) are
    not judged: the question is whether the mistake step is a mistake for this goal."""
    if k is None or len(oracle) <= k:
        return float("nan")
    if any(a.text != b.text for a, b in zip(cut[:k], oracle[:k])):
        return float("nan")
    return 0.0 if cut[k].text == oracle[k].text else 1.0


def plot_goal_heatmap(h: GoalHeatmapInput, panels: list[tuple[str, np.ndarray]], path: Path, title: str) -> None:
    """One panel per probe (P(flag) per goal cell) and one of the truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    all_panels = panels + [("truth: 1 = a mistake for that goal\n(light grey: undefined)", h.truth)]
    fig, axes = plt.subplots(1, len(all_panels), figsize=(3.2 * len(all_panels), 3.4))
    axes = np.atleast_1d(axes)
    cmap = matplotlib.colormaps["magma"].copy()
    cmap.set_bad((0, 0, 0, 0))  # transparent: the background shows walls (dark) and undefined cells (light)
    background = np.full(h.shape, 0.25)
    for r, c in h.cells:
        background[r, c] = 0.6
    for ax, (name, values) in zip(axes, all_panels):
        grid = np.full(h.shape, np.nan)
        for (r, c), v in zip(h.cells, values):
            grid[r, c] = v
        ax.imshow(background, cmap="gray", vmin=0, vmax=1)
        im = ax.imshow(grid, vmin=0, vmax=1, cmap=cmap)
        for mark, (r, c) in h.marks.items():
            ax.text(c, r, mark, ha="center", va="center", color="cyan", fontsize=9, fontweight="bold")
        ax.set_title(name, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="P(flag)")
    fig.suptitle(title, fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
