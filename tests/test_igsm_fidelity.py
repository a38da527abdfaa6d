"""harness_igsm.fidelity without the official code: its statistics, the text facts, our side of a run."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from harness_igsm import IGSMConfig, IGSMTask
from harness_igsm import fidelity as F

MINI = IGSMTask(IGSMConfig(preset="mini"))


def test_statistics():
    # identical laws: large p; shifted laws: tiny p
    a = Counter({1: 500, 2: 300, 3: 200, 9: 2})
    assert F.chi2_two(a, a) > 0.99
    assert F.chi2_two(a, Counter({1: 300, 2: 300, 3: 400})) < 1e-6
    x, y = F._merge_sparse(Counter({1: 50, 2: 50, 3: 1}), Counter({1: 50, 2: 50, 4: 1}))
    assert sum(x) == 101 and sum(y) == 101 and len(x) == 2
    law = F.light_law(15)
    assert abs(sum(law.values()) - 1) < 1e-12 and abs(law[1] - 29 / 225) < 1e-12
    rng = random.Random(0)
    ops = Counter(min(rng.randint(1, 15), rng.randint(1, 15)) for _ in range(5000))
    assert F.chi2_gof(ops, law) > 1e-3
    assert F.chi2_gof(Counter(rng.randint(1, 15) for _ in range(5000)), law) < 1e-6
    assert F.prop_two(100, 1000, 100, 1000) == 1.0 and F.prop_two(100, 1000, 200, 1000) < 1e-6
    same = [(1, 4), (2, 4), (0, 3)] * 100
    assert F.cluster_prop_two(same, same) == 1.0
    assert F.cluster_prop_two(same, [(3, 4), (2, 4), (2, 3)] * 100) < 1e-6
    assert F.ks_two(list(range(100)), list(range(100))) > 0.99


def test_facts_and_rows_on_our_problems():
    s = F.run_ours_train(MINI, 200, 1)
    assert len(s.samples) == 200 and s.seconds > 0
    fa, bad = F._facts_all(s.samples[:100])
    fb, _ = F._facts_all(s.samples[100:])
    assert not bad
    for f, smp in zip(fa, s.samples):
        assert f.ok and f.op == smp.op and f.bin == smp.bin and f.bin <= 15
        assert f.nec_inst + f.nec_abs == f.n_nec and 0 <= f.copies <= f.nec_inst <= f.ip
    rows = F.compare(fa, fb, max_op=10)
    assert all(r.p is None or r.p > 1e-4 for r in rows), [(r.name, r.p) for r in rows if r.p is not None]
    text = F.markdown("t", rows, 0.001)
    assert text.count("\n") == len(rows) + 3
    ev = F.run_ours_op(MINI, 20, 10, 2, "test")
    assert all(16 <= x.bin <= 22 and x.op == 10 for x in ev.samples)


def test_word_tokens_count_names_as_one():
    name_re = F._name_regex(["Film Studio", "Backpack", "School Daypack"])
    assert F.word_tokens("The number of each Film Studio's School Daypack equals 17.", name_re) == 9


def test_official_path_is_checked(tmp_path):
    with pytest.raises(SystemExit, match="lacks"):
        F.run_official(str(tmp_path), "python", 1, "train", 0, 15, 20)
