"""`harness bench`: every registered benchmark, side by side with its baseline."""

from __future__ import annotations

import argparse
import json

from harness.cli.common import _console, _manager
from harness.interfaces import PlanError


def cmd_bench(args: argparse.Namespace) -> int:
    from harness.bench.suite import describe, run_suite

    console = _console(stderr=args.json)
    m = _manager(console)
    if args.list:
        infos = describe(m)
        if args.json:
            print(json.dumps([i.__dict__ for i in infos], indent=2, default=str))
            return 0
        for i in infos:
            console.print(f"[bold]{i.name}[/bold] (plugin {i.plugin}): {i.description}")
            for o in i.options:
                env = f", ${o['env']}" if o["env"] else ""
                console.print(f"  {i.name}.{o['name']} ({o['type']}; default {o['default']!r}{env}) "
                              f"{o['description']}", markup=False)
        return 0
    try:
        res = run_suite(m, console, quick=args.quick, only=args.only, sets=args.set)
    except PlanError as exc:
        console.print("[red]error:[/red]")
        for line in str(exc).splitlines():
            console.print(f"  {line}", markup=False)
        return 2
    if args.json:
        print(json.dumps(res, indent=2, default=str))
    if res["failed"]:
        return 2
    return 0 if not res["targets_missed"] or args.no_fail else 1
