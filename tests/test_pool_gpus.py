"""`pool` on CUDA pins worker i to GPU i mod gpus (CUDA_VISIBLE_DEVICES set before torch starts CUDA)
and says so in its placement; tested without a GPU by driving the pinning directly."""

from __future__ import annotations

import os
import subprocess
import sys

from harness.executors import Pool, PoolConfig

PIN = """
import os, queue, sys
from harness.executors import _init_worker
q = queue.Queue()
q.put(int(sys.argv[1]))
_init_worker(1, q, int(sys.argv[2]))
print(os.environ.get("CUDA_VISIBLE_DEVICES", "unset"))
"""


def _pinned(slot: int, gpus: int, visible: str | None) -> str:
    env = dict(os.environ)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    if visible is not None:
        env["CUDA_VISIBLE_DEVICES"] = visible
    return subprocess.run([sys.executable, "-c", PIN, str(slot), str(gpus)], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_workers_are_spread_over_the_visible_gpus():
    assert [_pinned(i, 2, None) for i in range(4)] == ["0", "1", "0", "1"]
    assert [_pinned(i, 2, "5,7") for i in range(3)] == ["5", "7", "5"], "the visible GPUs' own ids must be kept"
    assert _pinned(0, 0, None) == "unset", "on CPU nothing is pinned"


def test_placement_says_how_many_cells_share_a_gpu(monkeypatch):
    import harness.executors as ex

    monkeypatch.setattr(ex, "_visible_gpus", lambda: 2)
    pool = Pool(PoolConfig(jobs=8, threads=2))
    assert pool.gpus_for("cuda") == 2 and pool.gpus_for("cpu") == 0
    assert "8 workers over 2 GPU(s), up to 4 cells per GPU" in pool.placement("cuda")
    assert "GPU" not in pool.placement("cpu")
    assert Pool(PoolConfig(jobs=4, gpus=1)).gpus_for("cuda") == 1


def test_non_finite_weights_fail_the_cell_and_inf_configs_are_refused():
    import pytest
    import torch

    from harness.interfaces import PlanError
    from harness.planning import plan
    from harness.plugins import get_manager
    from harness.runner import _check_finite

    m = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 1))
    _check_finite(m)  # finite: nothing to say
    with torch.no_grad():
        m[1].weight[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match=r"non-finite weights .* 1 of 4 tensors, e.g. 1.weight"):
        _check_finite(m)
    for spec in ("mazes×oracle×gpt-2L×pretrain(lr=inf)", "mazes×fallible(p=nan)×gpt-2L"):
        with pytest.raises(PlanError, match="finite number"):
            plan(get_manager(), spec, budget="tiny")
