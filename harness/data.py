"""Dataset building: problems → oracle traces → corrupted traces → tokens → one packed stream.

Train/eval hygiene lives here, generic over tasks: problems are assigned to a side by a stable hash of
``Task.split_key(problem)`` (see ``TaskConfig``), so an eval problem is never trained on unless the
task is configured with ``eval_split="overlap"`` (the original studies' independent draws).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import random
import zlib
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from harness.interfaces import (
    Corruptor,
    Encoded,
    Problem,
    Step,
    Tag,
    Task,
    TrainData,
)

_SPLIT_SALT = b"harness-split-v1:"


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building data.

    Building a dataset allocates millions of small acyclic objects (problems, steps, arrays); each
    allocation burst triggers generation scans whose cost grows with everything else alive in the
    process (torch alone adds ~10^5 objects). Measured: 54k → 106k mazes/s with torch imported
    (`harness bench`). Reference counting still frees everything; collection resumes afterwards.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def split_bucket(key: str) -> float:
    """A stable position in [0, 1) for a split key (crc32; Python's hash() is salted per process)."""
    return zlib.crc32(_SPLIT_SALT + key.encode()) / 4294967296.0


def is_eval_side(task: Task, problem: Problem) -> bool | None:
    """True/False for the side of the split; None when the task says the problem cannot collide."""
    pos = task.split_position(problem)
    return None if pos is None else pos < task.config.eval_fraction


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from any JSON-able parts (stable across processes and machines)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "little") >> 1


def eval_seed(task: Task) -> int:
    """Eval problems depend only on the task and its config, so every cell and seed of a grid is
    scored on the same items (paired comparisons across corruptors, models and seeds)."""
    return stable_seed("eval", task.name, task.version, task.config.model_dump(mode="json"))


def draw_problems(*args, **kwargs) -> list[Problem]:
    """Draw n problems for `side` ("train" or "eval"), honouring the task's eval split."""
    with paused_gc():
        return _draw_problems(*args, **kwargs)


def _draw_problems(
    task: Task,
    rng: random.Random,
    n: int,
    side: str,
    chunk: int = 4096,
    on_progress: Callable[[int], None] | None = None,
) -> list[Problem]:
    if side not in ("train", "eval"):
        raise ValueError(side)
    strata = task.draw_strata(rng, n, side)
    if strata is not None:
        if len(strata) != n:
            raise ValueError(f"task {task.name!r}: draw_strata gave {len(strata)} strata for {n} problems")
        return _draw_stratified(task, rng, list(strata), side, chunk, on_progress)
    draw = task.sample_eval if side == "eval" else task.sample_batch
    if task.config.eval_split == "overlap":
        out: list[Problem] = []
        while len(out) < n:
            out.extend(draw(rng, min(chunk, n - len(out))))
            if on_progress:
                on_progress(len(out))
        return out
    keep = _side_filter(task, side)
    out = []
    tries = 0
    expected = task.config.eval_fraction if side == "eval" else 1.0 - task.config.eval_fraction
    while len(out) < n:
        need = n - len(out)
        k = min(chunk, max(16, int(need / max(expected, 1e-3) * 1.1) + 8))
        batch = draw(rng, k)
        tries += len(batch)
        for p in batch:
            if keep(p):
                out.append(p)
                if len(out) == n:
                    break
        if on_progress:
            on_progress(len(out))
        if tries > 200 * n + 100_000 and len(out) < n:
            raise RuntimeError(_too_small(task, side, len(out), n, tries))
    return out


def _side_filter(task: Task, side: str) -> Callable[[Problem], bool]:
    """Whether a problem belongs to `side` (always, under eval_split="overlap"); a problem whose split
    position is None cannot occur on the other side (e.g. an OOD op) and is kept."""
    if task.config.eval_split == "overlap":
        return lambda p: True
    want_eval = side == "eval"
    frac = task.config.eval_fraction
    position = task.split_position

    def keep(p: Problem) -> bool:
        pos = position(p)
        return pos is None or (pos < frac) == want_eval

    return keep


def _too_small(task: Task, side: str, got: int, n: int, tries: int, stratum: object = None) -> str:
    where = "" if stratum is None else f" of stratum {stratum!r}"
    return (
        f"task {task.name!r}: only {got} of {n} {side} problems{where} after {tries} draws; "
        f"the problem space{where} is too small for eval_fraction={task.config.eval_fraction} "
        "(raise it, or use eval_split='overlap')"
    )


