"""The `harness` command line: run | validate | list | plugins | data | show | score | report | analyze | bench."""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.budgets import BUDGETS, choose_budget
from harness.interfaces import PlanError, Tag
from harness.plugins import Manager, PluginLoadError, get_manager

EXAMPLES = """\
examples:
  harness run "mazes×oracle,fallible×gpt-8L" --budget smoke --seeds 2
  harness run "mazes*fallible(p=[0.1,0.2])*gpt-2L,gpt-4L" --seeds 3     (ASCII '*' for '×')
  harness run experiment.toml
  harness validate "mazes×oracle,fallible×gpt-6L"
  harness show "mazes×fallible" --n 3
  harness data "mazes×fallible(p=0.2)" --n 10000 --out fallible.parquet
  harness score igsm solutions.jsonl
  harness report runs/my-run --to reports/my-run
  harness analyze runs/my-run paired
  harness bench --json
"""


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False)


def _manager(console: Console) -> Manager:
    try:
        m = get_manager()
    except PluginLoadError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(2) from None
    for f in m.failures():
        console.print(
            f"[red]plugin {f.name!r} ({f.dist or '?'} {f.version or '?'}) failed to load:[/red] {f.error}"
        )
    return m


def _plugins_header(m: Manager) -> str:
    ok = [f"{p.name}-{p.version or '?'}" for p in m.plugins.values() if not p.error]
    return "plugins: " + ", ".join(sorted(ok))


def _plan_error(console: Console, exc: PlanError) -> int:
    console.print("[red]error:[/red] the spec cannot run:")
    for line in str(exc).splitlines():
        console.print(f"  {line}", markup=False)
    return 2


def _default_out(spec: str, budget: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "-", spec.replace("×", "x").replace("*", "x")).strip("-")
    return Path("runs") / f"{slug[:80]}-{budget}"


