#!/usr/bin/env python
"""GPU packing plan: how fast one cell trains alone, and how much more a GPU gets done with k cells on it.

Small models leave most of a big GPU idle, so a grid may finish sooner with several cells per GPU
(`--jobs k` / `pool(jobs=k)`); this script measures whether it does, and by how much, before a grid is
planned around it. For k = 1, 2, 4, ... it runs one wave of k cells at once (`--waves W`: W × k cells)
through `scripts/bench_workers.py`'s `run_grid` (k = 1: one `harness run --jobs 1`; k > 1: one
`harness run --executor pool(jobs=k,...)`, every worker on the one GPU), each run in a fresh directory,
rounds in alternating order. From each run's results.parquet and cells/*/config.json it reports:

- one cell (the k = 1 runs): training tokens/s (`tokens_per_s`: the trainer's tokens over its training
  seconds; torch.compile's first step included, hence the warm-up run below) and MFU;
- per k: wall seconds, aggregate tokens/s (every cell's tokens ÷ the run's wall time: end to end,
  data and eval included), the speed-up of that over k = 1 (paired within a round), and MFU both of
  the summed per-cell training rates (the GPU's use while the cells train side by side) and end to end.

MFU is nanoGPT's: flops per token 6·N + 12·L·H·Q·T (N parameters without position embeddings, the tied
head counted, L layers, H heads, Q head size, T the training block size), times tokens/s, over the
device's peak bf16 dense flops (`PEAK_BF16_DENSE`, or `--peak-tflops`); with no known peak (a CPU, an
unlisted GPU) MFU reads "n/a", never a guess. The Markdown table is rewritten after every run, so a run
stopped by a time limit still leaves what it measured.

    python scripts/bench_gpu_packing.py --out reports/gpu-packing.md              # CUDA: gpt-8L, default budget
    python scripts/bench_gpu_packing.py --device cpu --budget tiny --spec "mazes×oracle×gpt-2L" \\
        --k 1,2 --rounds 1                                                          # the CPU path (tests)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
NA = "n/a (peak unknown; --peak-tflops)"

#: peak bf16 tensor-core flops/s, dense (no 2:4 sparsity: half the datasheets' "with sparsity" figure),
#: from NVIDIA's product datasheets; matched against torch.cuda.get_device_name in order, first match wins
#: (so "H100 PCIe" before "H100"; word boundaries keep "A10" off "A100" and "A10G", "L4" off "L40").
PEAK_BF16_DENSE: tuple[tuple[str, float, str], ...] = (
    (r"\bH100\b.*\bPCIe\b", 756e12, "H100 PCIe"),
    (r"\bH100\b.*\bNVL\b", 835.5e12, "H100 NVL"),
    (r"\bH200\b.*\bNVL\b", 835.5e12, "H200 NVL"),
    (r"\bGH200\b", 989.4e12, "GH200"),
    (r"\bH200\b", 989.4e12, "H200 SXM"),
    (r"\bH100\b", 989.4e12, "H100 SXM"),
    (r"\bA100\b", 312e12, "A100"),
    (r"\bA30\b", 165e12, "A30"),
    (r"\bA10\b", 125e12, "A10"),
    (r"\bL40S\b", 362.05e12, "L40S"),
    (r"\bL40\b", 181.05e12, "L40"),
    (r"\bL4\b", 121e12, "L4"),
)


def flops_per_token(n_params: int, n_layer: int, n_head: int, head_dim: int, block_size: int) -> float:
    """Training flops per token, nanoGPT's `estimate_mfu` (PaLM appendix B): 6N for the matmuls'
    forward and backward plus 12·L·H·Q·T for attention over a T-token window."""
    return 6.0 * n_params + 12.0 * n_layer * n_head * head_dim * block_size


def peak_flops(device_name: str, override_tflops: float | None = None) -> float | None:
    """The device's peak bf16 dense flops/s: `override_tflops` × 1e12 when given, else the first
    `PEAK_BF16_DENSE` entry matching the name, else None (unknown: MFU is not reported)."""
    if override_tflops is not None:
        return float(override_tflops) * 1e12
    for pattern, flops, _ in PEAK_BF16_DENSE:
        if re.search(pattern, device_name, re.IGNORECASE):
            return flops
    return None


def peak_source(device_name: str, override_tflops: float | None = None) -> str:
    if override_tflops is not None:
        return f"{override_tflops:g} TFLOP/s (--peak-tflops)"
    for pattern, flops, label in PEAK_BF16_DENSE:
        if re.search(pattern, device_name, re.IGNORECASE):
            return f"{flops / 1e12:g} TFLOP/s ({label}, bf16 dense, NVIDIA datasheet)"
    return "unknown (not in PEAK_BF16_DENSE; pass --peak-tflops)"


def mfu(flops_per_s: float, peak: float | None) -> float | None:
    return None if peak is None else flops_per_s / peak


def fmt_mfu(m: float | None) -> str:
    return NA if m is None else f"{100 * m:.1f}%"


def _bench_workers():
    """scripts/bench_workers.py as a module (scripts/ is no package): its `run_grid` runs each layout."""
    spec = importlib.util.spec_from_file_location("bench_workers", ROOT / "scripts" / "bench_workers.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cell_shape(run_dir: Path, row: dict) -> dict:
    """A finished cell's model shape and FLOPs per token, from its resolved config.json and results row.
    N drops the learned position embeddings (wpe: block_size or context positions × d_model), as
    nanoGPT's get_num_params does; the tied head stays in N, since its matmul is real work."""
    cfg = json.loads((run_dir / "cells" / row["cell_id"] / "config.json").read_text())
    m, T = cfg["model"]["config"], int(cfg["budget"]["block_size"])
    L, H, d = int(m["n_layer"]), int(m["n_head"]), int(m["d_model"])
    wpe = (m.get("block_size") or int(row["context"])) * d if m.get("pos", "learned") == "learned" else 0
    n = int(row["n_params"]) - wpe
    return {"L": L, "H": H, "Q": d // H, "T": T, "N": n, "fpt": flops_per_token(n, L, H, d // H, T)}


def measure(run_grid, args: argparse.Namespace, k: int, out: Path) -> dict:
    """One run of W × k cells with k at once; what the tables need from it."""
    grid = run_grid(argparse.Namespace(**{**vars(args), "seeds": args.waves * k}), k, out)
    res = pl.read_parquet(out / "results.parquet")
    cells = []
    for row in res.iter_rows(named=True):
        cells.append({**cell_shape(out, row), "tokens_per_s": row["tokens_per_s"], "tokens": row["tokens_seen"],
                      "train_s": row["train_seconds"], "precision": row["precision"], "model": row["model"],
                      "n_params": row["n_params"], "device_name": row["device_name"]})
    run = json.loads((out / "run.json").read_text())
    wall = grid["wall_s"]
    return {"k": k, "wall_s": wall, "cells": cells, "command": run.get("command", "").replace(str(out), "DIR"),
            "placement": run.get("placement", "?"), "versions": run.get("versions", {}),
            "tokens_per_s": sum(c["tokens"] for c in cells) / wall,
            "train_tokens_per_s": sum(c["tokens_per_s"] for c in cells),
            "train_flops_per_s": sum(c["tokens_per_s"] * c["fpt"] for c in cells),
            "e2e_flops_per_s": sum(c["tokens"] * c["fpt"] for c in cells) / wall}


def _med(xs: list[float], fmt: str, unit: str = "") -> str:
    """Median, with the range when there is more than one value."""
    s = format(statistics.median(xs), fmt) + unit
    return s if len(xs) == 1 else f"{s} ({format(min(xs), fmt)}{unit}–{format(max(xs), fmt)}{unit})"


def render(args: argparse.Namespace, ks: list[int], runs: dict[int, list[dict]], context: dict) -> str:
    """The Markdown report of the runs so far (a partial one says so)."""
    any_run = next(r for k in ks for r in runs[k])
    name = any_run["cells"][0]["device_name"]
    peak = peak_flops(name, args.peak_tflops)
    done, total = sum(len(v) for v in runs.values()), len(ks) * args.rounds
    v = any_run["versions"]
    top = max(k for k in ks if runs[k])  # the largest k run so far: its harness command is shown
    lines = ["# GPU packing plan: k cells sharing one device", ""]
    if done < total:
        lines += [f"**Partial: {done} of {total} runs done.**", ""]
    lines += [
        f"- device: {name}; peak {peak_source(name, args.peak_tflops)}",
        f"- torch {v.get('torch', context['torch'])}, CUDA {context['cuda']}, Python {v.get('python', '?')}; "
        f"CPU: {context['cpu']}, {os.cpu_count()} cores",
        f"- command: `{context['argv']}`",
        "- harness runs: " + "; ".join(f"`{runs[k][0]['command']}` (k = {k}: {runs[k][0]['placement']})"
                                       for k in dict.fromkeys((ks[0], top))),
        f"- {args.rounds} round(s), alternating order, each run in a fresh directory DIR; cells per run: "
        f"{args.waves} × k (× the spec's conditions); {args.threads} torch thread(s) per worker; "
        f"warm-up: {context['warmup']}; load average {context['load0']:.1f} → {os.getloadavg()[0]:.1f}",
        "",
    ]
    base = ks[0]
    if runs[base]:
        one = [c for r in runs[base] for c in r["cells"]]
        c0 = one[0]
        tps = [c["tokens_per_s"] for c in one]
        lines += [f"One cell (the k = {base} runs, {len(one)} cell(s)):", "",
                  "| model | L, H, Q, T | N (no position embeddings) | FLOPs/token | precision | train s | "
                  "training tokens/s | MFU |", "|---|---|---|---|---|---|---|---|",
                  f"| {c0['model']} | {c0['L']}, {c0['H']}, {c0['Q']}, {c0['T']} | {c0['N']:,} | "
                  f"{c0['fpt'] / 1e6:,.2f} M | {c0['precision']} | {_med([c['train_s'] for c in one], '.1f')} | "
                  f"{_med(tps, ',.0f')} | "
                  f"{fmt_mfu(mfu(statistics.median(c['tokens_per_s'] * c['fpt'] for c in one), peak))} |", ""]
    lines += ["k cells at once:", "",
              "| k | cells | wall s | aggregate tokens/s (all tokens ÷ wall) | speed-up vs k = 1 (paired by round) | "
              "Σ per-cell training tokens/s | aggregate MFU (training, Σ) | aggregate MFU (end to end) |",
              "|---|---|---|---|---|---|---|---|"]
    for k in ks:
        rs = runs[k]
        if not rs:
            lines.append(f"| {k} | — | not run | | | | | |")
            continue
        pairs = [r["tokens_per_s"] / b["tokens_per_s"] for b, r in zip(runs[base], rs)]
        lines.append(
            f"| {k} | {len(rs[0]['cells'])} | {_med([r['wall_s'] for r in rs], '.1f')} | "
            f"{_med([r['tokens_per_s'] for r in rs], ',.0f')} | "
            f"{_med(pairs, '.2f', '×') if pairs else '—'} | {_med([r['train_tokens_per_s'] for r in rs], ',.0f')} | "
            f"{fmt_mfu(mfu(statistics.median(r['train_flops_per_s'] for r in rs), peak))} | "
            f"{fmt_mfu(mfu(statistics.median(r['e2e_flops_per_s'] for r in rs), peak))} |")
    lines += ["", "MFU: nanoGPT's 6·N + 12·L·H·Q·T FLOPs per token × tokens/s ÷ peak bf16 dense FLOP/s. "
              "Σ per-cell training tokens/s assumes the cells train at the same time (one wave, started together)."]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default="mazes×oracle×gpt-8L")
    ap.add_argument("--budget", default="default")
    ap.add_argument("--budget-set", action="append", metavar="KEY=VALUE", help="passed to harness run")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--k", default="1,2,4,8", help="cells at once per run; the first must be 1 (the one-cell baseline)")
    ap.add_argument("--waves", type=int, default=1, help="cells per run = waves × k (× the spec's conditions)")
    ap.add_argument("--mode", choices=["pool", "processes"], default="pool",
                    help="k > 1 as one pool(jobs=k) run, or k harness processes on one directory")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--peak-tflops", type=float, help="the device's peak bf16 dense TFLOP/s (overrides the table)")
    ap.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=None,
                    help="first run one training step of the spec, so torch.compile's cache is warm for "
                         "every measured run (default: on CUDA only; CPU cells do not compile)")
    ap.add_argument("--out", help="also write the Markdown to this file (rewritten after every run)")
    args = ap.parse_args()
    ks = [int(x) for x in args.k.split(",")]
    if ks[0] != 1 or any(k < 1 for k in ks):
        ap.error("--k must start with 1 (the one-cell baseline) and hold positive counts")
    run_grid = _bench_workers().run_grid
    import torch  # for its versions only: CUDA is not initialised here, so the runs get the whole GPU

    from harness.runner import cpu_model

    context = {"argv": shlex.join(["python", "scripts/bench_gpu_packing.py", *sys.argv[1:]]), "cpu": cpu_model(),
               "torch": torch.__version__, "cuda": torch.version.cuda or "none", "load0": os.getloadavg()[0],
               "warmup": "none"}
    runs: dict[int, list[dict]] = {k: [] for k in ks}
    with tempfile.TemporaryDirectory() as tmp:
        if args.warmup if args.warmup is not None else args.device == "cuda":
            t0 = time.perf_counter()
            small = ["train_tokens=1", "n_train=2000", "n_eval=100", "n_decision_eval=20"]
            warm = argparse.Namespace(**{**vars(args), "seeds": 1, "budget_set": [*(args.budget_set or ()), *small]})
            run_grid(warm, 1, Path(tmp) / "warmup")
            context["warmup"] = f"one cell, one training step, {time.perf_counter() - t0:.0f} s"
            print(f"warm-up: {context['warmup']}", file=sys.stderr)
        for r in range(args.rounds):
            for k in ks if r % 2 == 0 else ks[::-1]:
                runs[k].append(measure(run_grid, args, k, Path(tmp) / f"r{r}-k{k}"))
                print(f"round {r + 1}/{args.rounds}, k = {k}: {runs[k][-1]['wall_s']:.1f} s", file=sys.stderr)
                text = render(args, ks, runs, context)
                if args.out:
                    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                    Path(args.out).write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
