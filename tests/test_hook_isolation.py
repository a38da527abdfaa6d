"""A plugin's runtime hooks cannot take a run down: an observer that raises (or calls sys.exit) in any
lifecycle hook is reported by plugin name and switched off, the run finishes with its tables, and the
other observers keep receiving events; strict mode makes it fatal. A corruptor whose check() raises
something other than PlanError is a reported plan problem, not a traceback."""

from __future__ import annotations

import sys

import polars as pl
import pytest

from harness.events import CellFinished, RunFinished
from harness.hookspecs import hookimpl
from harness.interfaces import Config, Corruptor
from harness.planning import plan
from harness.plugins import Manager, PluginHookError
from harness.runner import run_plan

SPEC = "mazes(min_size=3,max_size=3)×oracle×gpt-1L"
HOOKS = ["harness_run_start", "harness_cell_start", "harness_cell_phase", "harness_cell_progress",
         "harness_cell_end", "harness_run_end"]


def _observer(hook: str, how: str):
    """An object implementing exactly `hook`, which raises or exits."""

    def boom(self, event):
        if how == "exit":
            sys.exit(3)
        raise ValueError(f"broken observer in {hook}")

    return type("Broken", (), {hook: hookimpl(boom)})()


class Recorder:
    def __init__(self):
        self.ends, self.finished = [], []

    @hookimpl
    def harness_cell_end(self, event):
        self.ends.append(event)

    @hookimpl
    def harness_run_end(self, event):
        self.finished.append(event)


@pytest.mark.parametrize("how", ["raise", "exit"])
@pytest.mark.parametrize("hook", HOOKS)
def test_a_raising_observer_is_reported_and_the_run_goes_on(tmp_path, hook, how):
    m = Manager(strict=False)
    rec = Recorder()
    m.pm.register(rec, name="recorder")
    m.pm.register(_observer(hook, how), name="broken")
    p = plan(m, SPEC, budget="tiny", seeds=2)
    summary = run_plan(p, m, tmp_path / "run")
    assert not summary.failed and len(summary.ran) == 2
    assert pl.read_parquet(tmp_path / "run" / "results.parquet").height == 2
    assert [f.plugin for f in m.hook_failures] == ["broken"]  # reported once, then switched off
    assert m.hook_failures[0].hook == hook
    assert ("ValueError" if how == "raise" else "SystemExit") in m.hook_failures[0].error
    assert len([e for e in rec.ends if isinstance(e, CellFinished)]) == 2  # the others still hear everything
    assert len(rec.finished) == 1 and isinstance(rec.finished[0], RunFinished)


def test_strict_mode_makes_a_raising_observer_fatal(tmp_path):
    m = Manager(strict=True)
    m.pm.register(_observer("harness_run_start", "raise"), name="broken")
    with pytest.raises(PluginHookError, match="'broken' raised in harness_run_start"):
        run_plan(plan(m, SPEC, budget="tiny"), m, tmp_path / "run")


class _CheckConfig(Config):
    pass


class CrashingCheck(Corruptor):
    """check() has a bug"""

    name = "crashcheck"
    Config = _CheckConfig

    def check(self, task):
        return 1 / 0

    def corrupt(self, task, problem, trace, rng):
        return trace


class _Plugins:
    @hookimpl
    def harness_register_corruptors(self, register):
        register(CrashingCheck)


def test_a_check_that_raises_is_reported_with_its_plugin_and_the_grid_goes_on():
    m = Manager(strict=True, extra_plugins={"crashy": _Plugins()})
    p = plan(m, "mazes×oracle,crashcheck×gpt-1L", budget="tiny")
    assert [c.corruptor.name for c in p.cells] == ["oracle"]
    (msg,) = p.skipped
    assert "plugin crashy" in msg and "ZeroDivisionError" in msg and "check must raise PlanError" in msg
