"""The CLI starts light: `--help` imports no numpy, polars or torch, and `list` / `plugins` load every
plugin without importing torch (the models plugin imports it only when a model is built or trained)."""

import json
import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_imports_no_numerics():
    mods = _modules_after(
        "import contextlib, io\nfrom harness.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass"
    )
    assert not {"torch", "numpy", "polars"} & mods


@pytest.mark.parametrize("cmd", ["list", "plugins"])
def test_list_and_plugins_do_not_import_torch(cmd):
    mods = _modules_after(
        "import contextlib, io\nfrom harness.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    assert main([{cmd!r}, '--json']) == 0"
    )
    assert "torch" not in mods
    assert "harness_models" in mods  # the plugins were loaded, not skipped


def test_public_api_resolves_lazily():
    import harness

    for name in harness.__all__:
        assert getattr(harness, name) is not None, name
    with pytest.raises(AttributeError):
        harness.NoSuchName  # noqa: B018
