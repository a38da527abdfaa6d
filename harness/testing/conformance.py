"""Conformance checks every task and corruptor must pass; plugin authors call them from their own tests.

    from harness.testing import check_task, check_corruptor
    def test_my_task_conforms():
        check_task(MyTask(MyTask.Config()))
    def test_my_corruptor_conforms():
        check_corruptor(MyCorruptor(MyCorruptor.Config()), MyTask(MyTask.Config()))

Each check raises AssertionError with a message naming what broke. They guard the seams the core
relies on: the eval prompt is exactly the prefix a training sample starts with, the oracle completion
ends with the end token and passes the verifier, tags and step spans line up, data is reproducible,
the verifier never raises (and says why it rejects), `verify_text` scores `harness data`'s own
output, the declared metrics are the ones computed, and corruptors keep their invariants (well-formed,
reproducible from their rng, every mistake corrected so the final answer still verifies).

Model families and trainers have their own checks in `harness.testing.models` (they need torch).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from harness.interfaces import (
    Corruptor,
    Encoded,
    PlanError,
    Problem,
    Step,
    Tag,
    Task,
    Verdict,
    Verifier,
)

#: the tags a step of a trace may carry (PROMPT and PROMPT_NOLOSS belong to prompt tokens only)
TRACE_TAGS = frozenset({Tag.ORACLE, Tag.MISTAKE, Tag.CORRECTION})

_JUNK = ["", " ", "\x00", "[BACK]", "[BACK]" * 3, "?" * 500, "é漢字", ";;;", "\n\n", "-1", "0/0"]


# ------------------------------------------------------------------------------------------ helpers
def _short(x: Any, n: int = 80) -> str:
    r = repr(x)
    return r if len(r) <= n else r[: n - 3] + "..."


def _judged(task: Task, what: str, v: Any, problem: str, completion: str) -> Verdict:
    where = f"on problem {_short(problem)} with completion {_short(completion)}"
    assert isinstance(v, Verdict), f"{what} must return a Verdict, got {type(v).__name__} {where}"
    assert isinstance(v.correct, (bool, np.bool_)), f"{what}: Verdict.correct must be a bool, got {v.correct!r} {where}"
    assert v.correct or (isinstance(v.reason, str) and v.reason), (
        f"{what}: a rejected completion needs a reason (Verdict(False, 'why')) {where}"
    )
    assert isinstance(v.details, dict), f"{what}: Verdict.details must be a dict {where}"
    return v


def verify(task: Task, problem: Problem, completion: str) -> Verdict:
    """`task.verify(problem, completion)`, with an AssertionError that says what broke if it raises
    (a verifier must never raise: garbage gets a reason) or returns anything but a Verdict."""
    try:
        v = task.verify(problem, completion)
    except Exception as exc:
        raise AssertionError(
            f"verify must never raise: {type(task).__name__} raised {type(exc).__name__}: {exc} "
            f"on problem {_short(problem.key)} with completion {_short(completion)} "
            "(return Verdict(False, 'the reason') for completions it cannot judge)"
        ) from exc
    return _judged(task, "verify", v, problem.key, completion)


def verify_text(task: Task, problem_text: Any, completion: Any, answer: Any = None) -> Verdict:
    """`task.verify_text(...)`, with the same never-raise contract as `verify`."""
    try:
        v = task.verify_text(problem_text, completion, answer)
    except Exception as exc:
        raise AssertionError(
            f"verify_text must never raise: {type(task).__name__} raised {type(exc).__name__}: {exc} "
            f"on problem text {_short(problem_text)} with completion {_short(completion)}"
        ) from exc
    return _judged(task, "verify_text", v, problem_text, completion)


def completion_text(task: Task, enc: Encoded) -> str:
    """The completion of an encoded sample as the verifier sees it: the ids after the prompt, decoded
    (cut at the end token) -- what a model that wrote exactly this sample would be judged on."""
    return task.decode(enc.tokens[enc.prompt_len :].tolist())


def check_encoded(task: Task, problem: Problem, trace: Sequence[Step], enc: Encoded, where: str = "") -> None:
    """One encoded sample is well formed: one tag per token, the prompt is `encode_prompt`, ids in the
    vocabulary, one span per step carrying the step's tag, the end token after the last step and
    nowhere inside the solution."""
    w = where or task.name
    assert isinstance(enc, Encoded), f"{w}: encode must return an Encoded"
    assert len(enc.tokens) == len(enc.tags), f"{w}: one tag per token"
    prompt = np.asarray(task.encode_prompt(problem))
    assert np.array_equal(prompt, enc.tokens[: enc.prompt_len]), (
        f"{w}: encode_prompt must equal the first prompt_len tokens of a training sample "
        "(the model is evaluated on exactly the prefix it was trained to continue)"
    )
    vocab_size = len(task.vocab)
    assert int(enc.tokens.max()) < vocab_size and int(enc.tokens.min()) >= 0, f"{w}: id outside vocab"
    assert set(enc.tags[: enc.prompt_len].tolist()) <= {Tag.PROMPT, Tag.PROMPT_NOLOSS}, (
        f"{w}: prompt tokens carry Tag.PROMPT (or Tag.PROMPT_NOLOSS)"
    )
    assert task.end_token_in_prompt or task.end_token not in enc.tokens[: enc.prompt_len].tolist(), (
        f"{w}: the end token appears inside the prompt. Training samples are packed back to back, so the "
        "model would see the end token followed by more text and never learn that it ends a sample (such "
        "a model runs on past its answer); give the end a token of its own that no prompt uses (or declare "
        "`end_token_in_prompt = True` where a faithful format needs it)"
    )
    completion_ids = enc.tokens[enc.prompt_len :].tolist()
    assert task.end_token in completion_ids, f"{w}: the completion must contain the end token"
    assert len(enc.step_spans) == len(trace), f"{w}: one step span per trace step"
    last = enc.prompt_len
    for (a, b), step in zip(enc.step_spans, trace):
        assert last <= a < b <= len(enc.tokens), f"{w}: step spans must be ordered and non-empty"
        assert (enc.tags[a:b] == step.tag).all(), f"{w}: the tokens of step {step!r} must carry its tag"
        last = b
    assert task.end_token not in enc.tokens[enc.prompt_len : last].tolist(), (
        f"{w}: the end token inside the solution would stop generation early"
    )
    assert task.end_token in enc.tokens[last:].tolist() and (enc.tags[last:] == Tag.ORACLE).all(), (
        f"{w}: the end token comes after the last step and carries Tag.ORACLE (so it is trained on "
        "whatever the loss policy masks, and the model learns to stop)"
    )


# -------------------------------------------------------------------------------------------- tasks
def check_reproducible(task: Task, n: int = 20, seed: int = 0) -> None:
    a = [p.key for p in task.sample_batch(random.Random(seed), n)]
    b = [p.key for p in task.sample_batch(random.Random(seed), n)]
    assert a == b, f"{task.name}: the same seed gave different problems"
    oa = [[(s.text, s.key) for s in task.oracle(p)] for p in task.sample_batch(random.Random(seed), n)]
    ob = [[(s.text, s.key) for s in task.oracle(p)] for p in task.sample_batch(random.Random(seed), n)]
    assert oa == ob, f"{task.name}: the same problems gave different oracle traces"


def check_encoding(task: Task, n: int = 30, seed: int = 1) -> None:
    for p in task.sample_batch(random.Random(seed), n):
        trace = task.oracle(p)
        assert trace, f"{task.name}: the oracle trace of {_short(p.key)} is empty"
        assert all(isinstance(s, Step) and s.tag == Tag.ORACLE for s in trace), (
            f"{task.name}: oracle steps are Steps tagged Tag.ORACLE"
        )
        check_encoded(task, p, trace, task.encode(p, trace))


def check_oracle_verifies(task: Task, n: int = 30, seed: int = 2) -> None:
    for p in task.sample_batch(random.Random(seed), n):
        enc = task.encode(p, task.oracle(p))
        completion_ids = enc.tokens[enc.prompt_len :].tolist()
        cut = completion_ids.index(task.end_token) + 1
        assert cut <= task.max_new_tokens(p), (
            f"{task.name}: the oracle completion ({cut} tokens) exceeds max_new_tokens={task.max_new_tokens(p)}"
        )
        v = verify(task, p, task.decode(completion_ids))
        assert v.correct, f"{task.name}: oracle completion rejected: {v.reason}"


def check_verifier_total(task: Task, n: int = 10, seed: int = 3) -> None:
    """The verifier judges garbage (random token strings, junk text) without raising, with a reason."""
    rng = random.Random(seed)
    problems = task.sample_batch(rng, n)
    vocab = task.vocab
    for p in problems:
        junk = list(_JUNK)
        for _ in range(20):
            junk.append("".join(rng.choice(vocab) for _ in range(rng.randrange(0, 40))))
        oracle = completion_text(task, task.encode(p, task.oracle(p)))
        junk += [oracle[:-1], oracle + oracle, oracle[::-1]]
        for j in junk:
            verify(task, p, j)


def check_verify_text(task: Task, n: int = 20, seed: int = 6) -> None:
    """If the task implements `verify_text` (for `harness score`): it accepts the oracle completion of
    a problem given the problem's prompt text (what `harness data` writes as `problem`), and never
    raises on junk. Tasks without it are skipped."""
    if type(task).verify_text is Verifier.verify_text:
        return
    rng = random.Random(seed)
    for p in task.sample_batch(rng, n):
        text = task.prompt_text(p)
        oracle = completion_text(task, task.encode(p, task.oracle(p)))
        v = verify_text(task, text, oracle)
        assert v.correct, (
            f"{task.name}: verify_text rejects the oracle completion given the prompt text "
            f"{_short(text)} (what `harness data` writes as `problem`): {v.reason}"
        )
        for junk_problem, junk_completion in ((text, ""), ("", oracle), (None, oracle), (text, None),
                                              ("?" * 50, "?"), (text[: len(text) // 2], oracle)):
            verify_text(task, junk_problem, junk_completion)


def check_task_metrics(task: Task, n: int = 20, seed: int = 7) -> None:
    """`eval_metrics` returns only the metrics the task declares (`Task.metrics`; the core drops any
    other name with a warning), each a finite number or None, and computes on an empty eval set."""
    declared = {m.name for m in task.metrics}
    assert len(declared) == len(task.metrics), f"{task.name}: a metric is declared twice"
    problems = task.sample_batch(random.Random(seed), n)
    verdicts = [verify(task, p, completion_text(task, task.encode(p, task.oracle(p)))) for p in problems]
    rng = random.Random(seed)
    verdicts += [verify(task, p, "".join(rng.choice(task.vocab) for _ in range(8))) for p in problems]
    for ps, vs in ((problems + problems, verdicts), ([], [])):
        out = task.eval_metrics(ps, vs)
        assert isinstance(out, dict), f"{task.name}: eval_metrics must return a dict"
        extra = set(out) - declared
        assert not extra, (
            f"{task.name}: eval_metrics returned {sorted(extra)}, which Task.metrics does not declare "
            f"(declared: {sorted(declared) or 'none'}); the core would drop them"
        )
        for k, v in out.items():
            assert v is None or (isinstance(v, (int, float, np.number)) and math.isfinite(float(v))), (
                f"{task.name}: metric {k!r} = {v!r} must be a finite number or None"
            )


def builtin_corruptors_for(task: Task) -> list[Corruptor]:
    """The core corruptors the task claims to support, at rates that write many mistakes."""
    from harness.corruptors import Fallible, Retry, RetryMiss, RetryWeak

    out: list[Corruptor] = []
    if "wrong" in task.candidate_kinds and task.has_natural_undo:
        out.append(Fallible(Fallible.Config(p=0.7)))
    if task.back_token is not None:
        for cls, kind in ((Retry, "wrong"), (RetryWeak, "later"), (RetryMiss, "unused")):
            if kind in task.candidate_kinds:
                out.append(cls(cls.Config(rate=0.6)))
    return out


def check_corruptors(task: Task, n: int = 30, seed: int = 4) -> None:
    """Every core corruptor the task claims to support (its candidate kinds, natural undo and [BACK]
    token) accepts it, passes `check_corruptor` on it, and writes mistakes (a claimed candidate kind
    that never yields a candidate is a broken seam)."""
    for corr in builtin_corruptors_for(task):
        try:
            corr.check(task)
        except PlanError as exc:
            raise AssertionError(f"{task.name}: claims what {corr.name!r} needs, but it refuses: {exc}") from exc
        check_corruptor(corr, task, n=n, seed=seed)
        rng = random.Random(seed)
        written = sum(s.tag == Tag.MISTAKE for p in task.sample_batch(rng, n)
                      for s in corr.corrupt(task, p, task.oracle(p), rng))
        assert written, (f"{task.name}×{corr.name}: no mistake written in {n} problems; do its "
                         f"candidates() ever return a step?")


def check_problem_records(task: Task, n: int = 20, seed: int = 8, side: str | None = None) -> None:
    """A task that keeps problems on disk (`problem_record`/`problem_from_record`, harness.problem_cache):
    a record is plain JSON, and the problem rebuilt from it behaves exactly as the drawn one (oracle,
    prompt, encoding, split place, the verdict on its oracle completion, and every core corruptor's
    trace from the same rng, which exercises `candidates` and `undo`). Skipped for a task without
    records. Both the training (`sample_batch`) and the eval (`sample_eval`) distributions by
    default; `side` picks one."""
    import json

    from harness.problem_cache import supported

    if not supported(task):
        return
    if side is None:
        for one in ("train", "eval"):
            check_problem_records(task, n, seed, one)
        return
    draw = task.sample_eval if side == "eval" else task.sample_batch
    for p in draw(random.Random(seed), n):
        try:
            text = json.dumps(task.problem_record(p))
        except (TypeError, ValueError) as exc:
            raise AssertionError(f"{task.name}: problem_record of {_short(p.key)} is not plain JSON: {exc}") from exc
        q = task.problem_from_record(p.key, json.loads(json.dumps(p.meta)), json.loads(text))
        assert isinstance(q, Problem) and q.key == p.key and q.meta == p.meta, (
            f"{task.name}: problem_from_record gave another key or meta for {_short(p.key)}")
        where = f"{task.name}: the problem rebuilt from its record of {_short(p.key)}"
        assert _fingerprint(task.oracle(q)) == _fingerprint(task.oracle(p)), f"{where} has another oracle trace"
        a, b = task.encode(p, task.oracle(p)), task.encode(q, task.oracle(q))
        assert (np.array_equal(a.tokens, b.tokens) and np.array_equal(a.tags, b.tags)
                and a.prompt_len == b.prompt_len and a.step_spans == b.step_spans), f"{where} encodes differently"
        assert np.array_equal(task.encode_prompt(p), task.encode_prompt(q)), f"{where} has another prompt"
        assert task.max_new_tokens(p) == task.max_new_tokens(q), f"{where} has another max_new_tokens"
        assert task.split_position(p) == task.split_position(q), f"{where} lands elsewhere in the split"
        done = completion_text(task, a)
        assert verify(task, p, done).correct == verify(task, q, done).correct, f"{where} is judged differently"
        for corr in builtin_corruptors_for(task):
            ta = _corrupt(corr, task, p, task.oracle(p), random.Random(seed))
            tb = _corrupt(corr, task, q, task.oracle(q), random.Random(seed))
            assert _fingerprint(ta) == _fingerprint(tb), f"{where} is corrupted differently by {corr.name!r}"


CHECKS: list[Callable[[Task], None]] = [
    check_reproducible,
    check_encoding,
    check_oracle_verifies,
    check_verifier_total,
    check_verify_text,
    check_task_metrics,
    check_corruptors,
    check_problem_records,
]


def check_task(task: Task) -> None:
    """Run every conformance check on a task instance."""
    for check in CHECKS:
        check(task)


# --------------------------------------------------------------------------------------- corruptors
def corruptor_applies(corruptor: Corruptor, task: Task) -> bool:
    """Whether the corruptor accepts the task at plan time: False when `check` raises PlanError (a
    refusal with the reason, which is how a corruptor says no); any other exception is a bug."""
    try:
        corruptor.check(task)
    except PlanError:
        return False
    except Exception as exc:
        raise AssertionError(
            f"{corruptor.name}.check must raise PlanError to refuse task {task.name!r}, not "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return True


def _corrupt(corruptor: Corruptor, task: Task, p: Problem, trace: list[Step], rng: random.Random) -> list[Step]:
    try:
        return corruptor.corrupt(task, p, trace, rng)
    except Exception as exc:
        raise AssertionError(
            f"{task.name}×{corruptor.name}: corrupt raised {type(exc).__name__}: {exc} on problem "
            f"{_short(p.key)} (a corruptor must handle every problem of a task it accepts)"
        ) from exc


def _fingerprint(trace: Sequence[Step]) -> list[tuple]:
    return [(s.text, s.key, int(s.tag), bool(s.decision)) for s in trace]


def check_corruptor_well_formed(corruptor: Corruptor, task: Task, n: int = 30, seed: int = 5) -> None:
    """On every problem: `corrupt` returns a list of Steps tagged oracle, mistake or correction, leaves
    the oracle trace it was given unchanged, and the task encodes the result cleanly."""
    where = f"{task.name}×{corruptor.name}"
    rng = random.Random(seed)
    masked = corruptor.loss_masked_tags()
    assert all(t in set(Tag) for t in masked), f"{where}: loss_masked_tags must be Tag values, got {masked!r}"
    for p in task.sample_batch(random.Random(seed), n):
        oracle = task.oracle(p)
        before = _fingerprint(oracle)
        trace = _corrupt(corruptor, task, p, oracle, rng)
        assert _fingerprint(oracle) == before, f"{where}: corrupt must not modify the trace it is given"
        assert isinstance(trace, list), f"{where}: corrupt must return a list of Steps, got {type(trace).__name__}"
        for s in trace:
            assert isinstance(s, Step), f"{where}: corrupt returned {s!r}, not a Step"
            assert s.tag in TRACE_TAGS, (
                f"{where}: step {s!r} has tag {s.tag!r}; trace steps are Tag.ORACLE, MISTAKE or CORRECTION"
            )
        check_encoded(task, p, trace, task.encode(p, trace), where)


def check_corruptor_deterministic(corruptor: Corruptor, task: Task, n: int = 30, seed: int = 5) -> None:
    """The corrupted traces are a function of the rng passed in (the same seed gives the same traces,
    whatever else ran before: no global random state)."""
    problems = task.sample_batch(random.Random(seed), n)
    runs = []
    saved = random.getstate(), np.random.get_state()
    try:
        for k in range(2):
            random.seed(1000 + k)  # a corruptor that draws from the global `random` is caught here
            np.random.seed(1000 + k)
            rng = random.Random(seed)
            runs.append([_fingerprint(_corrupt(corruptor, task, p, task.oracle(p), rng)) for p in problems])
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
    for p, a, b in zip(problems, *runs):
        assert a == b, (
            f"{task.name}×{corruptor.name}: the same rng seed gave different traces for problem {_short(p.key)} "
            "(draw every random choice from the rng argument)"
        )


def check_corruptor_keeps_answer(corruptor: Corruptor, task: Task, n: int = 30, seed: int = 5) -> None:
    """Every mistake is corrected before the next oracle step, the oracle steps are all there in
    order (removing mistakes and corrections gives the oracle trace back), and the corrupted
    completion still verifies: a model that learns it still reaches the answer."""
    where = f"{task.name}×{corruptor.name}"
    rng = random.Random(seed)
    for p in task.sample_batch(random.Random(seed), n):
        oracle = task.oracle(p)
        trace = _corrupt(corruptor, task, p, oracle, rng)
        open_mistake = False
        for s in trace:
            if s.tag == Tag.MISTAKE:
                open_mistake = True
            elif s.tag == Tag.CORRECTION:
                open_mistake = False
            else:
                assert not open_mistake, f"{where}: a mistake must be corrected before the next oracle step"
        assert not open_mistake, f"{where}: the trace ends on an uncorrected mistake"
        kept = [(s.text, s.key) for s in trace if s.tag == Tag.ORACLE]
        assert kept == [(s.text, s.key) for s in oracle], (
            f"{where}: removing mistakes and corrections must give the oracle back (problem {_short(p.key)})"
        )
        completion = completion_text(task, task.encode(p, trace))
        v = verify(task, p, completion)
        assert v.correct, f"{where}: corrupted completion {_short(completion)} rejected: {v.reason}"


CORRUPTOR_CHECKS: list[Callable[..., None]] = [
    check_corruptor_well_formed,
    check_corruptor_deterministic,
    check_corruptor_keeps_answer,
]


def check_corruptor(corruptor: Corruptor, task: Task, n: int = 30, seed: int = 5,
                    corrects_mistakes: bool = True) -> None:
    """Run every corruptor check on one task the corruptor accepts (`corruptor_applies`).

    `corrects_mistakes=False` is for a corruptor that deliberately writes uncorrected errors (its
    traces need not verify); it still must be well formed and reproducible."""
    assert corruptor_applies(corruptor, task), (
        f"{corruptor.name} refuses task {task.name!r} (check raised PlanError); check it on a task it accepts"
    )
    for check in CORRUPTOR_CHECKS:
        if check is check_corruptor_keeps_answer and not corrects_mistakes:
            continue
        check(corruptor, task, n=n, seed=seed)
