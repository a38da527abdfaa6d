"""Retry upon regret: with the oracle detector no kept step is one the oracle flags (unless the
retries ran out), retries are capped, a detector that never fires (or no retries at all) is plain
greedy decoding, the task's step ground truth is right on known traces, and the decoder's counts
reach the results table through the CLI."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest
import torch

from harness import Tag, component, generate
from harness.data import draw_problems
from harness.regret import regret_decode

MAZES = component("task", "mazes", min_size=6, max_size=6)


def _model(task):
    fam = component("model", "gpt-1L", budget="tiny")
    torch.manual_seed(0)
    return fam.build(vocab_size=len(task.vocab), block_size=160)


class MoveModel(torch.nn.Module):
    """Writes moves: greedy always says N; sampled, any of the four moves (the end token is rare)."""

    block_size = 256

    def __init__(self, task):
        super().__init__()
        self.logits = torch.full((len(task.vocab),), -30.0)
        for d, bonus in zip("NESW", (0.3, 0.2, 0.1, 0.0)):
            self.logits[task.vocab.index(d)] = bonus
        self.logits[task.end_token] = -3.0

    def new_cache(self, batch, max_len, device=None, dtype=None):
        return None

    def forward(self, idx, cache=None, start=0, pad=None):
        return self.logits.expand(idx.shape[0], idx.shape[1], -1).clone()


def _setup(n=12):
    problems = draw_problems(MAZES, random.Random(0), n, "eval")
    return _model(MAZES), problems, [MAZES.encode_prompt(p) for p in problems]


def test_the_oracle_detector_keeps_no_flagged_step_until_retries_run_out():
    _, problems, prompts = _setup()
    model = MoveModel(MAZES)
    for max_retries in (3, 40):
        outs = regret_decode(model, prompts, task=MAZES, problems=problems, end_token=MAZES.end_token,
                             max_new_tokens=30, detector="oracle", max_retries=max_retries, seed=1)
        for p, (ids, st) in zip(problems, outs):
            assert st["retries"] <= max_retries and st["flagged"] == st["bad"] == st["flagged_bad"]
            kept_bad = [j for j, t in enumerate(ids) if t in MAZES.step_end_tokens and MAZES.step_ok(p, ids[: j + 1]) is False]
            assert not kept_bad or st["retries"] == max_retries  # a flagged step survives only once retries are spent
        assert all(st["retries"] for _, st in outs)  # always N: the detector fires on every maze
    # with enough retries every solution walks the shortest path: no kept step is a mistake
    outs = regret_decode(model, prompts, task=MAZES, problems=problems, end_token=MAZES.end_token,
                         max_new_tokens=30, detector="oracle", max_retries=10_000, seed=1)
    for p, (ids, _) in zip(problems, outs):
        moves = "".join(MAZES.vocab[t] for t in ids if MAZES.vocab[t] in "NESW")
        assert moves.startswith(p.payload.moves) or p.payload.moves.startswith(moves)


@pytest.mark.parametrize("how", ["never", "no retries"])
def test_without_regret_it_is_greedy_decoding(how):
    model, problems, prompts = _setup()
    kw = {"detector": "never", "max_retries": 10} if how == "never" else {"detector": "oracle", "max_retries": 0}
    outs = regret_decode(model, prompts, task=MAZES, problems=problems, end_token=MAZES.end_token, max_new_tokens=30,
                         seed=1, **kw)
    greedy = generate(model, prompts, end_token=MAZES.end_token, max_new_tokens=30, temperature=0.0)
    assert [ids for ids, _ in outs] == greedy
    assert all(st["retries"] == 0 for _, st in outs)


def test_maze_step_truth_flags_exactly_the_fallible_mistakes():
    corr = component("corruptor", "fallible", p=0.5)
    rng, n_bad = random.Random(0), 0
    for p in draw_problems(MAZES, random.Random(1), 60, "eval"):
        trace = corr.corrupt(MAZES, p, MAZES.oracle(p), rng)
        enc = MAZES.encode(p, trace)
        comp = enc.tokens[enc.prompt_len:].tolist()
        for step, (a, b) in zip(trace, enc.step_spans):
            ok = MAZES.step_ok(p, comp[: b - enc.prompt_len])
            assert ok == (step.tag != Tag.MISTAKE)
            n_bad += not ok
    assert n_bad > 3


def test_igsm_step_truth_is_can_next_of_the_last_sentence():
    from harness_igsm.tokens import DOT, W_AS

    task = component("task", "igsm", budget="cpu")
    checked = 0
    for p in draw_problems(task, random.Random(2), 30, "eval"):
        pl_ = p.payload
        comp: list[int] = []
        for j, sent in enumerate(pl_.sentences):
            assert task.step_ok(p, comp + sent)  # every oracle sentence is fine where it stands
            wrong = [s.key for s in task.candidates(p, task.oracle(p), j, "wrong")]
            if wrong:
                x = pl_.names.index(wrong[0])
                body = sent[sent.index(W_AS) + 1:]
                bad = [sent[0], *pl_.names_ids[x], W_AS, *body]
                assert bad[-1] == DOT and task.step_ok(p, comp + bad) is False  # its parents are not all computed
                checked += 1
            comp += sent
        assert task.step_ok(p, comp + pl_.sentences[0]) is False  # defined twice
    assert checked > 20


@pytest.mark.slow
def test_regret_and_beam_decoders_through_the_cli(tmp_path):
    from tests.plugin_dirs import run_cli

    for dec in ("regret(max_retries=5)", "beam(k=2)", "regret(detector=probe,probe_problems=40,max_retries=5)"):
        out = tmp_path / dec.replace("(", "_").replace(")", "").replace(",", "_").replace("=", "-")
        r = run_cli("run", "mazes(min_size=6,max_size=6)×oracle×gpt-1L", "--budget", "tiny", "--decoder", dec,
                    "--out", str(out))
        assert r.returncode == 0, r.stdout + r.stderr
        res = pl.read_parquet(out / "results.parquet")
        assert res["decoder"][0].startswith(dec.split("(")[0])
        if dec.startswith("regret"):
            items = pl.read_parquet(out / "items.parquet")
            assert (items["decode_retries"] <= 5).all() and (items["decode_flagged_bad"] <= items["decode_bad"]).all()
            if "probe" not in dec:  # the oracle detector flags exactly the steps the ground truth calls bad
                assert (items["decode_flagged"] == items["decode_bad"]).all()
            assert res["decode.retries"][0] == pytest.approx(items["decode_retries"].mean())
            assert ("decode.detector_recall" in res.columns) == bool(items["decode_bad"].sum())
            assert "retries / item" in (out / "README.md").read_text()


@pytest.mark.slow
def test_a_decoder_sweep_trains_once_and_evaluates_each_way(tmp_path):
    from tests.plugin_dirs import run_cli

    out = tmp_path / "run"
    r = run_cli("run", "mazes(min_size=6,max_size=6)×oracle×gpt-1L", "--budget", "tiny", "--decoder",
                "greedy,beam(k=2),regret", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    res = pl.read_parquet(out / "results.parquet")
    assert res.height == 3 and res["condition"].n_unique() == 3 and res["train_key"].n_unique() == 1
    assert res["trained_by"].null_count() == 1  # one cell trained; the others name it
    trainer_cell = res.filter(pl.col("trained_by").is_null())["cell_id"][0]
    assert set(res["trained_by"].drop_nulls()) == {trainer_cell}
    blobs = {(out / "cells" / c / "model.safetensors").read_bytes() for c in res["cell_id"]}
    assert len(blobs) == 1 and res["train_loss"].n_unique() == 1  # the same weights, evaluated three ways
    assert {c.rsplit(" [", 1)[1] for c in res["condition"]} == {"greedy]", "beam(k=2)]", "regret]"}


def test_a_probe_detector_fitted_on_the_model_drives_the_rollbacks():
    from harness.probing.detector import fit_detector
    from harness.probing.targets import OnMistake

    model, problems, prompts = _setup(8)
    target = OnMistake(OnMistake.Config(at="mistake"))
    det = fit_detector(model, MAZES, target, "linear", -1, "resid_post", 60, seed=0, device="cpu")
    assert det.check_tokens == MAZES.step_end_tokens
    seq = np.asarray(MAZES.encode_prompt(problems[0]), dtype=np.int64)
    assert 0.0 <= det.p_flag(seq, len(seq) - 1) <= 1.0
    always = type(det)(det.check_tokens, lambda toks, pos: 1.0)  # a detector that flags every step
    outs = regret_decode(MoveModel(MAZES), prompts, task=MAZES, problems=problems, end_token=MAZES.end_token,
                         max_new_tokens=20, detector=always, max_retries=7, seed=0)
    for ids, st in outs:
        assert st["retries"] == 7 and st["flagged"] >= 7  # it fired at every check until the retries ran out
        assert st["flagged_bad"] == st["bad"] <= st["flagged"]


def test_igsm_can_next_detector_reads_after_define_as():
    from harness_igsm.tokens import W_AS

    task = component("task", "igsm", budget="cpu")
    target = component("probe_target", "can_next")
    assert target.check_tokens(task) == frozenset({W_AS})
    p = draw_problems(task, random.Random(2), 1, "eval")[0]
    pl_ = p.payload
    first = pl_.sentences[0]
    upto_as = first[: first.index(W_AS) + 1]
    assert task.step_ok(p, upto_as)  # the first oracle sentence's parameter is computable: fine at "as"
    wrong = [s.key for s in task.candidates(p, task.oracle(p), 0, "wrong")]
    if wrong:
        x = pl_.names.index(wrong[0])
        assert task.step_ok(p, [first[0], *pl_.names_ids[x], W_AS]) is False
