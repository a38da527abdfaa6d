"""The CPU training path's AdamW equals torch's bit for bit, and a CPU cell never imports
torch._dynamo (≈1.5 s per worker process that torch.optim pays on first use)."""

from __future__ import annotations

import subprocess
import sys

import torch

from harness_models.adamw import AdamW


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.LayerNorm(16), torch.nn.GELU(), torch.nn.Linear(16, 4))


def _groups(m):
    ps = list(m.parameters())
    return [{"params": [p for p in ps if p.dim() >= 2], "weight_decay": 0.1},
            {"params": [p for p in ps if p.dim() < 2], "weight_decay": 0.0}]


def test_updates_equal_torch_adamw_bit_for_bit():
    a, b = _model(), _model()
    ta = torch.optim.AdamW(_groups(a), lr=3e-3, betas=(0.9, 0.99), foreach=False)
    ob = AdamW(_groups(b), lr=3e-3, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(1)
    for step in range(40):
        x = torch.randn(6, 8, generator=gen)
        for m, opt in ((a, ta), (b, ob)):
            for g in opt.param_groups:
                g["lr"] = 3e-3 * (step + 1) / 40  # the loop sets each group's lr every step
            m(x).pow(2).mean().backward()
            torch.nn.utils.clip_grad_norm_(list(m.parameters()), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert all(p.grad is None for p in b.parameters())


def test_a_cpu_cell_does_not_import_dynamo(tmp_path):
    code = f"""
import sys
from harness.plugins import Manager
from harness.planning import plan
from harness.runner import run_plan
m = Manager()
s = run_plan(plan(m, "mazes(min_size=3,max_size=3)×oracle×gpt-1L", budget="tiny"), m, {str(tmp_path / 'run')!r})
assert not s.failed, s.failed
print("dynamo" if "torch._dynamo" in sys.modules else "no dynamo")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "no dynamo"
