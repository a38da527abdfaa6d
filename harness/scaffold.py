"""`harness new-task NAME`: write a plugin package with a small working task to start from.

`scaffold(name, dest)` writes ``dest/harness-NAME/``: a pyproject.toml with the entry point in group
``harness``, the package ``harness_NAME`` holding a toy task (reverse a short string of letters: it
trains, verifies, takes the retry family's ``[BACK]`` and declares a metric), a README, and tests that
run the conformance kit (``harness.testing``). The templates are strings in this module, so nothing but
this file has to ship. docs/writing-a-plugin.md walks through the generated task line by line.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path
from string import Template

NAME_RE = re.compile(r"[a-z][a-z0-9_]*")


class ScaffoldError(ValueError):
    """A name or a place `harness new-task` refuses, with the reason."""


def class_prefix(name: str) -> str:
    """reverse → Reverse, my_task → MyTask (the task class is <prefix>Task, its config <prefix>Config)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "New"


def check_name(name: str, taken: Iterable[str] = ()) -> None:
    """Raise ScaffoldError unless `name` can be a task, an entry-point and a package name
    (``harness_NAME``): lowercase letters, digits and underscores, starting with a letter, not used by
    a registered task or plugin (`taken`) nor by an importable ``harness_NAME`` module."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ScaffoldError(
            f"bad task name {name!r}: use lowercase letters, digits and underscores, starting with a letter "
            "(it becomes the task name in specs, the entry-point name and the Python package harness_NAME), "
            "e.g. 'reverse' or 'sort_digits'"
        )
    if name in set(taken):
        raise ScaffoldError(f"the name {name!r} is already taken by a registered task or plugin "
                            "(harness list / harness plugins); pick another")
    module = f"harness_{name}"
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        raise ScaffoldError(f"a module named {module!r} is already importable here; pick another name")


def render(name: str) -> dict[str, str]:
    """The files of the package for `name`, as {path relative to harness-NAME/: text}."""
    values = {"name": name, "Cls": class_prefix(name), "dist": f"harness-{name}"}
    return {path.replace("NAME", name): Template(text).substitute(values) for path, text in _FILES.items()}


def scaffold(name: str, dest: Path | str = ".", taken: Iterable[str] = ()) -> Path:
    """Write ``dest/harness-NAME/`` and return it; ScaffoldError if the name is bad or the folder exists."""
    check_name(name, taken)
    root = Path(dest) / f"harness-{name}"
    if root.exists():
        raise ScaffoldError(f"{root} already exists; remove it, pick another name or another --dir")
    files = render(name)
    root.mkdir(parents=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# ------------------------------------------------------------------------------------------ templates
# string.Template: $name, $Cls, $dist are replaced ($$ would be a literal $).

_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "A harness plugin: the `$name` task."
requires-python = ">=3.11"
# Deliberately no `dependencies`: the plugin runs in an environment that already has `harness` (and its
# torch, numpy, pydantic). Listing `harness` here would make pip resolve it from the package index
# instead of using your checkout. Install with: pip install --no-deps -e .

[project.optional-dependencies]
test = ["pytest>=8"]

# How harness finds the plugin: an entry point in the group `harness` (name = module).
[project.entry-points.harness]
$name = "harness_$name"

[tool.setuptools]
packages = ["harness_$name"]

[tool.pytest.ini_options]
pythonpath = ["."]  # the tests import harness_$name from this folder, installed or not
'''

_README = '''\
# $dist

A plugin for harness that registers the task **`$name`**, written by
`harness new-task $name`: reverse a short string of letters. The prompt is the string and `=`
(`abc=`); the solution writes the reversed string one letter per step (`cba`) and the end token `.`
closes it. A mistake is a wrong letter; the task has a `[BACK]` token, so the retry family can write a
wrong letter and retract it (`cb` `d[BACK]` `a`); it has no natural undo, so `fallible` refuses it
at plan time with the reason.

## Install

Into the environment that has harness (its `.venv`):

    pip install --no-deps -e .

(`--no-deps`: harness is already there and is not declared as a dependency; add
`--no-build-isolation` to build with the environment's own setuptools, without a download.)
Then `harness plugins` lists `$name 0.1.0` and:

    harness show "$name×retry" --n 3
    harness validate "$name×oracle,retry×gpt-2L"
    harness run "$name×oracle,retry(rate=0.5)×gpt-2L" --budget smoke --seeds 2
    harness score $name solutions.jsonl     # {"problem": "abc=", "solution": "cba"} per line

## Test

    pytest tests

`tests/test_$name.py` runs harness's conformance kit (`harness.testing`) and the task's own promises;
it needs no install (`pythonpath = ["."]` in pyproject.toml lets it import `harness_$name` from this
folder), except the test of the entry point, which is skipped until the package is installed.

## Make it yours

Replace the problem (`sample`, `oracle`), the steps and their mistakes (`candidates`), the tokens
(`vocab`, `encode`, `decode`) and the verifier (`verify`, `verify_text`) with your own, and keep the
tests passing. Bump `version` on the task class whenever the problems, encoding or verdicts change:
it is part of every cell's identity, so runs do not reuse cells of the old version.
'''

_TASK = '''\
"""$dist: a harness plugin registering the `$name` task (written by `harness new-task $name`).

