"""`harness new-task NAME [--dir DIR]`: write a plugin package with a working toy task (harness.scaffold)."""

from __future__ import annotations

import argparse


def cmd_new_task(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.cli.common import _console
    from harness.scaffold import ScaffoldError, scaffold

    console = _console()
    taken: set[str] = set()
    try:
        from harness.plugins import get_manager

        m = get_manager()
        taken = {*m.plugins, *m.entries["task"], *m.aliases["task"]}
    except Exception:  # noqa: BLE001 - a broken plugin elsewhere must not stop writing a new one
        pass
    try:
        root = scaffold(args.name, Path(args.dir), taken=taken)
    except ScaffoldError as exc:
        console.print("[red]error:[/red] ", end="")
        console.print(str(exc), markup=False)
        return 2
    except OSError as exc:
        console.print("[red]error:[/red] ", end="")
        console.print(f"cannot write into {args.dir}: {exc}", markup=False)
        return 2
    console.print(f"wrote {root}/ (the task {args.name!r}: reverse a short string; see its README.md)", markup=False)
    console.print("next:", markup=False)
    for line in (f"cd {root}", "pytest tests                       # the conformance kit and the task's own tests",
                 "pip install --no-deps -e .         # into this environment; then:",
                 f'harness show "{args.name}×retry" --n 2',
                 f'harness run "{args.name}×oracle,retry×gpt-2L" --budget smoke --seeds 2',
                 "guide: docs/writing-a-plugin.md"):
        console.print(f"  {line}", markup=False)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("new-task", help="write a plugin package with a small working task to start from "
                       "(pyproject entry point, task, README, conformance tests)")
    p.add_argument("name", help="the task name: lowercase letters, digits and underscores, starting with a letter "
                   "(also the entry-point name and the package harness_NAME)")
    p.add_argument("--dir", default=".", help="where to write harness-NAME/ (default: the current directory)")
    p.set_defaults(fn=cmd_new_task)
