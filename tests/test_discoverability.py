"""`harness list NAME` prints a component's parameters (types, defaults, constraints, descriptions and
what a budget gives them) from its config; `validate --show-config` prints each resolved condition."""

from __future__ import annotations

import json

from harness.cli import main


def _json(capsys, *argv) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_list_name_prints_the_config_fields(capsys):
    (fallible,) = _json(capsys, "list", "fallible", "--json")
    assert fallible["kind"] == "corruptor" and fallible["plugin"] == "corruptors"
    p = {x["name"]: x for x in fallible["params"]}
    assert p["p"]["default"] == 0.2 and p["p"]["type"] == "float" and "≤ 1.0" in p["p"]["constraint"]
    assert p["p"]["description"]


def test_a_model_name_fills_its_pattern_and_a_budget_shows_its_defaults(capsys):
    (gpt,) = _json(capsys, "list", "gpt-8L", "--budget", "cpu", "--json")
    p = {x["name"]: x for x in gpt["params"]}
    assert p["n_layer"]["from_name"] == 8 and p["n_layer"]["under_budget"] == 8
    assert p["d_model"]["default"] == 384 and p["d_model"]["under_budget"] == 128  # the cpu profile's width
    assert p["pos"]["type"] == "'learned' | 'rope'"


def test_one_name_in_several_kinds_lists_each(capsys):
    kinds = {c["kind"] for c in _json(capsys, "list", "mazes", "--json")}
    assert kinds == {"task", "benchmark"}


def test_a_budget_name_lists_its_values(capsys):
    (b,) = _json(capsys, "list", "tiny", "--json")
    assert b["kind"] == "budget" and {x["name"]: x["default"] for x in b["params"]}["name"] == "tiny"


def test_every_component_has_a_parameter_table(capsys):
    data = _json(capsys, "list", "--params", "--json")
    assert {"task", "corruptor", "model", "trainer", "decoder", "executor"} <= {c["kind"] for c in data}
    assert all(isinstance(c["params"], list) for c in data)


def test_unknown_name_gets_a_suggestion(capsys):
    assert main(["list", "falible"]) == 2
    assert "Did you mean 'fallible'" in " ".join(capsys.readouterr().out.split())


def test_the_table_prints_text_not_markup(capsys):
    assert main(["list", "pretrain"]) == 0
    out = capsys.readouterr().out
    assert "lr" in out and "peak learning rate" in out and "'all' | 'completion'" in " ".join(out.split())


def test_validate_show_config_prints_each_condition_resolved(capsys):
    assert main(["validate", "mazes×oracle,fallible(p=0.3)×gpt-2L", "--budget", "cpu", "--seeds", "2",
                 "--show-config"]) == 0
    out = capsys.readouterr().out
    assert out.count("seeds [0, 1]") == 2
    assert '"p": 0.3' in out and '"d_model": 128' in out and '"lr": 0.003' in out  # cpu-profile defaults applied
    assert "budget cpu (cpu):" in out and '"train_tokens":' in out


def test_list_prints_descriptions_as_text(capsys):
    from harness.hookspecs import hookimpl
    from harness.interfaces import Config, Corruptor
    from harness.plugins import Manager, get_manager, reset_manager

    class _C(Config):
        pass

    class Bracketed(Corruptor):
        """needs pip install 'harness[wandb]' and [bold]no markup[/bold]"""

        name = "bracketed"
        Config = _C

        def corrupt(self, task, problem, trace, rng):
            return trace

    class _P:
        @hookimpl
        def harness_register_corruptors(self, register):
            register(Bracketed)

    old = get_manager()
    reset_manager(Manager(extra_plugins={"bracketed": _P()}))
    try:
        assert main(["list"]) == 0
    finally:
        reset_manager(old)
    out = " ".join(capsys.readouterr().out.split())
    assert "harness[wandb]" in out and "[bold]no markup[/bold]" in out
