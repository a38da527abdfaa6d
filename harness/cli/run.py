"""`harness run` and `harness validate`: plan a spec, then train and evaluate its cells (or only check them)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from harness.budgets import choose_budget
from harness.cli.common import _check_out, _console, _default_out, _manager, _plan_error, _plugins_header, _print_paired, _quote, _resolve_run_args
from harness.interfaces import PlanError


def cmd_run(args: argparse.Namespace) -> int:
    from harness.report import summary_table, write_report
    from harness.results import read_metric_declarations, summarize
    from harness.planning import plan as make_plan, resolve_items
    from harness.prefetch import want_prefetch
    from harness.runner import choose_executor, parse_shard, pick_device, run_plan, select_rerun, shard_of
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
        shard = parse_shard(args.shard)
        executor = choose_executor(m, args.executor, _jobs(args.jobs), p.budget, device=device,
                                   n_cells=len(shard_of(p.cells, *shard)) if shard else len(p.cells),
                                   threads=args.threads)
        rerun_ids = [x.strip() for item in (args.rerun or []) for x in item.split(",") if x.strip()]
        rerun = select_rerun(p.cells, rerun_ids, force=args.force)
        loggers = [(c.choice.label, c.instantiate()) for c in resolve_items(m, "logger", args.log, p.budget)] \
            if args.log else []
        if args.lease <= 0:
            raise PlanError(f"--lease must be positive (seconds), got {args.lease}")
        _check_out(args.out, "directory", "--out", default=_default_out(p.spec, p.budget.name))  # before training
    except PlanError as exc:
        return _plan_error(console, exc)
    except (RuntimeError, ValueError) as exc:
        console.print("[red]error:[/red] ", end="")
        console.print(str(exc), markup=False)
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
    console.print(f"output: {out}", markup=False)
    command = "harness " + " ".join(_quote(a) for a in sys.argv[1:])
    n_cells = len(shard_of(p.cells, *shard)) if shard else len(p.cells)
    if shard:
        console.print(f"shard {shard[0]}/{shard[1]}: {n_cells} of the {len(p.cells)} cells")
    plain = None
    if not console.is_terminal:  # tee, nohup, CI, Slurm: the bars do not show, so log lines instead
        import logging

        from harness.progress_log import LogReporter, every_s_from_env

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
        plain = LogReporter(every_s_from_env())
        m.pm.register(plain, name="progress-log")
    for label, logger in loggers:
        m.pm.register(logger, name=f"logger:{label}")
    with TerminalReporter(console, n_cells) as terminal:
        m.pm.register(terminal, name="terminal")
        try:
            summary = run_plan(p, m, out, device=device, executor=executor, fail_fast=args.fail_fast,
                               command=command, shard=shard, lease_s=args.lease, wait=not args.no_wait,
                               rerun=rerun, prefetch=want_prefetch(args.prefetch, device, executor))
        finally:
            m.pm.unregister(terminal)
            if plain is not None:
                m.pm.unregister(plain)
            for label, logger in loggers:
                m.pm.unregister(logger)
                try:
                    logger.close()
                except Exception as exc:  # noqa: BLE001 - a logger that cannot close loses its own output only
                    console.print(f"[yellow]logger {escape(label)} failed to close:[/yellow] ", end="")
                    console.print(f"{type(exc).__name__}: {exc}", markup=False)
    for f in m.hook_failures:
        console.print(f"[yellow]plugin {escape(f.plugin)} raised in {f.hook}:[/yellow] ", end="")
        console.print(f.error, markup=False)
    declared = read_metric_declarations(out)
    table = summarize(summary.results, summary.items, order=p.conditions, declared=declared)
    if table.height:
        console.print(summary_table(table, title=f"{p.spec} — budget {b.name}", declared=declared))
        console.print(
            "[dim]95% CI (seeds): t-interval across seeds (seed variance); items CI: Wilson over pooled "
            "eval items (item variance only).[/dim]"
        )
    _print_paired(console, summary.results, summary.items, p.conditions)
    try:
        report = write_report(out)
    except OSError as exc:  # a full disk or a vanished directory: the results are written, say so
        console.print("[red]error:[/red] ", end="")
        console.print(f"cannot write the report to {out}: {exc.strerror or exc}; the results are in "
                      f"{out / 'results.parquet'} (rerun `harness report {out}` when there is room)", markup=False)
        return 2
    console.print(
        f"ran {len(summary.ran)} cells, skipped {len(summary.skipped)} finished, failed {len(summary.failed)}. "
        f"Results: {out / 'results.parquet'}, {out / 'items.parquet'}; report: {report}", markup=False
    )
    return 1 if summary.failed else 0


def _jobs(flag: int | None) -> int | None:
    """--jobs, else $HARNESS_JOBS, else None (the executor's default: cells side by side on a CPU)."""
    import os

    if flag is not None:
        return flag
    env = os.environ.get("HARNESS_JOBS", "").strip()
    if not env:
        return None
    try:
        return int(env)
    except ValueError:
        raise PlanError(f"HARNESS_JOBS must be a whole number of cells, got {env!r}") from None


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
        console.print("[red]error:[/red] ", end="")
        console.print(str(exc), markup=False)
        return 2
    t = Table(title=f"plan: {len(p.cells)} cells (budget {p.budget.name})")
    for col in ("cell_id", "condition", "seed"):
        t.add_column(col)
    for c in p.cells:
        t.add_row(c.cell_id, c.condition, str(c.seed))
    console.print(t)
    if getattr(args, "show_config", False):
        _show_config(console, p)
    for s in p.skipped:
        console.print("[yellow]skipped combination:[/yellow] ", end="")
        console.print(s, markup=False)
    console.print(f"[green]valid[/green]: {len(p.cells)} cells")
    return 0


def _show_config(console, p) -> None:
    """Each condition's resolved components (every parameter, budget defaults and spec values applied)
    and its budget, once per condition (seeds differ only in their seed)."""
    import json

    b = p.budget
    console.print(f"budget {b.name} ({b.profile}): " + json.dumps(b.model_dump(mode="json"), sort_keys=True),
                  markup=False, soft_wrap=True)
    seen: set[str] = set()
    for c in p.cells:
        if c.condition in seen:
            continue
        seen.add(c.condition)
        seeds = [x.seed for x in p.cells if x.condition == c.condition]
        console.print(f"\n[bold]{escape(c.condition)}[/bold]  seeds {seeds}")
        for kind, comp in (("task", c.task), ("corruptor", c.corruptor), ("model", c.model),
                           ("trainer", c.trainer), ("decoder", c.decoder)):
            console.print(f"  {kind} {comp.choice.label} (plugin {comp.plugin}, version {comp.version}): "
                          + json.dumps(comp.config, sort_keys=True), markup=False, soft_wrap=True)
        if c.budget is not b:
            console.print(f"  budget scaled by the trainer: {c.budget.train_tokens:,} train tokens, "
                          f"{c.budget.n_train:,} train problems", markup=False)
        if c.parent is not None:
            console.print(f"  starts from cell {c.parent.cell_id} ({c.parent.condition})", markup=False)
