"""Every registered task (built-in and the third-party fixture) passes the conformance kit that
plugin authors reuse (harness.testing.conformance), under its default and its smoke configuration."""

from __future__ import annotations

import pytest

from harness.plugins import get_manager
from harness.planning import resolve
from harness.spec import Choice
from harness.testing.conformance import CHECKS

MANAGER = get_manager()
TASKS = MANAGER.names("task")


@pytest.mark.parametrize("budget", ["default", "smoke"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", TASKS)
def test_task_conforms(name, check, budget):
    task = resolve(MANAGER, "task", Choice(name), MANAGER.budget(budget)).instantiate()
    check(task)


def test_all_builtin_tasks_are_checked():
    assert {"mazes", "igsm", "treewalk"} <= set(TASKS)
