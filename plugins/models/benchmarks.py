"""The `decode`, `train` and `precision` benchmarks as registered classes; their sides (and torch)
live in bench.py and are imported only when a benchmark runs. Every comparison is timed by
`Benchmark.interleave` (alternating rounds, wall clock and process CPU time, median and range of the
per-round ratios)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness import BenchConfig, BenchError, Benchmark, BenchRow, BenchTable, Log

TARGETS = {"decode": 10.0, "train": 0.9}


class DeviceConfig(BenchConfig):
    device: Literal["cpu", "cuda"] = Field(default="cpu", description="where the model runs")
    threads: int | None = Field(default=1, ge=1, description="torch CPU threads while timing (default 1: the ratio "
                                "is then taken on process CPU time; more threads, or cuda: on the wall clock; "
                                "none: leave torch's setting)")
    rounds: int | None = Field(default=None, ge=1, description="interleaved rounds (order alternating); the ratio "
                               "is the median of the per-round ratios (default 5; --quick 2)")


def _device(cfg: DeviceConfig) -> str:
    import torch

    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise BenchError("device 'cuda' was asked for but torch sees no CUDA device")
    return cfg.device


def _threads_label(meta: dict) -> str:
    if meta["device"] != "cpu":
        return meta["device"]
    t = meta["threads"]
    return "torch's default threads" if t is None else f"{t} thread{'s' if t > 1 else ''}"


class DecodeBenchmark(Benchmark):
    name = "decode"
    description = "greedy decoding tokens/s: batched KV-cache generation vs naive one-sequence full recompute"
    Config = DeviceConfig
    config: DeviceConfig

    def run(self, quick: bool, log: Log) -> list[BenchRow]:
        from harness_models import bench

        c = self.config
        rounds = c.rounds or (2 if quick else 5)
        kw = dict(n_prompts=16, n_naive=4) if quick else {}
        log(f"KV-cache batched vs naive full recompute, gpt-4L d128, random init, greedy, {rounds} round(s)")
        sides, meta = bench.decode_sides(device=_device(c), threads=c.threads, **kw)
        with bench.torch_threads(c.threads):
            rd = self.interleave(sides, rounds, log=log, unit="tokens/s")
        if not meta["identical"] or not all(meta["identical"]):
            raise BenchError(f"KV-cache decoding differs from the naive path on the first {meta['n_naive']} prompts")
        return [BenchRow.side_by_side(
            f"decoding: batched KV-cache generation vs naive full recompute ({meta['model']}, {meta['n_prompts']} "
            f"prompts of {meta['prompt_len'] - 10}–{meta['prompt_len'] + 10} tokens, {meta['max_new_tokens']} new, "
            f"greedy; {_threads_label(meta)})",
            "tokens/s", rd, "kv", "naive", target=TARGETS["decode"],
            baseline_source=f"naive_generate (one sequence at a time, full recompute) on the first {meta['n_naive']} "
                            f"prompts, same process, rounds interleaved; outputs identical in every round: "
                            f"{all(meta['identical'])}",
            details=meta,
        )]


class TrainBenchmark(Benchmark):
    name = "train"
    description = "training tokens/s: the pretrain trainer vs a bare torch AdamW loop on the same model and batch"
    Config = DeviceConfig
    config: DeviceConfig

    def run(self, quick: bool, log: Log) -> list[BenchRow]:
        from harness_models import bench

        c = self.config
        rounds = c.rounds or (2 if quick else 5)
        kw = dict(steps=8, warmup_steps=2) if quick else {}
        log(f"pretrain trainer vs bare torch loop, gpt-4L d128, batch 16 × 128, {rounds} round(s)")
        sides, meta = bench.train_sides(device=_device(c), threads=c.threads, **kw)
        with bench.torch_threads(c.threads):
            rd = self.interleave(sides, rounds, log=log, unit="tokens/s")
        return [BenchRow.side_by_side(
            f"training: pretrain trainer vs bare torch loop ({meta['model']}, batch {meta['batch_size']} × "
            f"{meta['block_size']}, {meta['steps']} steps after warm-up; {_threads_label(meta)})",
            "tokens/s", rd, "trainer", "bare", target=TARGETS["train"],
            baseline_source="a bare AdamW loop (same windows, forward, backward, step; no schedule, clipping or "
                            "loss mask), same process, a fresh model per run, rounds interleaved",
            details=meta,
        )]


class PrecisionConfig(BenchConfig):
    rounds: int | None = Field(default=None, ge=1, description="interleaved rounds (order alternating; default 3; "
                               "--quick 1)")
    steps: int | None = Field(default=None, ge=1, description="training steps per run (default 12; --quick 6; "
                       "on a CPU without bf16 instructions a bf16 step costs ~7 fp32 steps)")
    compile: bool | None = Field(default=None, description="include the bf16 + torch.compile variant (default: yes; "
                                 "--quick: no, its warm-up compiles for ~30 s on 2 cores)")
    two_threads: bool | None = Field(
        default=None, description="include the bf16, 2-thread variant (timed by wall clock, so it measures "
        "the machine's load where other work takes the second core; default: only with more than 2 usable cores)")


def _usable_cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class PrecisionBenchmark(Benchmark):
    name = "precision"
    description = "CPU training tokens/s per precision: fp32 vs bf16 autocast (eager, compiled) vs 2 threads, interleaved"
    Config = PrecisionConfig
    config: PrecisionConfig

    def run(self, quick: bool, log: Log) -> list[BenchRow]:
        from harness_models import bench

        c = self.config
        variants = [("fp32", "off", 1), ("bf16", "off", 1)]
        if c.compile if c.compile is not None else not quick:
            variants.append(("bf16", "on", 1))
        if c.two_threads if c.two_threads is not None else _usable_cores() > 2:
            variants.append(("bf16", "off", 2))
        rounds = c.rounds or (1 if quick else 3)
        steps = c.steps or (6 if quick else 12)
        log(f"variants {', '.join(bench.variant_name(v) for v in variants)} (precision/compile/threads), "
            f"{rounds} round(s) of {steps} steps, interleaved")
        sides, meta = bench.precision_sides(steps=steps, variants=tuple(variants))
        rd = self.interleave(sides, rounds, log=log, unit="tokens/s")
        base = sides[0].name
        rows = []
        table = []
        for v, side in zip(variants, sides):
            basis = rd.basis_for(side.name, base)
            rates = rd.rates(side.name, basis)
            r = rd.ratio(side.name, base, basis)
            table.append([side.name, f"{rates.median:,.0f}", "CPU time" if basis == "cpu" else "wall clock",
                          f"{r.median:.2f}× ({r.min:.2f}–{r.max:.2f})", f"{meta['warmup_seconds'][side.name]:.1f}"])
            if side.name == base:
                continue
            rows.append(BenchRow.side_by_side(
                f"CPU training: {v[0]}{' + torch.compile' if v[1] == 'on' else ''}, {v[2]} "
                f"thread{'s' if v[2] > 1 else ''} vs fp32 eager, 1 thread ({meta['model']})",
                "tokens/s", rd, side.name, base, target=None,
                baseline_source="Pretrain.fit in fp32, eager, 1 thread, interleaved round by round in the same process"
                                + ("" if basis == "cpu" else "; wall clock, since the variant runs several threads"),
                details={**meta, "variant": side.name}))
        self.tables.append(BenchTable(
            title=f"CPU training precision ({meta['model']}; interleaved, {rounds} round(s))",
            columns=["precision/compile/threads", "tokens/s (median)", "timed by",
                     "ratio vs fp32/eager/1t (median, min–max)", "warm-up s"],
            rows=table,
        ))
        return rows
