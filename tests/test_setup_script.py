"""scripts/setup.sh picks the PyTorch build for the machine: the CPU build from PyTorch's CPU wheel
index where there is no CUDA GPU (falling back, and saying so, when that index is unreachable), the
index's default (CUDA) build where `nvidia-smi` lists a GPU; it says which torch it got. Driven with a
fake interpreter that records every pip call, so nothing is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.plugin_dirs import ROOT

FAKE_PY = """#!/bin/sh
echo "$*" >> "{calls}"
case "$*" in
  *"-m venv"*) exit 0;;
  *"--index-url"*) [ -n "$FAIL_CPU_INDEX" ] && exit 1; exit 0;;
  *"import torch"*) echo "2.13.0+cpu (CPU build)"; exit 0;;
esac
exit 0
"""


def _setup(tmp_path: Path, gpu: bool = False, fail_cpu_index: bool = False) -> tuple[subprocess.CompletedProcess, list[str]]:
    proj = tmp_path / "proj"
    (proj / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", proj / "scripts" / "setup.sh")
    shutil.copy(ROOT / "pyproject.toml", proj / "pyproject.toml")
    calls = tmp_path / "calls.txt"
    (proj / ".venv" / "bin").mkdir(parents=True)
    py = proj / ".venv" / "bin" / "python"
    py.write_text(FAKE_PY.format(calls=calls))
    py.chmod(0o755)
    fakebin = tmp_path / "fakebin"
    fakebin.mkdir()
    if gpu:
        (fakebin / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H200'\n")
        (fakebin / "nvidia-smi").chmod(0o755)
    env = {"PATH": f"{fakebin}:/usr/bin:/bin", "HOME": str(tmp_path)}
    if fail_cpu_index:
        env["FAIL_CPU_INDEX"] = "1"
    r = subprocess.run(["bash", str(proj / "scripts" / "setup.sh")], env=env, capture_output=True, text=True,
                       timeout=60)
    return r, calls.read_text().splitlines() if calls.exists() else []


def _pip(calls: list[str]) -> list[str]:
    return [c for c in calls if c.startswith("-m pip install")]


def test_a_cpu_machine_gets_the_cpu_build_from_the_cpu_index(tmp_path):
    r, calls = _setup(tmp_path)
    assert r.returncode == 0, r.stderr
    pip = _pip(calls)
    assert "--index-url https://download.pytorch.org/whl/cpu" in pip[0] and "torch==2.13.0" in pip[0]
    assert len(pip) == 2 and "-e .[test,ray,slurm,wandb,tensorboard]" in pip[1], pip
    assert "got torch 2.13.0+cpu (CPU build)" in r.stderr and "[2/3]" in r.stderr
    r2, calls2 = _setup(tmp_path / "again")
    assert r2.returncode == 0


def test_an_unreachable_cpu_index_falls_back_and_says_so(tmp_path):
    r, calls = _setup(tmp_path, fail_cpu_index=True)
    assert r.returncode == 0, r.stderr
    pip = _pip(calls)
    assert "--index-url" in pip[0] and pip[1] == "-m pip install torch==2.13.0"
    assert "unreachable" in r.stderr


def test_a_gpu_machine_gets_the_default_cuda_build(tmp_path):
    r, calls = _setup(tmp_path, gpu=True)
    assert r.returncode == 0, r.stderr
    pip = _pip(calls)
    assert pip[0] == "-m pip install torch==2.13.0", pip
    assert "CUDA build" in r.stderr


def test_setup_is_a_no_op_when_nothing_changed(tmp_path):
    r, calls = _setup(tmp_path)
    assert r.returncode == 0
    proj = tmp_path / "proj"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    n = len(calls)
    r = subprocess.run(["bash", str(proj / "scripts" / "setup.sh")], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and len((tmp_path / "calls.txt").read_text().splitlines()) == n
    assert os.path.exists(proj / ".venv" / ".harness-setup")
