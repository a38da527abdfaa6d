"""Build throwaway third-party plugins without pip: a module plus a *.dist-info folder with an
entry point in group `harness`, in a directory that goes on PYTHONPATH of a CLI subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_plugin(root: Path, dist: str, version: str, module: str, source: str, ep_name: str | None = None) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[harness]\n{ep_name or module} = {module}\n")


def run_cli(*args: str, pythonpath: Path | None = None, env: dict | None = None, cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.pop("HARNESS_STRICT_PLUGINS", None)
    e["COLUMNS"] = "200"
    if pythonpath is not None:
        e["PYTHONPATH"] = str(pythonpath) + os.pathsep + e.get("PYTHONPATH", "")
    if env:
        e.update(env)
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True, text=True, env=e, cwd=cwd or ROOT, timeout=timeout,
    )
