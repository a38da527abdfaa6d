"""The spec grammar (parse_spec, parse_item, load_experiment) and planning (plan): separators,
alternatives, parameters, sweeps, quoting, the optional trainer axis, error messages, cell identity."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.hookspecs import hookimpl
from harness.interfaces import PlanError
from harness.plugins import Manager
from harness.experiment import load_experiment
from harness.planning import plan
from harness.spec import Choice, parse_item, parse_spec, parse_value


def names(axes):
    return [[c.label for c in ax] for ax in axes]


# --------------------------------------------------------------------------------------- parsing
def test_separators_are_interchangeable():
    want = [[Choice("a")], [Choice("b")], [Choice("c")]]
    assert parse_spec("a×b×c") == want
    assert parse_spec("a*b*c") == want
    assert parse_spec(" a × b*c ") == want
    assert parse_spec("a×b×c×d")[3] == [Choice("d")]  # the 4th (trainer) axis


def test_alternatives_and_params():
    axes = parse_spec("mazes(max_size=7), treewalk × oracle,fallible(p=0.1) × gpt-2L,gpt-4L(d_model=256)")
    assert axes == [
        [Choice("mazes", (("max_size", 7),)), Choice("treewalk")],
        [Choice("oracle"), Choice("fallible", (("p", 0.1),))],
        [Choice("gpt-2L"), Choice("gpt-4L", (("d_model", 256),))],
    ]


def test_value_types():
    assert parse_value("7") == 7 and isinstance(parse_value("7"), int)
    assert parse_value("0.25") == 0.25
    assert parse_value("1e-3") == 1e-3
    assert parse_value("true") is True and parse_value("False") is False
    assert parse_value("none") is None and parse_value("null") is None
    assert parse_value("rope") == "rope"
    assert parse_value('"7"') == "7" and parse_value("'true'") == "true"


def test_sweeps_bracket_and_bar():
    assert len(parse_item("f(p=[0.1,0.2,0.3])")) == 3
    assert len(parse_item("f(p=0.1|0.2)")) == 2
    got = parse_item("f(p=[1,2,3], q=a|b, r=x)")
    assert len(got) == 6
    assert got[0] == Choice("f", (("p", 1), ("q", "a"), ("r", "x")))
    assert got[1] == Choice("f", (("p", 1), ("q", "b"), ("r", "x")))
    assert got[-1] == Choice("f", (("p", 3), ("q", "b"), ("r", "x")))
    axes = parse_spec("t(n=[1,2])×c(p=0.1|0.2|0.3),o×m(d=[8,16])")
    assert [len(a) for a in axes] == [2, 4, 2]


def test_quoted_strings_keep_separators():
    [c] = parse_item("""t(s="a,b×c|d", u='e)f[g', v = "x=y")""")
    assert c.as_dict() == {"s": "a,b×c|d", "u": "e)f[g", "v": "x=y"}
    axes = parse_spec('t(s="1×2")×c×m')
    assert axes[0][0].as_dict() == {"s": "1×2"}
    assert parse_item('t(s="a|b")') == [Choice("t", (("s", "a|b"),))]  # a quoted bar is no sweep


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("a(p=1×b×c", "unbalanced"),
        ("a(p=1))×b×c", "unbalanced"),
        ("a(p=[1,2)×b×c", "unbalanced"),
        ('a(s="x)×b×c', "unbalanced"),
        ("a(p)×b×c", "key=value"),
        ("a(p=1, q)×b×c", "'q'"),
        ("a,,b×c×d", "empty name"),
        ("a,×c×d", "empty name"),
        ("a××c", "empty name"),
        ("a×b×c×", "empty name"),
        ("a×b", "has 2 axes"),
        ("a×b×c×d×e", "has 5 axes"),
        ("a", "separate axes with"),
        ("a(p=[])×b×c", "empty sweep"),
        ("a(p=)×b×c", "empty parameter value"),
        ("a(p=1,p=2)×b×c", "given twice"),
        ("1a×b×c", "invalid name"),
        ("a(1p=2)×b×c", "invalid parameter name"),
    ],
)
def test_bad_specs(spec, fragment):
    with pytest.raises(PlanError) as ei:
        parse_spec(spec)
    assert fragment in str(ei.value)


def test_axis_count_message_names_the_axes():
    with pytest.raises(PlanError, match=r"task × corruptor × model \[× trainer\]"):
        parse_spec("mazes×oracle")


# ------------------------------------------------------------------------------------- round trip
_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,8}", fullmatch=True)
_KEY = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)


def _plain_string(s: str) -> bool:
    """Strings the grammar reads back as strings: not a number, bool or none when unquoted."""
    if s.strip().lower() in {"true", "false", "none", "null"}:
        return False
    try:
        float(s)
        return False
    except ValueError:
        return True


_STRING = st.text(alphabet="abcxyzXYZ019 ,()[]|=*-_.:/", min_size=1, max_size=12).filter(_plain_string)
_SCALAR = st.one_of(
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    _STRING,
)
# list values (e.g. igsm's eval_ops) travel as tuples and are written as one-value sweeps [[7,8]]
_VALUE = st.one_of(_SCALAR, st.lists(_SCALAR, max_size=3).map(tuple))


@st.composite
def choices(draw):
    params = draw(st.dictionaries(_KEY, _VALUE, max_size=4))
    return Choice(draw(_NAME), tuple(params.items()))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(choices(), min_size=1, max_size=3), min_size=3, max_size=4))
def test_round_trip_labels(axes):
    text = "×".join(",".join(c.label for c in ax) for ax in axes)
    back = parse_spec(text)
    assert back == axes
    for ax_in, ax_out in zip(axes, back):  # value types survive too (1 vs 1.0 vs True)
        for a, b in zip(ax_in, ax_out):
            assert [type(v) for _, v in a.params] == [type(v) for _, v in b.params]


@settings(max_examples=100, deadline=None)
@given(st.lists(choices(), min_size=3, max_size=4))
def test_round_trip_with_ascii_separator(row):
    text = "*".join(c.label for c in row)
    assert parse_spec(text) == [[c] for c in row]


AWKWARD = ["1_0", "true", "None", "1e5", "inf", "nan", "-0", "", "it's", 'say "hi"', "tab\there",
           "back\\slash", "a ×b", "é,è", "x)"]


def test_round_trip_of_awkward_strings():
    """String values that look like other types or hold quotes must be quoted by Choice.label and
    come back as the same string."""
    broken = {}
    for value in AWKWARD:
        c = Choice("t", (("s", value),))
        try:
            back = parse_item(c.label)
        except PlanError as exc:
            back = f"PlanError: {exc}"
        if back != [c]:
            broken[value] = (c.label, back)
    assert not broken, broken


def test_quoted_values_in_bar_sweeps():
    got = parse_item('x(s="a b"|"c d")')
    assert [c.as_dict()["s"] for c in got] == ["a b", "c d"]
    assert [c.as_dict()["s"] for c in parse_item('x(s="a"|b)')] == ["a", "b"]


# --------------------------------------------------------------------------------------- planning
class _NoUndoPlugin:
    @hookimpl
    def harness_register_tasks(self, register):
        from harness_toy import TreeWalk

        class NoUndo(TreeWalk):
            name = "noundo"
            has_natural_undo = False

        register(NoUndo)


@pytest.fixture(scope="module")
def manager() -> Manager:
    m = Manager(strict=False, extra_plugins={"noundo": _NoUndoPlugin()})
    assert not m.failures(), [f.error for f in m.failures()]
    return m


def test_plan_cells_and_conditions(manager):
    p = plan(manager, "treewalk×oracle,fallible(p=[0.1,0.2])×gpt-2L", seeds=2)
    assert len(p.cells) == 3 * 2
    assert p.conditions == [
        "treewalk×oracle×gpt-2L×pretrain",
        "treewalk×fallible(p=0.1)×gpt-2L×pretrain",
        "treewalk×fallible(p=0.2)×gpt-2L×pretrain",
    ]
    c = p.cells[0]
    assert c.task.plugin == "toy" and c.corruptor.plugin == "corruptors" and c.model.plugin == "models"
    assert c.model.config["n_layer"] == 2
    assert c.plugin_versions["toy"] == "0.1.0"
    assert len({c.cell_id for c in p.cells}) == 6


def test_plan_explicit_params_beat_budget_defaults(manager):
    p = plan(manager, "treewalk(max_nodes=8)×oracle×gpt-3L(d_model=48,n_head=4)", budget="smoke")
    c = p.cells[0]
    assert c.task.config["max_nodes"] == 8 and c.task.config["min_nodes"] == 6
    assert c.model.config["n_layer"] == 3 and c.model.config["d_model"] == 48


def test_plan_unknown_corruptor_did_you_mean(manager):
    with pytest.raises(PlanError, match="unknown corruptor 'falible'.*Did you mean 'fallible'"):
        plan(manager, "treewalk×falible×gpt-2L")


def test_plan_unknown_task_did_you_mean(manager):
    with pytest.raises(PlanError, match="Did you mean 'mazes'"):
        plan(manager, "maze×oracle×gpt-2L")


def test_plan_invalid_param_value_names_field(manager):
    with pytest.raises(PlanError) as ei:
        plan(manager, "treewalk×fallible(p=2)×gpt-2L")
    msg = str(ei.value)
    assert "field 'p'" in msg and "fallible(p=2)" in msg and "less than or equal to 1" in msg


def test_plan_unknown_param_names_it(manager):
    with pytest.raises(PlanError) as ei:
        plan(manager, "treewalk×fallible(q=1)×gpt-2L")
    assert "field 'q'" in str(ei.value) and "unknown parameter" in str(ei.value)


def test_plan_task_config_validator(manager):
    with pytest.raises(PlanError, match="min_nodes"):
        plan(manager, "treewalk(min_nodes=9,max_nodes=7)×oracle×gpt-2L")


def test_plan_reports_every_error_at_once(manager):
    with pytest.raises(PlanError) as ei:
        plan(manager, "treewalk×falible,fallible(q=1)×gpt8L")
    msg = str(ei.value)
    assert "falible" in msg and "'q'" in msg and "gpt-8L" in msg


def test_plan_unknown_budget(manager):
    with pytest.raises(PlanError, match="Did you mean 'smoke'"):
        plan(manager, "treewalk×oracle×gpt-2L", budget="smok")


def test_plan_no_seeds(manager):
    with pytest.raises(PlanError, match="seed"):
        plan(manager, "treewalk×oracle×gpt-2L", seeds=[])


def test_plan_skips_impossible_combinations(manager):
    p = plan(manager, "noundo×oracle,fallible×gpt-2L")
    assert [c.condition for c in p.cells] == ["noundo×oracle×gpt-2L×pretrain"]
    assert len(p.skipped) == 1 and "natural undo" in p.skipped[0]
    with pytest.raises(PlanError, match="no valid cell"):
        plan(manager, "noundo×fallible×gpt-2L")


def test_plan_fourth_axis(manager):
    p = plan(manager, "treewalk×oracle×gpt-2L×pretrain(lr=0.003)")
    assert p.cells[0].trainer.config["lr"] == 0.003
    assert p.cells[0].condition.endswith("×pretrain(lr=0.003)")


def test_cell_ids_stable_and_seed_dependent(manager):
    spec = "treewalk×oracle,fallible×gpt-2L"
    a = plan(manager, spec, seeds=2)
    b = plan(manager, spec, seeds=2)
    assert [c.cell_id for c in a.cells] == [c.cell_id for c in b.cells]
    assert len({c.cell_id for c in a.cells}) == 4
    s0 = {c.cell_id for c in plan(manager, spec, seeds=[0]).cells}
    s1 = {c.cell_id for c in plan(manager, spec, seeds=[1]).cells}
    assert s0 and s1 and not s0 & s1
    # a different budget or config is a different cell; alias and canonical name are the same cell
    assert {c.cell_id for c in plan(manager, spec, budget="default", seeds=[0]).cells}.isdisjoint(s0)
    assert plan(manager, "toy-tree×none×gpt-2L").cells[0].cell_id == plan(manager, "treewalk×oracle×gpt-2L").cells[0].cell_id
    assert (
        plan(manager, "treewalk×fallible(p=0.2)×gpt-2L").cells[0].cell_id
        == plan(manager, "treewalk×fallible×gpt-2L").cells[0].cell_id
    )  # 0.2 is the default: same configuration


def test_duplicate_cells_are_merged(manager):
    p = plan(manager, "treewalk,toy-tree×oracle×gpt-2L")
    assert len(p.cells) == 1


# -------------------------------------------------------------------------------------- experiments
SPEC = "treewalk(max_nodes=8)×oracle,fallible(p=[0.1,0.3])×gpt-2L,gpt-3L"


def test_experiment_spec_form(tmp_path, manager):
    f = tmp_path / "e.toml"
    f.write_text(f'spec = "{SPEC}"\nbudget = "smoke"\nseeds = 2\n')
    exp = load_experiment(f)
    assert exp["budget"] == "smoke" and exp["seeds"] == 2
    assert exp["axes"] == parse_spec(SPEC)


def test_experiment_tables_form_plans_the_same_cells(tmp_path, manager):
    f = tmp_path / "e.toml"
    f.write_text(
        """
        description = "same grid, reviewable form"
        seeds = 2
        [[task]]
        name = "treewalk"
        params = { max_nodes = 8 }
        [[corruptor]]
        name = "oracle"
        [[corruptor]]
        name = "fallible"
        sweep = { p = [0.1, 0.3] }
        [[model]]
        name = "gpt-2L"
        [[model]]
        name = "gpt-3L"
        """
    )
    exp = load_experiment(f)
    assert "trainer" not in exp and len(exp["axes"]) == 3  # as a three-axis spec: the default trainer
    from_file = plan(manager, exp["axes"], seeds=exp["seeds"])
    assert {c.trainer.name for c in from_file.cells} == {"pretrain"}  # declared default=True by its plugin
    from_text = plan(manager, SPEC, seeds=2)
    assert [c.cell_id for c in from_file.cells] == [c.cell_id for c in from_text.cells]
    assert from_file.conditions == from_text.conditions
    assert len(from_text.cells) == 3 * 2 * 2


@pytest.mark.parametrize(
    "body, fragment",
    [
        ('spec = "a×b×c"\nfoo = 1\n', "unknown key 'foo'"),
        ('spec = "a×b×c"\n[[task]]\nname = "x"\n', "not both"),
        ('budget = "smoke"\n', "needs `spec"),
        ('[[task]]\nname = "t"\n[[corruptor]]\nname = "c"\n', "axis [model] is empty"),
        ('[[task]]\nnom = "t"\n', "take name, params, sweep"),
        ('[[task]]\nname = "t"\nsweep = { n = 3 }\n', "non-empty list"),
        ('spec = "a×b×c', "cannot read experiment file"),
        ('spec = "a×b"\n', "has 2 axes"),
    ],
)
def test_bad_experiment_files(tmp_path, body, fragment):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(PlanError) as ei:
        load_experiment(f)
    assert fragment in str(ei.value)


def test_missing_experiment_file(tmp_path):
    with pytest.raises(PlanError, match="cannot read"):
        load_experiment(tmp_path / "nope.toml")


def test_float_labels_round_trip_exactly():
    for v in (0.1, 1 / 3, 1e-7, 123456.789, -2.5e-300):
        [c] = parse_item(Choice("f", (("p", v),)).label)
        assert c.as_dict()["p"] == v and not math.isnan(c.as_dict()["p"])


# --------------------------------------------------------------------------------- budget overrides
def test_budget_overrides_change_the_budget_and_the_cell_ids(manager):
    base = plan(manager, "mazes×oracle×gpt-2L", budget="tiny")
    more = plan(manager, "mazes×oracle×gpt-2L", budget="tiny", budget_overrides={"train_tokens": 99_999})
    assert more.budget.train_tokens == 99_999 and more.budget.name == "tiny"
    assert base.cells[0].cell_id != more.cells[0].cell_id
    with pytest.raises(PlanError, match="did you mean 'train_tokens'"):
        plan(manager, "mazes×oracle×gpt-2L", budget="tiny", budget_overrides={"trian_tokens": 5})
    with pytest.raises(PlanError, match="'n_eval'"):
        plan(manager, "mazes×oracle×gpt-2L", budget="tiny", budget_overrides={"n_eval": 0})


def test_experiment_file_budget_overrides(tmp_path, manager):
    f = tmp_path / "e.toml"
    f.write_text('spec = "mazes×oracle×gpt-2L"\nbudget = "tiny"\n[budget_overrides]\nn_eval = 17\n')
    exp = load_experiment(f)
    p = plan(manager, exp["axes"], budget=exp["budget"], budget_overrides=exp["budget_overrides"])
    assert p.budget.n_eval == 17


def test_list_values_are_one_value_sweeps(manager):
    (c,) = parse_item("igsm(eval_ops=[[7,8]],max_op=6)")
    assert c.as_dict() == {"eval_ops": (7, 8), "max_op": 6}
    assert c.label == "igsm(eval_ops=[[7,8]],max_op=6)"
    assert [x.as_dict()["eval_ops"] for x in parse_item("igsm(eval_ops=[[7,8],[9]])")] == [(7, 8), (9,)]
    p = plan(manager, "igsm(eval_ops=[[7,8]],max_op=6,ip_max=10,preset=mini)×oracle×gpt-2L", budget="tiny", seeds=1)
    assert p.cells[0].task.instantiate().config.eval_ops == [7, 8]


def test_cpu_budget_resolves_a_setting_that_learns(manager):
    # plain names under --budget cpu: the plugins pick the sizes, width, positions and precision
    p = plan(manager, "mazes×oracle,fallible×gpt-2L", budget="cpu", seeds=1)
    c = p.cells[0]
    assert (c.task.config["min_size"], c.task.config["max_size"], c.task.config["mask_walls"]) == (5, 6, True)
    assert (c.model.config["d_model"], c.model.config["pos"], c.model.config["dropout"]) == (128, "rope", 0.0)
    assert c.trainer.config["precision"] == "auto"  # fp32 on a CPU
    assert p.budget.train_tokens == 8 * 128 * 20_000 and p.budget.curve_points > 0
    # spec parameters still win
    q = plan(manager, "mazes(max_size=7)×oracle×gpt-2L(d_model=64)×pretrain(precision=fp32)", budget="cpu", seeds=1)
    c = q.cells[0]
    assert c.task.config["max_size"] == 7 and c.model.config["d_model"] == 64 and c.trainer.config["precision"] == "fp32"


def test_the_letter_x_as_a_separator_gets_a_hint():
    with pytest.raises(PlanError, match=r"did you mean 'mazes×oracle×gpt-8L'\?"):
        parse_spec("mazesxoraclexgpt-8L")
    with pytest.raises(PlanError, match=r"did you mean 'mazes\(max_size=7\)×fallible,oracle×gpt-2L'"):
        parse_spec("mazes(max_size=7)xfallible,oraclexgpt-2L")
    with pytest.raises(PlanError) as e:
        parse_spec("mazes×oracle")  # too few axes, but no letter x: no guess
    assert "did you mean" not in str(e.value)


def test_an_unknown_parameter_gets_a_did_you_mean():
    from harness.plugins import get_manager

    with pytest.raises(PlanError, match=r"'max_sise': unknown parameter \(did you mean 'max_size'\?\)"):
        plan(get_manager(), "mazes(max_sise=7)×oracle×gpt-2L", budget="tiny")
    with pytest.raises(PlanError, match=r"'zzz': unknown parameter; its parameters: .*\bp\b"):
        plan(get_manager(), "mazes×fallible(zzz=1)×gpt-2L", budget="tiny")