A toy task to start from: reverse a short string of letters. The prompt is the string and "="
(`abc=`), the solution writes the reversed string one letter per step (`cba`), and the end token "."
closes it. A mistake is a wrong letter; the task has a [BACK] token, so the retry family can write a
wrong letter and retract it (`cb` + `d[BACK]` + `a`); it has no natural undo, so `fallible` refuses it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from harness import Budget, Encoded, Metric, Problem, Step, Tag, Task, TaskConfig, Verdict, hookimpl

__version__ = "0.1.0"

LETTERS = "abcdefgh"
END, SEP, BACK = ".", "=", "[BACK]"
VOCAB = (END, SEP, BACK, *LETTERS)  # the token strings; a token's id is its position
ID = {t: i for i, t in enumerate(VOCAB)}


class ${Cls}Config(TaskConfig):  # pydantic, extra="forbid"; eval_split / eval_fraction inherited
    min_len: int = Field(default=2, ge=1, le=12, description="shortest string to reverse")
    max_len: int = Field(default=8, ge=1, le=12, description="longest string to reverse")

    @model_validator(mode="after")
    def _ordered(self) -> ${Cls}Config:
        if self.min_len > self.max_len:
            raise ValueError(f"min_len ({self.min_len}) > max_len ({self.max_len})")
        return self


def judge(s: str, completion: str) -> Verdict:
    """Is `completion` the reversal of `s`? A "[BACK]" retracts the letter written just before it:
    the retry family's correction, which the verifier sees as text."""
    facts = {"n_back": completion.count(BACK)}  # kept per item, right or wrong
    written: list[str] = []
    pos = 0
    while pos < len(completion):
        if completion.startswith(BACK, pos):
            if not written:
                return Verdict(False, f"[BACK] at {pos} with nothing to retract", facts)
            written.pop()
            pos += len(BACK)
        elif completion[pos] in LETTERS:
            written.append(completion[pos])
            pos += 1
        else:
            return Verdict(False, f"not a letter: {completion[pos]!r} at {pos}", facts)
    got, want = "".join(written), s[::-1]
    if got != want:
        return Verdict(False, f"wrote {got!r}, not {want!r}", facts)
    return Verdict(True, details=facts)


class ${Cls}Task(Task):
    """Reverse a short string of letters, one letter per step."""

    name = "$name"
    version = "1"  # part of every cell's identity: bump it when problems, encoding or verdicts change
    description = "reverse a short string of letters (a task written by harness new-task)"
    Config = ${Cls}Config
    vocab = VOCAB  # class constants, checked when the plugin registers
    end_token = ID[END]
    back_token = ID[BACK]  # the retry family writes it as a step: Step("[BACK]", tag=Tag.CORRECTION)
    candidate_kinds = frozenset({"wrong"})  # the kinds candidates() answers
    has_natural_undo = False  # so `fallible` refuses this task at plan time, with the reason
    metrics = (
        Metric("backs_per_item", "backs / item", "[BACK] tokens written per ended eval completion",
               higher_is_better=None, headline=True),
    )

    # -- problem source ----------------------------------------------------------------------------
    def sample(self, rng: random.Random) -> Problem:
        n = rng.randint(self.config.min_len, self.config.max_len)
        s = "".join(rng.choice(LETTERS) for _ in range(n))  # every draw from rng: reproducible
        return Problem(key=s + SEP, payload=s, meta={"length": n})

    def oracle(self, problem: Problem) -> list[Step]:
        # key: the step's identity (its place and letter); steps with equal keys are the same step
        return [Step(ch, key=(i, ch)) for i, ch in enumerate(reversed(problem.payload))]

    # -- the corruptor seam --------------------------------------------------------------------------
    def candidates(self, problem: Problem, trace: Sequence[Step], i: int, kind: str) -> Sequence[Step]:
        """Wrong steps that could be written before step i of `trace` (the oracle trace; i == len(trace)
        is the end, where this task has nothing wrong to offer)."""
        if kind != "wrong":
            return super().candidates(problem, trace, i, kind)  # raises PlanError: not offered
        if i >= len(trace):
            return []
        return [Step(ch, key=(i, ch)) for ch in LETTERS if ch != trace[i].text]

    # -- codec -------------------------------------------------------------------------------------
    def encode_prompt(self, problem: Problem) -> np.ndarray:
        return np.array([ID[ch] for ch in problem.key], dtype=np.int64)

    def step_token_ids(self, step: Step) -> list[int]:
        return [ID[step.text]]  # one token per step: a letter, or [BACK]

    def encode(self, problem: Problem, trace: Sequence[Step]) -> Encoded:
        ids = self.encode_prompt(problem).tolist()
        tags = [Tag.PROMPT] * len(ids)  # the prompt's tokens carry Tag.PROMPT
        prompt_len, spans = len(ids), []
        for step in trace:
            start = len(ids)
            ids += self.step_token_ids(step)
            tags += [step.tag] * (len(ids) - start)  # a step's tokens carry the step's tag
            spans.append((start, len(ids)))
        ids.append(self.end_token)
        tags.append(Tag.ORACLE)  # the end token carries Tag.ORACLE
        return Encoded(np.array(ids, dtype=np.int64), np.array(tags, dtype=np.int8), prompt_len, spans)

    def decode(self, ids: Sequence[int]) -> str:
        out = []
        for i in ids:
            if i == self.end_token:
                break
            out.append(VOCAB[i] if 0 <= i < len(VOCAB) else "?")
        return "".join(out)

    def max_new_tokens(self, problem: Problem) -> int:
        return 4 * len(problem.payload) + 4  # room for a few [BACK]s

    # -- verifier ----------------------------------------------------------------------------------
    def verify(self, problem: Problem, completion: str) -> Verdict:
        return judge(problem.payload, completion)  # never raises: garbage gets a reason

    def verify_text(self, problem_text: str, completion: str, answer: Any = None) -> Verdict:
        """For `harness score $name FILE.jsonl`: the problem is its prompt text (`abc=`)."""
        if not isinstance(problem_text, str) or not isinstance(completion, str):
            return Verdict(False, "problem and solution must be text")
        s = problem_text.strip().removesuffix(SEP)
        if not s or set(s) - set(LETTERS):
            return Verdict(False, f"problem {problem_text!r} is not letters followed by {SEP!r}")
        return judge(s, completion)

    def eval_metrics(self, problems: Sequence[Problem], verdicts: Sequence[Verdict]) -> dict[str, float]:
        backs = [v.details["n_back"] for v in verdicts if "n_back" in v.details]
        return {"backs_per_item": sum(backs) / len(backs)} if backs else {}  # names declared in metrics

    @classmethod
    def budget_defaults(cls, budget: Budget) -> dict[str, Any]:
        return {"max_len": 5} if budget.profile == "pipeline" else {}  # by profile, never by name


