"""The `decode`, `train` and `precision` benchmarks as registered classes; their measurements (and
torch) live in bench.py and are imported only when a benchmark runs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness import BenchConfig, BenchError, Benchmark, BenchRow, BenchTable, Log

TARGETS = {"decode": 10.0, "train": 0.9}


class DeviceConfig(BenchConfig):
    device: Literal["cpu", "cuda"] = Field(default="cpu", description="where the model runs")


def _device(cfg: DeviceConfig) -> str:
    import torch

    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise BenchError("device 'cuda' was asked for but torch sees no CUDA device")
    return cfg.device


class DecodeBenchmark(Benchmark):
    name = "decode"
    description = "greedy decoding tokens/s: batched KV-cache generation vs naive one-sequence full recompute"
    Config = DeviceConfig
    config: DeviceConfig

    def run(self, quick: bool, log: Log) -> list[BenchRow]:
        from harness_models import bench

        kw = dict(n_prompts=16, n_naive=4) if quick else {}
        log("KV-cache batched vs naive full recompute, gpt-4L d128, random init, greedy")
        r = bench.bench_decode(device=_device(self.config), **kw)
        if not r["identical"]:
            raise BenchError(f"KV-cache decoding differs from the naive path on the first {r['n_naive']} prompts")
        return [BenchRow(
            what=f"decoding: batched KV-cache generation vs naive full recompute ({r['model']}, {r['n_prompts']} "
                 f"prompts of {r['prompt_len'] - 10}–{r['prompt_len'] + 10} tokens, {r['max_new_tokens']} new, greedy; "
                 f"best of {r['rounds']} interleaved rounds)",
            ours=r["kv_tokens_per_s"], baseline=r["naive_tokens_per_s"], ratio=r["ratio"], target=TARGETS["decode"],
            unit="tokens/s",
            baseline_source=f"naive_generate (one sequence at a time, full recompute) on the first {r['n_naive']} "
                            f"prompts, same process, rounds interleaved; outputs identical: {r['identical']}",
            details=r,
        )]


class TrainBenchmark(Benchmark):
    name = "train"
    description = "training tokens/s: the pretrain trainer vs a bare torch AdamW loop on the same model and batch"
    Config = DeviceConfig
    config: DeviceConfig

    def run(self, quick: bool, log: Log) -> list[BenchRow]:
        from harness_models import bench

        kw = dict(steps=8, warmup_steps=2) if quick else {}
        log("pretrain trainer vs bare torch loop, gpt-4L d128, batch 16 × 128")
        r = bench.bench_train(device=_device(self.config), **kw)
        return [BenchRow(
            what=f"training: pretrain trainer vs bare torch loop ({r['model']}, batch {r['batch_size']} × "
                 f"{r['block_size']}, {r['steps']} steps after warm-up)",
            ours=r["trainer_tokens_per_s"], baseline=r["bare_tokens_per_s"], ratio=r["ratio"],
            target=TARGETS["train"], unit="tokens/s",
            baseline_source="a bare AdamW loop (same windows, forward, backward, step; no schedule, clipping or "
                            "loss mask), same process, runs interleaved, best of 2 each",
            details=r,
        )]


class PrecisionConfig(BenchConfig):
    rounds: int | None = Field(default=None, ge=1, description="interleaved rounds (default 3; --quick 1)")
    steps: int | None = Field(default=None, ge=1, description="training steps per run (default 40; --quick 6)")
    compile: bool | None = Field(default=None, description="include the bf16 + torch.compile variant (default: yes; "
                                 "--quick: no, its warm-up compiles for ~30 s on 2 cores)")


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
        variants.append(("bf16", "off", 2))
        rounds = c.rounds or (1 if quick else 3)
        steps = c.steps or (6 if quick else 40)
        log(f"variants {', '.join('/'.join(map(str, v)) for v in variants)} (precision/compile/threads), "
            f"{rounds} round(s) of {steps} steps, interleaved")
        r = bench.bench_precision(rounds=rounds, steps=steps, variants=tuple(variants))
        base = r["rows"][0]
        rows = []
        for x in r["rows"][1:]:
            rows.append(BenchRow(
                what=f"CPU training: {x['precision']}{' + torch.compile' if x['compile'] == 'on' else ''}, "
                     f"{x['threads']} thread{'s' if x['threads'] > 1 else ''} vs fp32 eager, 1 thread ({r['model']}; "
                     f"median of {rounds} paired round{'s' if rounds > 1 else ''}, min–max "
                     f"{x['ratio_min']:.2f}–{x['ratio_max']:.2f})",
                ours=x["tokens_per_s"], baseline=base["tokens_per_s"], ratio=x["ratio"], target=None,
                unit="tokens/s",
                baseline_source="Pretrain.fit in fp32, eager, 1 thread, interleaved round by round in the same process",
                details=x,
            ))
        self.tables.append(BenchTable(
            title=f"CPU training precision ({r['model']}; interleaved, {rounds} round(s))",
            columns=["precision", "compile", "threads", "tokens/s (median)", "ratio vs first (median, min–max)",
                     "warm-up s"],
            rows=[[x["precision"], x["compile"], str(x["threads"]), f"{x['tokens_per_s']:,.0f}",
                   f"{x['ratio']:.2f}× ({x['ratio_min']:.2f}–{x['ratio_max']:.2f})", f"{x['warmup_seconds']:.1f}"]
                  for x in r["rows"]],
        ))
        return rows
