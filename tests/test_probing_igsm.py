"""The iGSM `can_next` target and the V-probe: labels equal the dependency graph's ground truth
(checked against the task's own candidate lists, an independent code path), the model's own text is
labelled up to its first wrong sentence, the V-probe learns through a frozen model without changing
it, the regret scores count what they say, and `harness probe` reports can_next and the regret rate
end to end on a tiny iGSM run."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from harness import OwnSteps, Tag, component
from harness.data import draw_problems
from harness.probing import fit_vprobe, score_own_steps
from harness_igsm.tokens import BACK_ID, W_AS

TASK = component("task", "igsm", budget="cpu")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_can_next_labels_equal_the_graph_ground_truth(seed):
    target = component("probe_target", "can_next", prefixes=50, queries=200)  # every prefix, every parameter
    p = TASK.sample(random.Random(seed))
    trace = TASK.oracle(p)
    exs = target.examples(TASK, p, trace, TASK.encode(p, trace), random.Random(seed))
    pl_, names = p.payload, p.payload.names
    assert exs
    seen_prefixes = set()
    for ex in exs:
        assert ex.tokens[ex.positions[0]] == W_AS and len(ex.positions) == 1
        # which prefix: the sentences between the prompt and the appended query
        k = next(k for k in range(len(pl_.sentences) + 1)
                 if len(pl_.prompt) + sum(map(len, pl_.sentences[:k])) == len(ex.tokens) - 2 - max(
                     len(pl_.names_ids[x]) for x in range(pl_.graph.n_param)
                     if list(ex.tokens[-1 - len(pl_.names_ids[x]):-1]) == pl_.names_ids[x]))
        seen_prefixes.add(k)
        x = next(x for x in range(pl_.graph.n_param)
                 if list(ex.tokens[len(ex.tokens) - 1 - len(pl_.names_ids[x]):-1]) == pl_.names_ids[x])
        assert x not in pl_.graph.order[:k]  # only parameters not yet computed are asked about
        wrong = {s.key for s in TASK.candidates(p, trace, k, "wrong")}  # "not computable before sentence k"
        assert ex.labels[0] == int(names[x] not in wrong), (k, names[x])
    assert seen_prefixes == set(range(len(pl_.sentences)))


def test_own_steps_read_the_model_text_up_to_its_first_wrong_sentence():
    target = component("probe_target", "can_next")
    retry = component("corruptor", "retry", rate=0.9)
    rng, checked = random.Random(0), 0
    for p in draw_problems(TASK, random.Random(3), 40, "eval"):
        oracle = TASK.oracle(p)
        enc = TASK.encode(p, oracle)
        own = target.own_steps(TASK, p, enc.tokens[enc.prompt_len:])
        assert own.first_wrong is None and own.labels.tolist() == [1] * len(oracle)
        assert (own.tokens[own.positions] == W_AS).all() and np.array_equal(own.tokens, enc.tokens)
        trace = retry.corrupt(TASK, p, oracle, rng)
        first = next((j for j, s in enumerate(trace) if s.tag == Tag.MISTAKE), None)
        if first is None:
            continue
        enc = TASK.encode(p, trace)
        own = target.own_steps(TASK, p, enc.tokens[enc.prompt_len:])
        # the first retry sentence defines a parameter that cannot be computed yet: it is the first wrong step
        assert own.first_wrong == first and own.labels[-1] == 0 and own.labels[:-1].all()
        a, _ = enc.step_spans[first]
        assert own.positions[-1] == enc.step_spans[first][1] - 1 and enc.tags[a] == Tag.MISTAKE
        checked += 1
    assert checked > 10
    # a [BACK] retraction computes nothing: the parameter it retracted is not "done" afterwards
    assert BACK_ID in enc.tokens


def test_text_that_is_no_definition_is_not_labelled():
    target = component("probe_target", "can_next")
    p = draw_problems(TASK, random.Random(5), 1, "eval")[0]
    assert target.own_steps(TASK, p, []) is None
    assert target.own_steps(TASK, p, TASK.step_token_ids(TASK.oracle(p)[0])[:1]) is None  # "Define" alone


def _tiny_gpt():
    import torch

    fam = component("model", "gpt-1L", budget="tiny")
    torch.manual_seed(0)
    return fam.build(vocab_size=40, block_size=32)


def test_the_vprobe_learns_through_a_frozen_model_and_leaves_it_unchanged():
    import torch

    model = _tiny_gpt()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 40, size=12) for _ in range(600)]
    poss = [np.array([11]) for _ in seqs]
    labs = [np.array([int(s[11] % 3 == 0)]) for s in seqs]  # a property of the token read: the embedding update can carry it
    predict = fit_vprobe(model, seqs[:400], poss[:400], labs[:400], 2, seed=0, device="cpu", rank=8, steps=300)
    probs = predict(seqs[400:], poss[400:])
    acc = (probs.argmax(1) == np.concatenate(labs[400:])).mean()
    assert acc > 0.95, acc
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # frozen, and the hook is gone:
    x = torch.from_numpy(np.stack(seqs[:4]))
    assert torch.equal(model(x), _tiny_gpt()(x))
    assert all(p.requires_grad for p in model.parameters())


def test_own_step_scores_count_what_they_say():
    def own(labels, first):
        return OwnSteps(np.zeros(10, dtype=np.int64), np.arange(len(labels)), np.array(labels), first)

    # flag class 0 = "cannot be computed next"
    steps = [own([1, 1, 0], 2), own([1, 0], 1), own([1, 1], None), own([0], 0)]
    flagged = [[0.9, 0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.2]]  # P(class 1) per step
    probs = [np.stack([1 - np.array(f), np.array(f)], 1) for f in flagged]
    s = score_own_steps(steps, probs, flag=0, seed=0, n_boot=50)
    assert s["regret_rate"][0] == pytest.approx(2 / 3)  # first wrong steps flagged: yes (0.1), no (0.9), yes (0.2)
    assert s["own_false_alarm"][0] == pytest.approx(2 / 5)  # right steps before them: 2+1+2, flagged: 0,1(0.1),1(0.1)
    assert s["regret_rate"][1] <= s["regret_rate"][0] <= s["regret_rate"][2]


@pytest.fixture(scope="module")
def tiny_igsm_run(tmp_path_factory):
    from tests.plugin_dirs import run_cli

    out = tmp_path_factory.mktemp("igsm") / "run"
    r = run_cli("run", "igsm×oracle×gpt-1L", "--budget", "tiny", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    return out


@pytest.mark.slow
def test_harness_probe_reports_can_next_with_the_vprobe(tiny_igsm_run):
    from tests.plugin_dirs import run_cli

    out = tiny_igsm_run
    r = run_cli("probe", str(out), "--target", "can_next", "--probe", "linear,vprobe", "--n", "30",
                "--vprobe-steps", "5", "--vprobe-rank", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    # a tiny-budget model writes no "Define <parameter> as" of its own: said, and no regret rows made up
    assert "own greedy completions: 0 labelled" in r.stdout
    t = pl.read_parquet(out / "probes.parquet")
    assert set(t["probe"]) == {"linear", "vprobe"} and set(t["target"]) == {"can_next"}
    vp = t.filter(pl.col("probe") == "vprobe")
    assert set(vp["layer"]) == {0} and set(vp["site"]) == {"resid_post"}  # the last layer
    assert set(t["metric"]) == {"balanced_accuracy", "auroc"} and 0 < t["positive_rate"][0] < 1
    r = run_cli("report", str(out))
    assert r.returncode == 0 and (out / "probes_can_next.png").exists()


@pytest.mark.slow
def test_the_regret_rate_is_measured_on_the_model_own_text(tiny_igsm_run, tmp_path, monkeypatch):
    """The model's "own" solutions are scripted (retry-corrupted oracle solutions, whose first wrong
    sentence is known) so the regret path runs on text that has wrong sentences."""
    import shutil

    import harness.decode
    from harness.plugins import get_manager
    from harness.probing import ProbeSettings, run_probes

    out = tmp_path / "run"
    shutil.copytree(tiny_igsm_run, out)
    shutil.rmtree(out / "probes", ignore_errors=True)
    retry, rng = component("corruptor", "retry", rate=0.5), random.Random(0)
    by_prompt, wrong = {}, 0

    def scripted(model, prompts, **kw):
        nonlocal wrong
        outs = []
        for pr in prompts:
            p = by_prompt[tuple(pr)]
            trace = retry.corrupt(TASK, p, TASK.oracle(p), rng)
            wrong += any(s.tag == Tag.MISTAKE for s in trace)
            enc = TASK.encode(p, trace)
            outs.append(enc.tokens[enc.prompt_len:].tolist())
        return outs

    real_draw = __import__("harness.data", fromlist=["draw_problems"]).draw_problems

    def remembering_draw(task, rng_, n, side):
        probs = real_draw(task, rng_, n, side)
        by_prompt.update({tuple(task.encode_prompt(p)): p for p in probs})
        return probs

    monkeypatch.setattr(harness.decode, "generate", scripted)
    monkeypatch.setattr("harness.data.draw_problems", remembering_draw)
    m = get_manager()
    target = component("probe_target", "can_next")
    s = ProbeSettings([("can_next", target)], ["linear"], [0], "resid_post", 40, 0)
    t, ran, _ = run_probes(m, out, s, log=lambda msg: None)
    assert ran == 1
    own = t.filter(pl.col("metric") == "regret_rate")
    assert set(own["weights"]) == {"trained", "random-init"}
    assert own["n_test"].to_list() == [wrong, wrong] and wrong > 0  # one first wrong sentence per wrong solution
    assert ((own["value"] >= 0) & (own["value"] <= 1)).all()
    assert {"own_false_alarm", "own_balanced_accuracy"} <= set(t["metric"])