@hookimpl
def harness_register_tasks(register):
    register(${Cls}Task)
'''

_TEST = '''\
"""Tests of the `$name` task: harness's conformance kit, and what the task itself promises."""

import random
from importlib.metadata import entry_points

import pytest

from harness import component, get_budget
from harness.testing import check_corruptor, check_task, corruptor_applies, verify
from harness_$name import BACK, ${Cls}Task

TASK = ${Cls}Task(${Cls}Task.Config())


def test_conforms():
    check_task(TASK)  # what the core relies on: prompts, tags, spans, the verifier, metrics, corruptors


def test_conforms_under_the_smoke_budget():
    smoke = ${Cls}Task.Config(**${Cls}Task.budget_defaults(get_budget("smoke")))
    assert smoke.max_len == 5
    check_task(${Cls}Task(smoke))


@pytest.mark.parametrize("name, params", [("oracle", {}), ("retry", {}), ("retry", {"rate": 0.9, "mask": True})])
def test_the_corruptors_it_takes_conform(name, params):
    check_corruptor(component("corruptor", name, **params), TASK)


def test_fallible_is_refused():  # no natural undo
    assert not corruptor_applies(component("corruptor", "fallible"), TASK)


def test_retry_writes_back_and_the_verifier_reads_it():
    retry = component("corruptor", "retry", rate=0.9)
    rng, texts = random.Random(0), []
    for p in TASK.sample_batch(random.Random(1), 20):
        text = TASK.trace_text(p, retry.corrupt(TASK, p, TASK.oracle(p), rng))
        assert verify(TASK, p, text).correct, text
        texts.append(text)
    assert any(BACK in t for t in texts)


def test_the_verifier_rejects_with_a_reason():
    p = TASK.sample(random.Random(2))
    want = p.payload[::-1]
    assert TASK.verify(p, want).correct
    assert TASK.verify(p, want + "a").reason.startswith("wrote")
    assert "nothing to retract" in TASK.verify(p, BACK + want).reason
    assert TASK.verify(p, want + "h" + BACK).correct


def test_scores_from_the_prompt_text():
    p = TASK.sample(random.Random(3))
    assert TASK.verify_text(TASK.prompt_text(p), p.payload[::-1]).correct
    assert not TASK.verify_text("12=", "21").correct


def test_registered_through_the_entry_point():
    if not any(ep.name == "$name" for ep in entry_points(group="harness")):
        pytest.skip("not installed: pip install --no-deps -e .")
    assert type(component("task", "$name")) is ${Cls}Task
'''

_FILES: dict[str, str] = {
    "pyproject.toml": _PYPROJECT,
    "README.md": _README,
    "harness_NAME/__init__.py": _TASK,
    "tests/test_NAME.py": _TEST,
}
