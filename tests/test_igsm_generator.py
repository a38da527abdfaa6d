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


# ------------------------------------------------------------------ the official generator's law (fidelity)
def _light(max_op: int) -> dict[int, float]:
    return {k: ((max_op - k + 1) ** 2 - (max_op - k) ** 2) / max_op**2 for k in range(1, max_op + 1)}


def test_training_op_law_survives_the_split():
    """op = 1 is trained, and the training op law after the template split is min of two uniforms (the
    split rejects on the template bin at a fixed op, as the official generator does)."""
    from scipy.stats import chisquare

    from harness.data import draw_problems

    n = 3000
    probs = draw_problems(MED, random.Random(11), n, "train")
    ops = [p.meta["op"] for p in probs]
    law = _light(15)
    obs = [ops.count(k) for k in range(1, 16)]
    exp = [law[k] * n for k in range(1, 16)]
    exp[-3:] = [sum(exp[-3:])] + [0, 0]  # pool the sparse tail (expected < 5)
    obs[-3:] = [sum(obs[-3:])] + [0, 0]
    assert chisquare(obs[:-2], exp[:-2]).pvalue > 1e-3
    assert 0.10 < ops.count(1) / n < 0.16  # P(op = 1) = 29/225 ≈ 0.129
    assert all(MED.template_bin(p) <= 15 for p in probs)  # the official train bins
    # op = 1 in training is the one train-side template: an instance constant
    ones = [p for p in probs if p.meta["op"] == 1]
    assert {MED.split_key(p) for p in ones} == {"Define Inst as a; so a = 0."}


def test_eval_side_bins_and_kinds():
    from harness.data import draw_problems

    task = IGSMTask(IGSMConfig(preset="mini", reask=True))
    probs = draw_problems(task, random.Random(3), 120, "eval")
    kinds = {}
    for p in probs:
        k = (p.meta["split"], p.meta["variant"], p.meta["op"] if p.meta["variant"] == "plain" else None)
        kinds[k] = kinds.get(k, 0) + 1
        if p.meta["split"] == "id" or p.meta["op"] <= task.config.max_op:
            assert 16 <= task.template_bin(p) <= 22  # the official test bins
    assert sorted(kinds.values()) == [20] * 6  # equal shares survive the split


@pytest.mark.parametrize("op", [1, 2, 3, 5, 8, 10])
def test_split_is_disjoint_at_each_op(op):
    """At a fixed op, a template is on exactly one side; both sides exist (op 1: the instance constant
    trains, the childless abstract query "so a = 0" is eval)."""
    from harness.data import is_eval_side

    rng = random.Random(op)
    sides: dict[str, set] = {"train": set(), "eval": set()}
    for _ in range(300 if op > 1 else 600):
        p = MINI.make(rng, op)
        sides["eval" if is_eval_side(MINI, p) else "train"].add(MINI.split_key(p))
    assert sides["train"] and sides["eval"]
    assert sides["train"].isdisjoint(sides["eval"])
    if op == 1:
        assert sides == {"train": {"Define Inst as a; so a = 0."}, "eval": {"Define Inter as a; so a = 0."}}


def test_split_positions_are_the_official_bins():
    from harness_igsm.template import bin_position

    frac = IGSMConfig().eval_fraction
    assert frac == 7 / 23
    assert [b for b in range(23) if bin_position(b) < frac] == list(range(16, 23))
    # the paper's reading (train < 17): first_eval_bin=17, eval_fraction=6/23
    assert [b for b in range(23) if bin_position(b, 17) < 6 / 23] == list(range(17, 23))
    task = IGSMTask(IGSMConfig(preset="med", first_eval_bin=17, eval_fraction=6 / 23))
    p = task.make(random.Random(0), 5)
    assert (task.split_position(p) < 6 / 23) == (task.template_bin(p) >= 17)


def _necessary_stats(task, op: int, n: int, seed: int):
    rng = random.Random(seed)
    out = {"nec_inst": 0, "copy": 0, "first_abs": 0, "second_abs": 0, "childless": 0, "abs": 0, "abs_query": 0}
    for _ in range(n):
        g = task.make(rng, op).payload.graph
        out["abs_query"] += g.query >= g.n_inst
        for x in g.order:
            ps = g.parents[x]
            if x < g.n_inst:
                out["nec_inst"] += 1
                out["copy"] += len(ps) == 1 and g.rng_mode[x] == R_NONE
                if len(ps) == 2:
                    out["first_abs"] += ps[0] >= g.n_inst
                    out["second_abs"] += ps[1] >= g.n_inst
            else:
                out["abs"] += 1
                out["childless"] += not ps
    return out


