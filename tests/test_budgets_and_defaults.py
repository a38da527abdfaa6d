"""Budgets are registered (the core's plus any a plugin adds) and plugins adapt to a budget's declared
`profile`, never its name; the trainer a three-axis spec gets is the one a plugin declared the default."""

from __future__ import annotations

import pytest

from harness.budgets import BUDGETS, Budget, choose_budget
from harness.hookspecs import hookimpl
from harness.interfaces import PlanError
from harness.plugins import Manager, PluginLoadError
from harness.planning import plan
from harness_models.trainer import Pretrain

# a plugin budget with the `cpu` profile under a name no plugin knows
WORKSTATION = Budget(
    name="workstation", description="a plugin's budget", profile="cpu", train_tokens=8 * 128 * 4,
    batch_size=8, block_size=128, n_train=100, n_eval=20,
)


class _Budgets:
    def __init__(self, *budgets):
        self.budgets = budgets

    @hookimpl
    def harness_register_budgets(self, register):
        for b in self.budgets:
            register(b)


def test_core_budgets_declare_profiles():
    assert {n: b.profile for n, b in BUDGETS.items()} == {
        "smoke": "pipeline", "tiny": "pipeline", "cpu": "cpu", "default": "gpu", "paper": "paper"}


def test_a_plugin_budget_is_planned_and_plugins_adapt_by_profile():
    m = Manager(strict=True, extra_plugins={"ws": _Budgets(WORKSTATION)})
    assert m.budget_owner["workstation"] == "ws" and m.budget_owner["smoke"] == "harness"
    p = plan(m, "mazes×oracle×gpt-2L", budget="workstation")
    cell = p.cells[0]
    assert p.budget.name == "workstation" and p.budget.profile == "cpu"
    # exactly what the core `cpu` budget gives: chosen by profile, not by the name "cpu"
    ref = plan(m, "mazes×oracle×gpt-2L", budget="cpu").cells[0]
    for axis in ("task", "model", "trainer"):
        assert getattr(cell, axis).config == getattr(ref, axis).config, axis
    assert cell.task.config["max_size"] == 6 and cell.model.config["pos"] == "rope"
    assert cell.trainer.config["precision"] == "auto"
    assert any(pi["name"] == "ws" and pi["budgets"] == ["workstation"] for pi in m.describe())


def test_budget_overrides_keep_the_profile():
    m = Manager(strict=True, extra_plugins={"ws": _Budgets(WORKSTATION)})
    b = m.budget("workstation", n_eval=7)
    assert b.n_eval == 7 and b.profile == "cpu"


def test_budget_name_clash_is_a_reported_plugin_failure():
    clash = WORKSTATION.model_copy(update={"name": "smoke"})
    m = Manager(strict=False, extra_plugins={"clash": _Budgets(clash)})
    failed = {f.name: f.error for f in m.failures()}
    assert "already registered by 'harness'" in failed["clash"]
    assert m.budgets["smoke"] == BUDGETS["smoke"]  # the core's budget is untouched
    with pytest.raises(PluginLoadError, match="clash"):
        Manager(strict=True, extra_plugins={"clash": _Budgets(clash)})


def test_registering_a_non_budget_fails_and_rolls_back():
    m = Manager(strict=False, extra_plugins={"bad": _Budgets(WORKSTATION, {"name": "x"})})
    assert "must register Budget instances" in {f.name: f.error for f in m.failures()}["bad"]
    assert "workstation" not in m.budgets  # the first, valid one was rolled back with the plugin
    with pytest.raises(PlanError, match="unknown budget 'workstation'"):
        m.budget("workstation")


def test_a_budget_needs_a_profile():
    with pytest.raises(Exception, match="profile"):
        Budget(name="x", description="", train_tokens=1, batch_size=1, block_size=1, n_train=1, n_eval=1)


def test_unknown_budget_did_you_mean():
    m = Manager(strict=True, extra_plugins={"ws": _Budgets(WORKSTATION)})
    with pytest.raises(PlanError, match="Did you mean 'workstation'"):
        plan(m, "mazes×oracle×gpt-2L", budget="workstaton")


def test_run_and_validate_choose_the_same_budget():
    assert choose_budget(None, "cuda") == "default" and choose_budget(None, "cpu") == "smoke"
    assert choose_budget("cpu", "cuda") == "cpu"


class _Trainers:
    def __init__(self, cls, default):
        self.cls, self.default = cls, default

    @hookimpl
    def harness_register_trainers(self, register):
        register(self.cls, default=self.default)


def _trainer_named(name):
    return type(f"T_{name}", (Pretrain,), {"name": name})


def test_the_declared_default_trainer_fills_a_three_axis_spec():
    m = Manager(strict=True, extra_plugins={"alt": _Trainers(_trainer_named("alt"), default=False)})
    assert m.default("trainer").name == "pretrain" and m.default("trainer").plugin == "models"
    assert plan(m, "mazes×oracle×gpt-2L").cells[0].trainer.name == "pretrain"
    assert plan(m, "mazes×oracle×gpt-2L×alt").cells[0].trainer.name == "alt"


def test_a_second_default_trainer_is_a_reported_failure():
    m = Manager(strict=False, extra_plugins={"alt": _Trainers(_trainer_named("alt"), default=True)})
    err = {f.name: f.error for f in m.failures()}["alt"]
    assert "already declared 'pretrain' the default trainer" in err
    assert "alt" not in m.entries["trainer"] and m.default("trainer").name == "pretrain"


def test_no_default_trainer_is_a_plan_error(monkeypatch):
    monkeypatch.setenv("HARNESS_DISABLE_PLUGINS", "models")
    m = Manager(strict=True)
    with pytest.raises(PlanError, match="no trainer is declared the default"):
        plan(m, "mazes×oracle×gpt-2L")


def test_the_trainer_declares_its_loss_policy():
    assert Pretrain(Pretrain.Config(loss_on="completion")).loss_on == "completion"
    assert Pretrain(Pretrain.Config()).loss_on == "all"
