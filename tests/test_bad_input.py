"""Bad input through the real CLI: every wrong option value, experiment-file type or output path is one
clear error naming the field, with exit status 2, before any work starts — never a traceback, never
silently accepted."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from harness.cli import main


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    # long temporary paths must not be wrapped mid-word by the console (the messages are checked whole)
    monkeypatch.setenv("COLUMNS", "1000")

SPEC = "mazes×oracle×gpt-2L"


def _cli(capsys, *argv: str) -> tuple[int, str]:
    """Exit status and output (stdout + stderr, whitespace collapsed: the console wraps at 80 columns)."""
    try:
        rc = main(list(argv))
    except SystemExit as exc:  # argparse refuses an option value
        rc = exc.code
    cap = capsys.readouterr()
    text = " ".join((cap.out + cap.err).split())
    assert "Traceback" not in text
    return rc, text


# ------------------------------------------------------------------------------------ --budget-set
@pytest.mark.parametrize(
    "item, fragment",
    [
        ("name=x", "budget field 'name' cannot be overridden; pick the base budget with --budget"),
        ("trian_tokens=5", "unknown budget field 'trian_tokens' (did you mean 'train_tokens'?)"),
        ("n_eval=abc", "budget field 'n_eval': Input should be a valid integer"),
        ("n_eval=0", "budget field 'n_eval': Input should be greater than 0"),
        ("n_eval=true", "budget field 'n_eval': expected a number, got the boolean true"),
        ("n_eval=99999999999999999999999", "budget field 'n_eval': out of range"),
        ("=5", "--budget-set takes KEY=VALUE, got '=5'"),
        ("n_eval", "--budget-set takes KEY=VALUE, got 'n_eval'"),
        ("n_eval=", "--budget-set n_eval=: empty parameter value"),
    ],
)
def test_bad_budget_set_names_the_field(capsys, item, fragment):
    rc, out = _cli(capsys, "validate", SPEC, "--budget-set", item)
    assert rc == 2 and fragment in out, out
    assert "Budget fields" not in out or "unknown" in out  # a bad value is one line, without the field list


def test_a_good_budget_set_still_plans(capsys):
    rc, out = _cli(capsys, "validate", SPEC, "--budget-set", "n_eval=17", "--budget", "tiny")
    assert rc == 0 and "valid: 1 cells" in out


# ---------------------------------------------------------------------------------- option values
@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["run", SPEC, "--jobs", "0"], "argument --jobs: must be at least 1, got 0"),
        (["run", SPEC, "--jobs=-5"], "argument --jobs: must be at least 1, got -5"),
        (["validate", SPEC, "--seeds", "0"], "argument --seeds: must be at least 1, got 0"),
        (["validate", SPEC, "--seeds=-1"], "argument --seeds: must be at least 1, got -1"),
        (["validate", SPEC, "--seeds", "1000000"], "argument --seeds: at most 10,000 seeds, got 1,000,000"),
        (["validate", SPEC, "--seeds", "2.5"], "argument --seeds: expected a whole number, got '2.5'"),
        (["data", "mazes×oracle", "--n=-5", "--out", "x.parquet"], "argument --n: must be at least 1, got -5"),
        (["show", "mazes×oracle", "--n=-1"], "argument --n: must be at least 1, got -1"),
    ],
)
def test_bad_counts_are_refused_when_parsed(capsys, argv, fragment):
    rc, out = _cli(capsys, *argv)
    assert rc == 2 and fragment in out, out


def test_a_grid_past_the_cell_limit_is_refused_before_planning(tmp_path, capsys):
    f = tmp_path / "big.toml"
    f.write_text('spec = "mazes×oracle,fallible,retry×gpt-2L"\nseeds = 10000\n')
    rc, out = _cli(capsys, "validate", str(f))
    assert rc == 2 and "the grid has 30,000 cells (1 × 3 × 1 alternatives × 10,000 seeds); at most 20,000" in out
    sweep = "mazes(max_size=[3,4,5,6,7,8,9,10,11,12],min_size=[3,4,5,6,7,8,9,10,11,12],a=[1,2,3,4,5,6,7,8,9,10]," \
            "b=[1,2,3,4,5,6,7,8,9,10],c=[1,2,3,4,5,6,7,8,9,10])×oracle×gpt-2L"
    rc, out = _cli(capsys, "validate", sweep)
    assert rc == 2 and "'mazes': its sweeps expand to 100,000 alternatives; at most 20,000" in out


def test_deeply_nested_spec_values_are_refused(capsys):
    rc, out = _cli(capsys, "validate", "mazes(x=" + "[" * 3000 + "1" + "]" * 3000 + ")×oracle×gpt-2L")
    assert rc == 2 and "parameter 'x' of 'mazes': lists nested more than 8 deep" in out


# ------------------------------------------------------------------------------- experiment files
AXES = '[[corruptor]]\nname = "oracle"\n[[model]]\nname = "gpt-2L"\n'


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("task = 5\n" + AXES, "key 'task': an axis is [[tables]] with name, params, sweep, got an integer 5"),
        ('[[task]]\nname = "mazes"\nparams = 5\n' + AXES, "key '[[task]] #1 params': Input should be a valid dictionary, got an integer 5"),
        ('[[task]]\nname = 5\n' + AXES, "key '[[task]] #1 name': Input should be a valid string, got an integer 5"),
        ('[[task]]\nname = "mazes"\nparams = { max_size = { a = 1 } }\n' + AXES,
         "key '[[task]] #1 params.max_size': a parameter value is a number, boolean, string or array, got a table"),
        ('[[task]]\nname = "mazes"\nsweep = { max_size = 3 }\n' + AXES,
         "key '[[task]] #1 sweep.max_size': a sweep must be a non-empty list of values, got an integer 3"),
        ('[[task]]\nname = "mazes"\nsweep = { max_size = [' + "[" * 10 + "7" + "]" * 10 + "] }\n" + AXES,
         "arrays nested more than 8 deep"),
        ('[[task]]\nname = "mazes"\nparams = { p = 1 }\nsweep = { p = [1, 2] }\n' + AXES, "'p' is both in params and in sweep"),
        (f'spec = "{SPEC}"\nseeds = 2.5\n', "key 'seeds': a number of seeds (1 to 10,000) or an array of seed numbers, got a float 2.5"),
        (f'spec = "{SPEC}"\nseeds = "10"\n', "key 'seeds': a number of seeds (1 to 10,000) or an array of seed numbers, got a string '10'"),
        (f'spec = "{SPEC}"\nseeds = -3\n', "key 'seeds': a number of seeds (1 to 10,000) or an array of seed numbers, got -3"),
        (f'spec = "{SPEC}"\nseeds = 99999999999999999999999\n', "key 'seeds': a number of seeds (1 to 10,000)"),
        (f'spec = "{SPEC}"\nseeds = [0, 0]\n', "key 'seeds': the array of seeds repeats a seed"),
        (f'spec = "{SPEC}"\nseeds = [1, "2"]\n', "key 'seeds': a seed number is an integer from 0 to"),
        (f'spec = "{SPEC}"\nbudget = 5\n', "key 'budget': Input should be a valid string, got an integer 5"),
        (f'spec = "{SPEC}"\ndevice = "gpu"\n', "key 'device': Input should be 'auto', 'cpu' or 'cuda', got a string 'gpu'"),
        ("spec = 5\n", "key 'spec': Input should be a valid string, got an integer 5"),
        (f'spec = "{SPEC}"\nbudget_overrides = 5\n', "key 'budget_overrides': [budget_overrides] must be a table of budget fields"),
        (f'spec = "{SPEC}"\n[budget_overrides]\nname = "x"\n', "key 'budget_overrides': budget field 'name' cannot be overridden"),
        (f'spec = "{SPEC}"\n[budget_overrides]\nn_eval = "x"\n', "key 'budget_overrides': budget field 'n_eval': Input should be a valid integer"),
        (f'spec = "{SPEC}"\nseeds = ' + "[" * 5000 + "]" * 5000 + "\n", "cannot read experiment file {f}: arrays or tables nested too deeply"),
        (f'spec = "{SPEC}"\nseeds = ' + "9" * 5000 + "\n", "cannot read experiment file {f}: Exceeds the limit (4300 digits)"),
        (f'spec = "{SPEC}"\nfoo = 1\n', "unknown key 'foo'; allowed: spec, description, budget"),
    ],
)
def test_wrong_types_in_an_experiment_file_name_the_key_and_the_file(tmp_path, capsys, body, fragment):
    f = tmp_path / "e.toml"
    f.write_text(body)
    rc, out = _cli(capsys, "validate", str(f))
    assert rc == 2, out
    assert fragment.format(f=f) in out, out
    assert str(f) in out


def test_an_experiment_file_that_is_not_utf8(tmp_path, capsys):
    f = tmp_path / "e.toml"
    f.write_bytes(b'spec = "mazes\xff\xfe"\n')
    rc, out = _cli(capsys, "validate", str(f))
    assert rc == 2 and f"cannot read experiment file {f}: not UTF-8 text (byte 0xff at offset 13)" in out


def test_a_good_experiment_file_still_plans(tmp_path, capsys):
    f = tmp_path / "e.toml"
    f.write_text('budget = "tiny"\nseeds = [0, 7]\n[[task]]\nname = "mazes"\nparams = { max_size = 6 }\n'
                 '[[corruptor]]\nname = "fallible"\nsweep = { p = [0.1, 0.2] }\n[[model]]\nname = "gpt-2L"\n')
    rc, out = _cli(capsys, "validate", str(f))
    assert rc == 0 and "valid: 4 cells" in out, out


# ------------------------------------------------------------------------------------ output paths
def _read_only(monkeypatch, d: Path) -> None:
    """`d` read-only: by its mode, and for root (whom the mode does not stop) as access() reports it."""
    d.chmod(0o555)
    if os.geteuid() == 0:
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == d else real(p, mode, **kw))


@pytest.fixture
def places(tmp_path, monkeypatch):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    ro = tmp_path / "ro"
    ro.mkdir()
    _read_only(monkeypatch, ro)
    yield {
        "existing file": (str(a_file), "is an existing file, not a directory"),
        "under a file": (str(a_file / "sub"), f"{a_file} is a file, so nothing can be created under it"),
        "read-only": (str(ro / "sub"), f"cannot be created: {ro} is not writable"),
        "too long": (str(tmp_path / ("n" * 300)), "is 300 bytes, too long for the filesystem (at most 255)"),
        "empty": ("", "is empty; give a directory path"),
    }
    ro.chmod(0o755)


CASES = ["existing file", "under a file", "read-only", "too long", "empty"]


@pytest.mark.parametrize("case", CASES)
def test_run_out_is_checked_before_training(tmp_path, capsys, monkeypatch, places, case):
    import harness.runner

    def no_training(*a, **kw):
        raise AssertionError("training started")

    monkeypatch.setattr(harness.runner, "run_plan", no_training)
    path, fragment = places[case]
    rc, out = _cli(capsys, "run", SPEC, "--budget", "tiny", "--out", path)
    assert rc == 2 and f"error: --out {path[:20]}" in out and fragment in out, out


@pytest.mark.parametrize("case", CASES)
def test_report_to_is_checked(tmp_path, capsys, places, case):
    run = tmp_path / "run"
    (run / "cells").mkdir(parents=True)
    path, fragment = places[case]
    rc, out = _cli(capsys, "report", str(run), "--to", path)
    assert rc == 2 and f"error: --to {path[:20]}" in out and fragment in out, out


@pytest.mark.parametrize("case", CASES)
def test_data_out_is_checked_before_drawing(tmp_path, capsys, monkeypatch, places, case):
    import harness.pipeline

    monkeypatch.setattr(harness.pipeline, "draw_samples", lambda *a, **kw: pytest.fail("drew samples"))
    path, fragment = places[case]
    if case == "existing file":  # a file is what `data` writes: an existing directory is the wrong kind
        path, fragment = str(tmp_path), "is a directory; give a file name"
    fragment = fragment.replace("a directory path", "a file path")
    rc, out = _cli(capsys, "data", "mazes×oracle", "--n", "2", "--out", path)
    assert rc == 2 and f"error: --out {path[:20]}" in out and fragment in out, out


def test_data_writes_into_a_new_folder(tmp_path, capsys):
    out_file = tmp_path / "new" / "d.parquet"
    rc, out = _cli(capsys, "data", "mazes×oracle", "--n", "2", "--out", str(out_file))
    assert rc == 0 and out_file.is_file() and "wrote 2 items" in out
    assert [p.name for p in out_file.parent.iterdir()] == ["d.parquet"]  # the write check left nothing behind


def test_a_full_disk_while_writing_the_report(tmp_path, capsys, monkeypatch):
    import builtins
    import io

    run = tmp_path / "run"
    (run / "cells").mkdir(parents=True)
    real_open = builtins.open

    def full(file, mode="r", *a, **kw):  # the disk fills up as the report is written
        if isinstance(file, (str, os.PathLike)) and "README.md" in os.fspath(file) and set(mode) & set("wax+"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(file))
        return real_open(file, mode, *a, **kw)

    monkeypatch.setattr(builtins, "open", full)
    monkeypatch.setattr(io, "open", full)
    rc, out = _cli(capsys, "report", str(run), "--to", str(tmp_path / "rep"))
    assert rc == 2, out
    assert f"error: cannot write the report to {tmp_path / 'rep'}: No space left on device" in out
