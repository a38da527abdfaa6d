"""The retry family on real iGSM problems: retracted sentences removed give the oracle solution back,
every mistake is of its kind, [BACK]ed solutions still verify, and masking hits exactly the
"Define <param> as" prefixes."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.corruptors.retry import Retry, RetryMiss, RetryWeak
from harness.data import LossPolicy, pack
from harness.interfaces import Tag
from harness_igsm import IGSMConfig, IGSMTask

TASK = IGSMTask(IGSMConfig(preset="med"))


def _positions(trace):
    """(oracle position, step) for every mistake."""
    i = 0
    for s in trace:
        if s.tag == Tag.ORACLE:
            i += 1
        elif s.tag == Tag.MISTAKE:
            yield i, s


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rate=st.sampled_from([0.2, 0.5, 0.8]),
       kind=st.sampled_from(["retry", "retry_weak", "retry_miss"]))
def test_retry_properties_on_igsm(seed, rate, kind):
    cls = {"retry": Retry, "retry_weak": RetryWeak, "retry_miss": RetryMiss}[kind]
    corr = cls(cls.Config(rate=rate))
    rng = random.Random(seed)
    for p in TASK.sample_batch(rng, 4):
        oracle = TASK.oracle(p)
        trace = corr.corrupt(TASK, p, oracle, rng)
        # every mistake is followed at once by [BACK]; dropping both gives the oracle back
        kept = [s for j, s in enumerate(trace) if s.tag == Tag.ORACLE]
        for j, s in enumerate(trace):
            if s.tag == Tag.MISTAKE:
                assert trace[j + 1].tag == Tag.CORRECTION and trace[j + 1].text == "[BACK]."
        assert kept == oracle
        g = p.payload.graph
        names = p.payload.names
        idx = {n: x for x, n in enumerate(names)}
        order = [s.key for s in oracle]
        for i, s in _positions(trace):
            assert s.text == f"Define {s.key} as"
            done = set(order[:i])
            if kind == "retry":  # not computable yet, not yet computed
                x = idx[s.key]
                assert s.key not in done
                assert not all(names[q] in done for q in g.parents[x])
            elif kind == "retry_weak":  # appears later in the oracle
                assert s.key in order[i + 1:]
            else:  # stated in the problem, not yet in the solution
                assert f"each {s.key} equals" in p.key and s.key not in order[: i + 1]
        # the corrupted solution text still verifies: retracted sentences are dropped
        text = TASK.trace_text(p, trace)
        v = TASK.verify(p, text)
        assert v.correct, (v.reason, text)
        assert v.details["n_back"] == sum(s.tag == Tag.CORRECTION for s in trace)


def test_mask_covers_exactly_the_define_prefixes():
    rng = random.Random(4)
    corr = Retry(Retry.Config(rate=0.5, mask=True))
    samples, traces = [], []
    for p in TASK.sample_batch(rng, 40):
        tr = corr.corrupt(TASK, p, TASK.oracle(p), rng)
        traces.append(tr)
        samples.append(TASK.encode(p, tr))
    data = pack(samples, len(TASK.vocab), LossPolicy(masked_tags=corr.loss_masked_tags()))
    tags = np.concatenate([s.tags for s in samples])
    assert np.array_equal(~data.loss, tags == Tag.MISTAKE)
    vocab = TASK.vocab
    for enc, tr in zip(samples, traces):
        for (a, b), s in zip(enc.step_spans, tr):
            words = [vocab[t] for t in enc.tokens[a:b]]
            if s.tag == Tag.MISTAKE:
                assert words[0] == "Define" and words[-1] == "as"
                assert (enc.tags[a:b] == Tag.MISTAKE).all()
            if s.tag == Tag.CORRECTION:
                assert words == ["[BACK]", "."]
                assert not (enc.tags[a:b] == Tag.MISTAKE).any()
