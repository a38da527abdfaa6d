"""Test-suite set-up: the third-party fixture plugin `harness-toy` must be installed (pip, editable).

scripts/setup.sh is the primary place that installs it; this is the fallback for an environment set up
some other way. It installs with --no-deps --no-build-isolation, so it needs neither the network nor
a download of setuptools (the venv's own setuptools builds it). Under pytest-xdist every worker runs
the check (at configure time, before collection); a file lock keeps two processes from running pip
at once.
"""

from __future__ import annotations

import fcntl
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TOY_DIR = TESTS / "fixtures" / "harness-toy"


def _toy_installed() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("harness-toy")
    except PackageNotFoundError:
        return False
    return importlib.util.find_spec("harness_toy") is not None


def ensure_toy_plugin() -> None:
    if _toy_installed():
        return
    lock = Path(sys.prefix) / ".harness-toy-install.lock"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            importlib.invalidate_caches()
            if _toy_installed():
                return
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                 "-e", str(TOY_DIR)],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"could not install the harness-toy fixture plugin:\n{proc.stderr}")
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    # The editable install's .pth file is only read at interpreter start: make this process see it too
    # (subprocesses started from now on see it by themselves).
    if str(TOY_DIR) not in sys.path:
        sys.path.append(str(TOY_DIR))
    importlib.invalidate_caches()
    if not _toy_installed():
        raise RuntimeError("harness-toy was installed but is still not importable")


def pytest_configure(config: pytest.Config) -> None:
    # before collection: test modules import harness_toy at module level
    ensure_toy_plugin()


@pytest.fixture(scope="session", autouse=True)
def toy_plugin() -> None:
    """Session check: `harness_toy` is importable and its `harness` entry point is visible."""
    ensure_toy_plugin()
    import harness.plugins

    # a manager built before the install would not know the toy plugin
    if harness.plugins._MANAGER is not None and "toy" not in harness.plugins._MANAGER.plugins:
        harness.plugins.reset_manager()


def pytest_sessionstart(session: pytest.Session) -> None:
    import os

    # The CLI's default runs several cells in a pool of worker processes; the suite's tiny cells run
    # in one process (each test that is about the default or the pool asks for it explicitly).
    os.environ.setdefault("HARNESS_JOBS", "1")
    # Under xdist each worker is its own process: one torch thread each keeps the 2 cores from being
    # oversubscribed (2 workers × 2 threads ran the model tests ~7× slower).
    if hasattr(session.config, "workerinput"):
        import os

        import torch

        torch.set_num_threads(1)
        os.environ.setdefault("OMP_NUM_THREADS", "1")
