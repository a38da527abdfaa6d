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
    TAG_PROMPT,
    TAG_PROMPT_NOLOSS,
    Corruptor,
    Encoded,
    Problem,
    Step,
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
    key = task.split_key(problem)
    return None if key is None else split_bucket(key) < task.config.eval_fraction


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
    """Draw n problems for `side` ("train" or "eval"), honouring the task's eval split."""
    if side not in ("train", "eval"):
        raise ValueError(side)
    draw = task.sample_eval if side == "eval" else task.sample_batch
    if task.config.eval_split == "overlap":
        out: list[Problem] = []
        while len(out) < n:
            out.extend(draw(rng, min(chunk, n - len(out))))
            if on_progress:
                on_progress(len(out))
        return out
    want_eval = side == "eval"
    frac = task.config.eval_fraction
    split_key = task.split_key
    out = []
    tries = 0
    while len(out) < n:
        need = n - len(out)
        expected = frac if want_eval else 1.0 - frac
        k = min(chunk, max(16, int(need / max(expected, 1e-3) * 1.1) + 8))
        batch = draw(rng, k)
        tries += len(batch)
        for p in batch:
            key = split_key(p)
            # a None key cannot collide with the other side (e.g. an OOD op never trained on)
            if key is None or (split_bucket(key) < frac) == want_eval:
                out.append(p)
                if len(out) == n:
                    break
        if on_progress:
            on_progress(len(out))
        if tries > 200 * n + 100_000 and len(out) < n:
            raise RuntimeError(
                f"task {task.name!r}: only {len(out)} of {n} {side} problems after {tries} draws; "
                "the problem space is too small for eval_fraction="
                f"{frac} (raise it, or use eval_split='overlap')"
            )
    return out


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
        tags = {TAG_PROMPT_NOLOSS, *self.masked_tags}
        if self.loss_on == "completion":
            tags.add(TAG_PROMPT)
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
