"""The iGSM generator: exact op, necessity, values mod 23, structure, ip bound, distribution, determinism."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness_igsm import IGSMConfig, IGSMTask
from harness_igsm.graph import (
    C_ABS1,
    C_ABS2,
    C_DIFF,
    MOD,
    R_CONST,
    R_MORE,
    R_NONE,
    R_TIMES,
    GenerationError,
    generate,
    train_op,
)
from harness_igsm.names import CATEGORIZATIONS
from harness_igsm.task import _NAME_TABLE

MED = IGSMTask(IGSMConfig(preset="med"))
HARD = IGSMTask(IGSMConfig(preset="hard"))
MINI = IGSMTask(IGSMConfig(preset="mini"))


def recompute(g) -> list[int]:
    """Values from the graph's rules alone, in a topological order found here (not the generator's)."""
    val: dict[int, int] = {}
    todo = [x for x in range(g.n_param)]
    while todo:
        rest = []
        for x in todo:
            ps = g.parents[x]
            if any(p not in val for p in ps):
                rest.append(x)
                continue
            c = g.comb[x]
            if x >= g.n_inst:
                if c == C_ABS1:
                    assert g.target[x] == g.layer[g.owner[x]] + 1
                    v = sum(val[p] for p in ps)
                else:
                    assert c == C_ABS2 and g.target[x] > g.layer[g.owner[x]] + 1
                    v = sum(val[ps[j]] * val[ps[j + 1]] for j in range(0, len(ps), 2))
            else:
                r = g.rng_mode[x]
                if not ps:
                    assert r == R_CONST
                    v = g.const[x]
                else:
                    xv = val[ps[0]] - val[ps[1]] if c == C_DIFF else sum(val[p] for p in ps)
                    v = xv if r == R_NONE else (g.const[x] + xv if r == R_MORE else g.const[x] * xv)
                    assert r in (R_NONE, R_MORE, R_TIMES)
            val[x] = v % MOD
        assert len(rest) < len(todo), "cycle in the dependency graph"
        todo = rest
    return [val[x] for x in range(g.n_param)]


def check_problem(task: IGSMTask, p, op: int | None = None) -> None:
    cfg = task.config
    pl = p.payload
    g = pl.graph
    sol = " ".join(s.text for s in task.oracle(p))
    # exact op: requested == ";" count == Σ max(1, indeg − 1) over the necessary parameters
    indeg = [len(g.parents[x]) + (g.rng_mode[x] != R_NONE) for x in range(g.n_param)]
    op_sum = sum(max(1, indeg[x] - 1) for x in g.order)
    assert sol.count(";") == op_sum == g.op == p.meta["op"]
    if op is not None:
        assert g.op == op
    # necessity: the solution parameters are exactly the query and its ancestors; query last
    assert g.order[-1] == g.query
    assert set(g.order) == g.ancestors(g.query)
    assert len(set(g.order)) == len(g.order)
    seen: set[int] = set()
    for x in g.order:  # topological
        assert all(q in seen for q in g.parents[x])
        seen.add(x)
    # values
    assert recompute(g) == g.value
    assert pl.answer == g.value[g.query]
    assert sol.endswith(f"= {pl.answer}.")  # the last sentence states the answer
    # instance parameters: ≤ ip_max, ≤ 4 parents (RNG counted), each stated in the problem exactly once
    assert g.n_inst == p.meta["ip"] <= cfg.ip_max
    for x in range(g.n_inst):
        assert 1 <= indeg[x] <= 4
        assert p.key.count(f"The number of each {g.name(x)} equals") == 1
    assert p.key.count("The number of each") == g.n_inst
    # structure: 2..4 consecutive layers of one categorization; edges join adjacent layers; every lower
    # item has a parent; items distinct
    assert 2 <= g.d <= 4 and len(g.cats) == g.d
    assert tuple(g.cats) == CATEGORIZATIONS[g.chain][g.offset : g.offset + g.d]
    assert len(set(g.items)) == len(g.items)
    has_parent = set()
    for x in range(g.n_inst):
        a, b = g.owner[x], g.target[x]
        assert g.layer[b] == g.layer[a] + 1
        has_parent.add(b)
    assert has_parent == {i for i in range(len(g.items)) if g.layer[i] > 0}
    sizes = [g.layer.count(j) for j in range(g.d)]
    assert all(2 <= s <= 4 for s in sizes), sizes
    # abstract parameters: one per (item, lower layer); parents per the spec's definition
    n_abs = sum(1 for i in range(len(g.items)) for K in range(g.layer[i] + 1, g.d))
    assert g.n_param - g.n_inst == n_abs
    for x in range(g.n_inst, g.n_param):
        kids = [e for e in range(g.n_inst) if g.owner[e] == g.owner[x]]
        if g.comb[x] == C_ABS1:
            assert sorted(g.parents[x]) == kids
        else:
            assert sorted(g.parents[x][0::2]) == kids
    # letters: one fresh letter per computation, none reused
    defined = re.findall(r"(?:as|;) ([A-Za-z])(?=;| =)", sol)
    assert len(defined) == g.op and len(set(defined)) == g.op


@settings(deadline=None, max_examples=200)
@given(seed=st.integers(0, 2**32 - 1), op=st.integers(1, 23))
def test_med_exact_op(seed, op):
    p = MED.make(random.Random(seed), op)
    check_problem(MED, p, op)


@settings(deadline=None, max_examples=80)
@given(seed=st.integers(0, 2**32 - 1), op=st.sampled_from([1, 2, 7, 21, 28, 32]))
def test_hard_exact_op(seed, op):
    p = HARD.make(random.Random(seed), op)
    check_problem(HARD, p, op)


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1))
def test_training_batches(seed):
    rng = random.Random(seed)
    for task in (MINI, MED):
        for p in task.sample_batch(rng, 4):
            assert 1 <= p.meta["op"] <= task.config.max_op
            assert p.meta["split"] == "train" and p.meta["variant"] == "plain"
            check_problem(task, p)


def test_small_ip_max():
    task = IGSMTask(IGSMConfig(preset="mini", max_op=6, ip_max=10, eval_ops=[7, 8]))
    rng = random.Random(3)
    for p in task.sample_batch(rng, 100) + task.sample_eval(rng, 40):
        check_problem(task, p)


def test_train_op_is_min_of_two_uniforms():
    rng = random.Random(0)
    n = 20000
    ops = [train_op(rng, 15) for _ in range(n)]
    expect = sum(((16 - k) / 15) ** 2 for k in range(1, 16))  # E[min] = Σ P(min ≥ k) ≈ 5.51
    assert abs(sum(ops) / n - expect) < 0.1
    assert min(ops) == 1 and max(ops) == 15
    # P(op = 1) = 29/225 ≈ 0.129 > P(op = 15) = 1/225
    assert ops.count(1) > 10 * ops.count(15)
    probs = MED.sample_batch(random.Random(1), 600)
    assert abs(sum(p.meta["op"] for p in probs) / 600 - expect) < 0.5


def test_same_seed_same_problems():
    a = MED.sample_batch(random.Random(42), 20)
    b = MED.sample_batch(random.Random(42), 20)
    assert [p.key for p in a] == [p.key for p in b]
    assert [[s.text for s in MED.oracle(p)] for p in a] == [[s.text for s in MED.oracle(p)] for p in b]
    c = MED.sample_batch(random.Random(43), 20)
    assert [p.key for p in a] != [p.key for p in c]


def test_formats_pq_qp():
    qp = IGSMTask(IGSMConfig(preset="med", format="qp"))
    for seed in range(20):
        p = MED.make(random.Random(seed), 6)
        q = qp.make(random.Random(seed), 6)
        assert re.search(r"\. How many [^.]+ does [^.]+ have\?$", p.key), p.key
        assert re.match(r"How many [^.?]+ does [^.?]+ have\? The number of each ", q.key), q.key
        assert q.key.endswith(".")
        # the same generation, only the question moved
        question = p.key[p.key.rindex("How many"):]
        assert q.key == question + " " + p.key[: -len(question) - 1]


def test_generation_error_is_clear():
    with pytest.raises(GenerationError, match="op=40"):
        generate(random.Random(0), 40, 3, _NAME_TABLE, tries=50)


def test_every_instance_parameter_in_problem_and_distractors_unnecessary():
    rng = random.Random(7)
    for _ in range(50):
        p = MED.make(rng, 10)
        g = p.payload.graph
        nec = set(g.order)
        assert set(g.distractors).isdisjoint(nec)
        # every instance parameter is in the dependency graph
        assert all(g.in_graph[x] for x in range(g.n_inst))
        assert {x for x in range(g.n_inst) if x not in nec} <= set(g.distractors)
