"""Identity that cannot go stale: a cell's id includes a hash of the source of every plugin taking
part (and of the core modules that compute it), so editing a plugin gives new cells instead of
silently reusing old results; --force / --rerun recompute finished cells on purpose; run.json records
the source hashes and the git commit and dirty flag of the checkouts they live in."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from harness import provenance
from tests.plugin_dirs import make_plugin, run_cli

CORRUPTOR = '''
from harness.hookspecs import hookimpl
from harness.interfaces import Config, Corruptor

class CopyConfig(Config):
    pass

class Copy(Corruptor):
    """the oracle trace, unchanged"""
    name = "copycat"
    Config = CopyConfig
    def corrupt(self, task, problem, trace, rng):
        return trace

@hookimpl
def harness_register_corruptors(register):
    register(Copy)
'''
SPEC = "mazes(min_size=3,max_size=3)×copycat,oracle×gpt-1L"


def _ids(stdout: str) -> dict[str, str]:
    """condition → cell id, from `harness validate`'s table."""
    out = {}
    for line in stdout.splitlines():
        m = re.search(r"\b([0-9a-f]{16})\b\s*│\s*(\S+)", line)
        if m:
            out[m.group(2)] = m.group(1)
    return out


def test_editing_a_plugin_changes_only_the_ids_of_its_cells(tmp_path):
    make_plugin(tmp_path, "harness-copycat", "1.0", "harness_copycat", CORRUPTOR)
    first = run_cli("validate", SPEC, "--budget", "tiny", pythonpath=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    again = run_cli("validate", SPEC, "--budget", "tiny", pythonpath=tmp_path)
    src = tmp_path / "harness_copycat.py"
    src.write_text(src.read_text().replace("return trace", "return list(trace)"))  # same version, new code
    edited = run_cli("validate", SPEC, "--budget", "tiny", pythonpath=tmp_path)
    a, b, c = _ids(first.stdout), _ids(again.stdout), _ids(edited.stdout)
    assert len(a) == 2 and a == b  # the same code plans the same cells
    copy = next(k for k in a if "copycat" in k)
    oracle = next(k for k in a if "oracle" in k)
    assert c[copy] != a[copy]  # the edited plugin's cell is a new cell
    assert c[oracle] == a[oracle]  # cells it takes no part in keep their ids


def test_hash_files_sees_content_and_names_not_the_location(tmp_path):
    for where in ("a", "b"):
        (tmp_path / where / "pkg").mkdir(parents=True)
        (tmp_path / where / "pkg" / "m.py").write_text("x = 1\n")
        (tmp_path / where / "pkg" / "n.py").write_text("y = 2\n")
    files = lambda w: sorted((tmp_path / w / "pkg").glob("*.py"))  # noqa: E731
    assert provenance.hash_files(files("a")) == provenance.hash_files(files("b"))  # checked out elsewhere
    (tmp_path / "b" / "pkg" / "n.py").write_text("y = 3\n")
    assert provenance.hash_files(files("a")) != provenance.hash_files(files("b"))
    (tmp_path / "b" / "pkg" / "n.py").write_text("y = 2\n")
    (tmp_path / "b" / "pkg" / "n.py").rename(tmp_path / "b" / "pkg" / "o.py")
    assert provenance.hash_files(files("a")) != provenance.hash_files(files("b"))


def test_every_core_module_that_computes_a_cell_is_hashed():
    for mod in provenance.CORE_MODULES:
        assert provenance.source_files(mod), mod
    assert re.fullmatch(r"[0-9a-f]{16}", provenance.core_source_hash())


def test_git_state_of_a_checkout(tmp_path):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    import os

    e = {**os.environ, **env}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=e)
    (tmp_path / "plug.py").write_text("x = 1\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "plug.py"], check=True, env=e)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "-qm", "c"], check=True, env=e)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    clean = provenance.git_state(tmp_path / "plug.py")
    assert clean == {"root": str(tmp_path.resolve()), "commit": head, "dirty": False}
    (tmp_path / "plug.py").write_text("x = 2\n")
    assert provenance.git_state(tmp_path / "plug.py")["dirty"] is True
    assert provenance.git_state(Path("/")) is None


@pytest.mark.slow
def test_force_and_rerun_recompute_finished_cells_and_run_json_records_provenance(tmp_path):
    out = tmp_path / "run"
    spec = "mazes(min_size=3,max_size=3)×oracle,fallible×gpt-1L"
    base = ("run", spec, "--budget", "tiny", "--out", str(out))
    r = run_cli(*base)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ran 2 cells, skipped 0" in r.stdout
    plan = json.loads((out / "plan.json").read_text())["cells"]
    ids = {c["axis_labels"]["corruptor"]: c["cell_id"] for c in plan}
    assert all(set(c["sources"]) >= {"harness-core", "mazes", "models", "corruptors"} for c in plan)
    assert "ran 0 cells, skipped 2" in run_cli(*base).stdout

    started = (out / "cells" / ids["oracle"] / "result.json").stat().st_mtime
    r = run_cli(*base, "--rerun", ids["oracle"][:6])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ran 1 cells, skipped 1" in r.stdout
    assert (out / "cells" / ids["oracle"] / "result.previous.json").exists()  # the old result is kept
    assert (out / "cells" / ids["oracle"] / "result.json").stat().st_mtime > started
    assert "ran 2 cells, skipped 0" in run_cli(*base, "--force").stdout

    bad = run_cli(*base, "--rerun", "ffff")
    assert bad.returncode == 2 and "--rerun 'ffff' matches no cell" in bad.stdout

    meta = json.loads((out / "run.json").read_text())
    prov = meta["provenance"]
    assert prov["sources"]["mazes"]["hash"] == plan[0]["sources"]["mazes"]
    root = provenance.git_state(Path(__file__))
    if root is not None:  # the project is a git checkout here: its commit and dirty flag are recorded
        assert prov["git"][root["root"]]["commit"] == root["commit"]
        assert isinstance(prov["git"][root["root"]]["dirty"], bool)
        assert prov["sources"]["mazes"]["checkout"] == root["root"]
