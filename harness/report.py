"""Reports: a rich table in the terminal, Markdown + PNG plots on disk."""

from __future__ import annotations

import contextlib
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.table import Table

from harness.metrics import DECODE_PREFIX, TASK_PREFIX, Metric, metrics_of
from harness.results import (
    breakdown,
    collect_curves,
    collect_items,
    collect_mixes,
    collect_results,
    read_metric_declarations,
    summarize,
)
from harness.stats import Paired, paired_by, paired_table
from harness.store import atomic_path, atomic_write_bytes

PAIRED_NOTE = (
    "Each condition is compared with the baseline of its group: conditions that differ only in the "
    "compared axis (the corruptor where it varies, else the one axis that does), so they train on the "
    "same problems per seed and are scored on the same eval items; the baseline is a condition whose "
    "training data holds no mistakes, else the first in plan order. The comparison is *paired*: the "
    "interval across seeds is a Student-t interval of the per-seed differences (seed-to-seed variance; "
    "paired t-test), the interval over items a bootstrap of the per-item differences pooled over seeds "
    "(item-sampling variance only, given the trained models: whole distinct eval problems are "
    "resampled, so an eval set that repeats problems of a small space is not over-counted; the exact "
    "McNemar test on the discordant items treats items as independent)."
)

INTERVAL_NOTE = (
    "`95% CI (seeds)` is a Student-t interval of the per-seed accuracies: it covers seed-to-seed "
    "variance (model init, training-data draw and order, eval sampling), with n = seeds. "
    "`items CI` is a Wilson interval over the pooled eval items: item-sampling variance only. "
    "Every cell of a grid is scored on the same held-out eval problems."
)