def _draw_stratified(
    task: Task,
    rng: random.Random,
    strata: list,
    side: str,
    chunk: int,
    on_progress: Callable[[int], None] | None,
) -> list[Problem]:
    """Problems whose strata are `strata` (position by position), each from the side's half of its
    own stratum: the split acts within strata, so the law over strata survives it exactly."""
    keep = _side_filter(task, side)
    groups: dict[object, list[int]] = {}
    for i, s in enumerate(strata):
        groups.setdefault(s, []).append(i)
    out: list[Problem | None] = [None] * len(strata)
    done = 0
    for s, idx in groups.items():  # first-appearance order: reproducible from rng
        got: list[Problem] = []
        tries = 0
        rate = 1.0  # acceptance rate seen so far in this stratum (starts optimistic)
        while len(got) < len(idx):
            need = len(idx) - len(got)
            k = min(chunk, max(1, int(need / max(rate, 1e-3) * 1.1) + (need > 8)))
            batch = task.sample_stratum(rng, s, k)
            tries += len(batch)
            got.extend(p for p in batch if keep(p))
            rate = max(len(got), 1) / tries
            if tries > 200 * len(idx) + 20_000 and len(got) < len(idx):
                raise RuntimeError(_too_small(task, side, len(got), len(idx), tries, s))
        for i, p in zip(idx, got):
            out[i] = p
        done += len(idx)
        if on_progress:
            on_progress(done)
    return out  # type: ignore[return-value]


def corrupt_and_encode(
    task: Task,
    corruptor: Corruptor,
    problems: Iterable[Problem],
    rng: random.Random,
) -> list[tuple[list[Step], Encoded]]:
    """oracle → corrupt → encode for each problem; the traces are returned with their encodings.
    This is the training-data path of every run (and what `harness bench` times)."""
    oracle = task.oracle
    corrupt = corruptor.corrupt
    encode = task.encode
    out = []
    with paused_gc():
        for p in problems:
            trace = corrupt(task, p, oracle(p), rng)
            out.append((trace, encode(p, trace)))
    return out


def encode_problems(
    task: Task, corruptor: Corruptor, problems: Iterable[Problem], rng: random.Random
) -> list[Encoded]:
    """The encodings of `corrupt_and_encode`, without the traces."""
    return [enc for _, enc in corrupt_and_encode(task, corruptor, problems, rng)]


@dataclass
class LossPolicy:
    """Which token tags are trained on. Prompt tokens train by default (MazeGPT's blog-time recipe)."""

    loss_on: str = "all"  # "all" | "completion"
    masked_tags: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.loss_on not in ("all", "completion"):
            raise ValueError(f"loss_on must be 'all' or 'completion', got {self.loss_on!r}")

    def untrained(self) -> set[int]:
        tags = {Tag.PROMPT_NOLOSS, *self.masked_tags}
        if self.loss_on == "completion":
            tags.add(Tag.PROMPT)
        return tags


def pack(
    samples: Sequence[Encoded],
    vocab_size: int,
    policy: LossPolicy | None = None,
    n_distinct: int | None = None,
) -> TrainData:
    """Concatenate samples into one stream (nanoGPT style) with a per-position loss flag."""
    policy = policy or LossPolicy()
    if not samples:
        raise ValueError("no samples to pack")
    lengths = np.fromiter((len(s.tokens) for s in samples), dtype=np.int64, count=len(samples))
    starts = np.zeros(len(samples), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    tokens = np.concatenate([s.tokens for s in samples]).astype(np.int64, copy=False)
    tags = np.concatenate([s.tags for s in samples])
    untrained = np.array(sorted(policy.untrained()), dtype=tags.dtype)
    loss = ~np.isin(tags, untrained)
    if tokens.max(initial=0) >= vocab_size:
        raise ValueError(f"token id {int(tokens.max())} outside vocab of {vocab_size}")
    return TrainData(
        tokens=tokens,
        loss=loss,
        n_problems=len(samples),
        n_distinct=len(samples) if n_distinct is None else n_distinct,
        vocab_size=vocab_size,
        sample_starts=starts,
    )
