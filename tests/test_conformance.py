"""The conformance kit plugin authors reuse (harness.testing): every registered task (built-in and the
third-party fixture) passes it under its default and its smoke configuration, every registered
corruptor on every task it accepts, the GPT family and the pretrain trainer; and each check fails,
with a message saying what broke, on a component that breaks its contract."""

from __future__ import annotations

import random
import secrets

import numpy as np
import pytest
import torch
from harness_models import GPTFamily
from harness_models.model import GPT
from harness_toy import TreeWalk

from harness.interfaces import Tag, Trainer, TrainerConfig, TrainResult, Verdict
from harness.planning import resolve
from harness.plugins import get_manager
from harness.spec import Choice, parse_item
from harness.testing import (
    CHECKS,
    check_corruptor,
    check_model_family,
    check_task,
    check_trainer,
    corruptor_applies,
)
from harness.testing import conformance as kit
from harness.testing import models as mkit

MANAGER = get_manager()
TASKS = MANAGER.names("task")
CORRUPTORS = MANAGER.names("corruptor")


def component(kind: str, item: str, budget: str = "smoke"):
    (choice,) = parse_item(item)
    return resolve(MANAGER, kind, choice, MANAGER.budget(budget)).instantiate()


# ------------------------------------------------------------------------------------- tasks
@pytest.mark.parametrize("budget", ["default", "smoke"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", TASKS)
def test_task_conforms(name, check, budget):
    task = resolve(MANAGER, "task", Choice(name), MANAGER.budget(budget)).instantiate()
    check(task)


def test_all_builtin_tasks_are_checked():
    assert {"mazes", "igsm", "treewalk"} <= set(TASKS)
    assert {"check_verify_text", "check_task_metrics"} <= {c.__name__ for c in CHECKS}


def toy() -> TreeWalk:
    return TreeWalk(TreeWalk.Config())


class RaisingVerifier(TreeWalk):
    def verify(self, problem, completion):
        return Verdict(len(completion) / 0 > 1)


def test_a_raising_verifier_is_reported_as_a_contract_violation():
    for check in (kit.check_oracle_verifies, kit.check_verifier_total, check_task):
        with pytest.raises(AssertionError, match=r"verify must never raise: RaisingVerifier raised "
                                                 r"ZeroDivisionError: division by zero on problem '"):
            check(RaisingVerifier(RaisingVerifier.Config()))


class ReasonlessVerifier(TreeWalk):
    def verify(self, problem, completion):
        v = super().verify(problem, completion)
        return v if v.correct else Verdict(False)


def test_a_rejection_needs_a_reason():
    with pytest.raises(AssertionError, match="a rejected completion needs a reason"):
        kit.check_verifier_total(ReasonlessVerifier(ReasonlessVerifier.Config()))


class TextScorer(TreeWalk):
    """verify_text over the prompt text (the edges and target), as `harness score` would call it."""

    def verify_text(self, problem_text, completion, answer=None):
        p = next(p for p in self._seen if p.key == problem_text)
        return self.verify(p, completion)

    def sample_batch(self, rng, n):
        self._seen = super().sample_batch(rng, n)
        return self._seen


def test_verify_text_is_checked_when_implemented():
    kit.check_verify_text(toy())  # no verify_text: nothing to check
    with pytest.raises(AssertionError, match=r"verify_text must never raise: TextScorer raised StopIteration"):
        kit.check_verify_text(TextScorer(TextScorer.Config()))  # fine on its own prompts, raises on junk

    class Rejecting(TextScorer):
        def verify_text(self, problem_text, completion, answer=None):
            return Verdict(False, "no")

    with pytest.raises(AssertionError, match="verify_text rejects the oracle completion given the prompt text"):
        kit.check_verify_text(Rejecting(Rejecting.Config()))


class UndeclaredMetric(TreeWalk):
    def eval_metrics(self, problems, verdicts):
        return {**super().eval_metrics(problems, verdicts), "ups_total": 3.0}


class NanMetric(TreeWalk):
    def eval_metrics(self, problems, verdicts):
        return {"ups_per_walk": float("nan")}


def test_metrics_must_be_declared_and_finite():
    kit.check_task_metrics(toy())
    with pytest.raises(AssertionError, match=r"returned \['ups_total'\], which Task.metrics does not declare"):
        kit.check_task_metrics(UndeclaredMetric(UndeclaredMetric.Config()))
    with pytest.raises(AssertionError, match="must be a finite number or None"):
        kit.check_task_metrics(NanMetric(NanMetric.Config()))


class PromptTaggedEnd(TreeWalk):
    def encode(self, problem, trace):
        enc = super().encode(problem, trace)
        enc.tags[-1] = Tag.PROMPT
        return enc


def test_the_end_token_must_carry_the_oracle_tag():
    with pytest.raises(AssertionError, match="the end token comes after the last step and carries Tag.ORACLE"):
        kit.check_encoding(PromptTaggedEnd(PromptTaggedEnd.Config()))


class EndInPrompt(TreeWalk):
    """Writes the end token as the first prompt token: packed samples would teach that it is followed
    by more text."""

    def encode_prompt(self, problem):
        ids = np.array(super().encode_prompt(problem), copy=True)
        ids[0] = self.end_token
        return ids

    def encode(self, problem, trace):
        enc = super().encode(problem, trace)
        enc.tokens[0] = self.end_token
        return enc


def test_the_end_token_must_not_appear_in_the_prompt():
    with pytest.raises(AssertionError, match="the end token appears inside the prompt"):
        kit.check_encoding(EndInPrompt(EndInPrompt.Config()))


class NoCandidates(TreeWalk):
    def candidates(self, problem, trace, i, kind):
        super().candidates(problem, trace, i, kind)
        return []


def test_a_claimed_candidate_kind_must_yield_mistakes():
    with pytest.raises(AssertionError, match=r"treewalk×fallible: no mistake written in 30 problems"):
        kit.check_corruptors(NoCandidates(NoCandidates.Config()))


# ----------------------------------------------------------------------------------- corruptors
@pytest.mark.parametrize("corruptor", CORRUPTORS)
@pytest.mark.parametrize("task", TASKS)
def test_corruptor_conforms(task, corruptor):
    t, c = component("task", task), component("corruptor", corruptor)
    if not corruptor_applies(c, t):
        pytest.skip(f"{corruptor} refuses {task}")
    check_corruptor(c, t)


def test_every_corruptor_is_checked_on_some_task():
    for name in CORRUPTORS:
        c = component("corruptor", name)
        assert any(corruptor_applies(c, component("task", t)) for t in TASKS), name


def fallible():
    return component("corruptor", "fallible(p=0.7)")


class GlobalRandom(type(fallible())):
    name = "global-random"

    def corrupt(self, task, problem, trace, rng):
        return super().corrupt(task, problem, trace, random.Random(random.random()))


class Mutating(type(fallible())):
    name = "mutating"

    def corrupt(self, task, problem, trace, rng):
        out = super().corrupt(task, problem, trace, rng)
        trace[:] = out
        return trace


class PromptTag(type(fallible())):
    name = "prompt-tag"

    def corrupt(self, task, problem, trace, rng):
        return [s.as_(Tag.PROMPT) if s.tag == Tag.CORRECTION else s for s in super().corrupt(task, problem, trace, rng)]


class Uncorrected(type(fallible())):
    name = "uncorrected"

    def corrupt(self, task, problem, trace, rng):
        return [s for s in super().corrupt(task, problem, trace, rng) if s.tag != Tag.CORRECTION]


class RaisesOnDeepProblems(type(fallible())):
    name = "raises"

    def corrupt(self, task, problem, trace, rng):
        if len(trace) > 3:
            raise IndexError("too deep")
        return super().corrupt(task, problem, trace, rng)


class BadCheck(type(fallible())):
    name = "bad-check"

    def check(self, task):
        raise TypeError("oops")


def make(cls):
    return cls(cls.Config(p=0.7))


def test_the_corruptor_checks_pass_a_good_one_and_catch_broken_ones():
    check_corruptor(fallible(), toy())
    cases = [
        (GlobalRandom, "the same rng seed gave different traces"),
        (Mutating, "corrupt must not modify the trace it is given"),
        (PromptTag, "trace steps are Tag.ORACLE, MISTAKE or CORRECTION"),
        (Uncorrected, "a mistake must be corrected before the next oracle step"),
        (RaisesOnDeepProblems, (r"corrupt raised IndexError: too deep on problem '.*' \(a corruptor must handle "
                                "every problem")),
    ]
    for cls, message in cases:
        with pytest.raises(AssertionError, match=message):
            check_corruptor(make(cls), toy())
    check_corruptor(make(Uncorrected), toy(), corrects_mistakes=False)  # declared: errors left uncorrected
    with pytest.raises(AssertionError, match="bad-check.check must raise PlanError to refuse task 'treewalk', "
                                             "not TypeError: oops"):
        corruptor_applies(make(BadCheck), toy())
    retry = component("corruptor", "retry")
    assert not corruptor_applies(retry, toy())  # no [BACK] token: a refusal, not an error
    with pytest.raises(AssertionError, match="retry refuses task 'treewalk'"):
        check_corruptor(retry, toy())


def test_the_corruptor_checks_leave_the_global_random_state_alone():
    random.seed(5)
    want = random.random()
    random.seed(5)
    check_corruptor(fallible(), toy())
    assert random.random() == want


# ------------------------------------------------------------------------------- model families
FAMILIES = ["gpt-1L", "gpt-2L(pos=rope)", "gpt-1L(dropout=0.1,bias=true)"]


@pytest.mark.parametrize("spec", FAMILIES)
def test_model_family_conforms(spec):
    torch.set_num_threads(1)
    check_model_family(component("model", spec, budget="tiny"))


def test_every_model_family_is_checked():
    for entry in MANAGER.entries["model"].values():
        assert any(MANAGER.get("model", parse_item(s)[0].name)[0] is entry for s in FAMILIES), entry.name


def gpt_family(model_cls, family_name="broken"):
    class Family(GPTFamily):
        name = family_name
        model_class = model_cls

        def build(self, vocab_size, block_size):
            return model_cls(self.config, vocab_size, block_size)

    Family.__name__ = f"{model_cls.__name__}Family"
    return Family(GPTFamily.Config(n_layer=1, d_model=32, n_head=2, dropout=0.0))


class WrongShape(GPT):
    def forward(self, idx, cache=None, start=0, pad=None, **kw):
        return super().forward(idx, cache, start, pad, **kw)[..., :-1]


class NotCausal(GPT):
    def forward(self, idx, cache=None, start=0, pad=None, **kw):
        out = super().forward(idx, cache, start, pad, **kw)
        return out + out.mean(dim=1, keepdim=True)


class IgnoresCache(GPT):
    def forward(self, idx, cache=None, start=0, pad=None, **kw):
        return super().forward(idx, None, 0, pad, **kw)


class IgnoresPad(GPT):
    def forward(self, idx, cache=None, start=0, pad=None, **kw):
        if cache is not None:
            cache.pad = None
        return super().forward(idx, cache, start, None, **kw)


class NoReorderCache(GPT):
    def new_cache(self, batch, max_len, device=None, dtype=None):
        c = super().new_cache(batch, max_len, device, dtype)
        return type("Plain", (), {"k": c.k, "v": c.v, "pad": None, "max_len": c.max_len})()


class Unseeded(GPT):
    def __init__(self, *args):
        super().__init__(*args)
        with torch.no_grad():
            self.lm_head.weight.add_(torch.randn(self.lm_head.weight.shape, generator=torch.Generator().manual_seed(
                secrets.randbits(32))))


class MixesDtypesUnderAutocast(GPT):
    """Stands for attention code that feeds a bf16 query and an fp32 cache to a kernel that wants
    one dtype (what autocast scoring would hit): it fails as such code does."""

    def forward(self, idx, cache=None, start=0, pad=None, **kw):
        if cache is not None and torch.is_autocast_enabled("cpu"):
            raise RuntimeError("expected scalar type Float but found BFloat16")
        return super().forward(idx, cache, start, pad, **kw)


class NoNewCache:
    def forward(self, idx):
        return idx


def test_the_model_checks_catch_broken_families():
    torch.set_num_threads(1)
    check_model_family(gpt_family(GPT, "fine"))
    cases = [
        (WrongShape, r"must give logits \[3,24,13\], got \(3, 24, 12\)"),
        (NotCausal, "not causal: changing token 12 changed earlier logits"),
        (IgnoresCache, "incremental decode with the cache differs from the full forward at position 5"),
        (IgnoresPad, r"left padding \(pad=\) changes the logits of a row's real tokens"),
        (NoReorderCache, r"the cache has no reorder\(rows\), which beam search needs"),
        (Unseeded, "the same torch seed built different weights"),
        (NoNewCache, "does not follow the decode protocol .*missing new_cache"),
        (MixesDtypesUnderAutocast, "decoding under bf16 autocast failed"),
    ]
    for cls, message in cases:
        with pytest.raises(AssertionError, match=message):
            check_model_family(gpt_family(cls))
    check_model_family(gpt_family(NoReorderCache), beam=False)  # no beam search: reorder not needed


def test_the_kit_model_follows_the_decode_protocol():
    class TinyFamily(GPTFamily):
        name = "tiny"
        model_class = mkit.TinyLM

        def build(self, vocab_size, block_size):
            return mkit.TinyLM(vocab_size, block_size, dropout=0.0)

    check_model_family(TinyFamily(GPTFamily.Config(n_layer=1)), beam=False)


# ------------------------------------------------------------------------------------- trainers
def test_pretrain_conforms():
    torch.set_num_threads(1)
    check_trainer(component("trainer", "pretrain", budget="tiny"))


def test_pretrain_conforms_on_the_gpt_model():
    torch.set_num_threads(1)
    trainer, family = component("trainer", "pretrain", budget="tiny"), component("model", "gpt-1L", budget="tiny")
    for check in (mkit.check_trainer_learns, mkit.check_trainer_budget):
        check(trainer, model_factory=lambda v, t: family.build(v, t))


class MiniConfig(TrainerConfig):
    bug: str = ""


class Mini(Trainer):
    """A plain SGD-style trainer written for these tests (not pretrain), with a switch for each bug."""

    name = "mini"
    Config = MiniConfig

    def fit(self, model, data, budget, device, seed, progress=None, evaluate=None):
        bug = self.config.bug
        if bug != "unseeded":
            torch.manual_seed(seed if bug != "seed_ignored" else 0)
        else:
            torch.manual_seed(secrets.randbits(32))
        if bug == "noop":
            return TrainResult(metrics={})
        iters = budget.iters + (1 if bug == "extra_step" else 0)
        B, T = budget.batch_size, budget.block_size
        tokens = torch.as_tensor(data.tokens)
        flags = torch.ones(len(tokens)) if bug == "ignore_flags" else torch.as_tensor(data.loss, dtype=torch.float32)
        opt = torch.optim.Adam(model.parameters(), lr=0.02)
        n_points = budget.curve_points if evaluate is not None else 0
        points = {round(k * iters / (n_points + 1)) for k in range(1, n_points + 1)}
        evals = []
        model.train()
        for step in range(iters):
            o = torch.randint(len(tokens) - T - 1, (B,))
            idx = o[:, None] + torch.arange(T + 1)
            x, y, m = tokens[idx[:, :-1]], tokens[idx[:, 1:]], flags[idx[:, 1:]]
            per = torch.nn.functional.cross_entropy(model(x).reshape(-1, data.vocab_size), y.reshape(-1),
                                                    reduction="none")
            loss = (per * m.reshape(-1)).sum() / m.sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if progress is not None:
                progress((step + 1) * B * T, iters * B * T, loss.item())
            if step + 1 in points:
                model.eval()
                evals.append({"step": step + 1, **evaluate(step + 1)})
                if bug != "eval_mode_left":
                    model.train()
        return TrainResult(metrics={"tokens_seen": float(iters * B * T), "train_loss": loss.item()}, evals=evals)


def mini(bug=""):
    return Mini(MiniConfig(bug=bug))


def test_the_trainer_checks_pass_another_trainer_and_catch_broken_ones():
    torch.set_num_threads(1)
    check_trainer(mini())
    cases = [
        ("noop", mkit.check_trainer_learns, "fit did not lower the loss on the trained targets"),
        ("ignore_flags", mkit.check_trainer_learns, "train only where TrainData.loss is set"),
        ("extra_step", mkit.check_trainer_budget, (r"fit forwarded 15,616 tokens in training mode; the budget is "
                                                   r"60 steps × 8 × 32 = 15,360")),
        ("unseeded", mkit.check_trainer_deterministic, "two fits with seed 0 gave different weights"),
        ("seed_ignored", mkit.check_trainer_deterministic, "seeds 0 and 1 trained identical weights"),
        ("eval_mode_left", mkit.check_trainer_curve, "a learning curve changed the training"),
    ]
    for bug, check, message in cases:
        with pytest.raises(AssertionError, match=message):
            check(mini(bug))


def test_the_tiny_stream_flags_only_counting_up():
    data = mkit.tiny_stream(vocab_size=16, n_samples=4, length=5)
    assert data.tokens[:5].tolist() == [(data.tokens[0] + k) % 16 for k in range(5)]
    assert data.tokens[5:10].tolist() == [(data.tokens[5] - k) % 16 for k in range(5)]
    assert data.loss.tolist() == [True] * 5 + [False] * 5 + [True] * 5 + [False] * 5
    assert data.sample_starts.tolist() == [0, 5, 10, 15] and mkit.tiny_budget().iters == 60