def test_copy_sentences_childless_abstracts_and_operand_order():
    s = _necessary_stats(MED, 10, 400, 1)
    # an instance parameter with no extra operations has 1 or 2 parents, its adopted one included: copies
    # ("... equals each C's D") are about a quarter of the necessary sentences (official ≈ 27%)
    assert 0.20 < s["copy"] / s["nec_inst"] < 0.34, s
    # childless abstract parameters (value 0, "so x = 0") are drawn too
    assert s["childless"] > 20, s
    # the adopted parent (biased toward abstract parameters) is written first
    assert s["first_abs"] > 2 * s["second_abs"], s
    # abstract steps per problem at op 10 (official med: about 2.4) and abstract queries (about 45%)
    assert 1.9 < s["abs"] / 400 < 2.9 and 0.35 < s["abs_query"] / 400 < 0.55, s


def test_abstract_sums_are_written_in_post_order():
    """Σ over ≥ 3 children of inst × abstract: t1 = a*b; t2 = c*d; t3 = t1+t2; t4 = e*f; so v = t3 + t4."""
    rng = random.Random(5)
    V = r"[A-Za-z]"
    N = r"\d+"
    prod = rf"({V}) = {V} \* {V} = {N} \* {N} = {N}"
    found = 0
    for _ in range(400):
        p = MED.make(rng, 20)
        g = p.payload.graph
        for x, step in zip(g.order, MED.oracle(p)):
            if x >= g.n_inst and g.comb[x] == C_ABS2 and len(g.parents[x]) >= 6:
                parts = step.text.split("; ")[1:]
                k = len(g.parents[x]) // 2
                assert len(parts) == 2 * k - 1, step.text
                m1, m2 = re.fullmatch(prod, parts[0]), re.fullmatch(prod, parts[1])
                assert m1 and m2, step.text
                s12 = re.fullmatch(rf"({V}) = {m1.group(1)} \+ {m2.group(1)} = {N} \+ {N} = {N}", parts[2])
                assert s12, step.text  # the sum of the first two products comes before the third product
                assert re.fullmatch(prod, parts[3]), step.text
                found += 1
        if found >= 5:
            break
    assert found >= 5


def test_restarts_keep_the_knobs(monkeypatch):
    """A stuck backward placement rebuilds the structure with the same knobs (the official try_num loop);
    only a construction whose op misses redraws them."""
    import harness_igsm.graph as G

    seen = []
    real_structure, real_sort = G._structure, G._sort
    calls = {"sort": 0}

    def structure(rng, k, names):
        seen.append(k)
        return real_structure(rng, k, names)

    def sort(rng, b):
        calls["sort"] += 1
        return None if calls["sort"] <= 3 else real_sort(rng, b)

    monkeypatch.setattr(G, "_structure", structure)
    monkeypatch.setattr(G, "_sort", sort)
    G.generate(random.Random(0), 6, 20, _NAME_TABLE)
    assert len(seen) >= 4 and all(k is seen[0] for k in seen[:4])


def test_structure_growth_order():
    """Growth forced by the edge count comes first; random growth (prob. p per step) stops once the
    layers below the top hold exactly e items."""
    from harness_igsm.graph import Knobs, _structure

    for seed in range(30):
        rng = random.Random(seed)
        b = _structure(rng, Knobs(5, 1, 5, 2, 2, 4, 0.0, 10), _NAME_TABLE)  # p = 0: forced growth only
        sizes = [b.g.layer.count(j) for j in range(2)]
        assert sorted(sizes) == [3, 4] and b.g.n_inst == 10
        b = _structure(rng, Knobs(5, 1, 5, 3, 2, 4, 1.0, 5), _NAME_TABLE)  # p = 1: grow until the stop rule
        sizes = [b.g.layer.count(j) for j in range(3)]
        assert sizes[1] + sizes[2] == 5 and b.g.n_inst == 5


def test_redrawn_attempt_op():
    task = IGSMTask(IGSMConfig(preset="mini", attempt_op="redrawn"))
    rng = random.Random(2)
    for p in task.sample_batch(rng, 30):
        check_problem(task, p)
    for op in (1, 4, 10):
        check_problem(task, task.make(rng, op), op)
