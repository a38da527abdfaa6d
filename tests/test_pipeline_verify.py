"""A verifier that raises during evaluation fails its items with 'verify must never raise: ...' and
warns once per evaluation; the cell goes on."""

import types

import torch

from harness.interfaces import Verdict
from harness.pipeline import CellContext, evaluate
from harness.planning import plan
from harness.plugins import Manager
from harness_toy import TreeWalk


class Raising(TreeWalk):
    name = "raising"

    def verify(self, problem, completion):
        if len(completion) % 2:
            return Verdict(len(completion) / 0 > 1)
        return super().verify(problem, completion)


class OracleDecoder:
    """Writes each problem's oracle completion (so every item is verified)."""

    needs_task = False

    def __init__(self, task, problems):
        self.ids = [task.encode(p, task.oracle(p)).tokens[len(task.encode_prompt(p)):].tolist() for p in problems]

    def generate(self, model, prompts, **kw):
        return self.ids


def test_a_raising_verifier_fails_items_with_the_contract_message(tmp_path):
    mod = types.ModuleType("raising_plugin")
    from harness import hookimpl

    @hookimpl
    def harness_register_tasks(register):
        register(Raising)

    mod.harness_register_tasks = harness_register_tasks
    m = Manager(strict=True, extra_plugins={"raising": mod})
    cell = plan(m, "raising×oracle×gpt-1L", budget="tiny").cells[0]
    task = cell.task.instantiate()
    import random

    problems = task.sample_batch(random.Random(0), 20)
    logs, events = [], []
    ctx = CellContext(cell, tmp_path, torch.device("cpu"), events.append, logs.append)
    ev = evaluate(ctx, task, OracleDecoder(task, problems), None, problems, set())
    reasons = ev.items["reason"].to_list()
    odd = [r for r in reasons if r.startswith("verify must never raise: Raising raised ZeroDivisionError")]
    assert odd and len(odd) < len(reasons)
    assert all(ok for ok, r in zip(ev.items["correct"], reasons) if r == "")
    (warning,) = [line for line in logs if "verify must never raise" in line]
    assert f"on {len(odd)} of 20 items" in warning and "check_task" in warning
