"""Where the code that computes a cell comes from: source hashes (part of every cell's identity) and
the git state of the checkouts it lives in (recorded in run.json).

A cell's id hashes its configs, the declared versions and, since 0.3, a hash of the source files of
every plugin that takes part in it (the package of its entry-point module, or the module of an
object registered directly) and of the core modules that compute a cell's numbers (`CORE_MODULES`).
Editing any of them gives new cell ids, so `harness run` recomputes instead of reusing results that
older code wrote. Code that cannot change a number (the CLI, reports, the scheduler) is left out, so
editing it keeps finished cells.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Any

#: the core modules whose code decides a cell's numbers (data, training pipeline, decoding, metrics)
CORE_MODULES = (
    "harness.config", "harness.interfaces", "harness.data", "harness.pipeline", "harness.decode",
    "harness.beam", "harness.regret", "harness.decision", "harness.metrics", "harness.problem_cache",
)


def source_files(module: str) -> list[Path]:
    """The .py files of `module`: every one under its package directory, or the module's own file."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        return []
    if spec.submodule_search_locations:
        files: list[Path] = []
        for loc in spec.submodule_search_locations:
            files.extend(p for p in Path(loc).rglob("*.py") if "__pycache__" not in p.parts)
        return sorted(files)
    return [Path(spec.origin)] if spec.origin and spec.origin.endswith(".py") else []


def hash_files(files: list[Path]) -> str:
    """A short hash of the files' contents and their paths relative to their common folder (so the
    same code checked out elsewhere hashes the same)."""
    h = hashlib.sha256()
    if files:
        common = Path(os.path.commonpath([str(Path(f).parent) for f in files]))
        for f in files:
            h.update(str(Path(f).relative_to(common)).encode() + b"\0" + Path(f).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def module_source_hash(module: str) -> str | None:
    """The hash of `module`'s source files, None when it has none on disk (a frozen or C module)."""
    files = source_files(module)
    return hash_files(files) if files else None


def core_source_hash() -> str:
    return hash_files([f for m in CORE_MODULES for f in source_files(m)])


def git_state(path: str | Path) -> dict[str, Any] | None:
    """{"root", "commit", "dirty"} of the git checkout holding `path`; None outside one (or without git).
    Dirty means tracked files differ from the commit (untracked files do not count)."""
    p = Path(path)
    d = p if p.is_dir() else p.parent
    try:
        top = subprocess.run(["git", "-C", str(d), "rev-parse", "--show-toplevel", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        if top.returncode != 0:
            return None
        root, commit = top.stdout.split()[:2]
        st = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return {"root": root, "commit": commit, "dirty": bool(st.stdout.strip()) if st.returncode == 0 else None}
