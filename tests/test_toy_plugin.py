"""The third-party fixture plugin harness-toy: its task honours the Task contract, the core corruptors
work on it unchanged, and the real CLI discovers it through its entry point."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.corruptors.fallible import Fallible, FallibleConfig
from harness.corruptors.oracle import Oracle, OracleConfig
from harness.interfaces import PlanError, Tag
from harness_toy import TreeWalk, TreeWalkConfig  # installed by conftest.py


def make_task(**kw) -> "TreeWalk":
    return TreeWalk(TreeWalkConfig(**kw))


def problems(n: int, seed: int = 0, **kw):
    task = make_task(**kw)
    return task, task.sample_batch(random.Random(seed), n)


def cli(*args: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


# ------------------------------------------------------------------------------------------ the task
def test_config_validation():
    with pytest.raises(ValueError, match="min_nodes"):
        TreeWalkConfig(min_nodes=10, max_nodes=7)
    with pytest.raises(ValueError):
        TreeWalkConfig(max_nodes=15)  # only 14 letters
    with pytest.raises(ValueError):
        TreeWalkConfig(depth=3)  # extra="forbid"


def test_problems_are_well_formed_and_reproducible():
    task, ps = problems(300, seed=1)
    assert [p.key for p in ps] == [p.key for p in make_task().sample_batch(random.Random(1), 300)]
    for p in ps:
        assert 6 <= p.meta["n_nodes"] <= 14
        assert p.meta["depth"] == len(task.oracle(p)) >= 1
        assert p.key.endswith(f"?{p.payload['target']}|")
        assert p.key.count(">") == p.meta["n_nodes"] - 1
        assert len(set(p.key)) > 3
    assert len({p.key for p in ps}) > 290  # a large problem space


def test_oracle_passes_verifier():
    task, ps = problems(500, seed=2)
    for p in ps:
        text = task.trace_text(p, task.oracle(p))
        assert text == "".join(s.text for s in task.oracle(p))
        v = task.verify(p, text)
        assert v.correct, (p.key, text, v.reason)


def test_verifier_rejects_wrong_walks():
    task, ps = problems(200, seed=3)
    for p in ps:
        oracle = "".join(s.text for s in task.oracle(p))
        assert not task.verify(p, "").correct
        assert not task.verify(p, oracle[:-1]).correct
        assert not task.verify(p, oracle + "^").correct
        assert not task.verify(p, "^" + oracle).correct  # up from the root
        assert "root" in task.verify(p, "^" + oracle).reason


def test_encode_tags_and_spans():
    task, ps = problems(50, seed=4)
    fallible = Fallible(FallibleConfig(p=1.0))
    for p in ps:
        trace = fallible.corrupt(task, p, task.oracle(p), random.Random(0))
        enc = task.encode(p, trace)
        assert enc.tokens.dtype == np.int64 and enc.tags.dtype == np.int8
        assert len(enc.tokens) == len(enc.tags)
        assert np.array_equal(enc.tokens[: enc.prompt_len], task.encode_prompt(p))
        assert (enc.tags[: enc.prompt_len] == Tag.PROMPT).all()
        assert enc.tokens[-1] == task.end_token and enc.tags[-1] == Tag.ORACLE
        assert task.end_token not in enc.tokens[:-1].tolist()
        assert len(enc.step_spans) == len(trace)
        for (a, b), step in zip(enc.step_spans, trace):
            assert task.decode(enc.tokens[a:b].tolist()) == step.text
            assert (enc.tags[a:b] == step.tag).all()
        assert len(enc.tokens) - enc.prompt_len <= task.max_new_tokens(p)
        assert task.prompt_text(p) == p.key


def test_decode_cuts_at_end_token_and_survives_bad_ids():
    task = make_task()
    ids = [task.vocab.index("b"), task.vocab.index("^"), task.end_token, task.vocab.index("c")]
    assert task.decode(ids) == "b^"
    assert task.decode([999, -1, task.vocab.index("a")]) == "\ufffd\ufffda"


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_fallible_traces_verify_and_strip_back_to_oracle(p):
    task, ps = problems(300, seed=5)
    fallible = Fallible(FallibleConfig(p=p))
    fallible.check(task)  # no PlanError: wrong candidates + natural undo
    rng = random.Random(7)
    n_mistakes = 0
    for prob in ps:
        oracle = task.oracle(prob)
        trace = fallible.corrupt(task, prob, oracle, rng)
        v = task.verify(prob, task.trace_text(prob, trace))
        assert v.correct, (prob.key, task.trace_text(prob, trace), v.reason)
        # every mistake is followed by its correction; removing the pairs gives the oracle back
        for i, s in enumerate(trace):
            if s.tag == Tag.MISTAKE:
                assert trace[i + 1].tag == Tag.CORRECTION and trace[i + 1].text == "^"
                assert s.decision
        stripped = [s for s in trace if s.tag == Tag.ORACLE]
        assert [s.text for s in stripped] == [s.text for s in oracle]
        assert sum(s.tag == Tag.MISTAKE for s in trace) == sum(s.tag == Tag.CORRECTION for s in trace)
        n_mistakes += sum(s.tag == Tag.MISTAKE for s in trace)
    if p == 0.0:
        assert n_mistakes == 0
    else:
        assert n_mistakes > 0


def test_decision_points_are_branching_nodes_on_the_path():
    task, ps = problems(200, seed=6)
    trace_rng = random.Random(0)
    fallible = Fallible(FallibleConfig(p=1.0))
    for p in ps:
        oracle = task.oracle(p)
        path = p.payload["path"]
        for i, step in enumerate(oracle):
            wrong = task.candidates(p, oracle, i, "wrong")
            kids = p.payload["children"][path[i]]
            assert {w.key for w in wrong} == set(kids) - {step.key}
            assert (len(kids) >= 2) == bool(wrong)
        assert task.candidates(p, oracle, len(oracle), "wrong") == []
        with pytest.raises(PlanError):
            task.candidates(p, oracle, 0, "later")
        trace = fallible.corrupt(task, p, oracle, trace_rng)
        n_branching = sum(len(p.payload["children"][x]) >= 2 for x in path[:-1])
        assert sum(s.tag == Tag.MISTAKE for s in trace) == n_branching


def test_oracle_corruptor_is_identity():
    task, ps = problems(20, seed=8)
    for p in ps:
        assert Oracle(OracleConfig()).corrupt(task, p, task.oracle(p), random.Random(0)) == task.oracle(p)


_PROBLEMS = problems(40, seed=9)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 39), st.text(alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyz^.>?| ") + ["\x00", "é", "\n"]), max_size=60))
def test_verify_never_raises_on_garbage(idx, completion):
    task, ps = _PROBLEMS
    v = task.verify(ps[idx], completion)
    assert isinstance(v.correct, bool)
    if not v.correct:
        assert v.reason


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 39), st.text(max_size=40))
def test_verify_never_raises_on_arbitrary_unicode(idx, completion):
    task, ps = _PROBLEMS
    v = task.verify(ps[idx], completion)
    assert isinstance(v.correct, bool) and (v.correct or v.reason)


# -------------------------------------------------------------------------------------- the real CLI
def test_cli_plugins_json_lists_toy():
    r = cli("plugins", "--json")
    assert r.returncode == 0, r.stderr
    plugins = {p["name"]: p for p in json.loads(r.stdout)}
    toy = plugins["toy"]
    assert toy["status"] == "ok"
    assert toy["version"] == "0.1.0"
    assert toy["distribution"] == "harness-toy"
    assert toy["tasks"] == ["treewalk"]


def test_cli_list_shows_treewalk():
    r = cli("list")
    assert r.returncode == 0, r.stderr
    assert "treewalk" in r.stdout
    r = cli("list", "--json")
    tasks = {t["name"]: t for t in json.loads(r.stdout)["task"]}
    assert tasks["treewalk"]["plugin"] == "toy"
    assert tasks["treewalk"]["aliases"] == ["toy-tree"]


def test_cli_validate_treewalk_grid():
    r = cli("validate", "treewalk×oracle,fallible×gpt-2L")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "valid" in r.stdout and "2 cells" in r.stdout


def test_cli_validate_bad_treewalk_param_names_field():
    r = cli("validate", "treewalk(max_nodes=20)×oracle×gpt-2L")
    assert r.returncode == 2
    assert "max_nodes" in r.stdout


def test_cli_show_treewalk():
    r = cli("show", "treewalk×fallible", "--n", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("treewalk #") == 2


def test_cli_data_treewalk(tmp_path):
    out = tmp_path / "X.parquet"
    r = cli("data", "treewalk×fallible(p=0.5)", "--n", "50", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    df = pl.read_parquet(out)
    assert df.height == 50
    assert df["n_mistakes"].sum() > 0
    assert set(df["meta_n_nodes"].to_list()) <= set(range(6, 15))
    # every written completion ends with the move onto its problem's target
    for key, completion in zip(df["problem_key"].to_list(), df["completion"].to_list()):
        assert completion[-1] == key[key.index("?") + 1]


@pytest.mark.slow
def test_cli_run_treewalk_oracle_and_fallible(tmp_path):
    """The outsider's task trains and evaluates through `harness run`, fallible included."""
    out = tmp_path / "run"
    r = cli("run", "treewalk×oracle,fallible(p=0.5)×gpt-2L", "--budget", "tiny", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    res = pl.read_parquet(out / "results.parquet")
    assert res.height == 2 and set(res["status"]) == {"ok"}
    by = {row["corruptor"]: row for row in res.iter_rows(named=True)}
    assert by["fallible(p=0.5)"]["mistakes_per_sample"] > 0 and by["oracle"]["mistakes_per_sample"] == 0
    assert by["oracle"]["dp_n"] > 0  # decision-point metrics come from the toy task's seam
    items = pl.read_parquet(out / "items.parquet")
    assert "meta_n_nodes" in items.columns and items.height == int(res["n_eval"].sum())


@pytest.mark.slow
def test_a_declared_task_metric_reaches_results_terminal_and_report(tmp_path):
    """The outsider's task declares a metric the core has never heard of (`ups_per_walk`, from the
    per-item verdict details); with no change to the core it lands in results.parquet under its
    namespace, in the terminal table and in the Markdown report, and the details stay per item.
    (1,000 iterations: the model must end its completions for the verifier to see them.)"""
    out = tmp_path / "run"
    r = cli("run", "treewalk×oracle×gpt-2L", "--budget", "tiny", "--budget-set", "train_tokens=1024000",
            "--out", str(out), env={"OMP_NUM_THREADS": "1"}, timeout=600)  # one thread: the suite runs -n auto
    assert r.returncode == 0, r.stdout + r.stderr
    res = pl.read_parquet(out / "results.parquet")
    items = pl.read_parquet(out / "items.parquet")
    details = [json.loads(d) for d in items["details"].drop_nulls().to_list()]
    assert len(details) > items.height // 2  # most completions were ended and verified
    ups = [d["n_up"] for d in details]
    assert res["task.ups_per_walk"][0] == pytest.approx(sum(ups) / len(ups))
    assert "ups_per_walk" not in res.columns  # namespaced: a task cannot write a core column
    declared = json.loads((out / "metrics.json").read_text())
    assert declared["task.ups_per_walk"]["label"] == "ups / walk"
    assert declared["dp_correct_prob"]["label"] == "P(correct | decision point)"  # the core's own, declared alike
    assert "ups / walk" in r.stdout  # the terminal table (a headline metric)
    report = (out / "README.md").read_text()
    assert "## Task metrics" in report and "**ups / walk** (`task.ups_per_walk`, mean over seeds" in report
