"""The import rule of ARCHITECTURE.md, enforced: the core imports no plugin, names no task, metric or
vocabulary of one; plugins (built-in and third-party) import only the public API (`harness` itself,
and `harness.testing` in tests)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = sorted((ROOT / "harness").rglob("*.py"))
PLUGINS = sorted((ROOT / "plugins").rglob("*.py")) + sorted((ROOT / "tests" / "fixtures").rglob("*.py"))
PLUGIN_PACKAGES = {"harness_mazes", "harness_igsm", "harness_models", "harness_cluster", "harness_loggers",
                   "harness_toy"}


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


def test_there_is_code_to_check():
    assert len(CORE) > 20 and len(PLUGINS) > 20


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_imports_no_plugin(path):
    bad = [(n, m) for n, m in _imports(path) if m.split(".")[0] in PLUGIN_PACKAGES]
    assert not bad, f"{path.relative_to(ROOT)} imports a plugin: {bad}"


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_import_only_the_public_api(path):
    bad = [(n, m) for n, m in _imports(path) if m.startswith("harness.") and not m.startswith("harness.testing")]
    assert not bad, f"{path.relative_to(ROOT)} imports private core modules: {bad} (use `from harness import ...`)"


def test_the_core_names_no_task_metric_or_vocabulary():
    pattern = re.compile(r"harness_(mazes|igsm|models)|junction|acc_id")
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in CORE for i, line in enumerate(p.read_text().splitlines(), 1)
            if pattern.search(line)]
    assert not hits, hits


def test_the_public_api_resolves():
    import harness

    missing = [n for n in harness.__all__ if not hasattr(harness, n)]
    assert not missing
    assert harness.component("corruptor", "fallible", p=0.3).config.p == 0.3
    with pytest.raises(harness.PlanError, match="Did you mean 'fallible'"):
        harness.component("corruptor", "falible")


def test_the_package_version_is_the_distribution_version():
    """Cell identities hash both (the harness version and each plugin's distribution version)."""
    import tomllib
    from importlib.metadata import version

    import harness

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert harness.__version__ == declared == version("harness")
