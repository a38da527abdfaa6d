"""`harness list` and `harness plugins`: what is registered, and by which plugin."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.markup import escape
from rich.table import Table

from harness.cli.common import _console, _manager


def _matches(m, name: str) -> list[tuple[str, Any, dict[str, Any]]]:
    """(kind, entry, parameters implied by the name) for every kind in which `name` is registered."""
    from harness.interfaces import PlanError

    out = []
    for kind in m.entries:
        try:
            entry, implied = m.get(kind, name)
        except PlanError:
            continue
        out.append((kind, entry, implied))
    return out


def _component_json(m, kind: str, entry: Any, implied: dict[str, Any], budget: Any) -> dict[str, Any]:
    from harness.params import params_of

    params = [p.as_json() for p in params_of(entry.cls.Config)]
    under = {**(entry.cls.budget_defaults(budget) if budget is not None else {}), **implied}
    for p in params:
        if p["name"] in implied:
            p["from_name"] = implied[p["name"]]
        if budget is not None and p["name"] in under:
            p["under_budget"] = under[p["name"]]
    return {"kind": kind, "name": entry.name if kind != "model" else entry.cls.name, "plugin": entry.plugin,
            "version": getattr(entry.cls, "version", None), "description": entry.description,
            "params": params, **({"budget": budget.name} if budget is not None else {})}


def _print_component(console, c: dict[str, Any]) -> None:
    from rich.text import Text

    title = Text(f"{c['kind']} {c['name']}", style="bold")
    title.append(f"  (plugin {c['plugin']}, version {c['version']})", style="dim")
    console.print(title)
    if c["description"]:
        console.print(c["description"], markup=False)
    if not c["params"]:
        console.print("no parameters", style="dim")
        return
    t = Table(show_header=True)
    cols = ["parameter", "type", "default", *([f"under budget {c['budget']}"] if "budget" in c else []), "description"]
    for col in cols:
        t.add_column(col, overflow="fold")
    for p in c["params"]:
        default = "(from the name)" if "from_name" in p else ("required" if p["required"] else repr(p["default"]))
        cells = [p["name"], p["type"] + (f" ({p['constraint']})" if p["constraint"] else ""), default]
        if "budget" in c:
            cells.append(repr(p["under_budget"]) if "under_budget" in p else "")
        cells.append(p["description"])
        t.add_row(*(Text(x) for x in cells))  # text, not markup: a default may look like [tag]
    console.print(t)


def _list_params(args: argparse.Namespace, console, m) -> int:
    import difflib

    from harness.interfaces import PlanError

    try:
        budget = m.budget(args.budget) if args.budget else None
    except PlanError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    if args.name:
        found = _matches(m, args.name)
        if not found and args.name in m.budgets:
            b = m.budgets[args.name]
            data = [{"kind": "budget", "name": b.name, "plugin": m.budget_owner[b.name], "version": None,
                     "description": b.description,
                     "params": [{**p.as_json(), "default": getattr(b, p.name), "required": False}
                                for p in _budget_params()]}]
        elif not found:
            pool = sorted({n for k in m.entries for n in [*m.entries[k], *m.aliases[k]]} | set(m.budgets))
            close = difflib.get_close_matches(args.name, pool, n=3, cutoff=0.5)
            hint = (" Did you mean " + " or ".join(repr(c) for c in close) + "?") if close else ""
            console.print(f"[red]error:[/red] nothing is registered as {escape(repr(args.name))}.{escape(hint)} "
                          "`harness list` shows every name.")
            return 2
        else:
            data = [_component_json(m, kind, e, implied, budget) for kind, e, implied in found]
    else:
        data = [_component_json(m, kind, e, {}, budget) for kind in m.entries
                for e in sorted(m.entries[kind].values(), key=lambda e: e.name)]
    if args.json:
        print(json.dumps(data, indent=2, default=str))
        return 0
    for c in data:
        _print_component(console, c)
    return 0


def _budget_params():
    from harness.budgets import Budget
    from harness.params import params_of

    return params_of(Budget)


def cmd_list(args: argparse.Namespace) -> int:
    console = _console(stderr=args.json)  # keep stdout pure JSON
    m = _manager(console)
    if getattr(args, "name", None) or getattr(args, "params", False):
        return _list_params(args, console, m)
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
    from rich.text import Text

    for kind, entries in data.items():
        t = Table(title="analyses" if kind == "analysis" else f"{kind}s", show_header=True)
        second = "profile" if kind == "budget" else "aliases"
        for col in ("name", second, "plugin", "description"):
            t.add_column(col)
        for e in entries:
            extra = e["profile"] if kind == "budget" else ", ".join(e["aliases"])
            name = e["name"] + (" (default)" if e.get("default") else "")
            t.add_row(*(Text(x) for x in (name, extra, e["plugin"], e["description"])))  # text, not markup
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