def _save(fig, path) -> None:
    """A plot written atomically: a temporary file renamed into place, which replaces a symlink planted
    at `path` instead of writing through it, and never leaves half a PNG."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def _pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.1f}"


def _num(x: Any, nd: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


def _interval(lo: Any, hi: Any) -> str:
    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)):
        return "– (n=1)"
    return f"{_pct(lo)}–{_pct(hi)}"


def _present(summary: pl.DataFrame, metrics: dict[str, Metric]) -> dict[str, Metric]:
    """The declared metrics with at least one value in the summary, in declaration order."""
    return {c: m for c, m in metrics.items() if c in summary.columns and summary[c].null_count() < summary.height}


def summary_table(summary: pl.DataFrame, title: str = "results",
                  declared: dict[str, dict[str, Any]] | None = None) -> Table:
    """The terminal table: accuracy with its intervals, then each headline metric (the core's and the
    task's, as declared) that the cells have."""
    metrics = {c: m for c, m in _present(summary, metrics_of(summary.columns, declared)).items() if m.headline}
    t = Table(title=title, show_lines=False)
    t.add_column("condition", justify="left", overflow="fold", min_width=24)
    for col in ("acc %", "95% CI (seeds)", "n", "items CI", *(m.header for m in metrics.values())):
        t.add_column(col, justify="right")
    for r in summary.iter_rows(named=True):
        failed = r.get("n_failed") or 0
        n = f"{r['n_seeds']}" + (f" [red](+{failed} failed)[/red]" if failed else "")
        t.add_row(
            r["condition"],
            _pct(r["accuracy"]),
            _interval(r["ci_low"], r["ci_high"]),
            n,
            _interval(r.get("items_low"), r.get("items_high")),
            *(m.fmt(r.get(c)) for c, m in metrics.items()),
        )
    return t


def _better(m: Metric) -> str:
    return {True: "higher is better", False: "lower is better", None: "neither is better"}[m.higher_is_better]


def task_metrics_section(summary: pl.DataFrame, metrics: dict[str, Metric]) -> list[str]:
    """Every metric a task (or a decoder) declared, combined over seeds as declared, with what each one means."""
    tm = {c: m for c, m in _present(summary, metrics).items() if c.startswith((TASK_PREFIX, DECODE_PREFIX))}
    if not tm:
        return []
    title = "## Task metrics" if all(c.startswith(TASK_PREFIX) for c in tm) else "## Task and decoder metrics"
    lines = [title, "",
             _md_table(summary, [("condition", "condition", None)] + [(m.header, c, m.fmt) for c, m in tm.items()]),
             ""]
    lines += [f"- **{m.header}** (`{c}`, {m.aggregate} over seeds, {_better(m)}): {m.description}" for c, m in tm.items()]
    return lines + [""]


def _md_table(df: pl.DataFrame, cols: list[tuple[str, Any, Any]]) -> str:
    """cols: (header, column name or a function of the row, formatter of the value or None)."""
    head = "| " + " | ".join(h for h, _, _ in cols) + " |"
    sep = "|" + "|".join("---" for _ in cols) + "|"
    lines = [head, sep]
    for r in df.iter_rows(named=True):
        cells = []
        for _, k, fmt in cols:
            v = k(r) if callable(k) else r.get(k)
            cells.append(fmt(v) if fmt else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plots(summary: pl.DataFrame, items: pl.DataFrame, to: Path, short: dict[str, str] | None = None) -> dict[Any, str]:
    """PNG plots: the accuracy bar chart (key None) and accuracy by each numeric breakdown column."""
    short = short or {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: dict[Any, str] = {}
    if summary.height:
        fig, ax = plt.subplots(figsize=(max(5, 1.2 * summary.height + 2), 4))
        xs = list(range(summary.height))
        acc = [100 * (a if a is not None else float("nan")) for a in summary["accuracy"].to_list()]
        lo = summary["ci_low"].to_list()
        hi = summary["ci_high"].to_list()
        err = [
            [0 if (l is None or math.isnan(l)) else 100 * (a / 100 - l) for a, l in zip(acc, lo)],
            [0 if (h is None or math.isnan(h)) else 100 * (h - a / 100) for a, h in zip(acc, hi)],
        ]
        ax.bar(xs, acc, yerr=err, capsize=4, color="#4C72B0")
        ax.set_xticks(xs)
        ax.set_xticklabels([short.get(c, c) for c in summary["condition"].to_list()], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("accuracy % (95% CI across seeds)")
        ax.set_ylim(0, 100)
        ax.set_title("Accuracy per condition")
        fig.tight_layout()
        _save(fig, to / "accuracy.png")
        plt.close(fig)
        made[None] = "accuracy.png"
    meta_cols = [c for c in items.columns if c.startswith("meta_")] if items.height else []
    for col in meta_cols:
        if items[col].dtype not in (pl.Int64, pl.Int32, pl.Float64, pl.Int8, pl.Int16, pl.UInt32):
            continue
        if items[col].n_unique() > 40:
            continue
        bd = breakdown(items, col)
        if bd.height == 0:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        present = set(bd["condition"].to_list())
        for cond in [c for c in summary["condition"].to_list() if c in present]:
            sub = bd.filter(pl.col("condition") == cond).sort(col)
            ax.plot(sub[col].to_list(), [100 * a for a in sub["accuracy"].to_list()], marker="o",
                    label=short.get(cond, cond))
        name = col[len("meta_") :]
        ax.set_xlabel(name)
        ax.set_ylabel("accuracy % (mean over seeds)")
        ax.set_ylim(0, 100)
        ax.set_title(f"Accuracy by {name}")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fname = f"accuracy_by_{name}.png"
        _save(fig, to / fname)
        plt.close(fig)
        made[col] = fname
    return made


def _pp(x: Any) -> str:
    """A difference in accuracy as signed percentage points."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:+.1f}"


def _pval(p: Any) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.0e}"


def short_names(conds: list[str]) -> dict[str, str]:
    """Condition labels without the axes every condition shares (e.g. the task and model of a grid)."""
    parts = [c.split("×") for c in conds]
    if not parts or len({len(p) for p in parts}) != 1:
        return {c: c for c in conds}
    keep = [j for j in range(len(parts[0])) if len({p[j] for p in parts}) > 1]
    if not keep:
        return {c: c for c in conds}
    return {c: "×".join(p[j] for j in keep) for c, p in zip(conds, parts)}


def paired_section(pairs: list[Paired], short: dict[str, str]) -> list[str]:
    if not pairs:
        return []
    lines = ["## The answer: paired differences", "", PAIRED_NOTE, ""]
    for p in pairs:
        lines.append(f"- **{p.sentence(short.get(p.baseline), short.get(p.condition))}**")
    lines += [
        "",
        _md_table(
            pl.DataFrame([p.as_row() for p in pairs]),
            [
                ("condition", lambda r: short.get(r["condition"], r["condition"]), None),
                ("baseline", lambda r: short.get(r["baseline"], r["baseline"]), None),
                ("Δ accuracy (points)", "diff", _pp),
                ("95% CI (seeds)", lambda r: f"{_pp(r['seeds_low'])} to {_pp(r['seeds_high'])}", None),
                ("p (paired t)", "seeds_p", _pval),
                ("n seeds", "n_seeds", None),
                ("95% CI (items)", lambda r: f"{_pp(r['items_low'])} to {_pp(r['items_high'])}", None),
                ("McNemar p", "mcnemar_p", _pval),
                ("paired items", "n_items", lambda v: f"{v:,}"),
                ("distinct problems", "n_distinct", lambda v: f"{v:,}"),
                ("only condition right", "b_only", None),
                ("only baseline right", "a_only", None),
            ],
        ),
        "",
    ]
    return lines


def _meta_columns(items: pl.DataFrame) -> list[str]:
    if not items.height:
        return []
    return [
        c for c in items.columns
        if c.startswith("meta_") and items[c].n_unique() <= 40 and items[c].dtype != pl.Float64
    ]


def breakdown_section(
    items: pl.DataFrame, pairs: list[Paired], short: dict[str, str], order: list[str], plots: dict[Any, str]
) -> list[str]:
    lines: list[str] = []
    for col in _meta_columns(items):
        bd = breakdown(items, col)
        if bd.height == 0 or bd.height > 200:
            continue
        name = col[len("meta_") :]
        wide = bd.pivot(values="accuracy", index=col, on="condition").sort(col)
        conds = [c for c in order if c in wide.columns] + [c for c in wide.columns if c != col and c not in order]
        cols = [(name, col, None)] + [(short.get(c, c), c, _pct) for c in conds]
        lines += [f"## Accuracy by {name} (%, mean over seeds)", ""]
        if col in plots:
            lines += [f"![Accuracy by {name}]({plots[col]})", ""]
        lines += [_md_table(wide, cols), ""]
        for p in pairs:
            by = paired_by(items, p.baseline, p.condition, col)
            if by.height < 2:
                continue
            lines += [
                f"Paired difference by {name}, {short.get(p.condition, p.condition)} − "
                f"{short.get(p.baseline, p.baseline)} (items pooled over seeds; bootstrap 95% CI over items):",
                "",
                _md_table(
                    by,
                    [
                        (name, col, None),
                        ("paired items", "n_items", None),
                        ("baseline %", "baseline_acc", _pct),
                        ("condition %", "condition_acc", _pct),
                        ("Δ (points)", "diff", _pp),
                        ("95% CI (items)", lambda r: f"{_pp(r['low'])} to {_pp(r['high'])}", None),
                        ("McNemar p", "mcnemar_p", _pval),
                    ],
                ),
                "",
            ]
    return lines


def curve_section(curves: pl.DataFrame, to: Path, short: dict[str, str]) -> list[str]:
    """Learning curves: held-out accuracy (and decision-point behaviour) against training tokens."""
    if curves.height == 0 or "accuracy" not in curves.columns:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in ("accuracy", "dp_correct_prob") if m in curves.columns]
    fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 4), squeeze=False)
    conds = curves["condition"].unique(maintain_order=True).to_list()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes[0], metrics):
        for k, cond in enumerate(conds):
            sub = curves.filter(pl.col("condition") == cond)
            color = colors[k % len(colors)]
            for seed in sub["seed"].unique().sort().to_list():
                ss = sub.filter(pl.col("seed") == seed).sort("tokens")
                ax.plot(ss["tokens"].to_list(), [100 * v for v in ss[metric].to_list()], color=color, alpha=0.3, lw=1)
            mean = sub.group_by("tokens").agg(pl.col(metric).mean()).sort("tokens")
            ax.plot(mean["tokens"].to_list(), [100 * v for v in mean[metric].to_list()], color=color, lw=2,
                    marker="o", label=short.get(cond, cond))
        ax.set_xlabel("training tokens")
        ax.set_ylabel({"accuracy": "held-out accuracy %", "dp_correct_prob": "P(correct move | decision point) %"}[metric])
        ax.set_ylim(0, 100)
        ax.legend(fontsize=7)
    fig.suptitle("Learning curves (thin: seeds; thick: mean)")
    fig.tight_layout()
    _save(fig, to / "learning_curves.png")
    plt.close(fig)
    agg = (
        curves.group_by(["condition", "tokens"])
        .agg(pl.col("accuracy").mean(), pl.col("accuracy").min().alias("lo"), pl.col("accuracy").max().alias("hi"),
             pl.len().alias("seeds"), *( [pl.col("dp_correct_prob").mean()] if "dp_correct_prob" in curves.columns else []))
        .sort(["condition", "tokens"])
    )
    n = int(curves["n_eval"].max()) if "n_eval" in curves.columns else 0
    lines = [
        "## Learning curves",
        "",
        f"Held-out accuracy on the first {n:,} eval problems at points during training (the last point is "
        "the final model), so one can check that the arms did not simply stop at different points of the "
        "same curve.",
        "",
        "![Learning curves](learning_curves.png)",
        "",
        _md_table(
            agg,
            [
                ("condition", lambda r: short.get(r["condition"], r["condition"]), None),
                ("tokens", "tokens", lambda v: f"{int(v):,}"),
                ("accuracy % (mean)", "accuracy", _pct),
                ("min–max over seeds", lambda r: f"{_pct(r['lo'])}–{_pct(r['hi'])}", None),
                *([("P(correct | decision point)", "dp_correct_prob", _num)] if "dp_correct_prob" in agg.columns else []),
                ("seeds", "seeds", None),
            ],
        ),
        "",
    ]
    return lines


def composition_section(mixes: dict[str, Any]) -> list[str]:
    """The eval set's composition beside the training set's (every cell shares the eval set)."""
    if not mixes:
        return []
    first = next(iter(mixes.values()))
    ev, tr = first.get("eval", {}), first.get("train", {})
    lines = [
        "## Eval set composition",
        "",
        "Every cell is scored on the same eval problems, drawn from the training distribution and disjoint "
        "from training. Per value of each breakdown field: eval items, distinct eval problems, and the "
        "share of eval items against the share of training problems (of one cell; problems depend only "
        "on the task and the seed).",
        "",
    ]
    for field in ev:
        if field not in tr or len(ev[field]) < 2:
            continue
        n_ev = sum(v["n"] for v in ev[field].values())
        n_tr = sum(v["n"] for v in tr[field].values())
        rows = []
        for val in dict.fromkeys([*tr[field], *ev[field]]):
            e = ev[field].get(val, {"n": 0, "distinct": 0})
            t = tr[field].get(val, {"n": 0, "distinct": 0})
            rows.append({field: val, "eval": e["n"], "distinct": e["distinct"], "eval_share": e["n"] / max(1, n_ev),
                         "train_share": t["n"] / max(1, n_tr), "train_distinct": t["distinct"]})
        lines += [
            f"By {field} ({n_ev:,} eval items, {n_tr:,} training problems):",
            "",
            _md_table(
                pl.DataFrame(rows),
                [
                    (field, field, None),
                    ("eval items", "eval", lambda v: f"{v:,}"),
                    ("distinct eval problems", "distinct", lambda v: f"{v:,}"),
                    ("eval share %", "eval_share", _pct),
                    ("training share %", "train_share", _pct),
                    ("distinct training problems", "train_distinct", lambda v: f"{v:,}"),
                ],
            ),
            "",
        ]
    return lines


def probe_paired(t: pl.DataFrame, base_of: dict[str, str]) -> pl.DataFrame:
    """Each condition's trained-model probe score minus its baseline's (the group's mistake-free
    condition, as for accuracy), per seed, with a Student-t interval across seeds: both arms of a
    seed are probed on the same held-out problems with the same split, so the difference is paired."""
    from harness.stats import t_interval

    trained = t.filter(pl.col("weights") == "trained")
    rows = []
    for cond, base in base_of.items():
        a = trained.filter(pl.col("condition") == cond)
        b = trained.filter(pl.col("condition") == base)
        joined = a.join(b, on=["target", "probe", "layer", "seed"], suffix="_base")
        for key, grp in joined.group_by(["target", "probe", "layer"], maintain_order=True):
            diffs = (grp["value"] - grp["value_base"]).to_list()
            m, lo, hi, pval = t_interval(diffs)
            rows.append({"target": key[0], "probe": key[1], "layer": key[2], "condition": cond, "baseline": base,
                         "diff": m, "low": lo, "high": hi, "p": pval, "seeds": len(diffs)})
    return pl.DataFrame(rows).sort(["target", "condition", "probe", "layer"]) if rows else pl.DataFrame()


def probe_section(run_dir: Path, to: Path, short: dict[str, str], results: pl.DataFrame | None = None,
                  order: list[str] | None = None) -> list[str]:
    """`harness probe` results (probes.parquet): balanced accuracy per layer × probe for each
    condition, trained against random-init weights and the shuffled-label control, as a heatmap."""
    path = Path(run_dir) / "probes.parquet"
    if not path.exists():
        return []
    full = pl.read_parquet(path, glob=False)
    t = full.filter(pl.col("metric") == "balanced_accuracy")
    if t.height == 0:
        return []
    agg = (t.group_by(["target", "condition", "weights", "probe", "layer"])
           .agg(pl.col("value").mean(), pl.col("control_value").mean(), pl.col("selectivity").mean(),
                pl.col("ci_low").mean(), pl.col("ci_high").mean(), pl.len().alias("seeds"))
           .sort(["target", "condition", "weights", "probe", "layer"]))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = ["## Probes", "",
             "Balanced accuracy of probes on the residual stream (`harness probe`), on held-out problems "
             "(80/20 split by problem), mean over seeds; `control` is the same probe fitted to shuffled "
             "labels, `random-init` the same probe on an untrained model of the same shape; "
             "selectivity = value − control. Intervals: bootstrap over test problems (mean of the seeds' bounds).", ""]
    from harness.stats import baselines

    paired = probe_paired(t, baselines(results, order) if results is not None else {})
    for target in agg["target"].unique(maintain_order=True).to_list():
        sub = agg.filter(pl.col("target") == target)
        cols = [(c, w) for c in sub["condition"].unique(maintain_order=True).to_list() for w in ("trained", "random-init")
                if sub.filter((pl.col("condition") == c) & (pl.col("weights") == w)).height]
        rows = sorted({(r["probe"], r["layer"]) for r in sub.iter_rows(named=True)})
        grid = np.full((len(rows), len(cols)), np.nan)
        for r in sub.iter_rows(named=True):
            grid[rows.index((r["probe"], r["layer"])), cols.index((r["condition"], r["weights"]))] = r["value"]
        fig, ax = plt.subplots(figsize=(1.6 * len(cols) + 3, 0.45 * len(rows) + 2))
        im = ax.imshow(grid, vmin=0.5, vmax=1.0, cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels([f"{short.get(c, c)}\n{w}" for c, w in cols], fontsize=7, rotation=20, ha="right")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([f"{p} L{layer}" for p, layer in rows], fontsize=7)
        for i in range(len(rows)):
            for j in range(len(cols)):
                if not np.isnan(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=6, color="white")
        fig.colorbar(im, ax=ax, label="balanced accuracy")
        ax.set_title(f"probe {target}: layer × probe")
        fig.tight_layout()
        name = "probes_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", target).strip("_") + ".png"  # a link-safe file name
        _save(fig, to / name)
        plt.close(fig)
        lines += [f"### {target}", "", f"![probe {target}]({name})", "",
                  _md_table(sub, [("condition", lambda r: short.get(r["condition"], r["condition"]), None),
                                  ("weights", "weights", None), ("probe", "probe", None), ("layer", "layer", None),
                                  ("balanced acc", "value", _num), ("95% CI", lambda r: f"{_num(r['ci_low'])}–{_num(r['ci_high'])}", None),
                                  ("control", "control_value", _num), ("selectivity", "selectivity", _num),
                                  ("seeds", "seeds", None)]), ""]
        pt = paired.filter(pl.col("target") == target) if paired.height else paired
        if pt.height:
            lines += ["Paired difference of the trained models' balanced accuracy, condition − baseline (same probe "
                      "problems and split per seed; Student-t 95% interval across seeds):", "",
                      _md_table(pt, [("condition", lambda r: short.get(r["condition"], r["condition"]), None),
                                     ("baseline", lambda r: short.get(r["baseline"], r["baseline"]), None),
                                     ("probe", "probe", None), ("layer", "layer", None), ("Δ", "diff", _num),
                                     ("95% CI (seeds)", lambda r: f"{_num(r['low'])} to {_num(r['high'])}", None),
                                     ("p (paired t)", "p", _pval), ("seeds", "seeds", None)]), ""]
        lines += _own_steps_lines(full.filter(pl.col("target") == target), short)
        lines += _heatmap_lines(full.filter(pl.col("target") == target), run_dir, to, short)
    return lines


def _heatmap_lines(t: pl.DataFrame, run_dir: Path, to: Path, short: dict[str, str]) -> list[str]:
    """`harness probe --heatmap`: the goal heatmaps (one per condition: its first seed) and the
    agreement of every probe's map with the truth."""
    import shutil

    hm = t.filter(pl.col("metric") == "heatmap_balanced_accuracy") if "heatmap" in t.columns else t.head(0)
    if hm.height == 0:
        return []
    hm = (hm.group_by(["condition", "weights", "probe"], maintain_order=True)
          .agg(pl.col("value").mean(), pl.col("value").min().alias("lo"), pl.col("value").max().alias("hi"),
               pl.col("layer").unique().sort().alias("layers"), pl.col("n_test").mean(), pl.len().alias("seeds"),
               pl.col("heatmap").drop_nulls().first()))
    lines = ["Goal heatmaps (MazeGPT's figure): a held-out sample cut at its first flagged step, the goal moved over "
             "every cell; each probe at its best held-out layer; agreement = balanced accuracy of P(flag) > 0.5 "
             "against the truth (is the step a mistake for that goal?) over the cells where it is defined, pooled "
             "over up to 20 held-out samples (the first is drawn); mean (min–max) over seeds; `cells` = defined "
             "cells per seed; `random-init` = the same probes on an untrained model (the control).", "",
             _md_table(hm.sort(["condition", "weights", "probe"], descending=[False, True, False]),
                       [("condition", lambda r: short.get(r["condition"], r["condition"]), None),
                        ("weights", "weights", None), ("probe", "probe", None),
                        ("best layers", lambda r: ",".join(map(str, r["layers"])), None),
                        ("agreement", "value", _num), ("range", lambda r: f"{_num(r['lo'])}–{_num(r['hi'])}", None),
                        ("cells", "n_test", lambda v: f"{v:.0f}"), ("seeds", "seeds", None)]), ""]
    for cond in hm["condition"].unique(maintain_order=True).to_list():
        links = hm.filter((pl.col("condition") == cond) & pl.col("heatmap").is_not_null())["heatmap"].to_list()
        if not links:
            continue
        first = {"heatmap": links[0]}
        src = Path(run_dir) / first["heatmap"]
        if not src.exists():
            continue
        name = src.name
        if Path(to).resolve() != Path(run_dir).resolve():
            shutil.copyfile(src, Path(to) / name)
            link = name
        else:
            link = first["heatmap"]
        lines += [f"![goal heatmap {short.get(cond, cond)}]({link})", ""]
    return lines


def _own_steps_lines(t: pl.DataFrame, short: dict[str, str]) -> list[str]:
    """The regret rows of one target: how each probe reads the trained model's own greedy solutions."""
    from harness.probing import OWN_METRICS

    own = t.filter(pl.col("metric").is_in(list(OWN_METRICS)))
    if own.height == 0:
        return []
    keys = ["condition", "weights", "probe", "layer"]
    wide = (own.group_by(keys + ["metric"]).agg(pl.col("value").mean(), pl.col("ci_low").mean(), pl.col("ci_high").mean(),
                                                 pl.col("control_value").mean(), pl.col("n_test").sum(), pl.len().alias("seeds"))
            .pivot(on="metric", index=keys, values=["value", "ci_low", "ci_high", "control_value", "n_test", "seeds"])
            .sort(keys))

    def col(r: dict[str, Any], what: str, metric: str) -> Any:
        return r.get(f"{what}_{metric}")

    return ["On the trained model's own greedy solutions to the test problems: **regret rate** = the share of its "
            "first wrong steps the probe flags (Physics of LMs 2.2: ≈ 60% for can_next at its scale), **false "
            "alarms** = the share of its right steps before them it flags; `control` = the shuffled-label probe's "
            "regret rate; interval: bootstrap over solutions (mean of the seeds' bounds); `wrong steps` = "
            "solutions with a first wrong step, summed over seeds.", "",
            _md_table(wide, [("condition", lambda r: short.get(r["condition"], r["condition"]), None),
                             ("weights", "weights", None), ("probe", "probe", None), ("layer", "layer", None),
                             ("regret rate", lambda r: _num(col(r, "value", "regret_rate")), None),
                             ("95% CI", lambda r: f"{_num(col(r, 'ci_low', 'regret_rate'))}–{_num(col(r, 'ci_high', 'regret_rate'))}", None),
                             ("control", lambda r: _num(col(r, "control_value", "regret_rate")), None),
                             ("false alarms", lambda r: _num(col(r, "value", "own_false_alarm")), None),
                             ("balanced acc", lambda r: _num(col(r, "value", "own_balanced_accuracy")), None),
                             ("wrong steps", lambda r: col(r, "n_test", "regret_rate"), None)]), ""]


def write_report(run_dir: Path, to: Path | None = None, note: str | None = None) -> Path:
    """Write README.md (+ PNGs) for a run directory into `to` (default: the run directory).

    The report leads with the answer (paired differences with their intervals), then accuracy per
    condition, breakdowns (with paired differences per value), learning curves, the eval set's
    composition and the cells. `note` is a paragraph placed under the title (e.g. what the run is)."""
    run_dir = Path(run_dir)
    to = Path(to) if to else run_dir
    to.mkdir(parents=True, exist_ok=True)
    results = collect_results(run_dir)
    items = collect_items(run_dir)
    meta: dict[str, Any] = {}
    if (run_dir / "run.json").exists():
        meta = json.loads((run_dir / "run.json").read_text())
    plan_order = []
    if (run_dir / "plan.json").exists():
        with contextlib.suppress(Exception):
            plan_order = list(dict.fromkeys(c["condition"] for c in json.loads((run_dir / "plan.json").read_text())["cells"]))
    declared = read_metric_declarations(run_dir)
    metrics = metrics_of(results.columns, declared)
    summary = summarize(results, items, order=plan_order, declared=declared)
    conds = summary["condition"].to_list() if summary.height else []
    short = short_names(conds)
    pairs = paired_table(results, items, order=plan_order)
    plots = _plots(summary, items, to, short)
    budget = meta.get("budget", {})
    lines = ["# harness report", ""]
    if note:
        lines += [note.strip(), ""]
    lines += [
        f"- command: `{meta.get('command', '?')}`",
        f"- spec: `{meta.get('spec', '?')}`",
        f"- budget: `{budget.get('name', '?')}` — {budget.get('description', '')}; "
        f"{budget.get('train_tokens', '?'):,} training tokens per cell, {budget.get('n_eval', '?')} eval problems, "
        f"eval temperature {budget.get('temperature', '?')}"
        if isinstance(budget.get("train_tokens"), int)
        else f"- budget: `{budget.get('name', '?')}`",
        f"- seeds: {meta.get('seeds', '?')}",
        f"- device: {meta.get('device', '?')} — "
        + "; ".join(dict.fromkeys(
            results["device_name"].drop_nulls().to_list() if "device_name" in results.columns else []
        ) or [meta.get("device_name", "?")])
        + (f" ({meta['jobs']} cells at once)" if (meta.get("jobs") or 1) > 1 else ""),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()),
        "- plugins: "
        + ", ".join(f"{p['name']} {p.get('version') or ''}".strip() for p in meta.get("plugins", [])),
        f"- generated from: `{run_dir}`",
        "",
    ]
    if results.height and "config" not in results.columns:
        lines += _resolved_configs(run_dir, results)
    if budget.get("name") == "smoke":
        lines += ["> **smoke budget**: this run proves the pipeline works; its numbers are not meant to be meaningful.", ""]
    lines += paired_section(pairs, short)
    lines += ["## Accuracy", "", INTERVAL_NOTE, ""]
    if summary.height:
        lines.append(
            _md_table(
                summary,
                [
                    ("condition", "condition", None),
                    ("accuracy %", "accuracy", _pct),
                    ("95% CI (seeds)", lambda r: _interval(r["ci_low"], r["ci_high"]), None),
                    ("n seeds", "n_seeds", None),
                    ("failed", "n_failed", None),
                    ("items CI %", lambda r: _interval(r["items_low"], r["items_high"]), None),
                    *((m.header, c, m.fmt) for c, m in _present(summary, metrics).items() if m.headline
                      and not c.startswith((TASK_PREFIX, DECODE_PREFIX))),
                ],
            )
        )
        lines.append("")
    lines += task_metrics_section(summary, metrics)
    if None in plots:
        lines += [f"![Accuracy per condition]({plots[None]})", ""]
    lines += breakdown_section(items, pairs, short, conds, plots)
    lines += curve_section(collect_curves(run_dir), to, short)
    lines += composition_section(collect_mixes(run_dir))
    lines += probe_section(run_dir, to, short, results, plan_order)
    if results.height:
        lines += ["## Cells", ""]
        cols = [
            ("cell", "cell_id", None),
            ("condition", "condition", None),
            ("seed", "seed", None),
            ("status", "status", None),
            ("accuracy %", "accuracy", _pct),
            ("n eval", "n_eval", None),
            ("train loss", "train_loss", _num),
            ("tokens seen", "tokens_seen", lambda v: "–" if v is None else f"{int(v):,}"),
            ("problems seen", "problems_seen", lambda v: "–" if v is None else f"{int(v):,}"),
            ("train tokens/s", "tokens_per_s", lambda v: "–" if v is None else f"{v:,.0f}"),
            ("seconds", "seconds", lambda v: "–" if v is None else f"{v:.0f}"),
        ]
        lines.append(_md_table(results, cols))
        failed = results.filter(pl.col("status") != "ok") if "status" in results.columns else results.clear()
        if failed.height:
            lines += ["", "### Failed cells", ""]
            for r in failed.iter_rows(named=True):
                lines.append(f"- `{r['cell_id']}` {r['condition']} seed {r['seed']}: {r.get('error')}")
        lines.append("")
    atomic_write_bytes(to / "README.md", "\n".join(lines).encode())
    return to / "README.md"


def _resolved_configs(run_dir: Path, results: pl.DataFrame) -> list[str]:
    """What the budget and defaults resolved each axis to (width, sizes, lr...), once per distinct value."""
    seen: dict[str, dict[str, Any]] = {}
    for cid in results["cell_id"].to_list():
        cfg_path = run_dir / "cells" / cid / "config.json"
        try:
            cfg = json.loads(cfg_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        for axis in ("task", "corruptor", "model", "trainer"):
            ent = cfg.get(axis)
            if isinstance(ent, dict) and "config" in ent:
                label = f"{axis} {ent.get('label') or ent.get('name', '?')}"
                seen.setdefault(label + json.dumps(ent["config"], sort_keys=True), {"label": label, "config": ent["config"]})
    if not seen:
        return []
    out = ["Resolved configurations (budget defaults and spec parameters applied):", ""]
    for v in seen.values():
        kv = ", ".join(f"{k}={v2}" for k, v2 in v["config"].items()) or "(no parameters)"
        out.append(f"- {v['label']}: {kv}")
    return out + [""]
