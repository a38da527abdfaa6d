"""Conformance checks every task must pass; plugin authors call them from their own tests.

    from harness.testing.conformance import check_task
    def test_my_task_conforms():
        check_task(MyTask(MyTask.Config()))

Each check raises AssertionError with a message naming what broke. They guard the seams the core
relies on: the eval prompt is exactly the prefix a training sample starts with, the oracle completion
ends with the end token and passes the verifier, tags and step spans line up, data is reproducible,
the verifier never raises, and corruptors the task claims to support keep their invariants.
"""

from __future__ import annotations

import random
from typing import Callable

import numpy as np

from harness.interfaces import Tag, Task, Verdict


def check_reproducible(task: Task, n: int = 20, seed: int = 0) -> None:
    a = [p.key for p in task.sample_batch(random.Random(seed), n)]
    b = [p.key for p in task.sample_batch(random.Random(seed), n)]
    assert a == b, f"{task.name}: the same seed gave different problems"


def check_encoding(task: Task, n: int = 30, seed: int = 1) -> None:
    vocab_size = len(task.vocab)
    for p in task.sample_batch(random.Random(seed), n):
        trace = task.oracle(p)
        enc = task.encode(p, trace)
        prompt = np.asarray(task.encode_prompt(p))
        assert len(enc.tokens) == len(enc.tags), f"{task.name}: one tag per token"
        assert np.array_equal(prompt, enc.tokens[: enc.prompt_len]), (
            f"{task.name}: encode_prompt must equal the first prompt_len tokens of a training sample "
            "(the model is evaluated on exactly the prefix it was trained to continue)"
        )
        assert int(enc.tokens.max()) < vocab_size and int(enc.tokens.min()) >= 0, f"{task.name}: id outside vocab"
        assert set(enc.tags[: enc.prompt_len].tolist()) <= {Tag.PROMPT, Tag.PROMPT_NOLOSS}
        completion_ids = enc.tokens[enc.prompt_len :].tolist()
        assert task.end_token in completion_ids, f"{task.name}: the completion must contain the end token"
        assert len(enc.step_spans) == len(trace), f"{task.name}: one step span per trace step"
        last = enc.prompt_len
        for (a, b), step in zip(enc.step_spans, trace):
            assert last <= a < b <= len(enc.tokens), f"{task.name}: step spans must be ordered and non-empty"
            assert (enc.tags[a:b] == step.tag).all(), f"{task.name}: tags of step {step!r}"
            last = b
        assert task.end_token not in enc.tokens[enc.prompt_len : last].tolist(), (
            f"{task.name}: the end token inside the solution would stop generation early"
        )


def check_oracle_verifies(task: Task, n: int = 30, seed: int = 2) -> None:
    for p in task.sample_batch(random.Random(seed), n):
        enc = task.encode(p, task.oracle(p))
        completion_ids = enc.tokens[enc.prompt_len :].tolist()
        cut = completion_ids.index(task.end_token) + 1
        assert cut <= task.max_new_tokens(p), (
            f"{task.name}: the oracle completion ({cut} tokens) exceeds max_new_tokens={task.max_new_tokens(p)}"
        )
        v = task.verify(p, task.decode(completion_ids))
        assert isinstance(v, Verdict) and v.correct, f"{task.name}: oracle completion rejected: {v.reason}"


def check_verifier_total(task: Task, n: int = 10, seed: int = 3) -> None:
    rng = random.Random(seed)
    problems = task.sample_batch(rng, n)
    vocab = task.vocab
    junk = ["", " ", "\x00", "[BACK]" * 3, "?" * 500, "é漢字", ";;;"]
    for p in problems:
        for _ in range(20):
            junk.append("".join(rng.choice(vocab) for _ in range(rng.randrange(0, 40))))
        for j in junk:
            v = task.verify(p, j)
            assert isinstance(v, Verdict), f"{task.name}: verify must return a Verdict"


def check_corruptors(task: Task, n: int = 30, seed: int = 4) -> None:
    """Every mistake is followed at once by its correction; removing both gives the oracle back;
    the corrupted completion still verifies."""
    from harness.corruptors import Fallible, Retry, RetryMiss, RetryWeak

    corruptors: list = []
    if "wrong" in task.candidate_kinds and task.has_natural_undo:
        corruptors.append(Fallible(Fallible.Config(p=0.7)))
    if task.back_token is not None:
        for cls, kind in ((Retry, "wrong"), (RetryWeak, "later"), (RetryMiss, "unused")):
            if kind in task.candidate_kinds:
                corruptors.append(cls(cls.Config(rate=0.6)))
    rng = random.Random(seed)
    for corr in corruptors:
        for p in task.sample_batch(rng, n):
            oracle = task.oracle(p)
            trace = corr.corrupt(task, p, oracle, rng)
            kept = []
            i = 0
            while i < len(trace):
                if trace[i].tag == Tag.MISTAKE:
                    assert i + 1 < len(trace) and trace[i + 1].tag == Tag.CORRECTION, (
                        f"{task.name}×{corr.name}: a mistake must be followed by its correction"
                    )
                    i += 2
                    continue
                kept.append(trace[i])
                i += 1
            assert [(s.text, s.key) for s in kept] == [(s.text, s.key) for s in oracle], (
                f"{task.name}×{corr.name}: removing mistakes and corrections must give the oracle back"
            )
            enc = task.encode(p, trace)
            v = task.verify(p, task.decode(enc.tokens[enc.prompt_len :].tolist()))
            assert v.correct, f"{task.name}×{corr.name}: corrupted trace rejected: {v.reason}"


CHECKS: list[Callable[[Task], None]] = [
    check_reproducible,
    check_encoding,
    check_oracle_verifies,
    check_verifier_total,
    check_corruptors,
]


def check_task(task: Task) -> None:
    """Run every conformance check on a task instance."""
    for check in CHECKS:
        check(task)
