"""Plugin loading is fault tolerant: a broken third-party plugin is reported (name, version, error) and
dropped, the rest keep working; strict mode makes it fatal; plugins can be disabled by name. Lookups
give "did you mean" messages.

Broken plugins are made without pip: a directory holding plugin modules plus a `*.dist-info/` folder
per plugin (METADATA + entry_points.txt) is put on PYTHONPATH for a subprocess running the real CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.hookspecs import hookimpl
from harness.interfaces import Corruptor, PlanError, Task
from harness.plugins import Manager, PluginLoadError

BROKEN = {
    # entry-point name: (distribution, version, module name, module source)
    "broken": ("broken-import", "1.2.3", "broken_import_plugin", """
        raise ImportError("frobnicate is not installed")
    """),
    "typo": ("typo-plugin", "0.0.7", "typo_plugin", """
        from harness.hookspecs import hookimpl

        @hookimpl
        def harness_regster_tasks(register):
            pass
    """),
    "raising": ("raising-plugin", "2.0.0", "raising_plugin", """
        from harness.hookspecs import hookimpl
        from harness_toy import TreeWalk

        class HalfBaked(TreeWalk):
            name = "halfbaked"

        @hookimpl
        def harness_register_tasks(register):
            register(HalfBaked, aliases=("hb",))
            raise RuntimeError("registration exploded")
    """),
    # registers a task fine, then its corruptor hook raises: the task must be rolled back too
    "lateraise": ("late-raise", "0.3.0", "late_raise_plugin", """
        from harness.hookspecs import hookimpl
        from harness_toy import TreeWalk

        class LateTask(TreeWalk):
            name = "latetask"

        @hookimpl
        def harness_register_tasks(register):
            register(LateTask)

        @hookimpl
        def harness_register_corruptors(register):
            raise ValueError("corruptor hook failed")
    """),
    # a known hook with the wrong argument name: pluggy rejects it at registration
    "badargs": ("bad-args", "0.1.0", "bad_args_plugin", """
        from harness.hookspecs import hookimpl

        @hookimpl
        def harness_register_tasks(registry):
            pass
    """),
}


def write_plugin_dir(root: Path, plugins: dict = BROKEN) -> Path:
    for ep_name, (dist, version, module, source) in plugins.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
        info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[harness]\n{ep_name} = {module}\n")
    return root


@pytest.fixture(scope="module")
def broken_dir(tmp_path_factory) -> Path:
    return write_plugin_dir(tmp_path_factory.mktemp("broken_plugins"))


def cli(*args: str, pythonpath: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    e.update(COLUMNS="250", **env)
    if pythonpath is not None:
        e["PYTHONPATH"] = os.pathsep.join([str(pythonpath), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=120, env=e
    )


# ------------------------------------------------------------------------------ the real CLI, broken
def test_list_survives_broken_plugins(broken_dir):
    r = cli("list", pythonpath=broken_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    out = " ".join(r.stdout.split())  # rich may wrap long lines
    for name in ("mazes", "fallible", "oracle", "treewalk", "pretrain"):
        assert name in out
    assert "halfbaked" not in out and "latetask" not in out
    # each failure printed with plugin name, distribution version and the error
    assert "plugin 'broken' (broken-import 1.2.3) failed to load" in out
    assert "frobnicate is not installed" in out
    assert "plugin 'typo' (typo-plugin 0.0.7)" in out
    assert "plugin 'raising' (raising-plugin 2.0.0)" in out and "registration exploded" in out
    assert "plugin 'lateraise' (late-raise 0.3.0)" in out
    assert "plugin 'badargs' (bad-args 0.1.0)" in out


def test_plugins_json_reports_each_failure(broken_dir):
    r = cli("plugins", "--json", pythonpath=broken_dir)
    assert r.returncode == 0, r.stderr
    plugins = {p["name"]: p for p in json.loads(r.stdout)}
    for name in BROKEN:
        assert plugins[name]["status"] == "failed", plugins[name]
        assert plugins[name]["version"] == BROKEN[name][1]
        assert plugins[name]["distribution"] == BROKEN[name][0]
    assert "ImportError" in plugins["broken"]["error"] and "frobnicate" in plugins["broken"]["error"]
    typo = plugins["typo"]["error"]
    assert "harness_regster_tasks" in typo and "did you mean 'harness_register_tasks'" in typo
    assert "registration exploded" in plugins["raising"]["error"]
    assert "harness_register_tasks raised" in plugins["raising"]["error"]
    assert "harness_register_corruptors raised" in plugins["lateraise"]["error"]
    assert "registry" in plugins["badargs"]["error"]
    # partial registrations rolled back
    assert plugins["raising"]["tasks"] == [] and plugins["lateraise"]["tasks"] == []
    # the good plugins are unaffected
    for name in ("corruptors", "mazes", "models", "toy"):
        assert plugins[name]["status"] == "ok"
    assert plugins["mazes"]["tasks"] == ["mazes"]


def test_list_json_stays_pure_json_with_broken_plugins(broken_dir):
    # failures go to stderr (as `plugins --json` does), so stdout parses
    r = cli("list", "--json", pythonpath=broken_dir)
    assert r.returncode == 0
    tasks = {t["name"] for t in json.loads(r.stdout)["task"]}
    assert {"mazes", "treewalk"} <= tasks
    assert not tasks & {"halfbaked", "latetask"}
    assert "frobnicate" in r.stderr


def test_rolled_back_names_are_unknown(broken_dir):
    r = cli("validate", "halfbaked×oracle×gpt-2L", pythonpath=broken_dir)
    assert r.returncode == 2
    out = " ".join(r.stdout.split())
    assert "unknown task 'halfbaked'" in out and "failed to load" in out


def test_strict_mode_is_fatal(broken_dir):
    r = cli("list", pythonpath=broken_dir, HARNESS_STRICT_PLUGINS="1")
    assert r.returncode != 0
    out = " ".join((r.stdout + r.stderr).split())
    assert "'broken'" in out and "broken-import 1.2.3" in out and "frobnicate" in out


def test_strict_mode_names_the_failing_plugin_when_it_is_the_only_one(broken_dir):
    others = ",".join(n for n in BROKEN if n != "typo")
    r = cli("list", pythonpath=broken_dir, HARNESS_STRICT_PLUGINS="1", HARNESS_DISABLE_PLUGINS=others)
    assert r.returncode != 0
    out = " ".join((r.stdout + r.stderr).split())
    assert "'typo'" in out and "harness_regster_tasks" in out


def test_disable_plugins(broken_dir):
    r = cli("plugins", "--json", pythonpath=broken_dir, HARNESS_DISABLE_PLUGINS="broken, typo")
    assert r.returncode == 0, r.stderr
    names = {p["name"] for p in json.loads(r.stdout)}
    assert "broken" not in names and "typo" not in names
    assert {"raising", "mazes", "toy"} <= names
    # everything broken disabled: strict mode is happy
    r = cli("list", pythonpath=broken_dir, HARNESS_STRICT_PLUGINS="1", HARNESS_DISABLE_PLUGINS=",".join(BROKEN))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "failed to load" not in r.stdout
    # a built-in plugin can be disabled as well
    r = cli("list", "--json", HARNESS_DISABLE_PLUGINS="toy")
    assert "treewalk" not in {t["name"] for t in json.loads(r.stdout)["task"]}


# ----------------------------------------------------------------------------------- in process
class _Named:
    """A tiny plugin object registering what it is given."""

    def __init__(self, tasks=(), corruptors=(), raise_after=False):
        self.tasks, self.corruptors, self.raise_after = tasks, corruptors, raise_after

    @hookimpl
    def harness_register_tasks(self, register):
        for cls, aliases in self.tasks:
            register(cls, aliases=aliases)
        if self.raise_after:
            raise RuntimeError("late failure")

    @hookimpl
    def harness_register_corruptors(self, register):
        for cls in self.corruptors:
            register(cls)


def _task_named(name: str) -> type[Task]:
    from harness_toy import TreeWalk

    return type(f"T_{name}", (TreeWalk,), {"name": name})


@pytest.fixture(scope="module")
def manager() -> Manager:
    return Manager(strict=False)


def test_duplicate_task_name_is_a_reported_failure():
    m = Manager(strict=False, extra_plugins={"dup": _Named(tasks=[(_task_named("mazes"), ())])})
    info = m.plugins["dup"]
    assert info.error and "task 'mazes' is already registered by plugin 'mazes'" in info.error
    assert m.entries["task"]["mazes"].plugin == "mazes"  # the original stays


def test_duplicate_alias_is_a_reported_failure():
    m = Manager(strict=False, extra_plugins={"dup": _Named(tasks=[(_task_named("other"), ("toy-tree",))])})
    assert "'toy-tree' is already registered by plugin 'toy'" in m.plugins["dup"].error
    assert "other" not in m.entries["task"]  # rolled back
    assert m.get("task", "toy-tree")[0].name == "treewalk"


def test_alias_resolves(manager):
    entry, implied = manager.get("corruptor", "none")
    assert entry.name == "oracle" and implied == {}


def test_registering_a_non_subclass_fails():
    class NotACorruptor:
        name = "nope"

    m = Manager(strict=False, extra_plugins={"bad": _Named(corruptors=[NotACorruptor])})
    assert "must register Corruptor subclasses" in m.plugins["bad"].error
    assert "nope" not in m.entries["corruptor"]


def test_raising_plugin_rolls_back_in_process():
    m = Manager(strict=False, extra_plugins={"half": _Named(tasks=[(_task_named("half"), ("hf",))], raise_after=True)})
    assert "late failure" in m.plugins["half"].error
    assert "half" not in m.entries["task"] and "hf" not in m.aliases["task"]
    assert m.plugins["half"].as_json()["tasks"] == []
    with pytest.raises(PlanError, match="failed to load: .*half"):
        m.get("task", "half")


def test_strict_in_process():
    with pytest.raises(PluginLoadError, match="half"):
        Manager(strict=True, extra_plugins={"half": _Named(tasks=[(_task_named("half"), ())], raise_after=True)})


def test_unknown_task_did_you_mean(manager):
    with pytest.raises(PlanError) as ei:
        manager.get("task", "maze")
    msg = str(ei.value)
    assert "unknown task 'maze'" in msg and "Did you mean 'mazes'" in msg
    assert "Available tasks:" in msg and "treewalk" in msg


def test_unknown_model_did_you_mean(manager):
    with pytest.raises(PlanError, match="Did you mean 'gpt-8L'"):
        manager.get("model", "gpt8L")


def test_model_pattern_implies_config(manager):
    entry, implied = manager.get("model", "gpt-8L")
    assert implied == {"n_layer": 8}
    assert entry.plugin == "models"
    assert entry.cls.Config(**implied).n_layer == 8


def test_unknown_corruptor_did_you_mean(manager):
    with pytest.raises(PlanError, match="Did you mean 'fallible'"):
        manager.get("corruptor", "falible")


def test_describe_lists_every_plugin(manager):
    desc = {p["name"]: p for p in manager.describe()}
    assert desc["corruptors"]["corruptors"] == ["oracle", "fallible", "retry", "retry_weak", "retry_miss"]
    assert desc["toy"]["version"] == "0.1.0"
    assert all(p["status"] == "ok" for p in desc.values())
    assert issubclass(manager.get("corruptor", "fallible")[0].cls, Corruptor)


# ------------------------------------------------------------------------------------- name clashes
def test_entry_point_name_clash_is_not_silent(tmp_path):
    """A third-party distribution whose entry point is also called `mazes` must not silently replace
    (or be silently replaced by) the built-in plugin: whichever loses is reported as failed."""
    shadow = write_plugin_dir(tmp_path, {"mazes": ("shadow-dist", "6.6.6", "shadow_plugin", """
        raise ImportError("I am the shadow")
    """)})
    r = cli("plugins", "--json", pythonpath=shadow)
    assert r.returncode == 0, r.stderr
    mazes = [p for p in json.loads(r.stdout) if p["name"].startswith("mazes")]
    assert {p["distribution"] for p in mazes} == {"harness", "shadow-dist"}, mazes
    assert all(p["status"] == "failed" for p in mazes if p["distribution"] == "shadow-dist")


def test_extra_plugin_name_clash_keeps_the_existing_plugin():
    m = Manager(strict=False, extra_plugins={"mazes": _Named()})
    assert "mazes" in m.names("task")
    assert not m.plugins["mazes"].error


@pytest.mark.parametrize("attrs, why", [
    ({"vocab": ()}, "needs `vocab`"),
    ({"vocab": property(lambda self: ["a"])}, "needs `vocab`"),
    ({"end_token": 99}, "needs `end_token`"),
    ({"back_token": "x"}, "needs `back_token`"),
])
def test_task_constants_are_checked_at_registration(attrs, why):
    from harness_toy import TreeWalk

    bad = type("BadConstants", (TreeWalk,), {"name": "badconst", **attrs})
    m = Manager(strict=False, extra_plugins={"bad": _Named(tasks=[(bad, ())])})
    assert why in {f.name: f.error for f in m.failures()}["bad"]
    assert "badconst" not in m.entries["task"]