def _parse_sets(items: list[str] | None) -> dict[str, Any]:
    from harness.spec import parse_value

    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise PlanError(f"--budget-set takes KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_value(v)
    return out


def _resolve_run_args(args: argparse.Namespace, console: Console) -> tuple[Any, str, int, str, dict[str, Any]]:
    from harness.experiment import load_experiment

    spec: Any = args.spec
    budget, seeds, device = args.budget, args.seeds, args.device
    overrides: dict[str, Any] = {}
    if args.spec.endswith(".toml"):
        exp = load_experiment(args.spec)
        spec = exp["axes"]
        budget = budget or exp.get("budget")
        seeds = seeds if seeds is not None else exp.get("seeds")
        device = device or exp.get("device")
        overrides.update(exp.get("budget_overrides", {}))
    overrides.update(_parse_sets(getattr(args, "budget_set", None)))
    return spec, budget, seeds if seeds is not None else 1, device or "auto", overrides


# ------------------------------------------------------------------------------------------ run
def cmd_run(args: argparse.Namespace) -> int:
    from harness.report import summary_table, write_report
    from harness.results import read_metric_declarations, summarize
    from harness.planning import plan as make_plan
    from harness.runner import choose_executor, pick_device, run_plan
    from harness.terminal import TerminalReporter

    console = _console()
    m = _manager(console)
    console.print(_plugins_header(m))
    try:
        spec, budget, seeds, device_req, overrides = _resolve_run_args(args, console)
        device = pick_device(device_req)
        if budget is None:
            budget = choose_budget(None, device)
            console.print(f"budget: [bold]{budget}[/bold] (chosen for device {device}; pass --budget to change)")
        if args.temperature is not None:
            overrides["temperature"] = args.temperature
        p = make_plan(m, spec, budget=budget, seeds=seeds, budget_overrides=overrides, decoder=args.decoder)
        executor = choose_executor(m, args.executor, args.jobs, p.budget)
    except PlanError as exc:
        return _plan_error(console, exc)
    except (RuntimeError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    b = p.budget
    if b.profile == "pipeline":
        console.print(
            f"[yellow]{b.name} budget: tiny models and data so it finishes in minutes on a CPU; "
            "the numbers are NOT meant to be meaningful.[/yellow]"
        )
    console.print(
        f"plan: {len(p.conditions)} conditions × {len(p.seeds)} seeds = {len(p.cells)} cells; "
        f"budget {b.name}: {b.train_tokens:,} train tokens/cell ({b.iters} iters × {b.batch_size} × "
        f"{b.block_size}), {b.n_train:,} train problems, {b.n_eval:,} eval problems; device {device}"
    )
    for s in p.skipped:
        console.print("[yellow]skipped combination:[/yellow] ", end="")
        console.print(s, markup=False)
    out = Path(args.out) if args.out else _default_out(p.spec, b.name)
    console.print(f"output: {out}")
    command = "harness " + " ".join(_quote(a) for a in sys.argv[1:])
    with TerminalReporter(console, len(p.cells)) as terminal:
        m.pm.register(terminal, name="terminal")
        try:
            summary = run_plan(p, m, out, device=device, executor=executor, fail_fast=args.fail_fast,
                               command=command)
        finally:
            m.pm.unregister(terminal)
    declared = read_metric_declarations(out)
    table = summarize(summary.results, summary.items, order=p.conditions, declared=declared)
    if table.height:
        console.print(summary_table(table, title=f"{p.spec} — budget {b.name}", declared=declared))
        console.print(
            "[dim]95% CI (seeds): t-interval across seeds (seed variance); items CI: Wilson over pooled "
            "eval items (item variance only).[/dim]"
        )
    _print_paired(console, summary.results, summary.items, p.conditions)
    report = write_report(out)
    console.print(
        f"ran {len(summary.ran)} cells, skipped {len(summary.skipped)} finished, failed {len(summary.failed)}. "
        f"Results: {out / 'results.parquet'}, {out / 'items.parquet'}; report: {report}"
    )
    return 1 if summary.failed else 0


def _quote(a: str) -> str:
    return a if re.fullmatch(r"[A-Za-z0-9_./=:-]+", a) else "'" + a.replace("'", "'\\''") + "'"


def cmd_validate(args: argparse.Namespace) -> int:
    from harness.runner import pick_device
    from harness.planning import plan as make_plan

    console = _console()
    m = _manager(console)
    try:
        spec, budget, seeds, device_req, overrides = _resolve_run_args(args, console)
        budget = choose_budget(budget, pick_device(device_req))  # exactly as `run` picks it
        p = make_plan(m, spec, budget=budget, seeds=seeds, budget_overrides=overrides, decoder=args.decoder)
    except PlanError as exc:
        return _plan_error(console, exc)
    except (RuntimeError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    t = Table(title=f"plan: {len(p.cells)} cells (budget {p.budget.name})")
    for col in ("cell_id", "condition", "seed"):
        t.add_column(col)
    for c in p.cells:
        t.add_row(c.cell_id, c.condition, str(c.seed))
    console.print(t)
    for s in p.skipped:
        console.print("[yellow]skipped combination:[/yellow] ", end="")
        console.print(s, markup=False)
    console.print(f"[green]valid[/green]: {len(p.cells)} cells")
    return 0


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
    for col in ("name", "version", "status", "tasks", "corruptors", "models", "trainers"):
        t.add_column(col)
    for p in desc:
        status = "[green]ok[/green]" if p["status"] == "ok" else f"[red]{p.get('error')}[/red]"
        t.add_row(p["name"], str(p.get("version")), status, *(", ".join(p[k]) for k in ("tasks", "corruptors", "models", "trainers")))
    console.print(t)
    return 0


def _task_corruptor(m: Manager, spec: str):
    from harness.planning import resolve
    from harness.spec import parse_spec

    axes = parse_spec(spec, min_axes=2, max_axes=2)
    if len(axes[0]) != 1 or len(axes[1]) != 1:
        raise PlanError("give exactly one task and one corruptor, e.g. 'mazes×fallible(p=0.2)'")
    t = resolve(m, "task", axes[0][0], m.budget("default"))
    c = resolve(m, "corruptor", axes[1][0], m.budget("default"))
    task, corruptor = t.instantiate(), c.instantiate()
    corruptor.check(task)
    return task, corruptor


def cmd_data(args: argparse.Namespace) -> int:
    import polars as pl

    from harness.data import draw_problems, stable_seed

    console = _console(stderr=True)
    m = _manager(console)
    try:
        task, corruptor = _task_corruptor(m, args.spec)
    except PlanError as exc:
        return _plan_error(console, exc)
    rng = random.Random(stable_seed("data-cli", args.seed))
    t0 = time.perf_counter()
    problems = draw_problems(task, rng, args.n, args.split)
    rows = []
    for p in problems:
        trace = corruptor.corrupt(task, p, task.oracle(p), rng)
        enc = task.encode(p, trace)
        rows.append(
            {
                "problem_key": p.key,
                "problem": task.prompt_text(p),
                "completion": task.decode(enc.tokens[enc.prompt_len :].tolist()),
                "steps": [s.text for s in trace],
                "step_tags": [s.tag for s in trace],
                "token_ids": enc.tokens.tolist(),
                "token_tags": [Tag(int(x)).label for x in enc.tags],
                "n_mistakes": sum(1 for s in trace if s.tag == Tag.MISTAKE),
                **{f"meta_{k}": v for k, v in p.meta.items()},
            }
        )
    dt = time.perf_counter() - t0
    df = pl.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(args.out)
    console.print(f"wrote {len(rows)} items to {args.out} ({len(rows) / dt:,.0f} items/s incl. serialization)")
    return 0


def _token_text(task, problem, trace):
    """The encoded sample as the model reads it, coloured by tag. Character-level tasks print tokens
    as they are (a space token as '·', so walls and corridors stay visible, without wrapping); word-level
    tasks print '|' between tokens and wrap."""
    from rich.text import Text


    enc = task.encode(problem, trace)
    vocab = task.vocab
    words = [vocab[int(i)] for i in enc.tokens]
    char_level = all(len(w) == 1 for w in words[: enc.prompt_len])
    text = Text(no_wrap=char_level, overflow="ignore" if char_level else "fold")
    styles = {Tag.ORACLE: "bold green", Tag.MISTAKE: "bold red", Tag.CORRECTION: "bold yellow"}
    for k, (w, tag) in enumerate(zip(words, enc.tags.tolist())):
        style = styles.get(tag, "dim") if k >= enc.prompt_len else "dim"
        if char_level:
            w = w.replace(" ", "·").replace("\n", "↵\n" if k >= enc.prompt_len else "\n")
        elif k:
            text.append("|", style="dim")
        text.append(w, style=style)
    return text


def cmd_show(args: argparse.Namespace) -> int:
    from rich.columns import Columns
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    from harness.data import draw_problems, stable_seed

    console = _console()
    m = _manager(console)
    try:
        task, corruptor = _task_corruptor(m, args.spec)
    except PlanError as exc:
        return _plan_error(console, exc)
    rng = random.Random(stable_seed("show", args.seed))
    shown = 0
    attempts = 0
    while shown < args.n and attempts < 10_000:
        attempts += 1
        p = draw_problems(task, rng, 1, "train")[0]
        trace = corruptor.corrupt(task, p, task.oracle(p), rng)
        if args.with_mistakes and not any(s.tag == Tag.MISTAKE for s in trace):
            continue
        shown += 1
        picture = task.render(p, trace)
        text = _token_text(task, p, trace)
        meta = ", ".join(f"{k}={v}" for k, v in p.meta.items())
        if picture is None:
            body: Any = text
        elif "\n" in task.prompt_text(p):  # a picture-like prompt (a grid): side by side
            body = Columns([picture, text], padding=(0, 4))
        else:
            body = Group(picture, Text(""), text)
        console.print(Panel(body, title=f"{task.name} #{shown}  {meta}"))
    console.print("[dim]legend: [bold green]oracle step[/bold green], [bold red]mistake[/bold red], "
                  "[bold yellow]correction[/bold yellow]; dim = prompt / end tokens; the token text shows "
                  "what the model reads ('·' = a space token, '|' = a boundary between word tokens)[/dim]")
    return 0


def _print_paired(console, results, items, order=None) -> None:
    """The paired differences (each condition against its group's mistake-free baseline), one line each."""
    from harness.report import short_names
    from harness.stats import paired_table

    if not results.height or not items.height:
        return
    pairs = paired_table(results, items, order=order)
    if not pairs:
        return
    short = short_names(list(dict.fromkeys([*(order or []), *results["condition"].to_list()])))
    console.print("[bold]paired differences[/bold] (same problems and eval items per seed):")
    for pr in pairs:
        console.print("  " + pr.sentence(short.get(pr.baseline), short.get(pr.condition)), markup=False)


def cmd_analyze(args: argparse.Namespace) -> int:
    from harness.analysis import run_analysis
    from harness.planning import resolve
    from harness.spec import parse_spec

    console = _console()
    m = _manager(console)
    d = Path(args.dir)
    if not (d / "cells").is_dir():
        console.print(f"[red]error:[/red] {d} is not a run directory (no cells/)")
        return 2
    try:
        choices = parse_spec(args.analysis, 1, 1)[0]
        analyses = [resolve(m, "analysis", c, m.budget("default")).instantiate() for c in choices]
        for a in analyses:
            path, ran = run_analysis(a, d, log=lambda msg: console.print(msg, markup=False), force=args.force)
            console.print(f"{'ran' if ran else 'reused (already done)'} {a.name}: {path}")
    except PlanError as exc:
        return _plan_error(console, exc)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from harness.report import summary_table, write_report
    from harness.results import collect_items, collect_results, read_metric_declarations, summarize

    console = _console()
    d = Path(args.dir)
    if not (d / "cells").exists():
        console.print(f"[red]error:[/red] {d} is not a run directory (no cells/ inside)")
        return 2
    note = args.note
    if note and note.startswith("@"):
        try:
            note = Path(note[1:]).read_text()
        except OSError as exc:
            console.print(f"[red]error:[/red] cannot read the note: {exc}")
            return 2
    path = write_report(d, Path(args.to) if args.to else None, note=note)
    results, items = collect_results(d), collect_items(d)
    declared = read_metric_declarations(d)
    table = summarize(results, items, declared=declared)
    if table.height:
        console.print(summary_table(table, declared=declared))
    _print_paired(console, results, items)
    console.print(f"report written to {path}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from collections import Counter

    from harness.planning import resolve
    from harness.spec import Choice

    console = _console()
    m = _manager(console)
    try:
        task = resolve(m, "task", Choice(args.task), m.budget("default")).instantiate()
    except PlanError as exc:
        return _plan_error(console, exc)
    src = Path(args.file)
    out = Path(args.out) if args.out else src.with_suffix(".verdicts.jsonl")
    n = n_ok = 0
    reasons: Counter[str] = Counter()
    try:
        # bytes, split on "\n" only: str.splitlines() would also cut valid JSON at U+2028 / U+0085,
        # and a file that is not UTF-8 must give per-line reasons, not a traceback
        lines = src.read_bytes().split(b"\n")
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot read {src}: {exc}")
        return 2
    with open(out, "w") as f:
        for lineno, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            rec: dict[str, Any] = {"line": lineno}
            try:
                item = json.loads(raw.decode("utf-8"))
                problem, solution = item["problem"], item["solution"]
            except UnicodeDecodeError as exc:
                rec.update(correct=False, reason=f"bad record: line is not UTF-8 text ({exc.reason} at byte {exc.start})")
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                rec.update(correct=False, reason=f"bad record: needs JSON with problem and solution ({exc})")
            else:
                try:
                    v = task.verify_text(problem, solution, item.get("answer"))
                except NotImplementedError as exc:
                    console.print(f"[red]error:[/red] {exc}")
                    return 2
                except Exception as exc:  # noqa: BLE001 - a verifier bug is reported per item
                    rec.update(correct=False, reason=f"verifier raised {type(exc).__name__}: {exc}")
                else:
                    rec.update(correct=bool(v.correct), reason=v.reason, details=v.details)
                if "id" in item:
                    rec["id"] = item["id"]
            n += 1
            n_ok += int(rec["correct"])
            if not rec["correct"]:
                reasons[str(rec["reason"]).split(":")[0][:60]] += 1
            f.write(json.dumps(rec, default=str) + "\n")
    from harness.results import wilson

    lo, hi = wilson(n_ok, n)
    console.print(
        f"{args.task}: {n_ok}/{n} correct = {100 * n_ok / max(1, n):.1f}% "
        f"(95% Wilson interval {100 * lo:.1f}–{100 * hi:.1f}); verdicts with reasons: {out}"
    )
    if reasons:
        t = Table(title="most common failure reasons")
        t.add_column("reason")
        t.add_column("n", justify="right")
        for r, k in reasons.most_common(10):
            t.add_row(r, str(k))
        console.print(t)
    return 0


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


# ------------------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="harness",
        description="A plugin-based benchmark harness for training on mistakes.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    budgets = " | ".join(f"{k}: {v.description}" for k, v in BUDGETS.items())

    def add_plan_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("spec", help="task×corruptor×model[×trainer] spec, or an experiment .toml file")
        p.add_argument("--budget", default=None,
                       help=f"compute budget (default: smoke on CPU, default on CUDA). {budgets}; or one a "
                       "plugin registers (harness list)")
        p.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None, help="default auto")
        p.add_argument("--decoder", default=None, metavar="NAME[(k=v,...)]",
                       help="how eval completions are decoded (default: sample at the budget's temperature; "
                       "greedy; or a plugin's; harness list)")
        p.add_argument("--seeds", type=int, default=None, help="number of seeds (0..N-1); default 1")
        p.add_argument("--budget-set", action="append", metavar="KEY=VALUE",
                       help="override a field of the budget, e.g. train_tokens=491520000 or n_eval=4096 "
                       "(repeatable; part of each cell's identity)")

    p = sub.add_parser("run", help="train and evaluate every cell of a spec", epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_plan_args(p)
    p.add_argument("--out", help="run directory (default runs/<spec>-<budget>); rerunning skips finished cells")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failed cell")
    p.add_argument("--jobs", type=int, default=1,
                   help="cells run at once in worker processes (the `pool` executor; CPU threads are split "
                   "between them; on a GPU they share the device). Default 1 (the `serial` executor)")
    p.add_argument("--executor", default=None, metavar="NAME[(k=v,...)]",
                   help="where cells run: serial, pool(jobs=N), or a plugin's (harness list); overrides --jobs")
    p.add_argument("--temperature", type=float, default=None,
                   help="eval sampling temperature (default 0.1 as MazeGPT; 0 = greedy)")
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("validate", help="plan every cell without training; non-zero exit if invalid")
    add_plan_args(p)
    p.set_defaults(fn=cmd_validate)

    p = sub.add_parser("list", help="everything registered: tasks, corruptors, models, trainers, decoders, executors, "
                       "analyses, budgets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_list)

    p = sub.add_parser("plugins", help="loaded plugins, their versions and what they registered")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(fn=cmd_plugins)

    p = sub.add_parser("data", help="write generated training data of task×corruptor to Parquet")
    p.add_argument("spec", help="task×corruptor, e.g. 'mazes×fallible(p=0.2)'")
    p.add_argument("--n", type=int, required=True, help="number of problems")
    p.add_argument("--out", required=True, help="output .parquet file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", choices=["train", "eval"], default="train", help="which side of the split")
    p.set_defaults(fn=cmd_data)

    p = sub.add_parser("show", help="render sample problems with their (corrupted) traces")
    p.add_argument("spec", help="task×corruptor, e.g. 'mazes×fallible'")
    p.add_argument("--n", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--with-mistakes", action="store_true", help="only show samples that contain a mistake")
    p.set_defaults(fn=cmd_show)

    p = sub.add_parser("score", help="score solutions written by any model or tool (JSONL) from the problem text")
    p.add_argument("task", help="task name, e.g. igsm or mazes")
    p.add_argument("file", help="JSONL with fields problem, solution and optionally answer, id")
    p.add_argument("--out", help="per-item verdicts JSONL (default: FILE.verdicts.jsonl)")
    p.set_defaults(fn=cmd_score)

    p = sub.add_parser("report", help="write a Markdown report with plots for a run directory")
    p.add_argument("dir", help="run directory")
    p.add_argument("--to", help="output folder (default: the run directory), e.g. reports/NAME")
    p.add_argument(
        "--note",
        help="a Markdown paragraph placed under the title (what the run is, how it compares); @FILE reads it from a file",
    )
    p.set_defaults(fn=cmd_report)

    p = sub.add_parser("analyze", help="run analyses over a finished run directory (reused while nothing changed)")
    p.add_argument("dir", help="run directory")
    p.add_argument("analysis", help="analysis name(s) with parameters, e.g. paired (harness list shows all)")
    p.add_argument("--force", action="store_true", help="recompute even if a finished result exists")
    p.set_defaults(fn=cmd_analyze)

    p = sub.add_parser(
        "bench", help="throughput of ours vs baselines, side by side (every benchmark the plugins register)",
        description="Run every registered benchmark (or --only some) and print one table: ours, the "
        "baseline, the ratio and its target. Each benchmark comes from a plugin; its options are set "
        "with --set NAME.FIELD=VALUE or the environment variables `harness bench --list` shows. Exit "
        "status: 1 if a target is missed (unless --no-fail), 2 if an option is bad or a benchmark failed.")
    p.add_argument("--json", action="store_true", help="print results as JSON on stdout")
    p.add_argument("--quick", action="store_true", help="tiny sizes (tests, smoke checks); numbers not meaningful")
    p.add_argument("--only", metavar="NAME[,NAME]", default=None, help="run only these benchmarks")
    p.add_argument("--set", action="append", metavar="NAME.FIELD=VALUE",
                   help="a benchmark option, e.g. mazes.maze_dataset_python=/tmp/maze-dataset-venv/bin/python "
                   "(repeatable; validated by the benchmark; wins over its environment variable)")
    p.add_argument("--list", action="store_true", help="list the registered benchmarks and their options")
    p.add_argument("--no-fail", action="store_true", help="exit 0 even if a target is missed")
    p.set_defaults(fn=cmd_bench)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
