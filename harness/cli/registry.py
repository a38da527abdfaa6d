"""`harness list` and `harness plugins`: what is registered, and by which plugin."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from harness.cli.common import _console, _manager


def cmd_list(args: argparse.Namespace) -> int:
    console = _console(stderr=args.json)  # keep stdout pure JSON
    m = _manager(console)
    data = {
        kind: [
            {"name": e.name if kind != "model" else e.cls.name, "aliases": list(e.aliases),
             "plugin": e.plugin, "description": e.description, **({"default": True} if e.default else {})}
            for e in sorted(m.entries[kind].values(), key=lambda e: e.name)
        ]
        for kind in m.entries
    }
    data["budget"] = [
        {"name": b.name, "profile": b.profile, "plugin": m.budget_owner[b.name], "description": b.description}
        for b in m.budgets.values()
    ]
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for kind, entries in data.items():
        t = Table(title="analyses" if kind == "analysis" else f"{kind}s", show_header=True)
        second = "profile" if kind == "budget" else "aliases"
        for col in ("name", second, "plugin", "description"):
            t.add_column(col)
        for e in entries:
            extra = e["profile"] if kind == "budget" else ", ".join(e["aliases"])
            name = e["name"] + (" (default)" if e.get("default") else "")
            t.add_row(name, extra, e["plugin"], e["description"])
        console.print(t)
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    console = _console(stderr=args.json)
    m = _manager(console)
    desc = m.describe()
    if args.json:
        print(json.dumps(desc, indent=2))
        return 0
    t = Table(title="plugins")
    for col in ("name", "version", "status", "registered"):
        t.add_column(col)
    meta = {"name", "distribution", "version", "status", "error"}
    for p in desc:
        status = "[green]ok[/green]" if p["status"] == "ok" else f"[red]{p.get('error')}[/red]"
        registered = "; ".join(f"{k}: {', '.join(v)}" for k, v in p.items() if k not in meta and v)
        t.add_row(p["name"], str(p.get("version")), status, registered or "(hooks only)")
    console.print(t)
    return 0
