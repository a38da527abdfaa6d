"""Reports: a rich table in the terminal, Markdown + PNG plots on disk."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl
from rich.table import Table

from harness.results import TASK_METRICS, breakdown, collect_items, collect_results, summarize

INTERVAL_NOTE = (
    "`95% CI (seeds)` is a Student-t interval of the per-seed accuracies: it covers seed-to-seed "
    "variance (model init, training-data draw and order, eval sampling), with n = seeds. "
    "`items CI` is a Wilson interval over the pooled eval items: item-sampling variance only. "
    "Every cell of a grid is scored on the same held-out eval problems."
)


def _pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.1f}"


def _num(x: Any, nd: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{nd}f}"


def _interval(lo: Any, hi: Any) -> str:
    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)):
        return "– (n=1)"
    return f"{_pct(lo)}–{_pct(hi)}"


def summary_table(summary: pl.DataFrame, title: str = "results") -> Table:
    t = Table(title=title, show_lines=False)
    t.add_column("condition", justify="left", overflow="fold", min_width=24)
    for col, just in [
        ("acc %", "right"),
        ("95% CI (seeds)", "right"),
        ("n", "right"),
        ("items CI", "right"),
        ("P(correct|junction)", "right"),
        ("P(undo|mistake)", "right"),
        ("mistakes/sample", "right"),
    ]:
        t.add_column(col, justify=just)
    for r in summary.iter_rows(named=True):
        failed = r.get("n_failed") or 0
        n = f"{r['n_seeds']}" + (f" [red](+{failed} failed)[/red]" if failed else "")
        t.add_row(
            r["condition"],
            _pct(r["accuracy"]),
            _interval(r["ci_low"], r["ci_high"]),
            n,
            _interval(r.get("items_low"), r.get("items_high")),
            _num(r.get("dp_correct_prob")),
            _num(r.get("dp_undo_prob")),
            _num(r.get("mistakes_per_sample")),
        )
    return t


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


def _plots(summary: pl.DataFrame, items: pl.DataFrame, to: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: list[tuple[str, str]] = []
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
        ax.set_xticklabels(summary["condition"].to_list(), rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("accuracy % (95% CI across seeds)")
        ax.set_ylim(0, 100)
        ax.set_title("Accuracy per condition")
        fig.tight_layout()
        fig.savefig(to / "accuracy.png", dpi=110)
        plt.close(fig)
        made.append(("Accuracy per condition", "accuracy.png"))
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
        for cond in bd["condition"].unique(maintain_order=True).to_list():
            sub = bd.filter(pl.col("condition") == cond).sort(col)
            ax.plot(sub[col].to_list(), [100 * a for a in sub["accuracy"].to_list()], marker="o", label=cond)
        name = col[len("meta_") :]
        ax.set_xlabel(name)
        ax.set_ylabel("accuracy % (mean over seeds)")
        ax.set_ylim(0, 100)
        ax.set_title(f"Accuracy by {name}")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fname = f"accuracy_by_{name}.png"
        fig.savefig(to / fname, dpi=110)
        plt.close(fig)
        made.append((f"Accuracy by {name}", fname))
    return made


def write_report(run_dir: Path, to: Path | None = None) -> Path:
    """Write README.md (+ PNGs) for a run directory into `to` (default: the run directory)."""
    run_dir = Path(run_dir)
    to = Path(to) if to else run_dir
    to.mkdir(parents=True, exist_ok=True)
    results = collect_results(run_dir)
    items = collect_items(run_dir)
    meta: dict[str, Any] = {}
    if (run_dir / "run.json").exists():
        meta = json.loads((run_dir / "run.json").read_text())
    summary = summarize(results, items)
    plots = _plots(summary, items, to)
    budget = meta.get("budget", {})
    lines = [
        "# harness report",
        "",
        f"- command: `{meta.get('command', '?')}`",
        f"- spec: `{meta.get('spec', '?')}`",
        f"- budget: `{budget.get('name', '?')}` — {budget.get('description', '')}; "
        f"{budget.get('train_tokens', '?')} training tokens per cell, {budget.get('n_eval', '?')} eval problems, "
        f"eval temperature {budget.get('temperature', '?')}",
        f"- seeds: {meta.get('seeds', '?')}",
        f"- device: {meta.get('device', '?')} — {meta.get('device_name', '?')}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()),
        "- plugins: "
        + ", ".join(f"{p['name']} {p.get('version') or ''}".strip() for p in meta.get("plugins", [])),
        f"- generated from: `{run_dir}`",
        "",
    ]
    if budget.get("name") == "smoke":
        lines += ["> **smoke budget**: this run proves the pipeline works; its numbers are not meant to be meaningful.", ""]
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
                    ("P(correct | decision point)", "dp_correct_prob", _num),
                    ("P(undo | injected mistake)", "dp_undo_prob", _num),
                    ("mistakes / training sample", "mistakes_per_sample", _num),
                ],
            )
        )
        lines.append("")
    extra = [m for m in TASK_METRICS if m in summary.columns and summary[m].null_count() < summary.height]
    if extra:
        lines += ["## Task metrics (mean over seeds)", ""]
        lines.append(_md_table(summary, [("condition", "condition", None)] + [(m, m, _num) for m in extra]))
        lines.append("")
    for title, fname in plots:
        lines += [f"### {title}", "", f"![{title}]({fname})", ""]
    for col in [c for c in items.columns if c.startswith("meta_")] if items.height else []:
        bd = breakdown(items, col)
        if bd.height == 0 or bd.height > 200:
            continue
        name = col[len("meta_") :]
        wide = bd.pivot(values="accuracy", index=col, on="condition").sort(col)
        cols = [(name, col, None)] + [(c, c, _pct) for c in wide.columns if c != col]
        lines += [f"## Accuracy by {name} (%, mean over seeds)", "", _md_table(wide, cols), ""]
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
            ("seconds", "seconds", lambda v: "–" if v is None else f"{v:.0f}"),
        ]
        lines.append(_md_table(results, cols))
        failed = results.filter(pl.col("status") != "ok") if "status" in results.columns else results.clear()
        if failed.height:
            lines += ["", "### Failed cells", ""]
            for r in failed.iter_rows(named=True):
                lines.append(f"- `{r['cell_id']}` {r['condition']} seed {r['seed']}: {r.get('error')}")
        lines.append("")
    (to / "README.md").write_text("\n".join(lines))
    return to / "README.md"
