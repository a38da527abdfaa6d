"""`harness probe`: linear and MLP probes over the residual stream of a run's finished cells."""

from __future__ import annotations

import argparse



def cmd_probe(args: argparse.Namespace) -> int:
    import polars as pl
    from rich.table import Table

    from harness.cli.common import _console, _manager, _plan_error, _run_dir
    from harness.interfaces import PlanError

    from harness.planning import resolve_items
    from harness.probing import OWN_METRICS, PROBES, ProbeSettings, run_probes
    from harness.runner import pick_device

    console = _console()
    m = _manager(console)
    d = _run_dir(console, args.dir)
    if d is None:
        return 2
    try:
        targets = [(c.choice.label, c.instantiate())
                   for c in resolve_items(m, "probe_target", args.target, m.budget("default"))]
        probes = [p.strip() for p in args.probe.split(",") if p.strip()]
        bad = [p for p in probes if p not in PROBES]
        if bad:
            import difflib

            close = difflib.get_close_matches(bad[0], list(PROBES), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise PlanError(f"unknown probe {bad[0]!r}.{hint} Probes: linear, mlp (d→512→2), mlp2 (d→512→256→2), "
                            "vprobe (last layer + rank-r embedding update)")
        layers = None if args.layers == "all" else [int(x) for x in args.layers.split(",")]
        s = ProbeSettings(targets, probes, layers, args.site, args.n, args.seed, controls=not args.no_controls,
                          vprobe={"rank": args.vprobe_rank, "steps": args.vprobe_steps}, heatmap=args.heatmap)
        table, ran, reused = run_probes(m, d, s, pick_device(args.device),
                                        log=lambda msg: console.print(msg, markup=False))
    except PlanError as exc:
        return _plan_error(console, exc)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    if table.height == 0:
        console.print("[yellow]no finished cell has a task these targets apply to[/yellow]")
        return 1
    view = (table.filter((pl.col("metric") == "balanced_accuracy"))
            .group_by(["target", "layer", "probe", "weights"])
            .agg(pl.col("value").mean(), pl.col("control_value").mean(), pl.col("selectivity").mean(), pl.len().alias("cells"))
            .sort(["target", "weights", "layer", "probe"]))
    t = Table(title=f"probe balanced accuracy ({args.site}; mean over cells; control = shuffled labels)")
    for col in ("target", "weights", "layer", "probe", "balanced acc", "control", "selectivity", "cells"):
        t.add_column(col, justify="right" if col not in ("target", "weights", "probe") else "left")
    for r in view.iter_rows(named=True):
        f = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
        t.add_row(r["target"], r["weights"], str(r["layer"]), r["probe"], f(r["value"]), f(r["control_value"]),
                  f(r["selectivity"]), str(r["cells"]))
    console.print(t)
    own = (table.filter(pl.col("metric").is_in(list(OWN_METRICS)) & (pl.col("weights") == "trained"))
           if "metric" in table.columns else table.head(0))
    if own.height:
        wide = (own.group_by(["target", "layer", "probe", "metric"]).agg(pl.col("value").mean(), pl.col("n_test").sum())
                .sort(["target", "layer", "probe"]))
        t2 = Table(title="on the trained model's own greedy solutions (mean over cells): regret rate = share of its "
                         "first wrong steps the probe flags")
        for col in ("target", "layer", "probe", "regret rate", "false alarms", "balanced acc", "wrong steps"):
            t2.add_column(col, justify="left" if col in ("target", "probe") else "right")
        keys = wide.select(["target", "layer", "probe"]).unique(maintain_order=True)
        for k in keys.iter_rows(named=True):
            sub = wide.filter((pl.col("target") == k["target"]) & (pl.col("layer") == k["layer"]) & (pl.col("probe") == k["probe"]))
            get = {r["metric"]: r for r in sub.iter_rows(named=True)}
            f = lambda m: "–" if m not in get or get[m]["value"] is None else f"{get[m]['value']:.3f}"  # noqa: E731
            n = get.get("regret_rate", {}).get("n_test")
            t2.add_row(k["target"], str(k["layer"]), k["probe"], f("regret_rate"), f("own_false_alarm"),
                       f("own_balanced_accuracy"), "–" if n is None else str(n))
        console.print(t2)
    console.print(f"probed {ran} unit(s), reused {reused}; table: {d / 'probes.parquet'}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("probe", help="linear / MLP probes on the residual stream of a run's finished cells")
    p.add_argument("dir", help="run directory")
    p.add_argument("--target", default="on_mistake", help="probe target(s), e.g. on_mistake,on_mistake(at=correction) "
                   "or can_next (igsm; with the regret rate on the model's own solutions); harness list shows all")
    p.add_argument("--probe", default="linear,mlp",
                   help="comma list of linear, mlp (d→512→2), mlp2 (d→512→256→2), vprobe (Physics of LMs' V-probe: "
                        "a linear head on the last layer plus a rank-r update of the input embedding, trained "
                        "through the frozen model); default linear,mlp")
    p.add_argument("--vprobe-rank", type=int, default=8, help="rank of the V-probe's embedding update (default 8, "
                   "the paper's version 1)")
    p.add_argument("--vprobe-steps", type=int, default=500, help="V-probe training steps (batch 32; default 500)")
    p.add_argument("--layers", default="all", help="all, or a comma list of block indices")
    p.add_argument("--site", choices=["resid_pre", "resid_post"], default="resid_post",
                   help="blocks.{L}.hook_resid_pre or _post (default post)")
    p.add_argument("--n", type=int, default=400, help="held-out problems to draw (default 400; 20%% are test)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--heatmap", action="store_true",
                   help="MazeGPT's heatmap: the probe's P(mistake) at a held-out sample's first mistake as the goal "
                        "moves over every cell (tasks with goal variants, e.g. mazes), beside the truth; written to "
                        "DIR/probes/heatmaps/ and shown by harness report")
    p.add_argument("--no-controls", action="store_true", help="skip the shuffled-label and random-init controls")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.set_defaults(fn=cmd_probe)
