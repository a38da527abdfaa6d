"""`harness new-task NAME` (harness.scaffold): the package it writes is a working plugin: its task
passes the conformance kit, its own generated tests pass (run as a plugin author runs them), it
registers through its entry point once pip-installed, and it trains through a cell. Bad names and
existing folders are refused with the reason. docs/writing-a-plugin.md shows the generated task
verbatim."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import polars as pl
import pytest

from harness.planning import plan
from harness.plugins import Manager
from harness.scaffold import ScaffoldError, check_name, class_prefix, render, scaffold
from harness.testing import check_task
from tests.plugin_dirs import run_cli

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "writing-a-plugin.md"


@pytest.fixture
def load_plugin():
    """Import a scaffolded package from its folder (no install), and forget it afterwards."""
    added: list[tuple[str, str]] = []

    def load(root: Path, name: str):
        sys.path.insert(0, str(root))
        added.append((str(root), f"harness_{name}"))
        importlib.invalidate_caches()
        return importlib.import_module(f"harness_{name}")

    yield load
    for path, module in added:
        sys.path.remove(path)
        sys.modules.pop(module, None)


def _env(pythonpath: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_STRICT"))}
    env["PYTHONPATH"] = str(pythonpath)
    env["OMP_NUM_THREADS"] = "1"
    return env


def _pytest(root: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=root,
                          env=_env(pythonpath), capture_output=True, text=True, timeout=600)


def test_the_files_and_the_entry_point():
    files = render("sort_digits")
    assert set(files) == {"pyproject.toml", "README.md", "harness_sort_digits/__init__.py",
                          "tests/test_sort_digits.py"}
    meta = tomllib.loads(files["pyproject.toml"])
    assert meta["project"]["name"] == "harness-sort_digits"
    assert meta["project"]["entry-points"]["harness"] == {"sort_digits": "harness_sort_digits"}
    assert "dependencies" not in meta["project"]  # harness is not declared: pip would look for it
    assert meta["tool"]["setuptools"]["packages"] == ["harness_sort_digits"]
    assert "--no-deps" in files["README.md"] and "--no-deps" in files["pyproject.toml"]
    code = files["harness_sort_digits/__init__.py"]
    assert 'name = "sort_digits"' in code and "class SortDigitsTask(Task)" in code
    assert "from harness.testing import" in files["tests/test_sort_digits.py"]
    assert class_prefix("reverse") == "Reverse" and class_prefix("a_b2") == "AB2"
    compile(code, "generated", "exec")
    compile(files["tests/test_sort_digits.py"], "generated", "exec")


def test_the_scaffolded_task_is_a_working_plugin(tmp_path, load_plugin):
    root = scaffold("reverse", tmp_path)
    assert root == tmp_path / "harness-reverse" and (root / "harness_reverse" / "__init__.py").is_file()
    mod = load_plugin(root, "reverse")
    m = Manager(strict=True, extra_plugins={"reverse": mod})
    assert m.plugins["reverse"].registered["task"] == ["reverse"]
    task_cls = m.get("task", "reverse")[0].cls
    assert task_cls is mod.ReverseTask
    check_task(task_cls(task_cls.Config()))
    p = plan(m, "reverse×oracle,retry,fallible×gpt-1L", budget="tiny")
    assert [c.corruptor.name for c in p.cells] == ["oracle", "retry"]
    assert any("fallible" in s and "natural undo" in s for s in p.skipped)  # refused with the reason
    assert p.cells[0].task.config["max_len"] == 5  # budget_defaults by the budget's profile


def test_the_generated_tests_pass(tmp_path):
    root = scaffold("mirror", tmp_path)
    r = _pytest(root, pythonpath=root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"\b9 passed, 1 skipped\b", r.stdout), r.stdout  # the entry point: not installed


def test_the_generated_tests_fail_on_a_broken_verifier(tmp_path):
    """The generated conformance test is a real check: break the verifier, and it says so."""
    root = scaffold("broken", tmp_path)
    code = root / "harness_broken" / "__init__.py"
    text = code.read_text()
    code.write_text(text.replace("        return judge(problem.payload, completion)  #",
                                 "        return judge(problem.payload, completion) if completion else 1 / 0  #"))
    r = _pytest(root, pythonpath=root)
    assert r.returncode == 1
    assert "verify must never raise: BrokenTask raised ZeroDivisionError" in r.stdout


def test_installed_with_pip_it_is_discovered_through_its_entry_point(tmp_path):
    root = scaffold("flip", tmp_path / "src")
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--no-index", "--target", str(target), str(root)], capture_output=True, text=True,
                         timeout=600)
    assert pip.returncode == 0, pip.stderr
    r = run_cli("plugins", "--json", pythonpath=target)
    assert r.returncode == 0, r.stderr
    flip = {p["name"]: p for p in json.loads(r.stdout)}["flip"]
    assert (flip["status"], flip["version"], flip["distribution"], flip["tasks"]) == ("ok", "0.1.0", "harness-flip",
                                                                                     ["flip"])
    r = run_cli("show", "flip×retry(rate=0.9)", "--n", "2", pythonpath=target)
    assert r.returncode == 0 and "[BACK]" in r.stdout, r.stdout + r.stderr
    r = _pytest(root, pythonpath=target)
    assert r.returncode == 0 and re.search(r"\b10 passed\b", r.stdout), r.stdout + r.stderr  # entry point too


def test_bad_names_and_existing_folders_are_refused(tmp_path):
    for bad in ("Reverse", "1st", "my-task", "my task", "", "é"):
        with pytest.raises(ScaffoldError, match="bad task name"):
            scaffold(bad, tmp_path)
    with pytest.raises(ScaffoldError, match="already taken"):
        check_name("mazes", taken={"mazes", "igsm"})
    with pytest.raises(ScaffoldError, match="'harness_toy' is already importable"):
        check_name("toy")
    (tmp_path / "harness-taken").mkdir()
    with pytest.raises(ScaffoldError, match="harness-taken already exists"):
        scaffold("taken", tmp_path)
    assert list(tmp_path.iterdir()) == [tmp_path / "harness-taken"]  # nothing written


def test_cli_new_task(tmp_path):
    r = run_cli("new-task", "shuffle", "--dir", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "harness-shuffle" / "pyproject.toml").is_file()
    assert "wrote" in r.stdout and 'harness show "shuffle×retry"' in r.stdout
    r = run_cli("new-task", "shuffle", "--dir", str(tmp_path))
    assert r.returncode == 2 and "already exists" in r.stdout
    r = run_cli("new-task", "Shuffle-2", "--dir", str(tmp_path))
    assert r.returncode == 2 and "bad task name 'Shuffle-2'" in r.stdout
    r = run_cli("new-task", "mazes", "--dir", str(tmp_path))  # a registered task and plugin
    assert r.returncode == 2 and "already taken" in r.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["harness-shuffle"]
    r = run_cli("--help")
    assert "new-task" in r.stdout


def test_the_guide_shows_the_generated_task_verbatim():
    text = GUIDE.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    generated = render("reverse")["harness_reverse/__init__.py"]
    assert generated in blocks, "docs/writing-a-plugin.md must hold `harness new-task reverse`'s task verbatim"
    assert "harness new-task reverse" in text
    assert "writing-a-plugin.md" in (ROOT / "docs" / "plugins.md").read_text()


@pytest.mark.slow
def test_the_scaffolded_task_trains_through_a_cell(tmp_path, load_plugin):
    from harness.runner import run_plan

    mod = load_plugin(scaffold("backwards", tmp_path / "src"), "backwards")
    m = Manager(strict=True, extra_plugins={"backwards": mod})
    out = tmp_path / "run"
    summary = run_plan(plan(m, "backwards×oracle,retry(rate=0.5)×gpt-1L", budget="tiny"), m, out)
    assert not summary.failed and len(summary.ran) == 2
    res = pl.read_parquet(out / "results.parquet")
    by = {r["corruptor"]: r for r in res.iter_rows(named=True)}
    assert set(res["status"]) == {"ok"} and by["retry(rate=0.5)"]["mistakes_per_sample"] > 0
    assert by["oracle"]["mistakes_per_sample"] == 0 and by["oracle"]["dp_n"] > 0
    assert json.loads((out / "metrics.json").read_text())["task.backs_per_item"]["label"] == "backs / item"
