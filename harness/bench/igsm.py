"""Speed of the iGSM data pipeline: generate (exact op) + oracle (+ retry) + encode, in this process (one core).

Timed as ``harness.data`` builds a training set: ``task.sample_batch`` under ``paused_gc()``, then oracle →
corrupt → encode per problem under ``paused_gc()``. The official generator is not a dependency; its rate is a
reference quoted in ``harness.bench.suite`` (63 med / 33 hard problems/s on a 2-core x86 VM).

    python -m harness.bench.igsm [--n 5000] [--preset med] [--retry]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

from harness_igsm import IGSMConfig, IGSMTask


def bench_igsm(
    n: int = 5000, preset: str = "med", corruptor: str | None = None, rate: float = 0.5, seed: int = 0,
    repeats: int = 3,
) -> dict[str, Any]:
    """Problems/s of sample_batch + oracle (+ corrupt) + encode for an iGSM preset (best of `repeats`).

    corruptor: None (oracle traces) or "retry" (harness.corruptors.retry.Retry(rate)); if the retry corruptor
    is not available the result says so in "note" and times oracle traces."""
    from harness.data import paused_gc

    task = IGSMTask(IGSMConfig(preset=preset))
    cor = None
    note = ""
    if corruptor == "retry":
        try:
            from harness.corruptors.retry import Retry
        except ImportError as exc:  # pragma: no cover - the lead's corruptor
            note = f"retry corruptor unavailable ({exc}); timed oracle traces"
        else:
            cor = Retry(Retry.Config(rate=rate))
    elif corruptor is not None:
        raise ValueError(f"corruptor must be None or 'retry', got {corruptor!r}")
    oracle, encode = task.oracle, task.encode
    corrupt = cor.corrupt if cor is not None else None

    def run(rng: random.Random, k: int) -> tuple[float, float, list]:
        t0 = time.perf_counter()
        with paused_gc():
            problems = task.sample_batch(rng, k)
        t1 = time.perf_counter()
        with paused_gc():
            if corrupt is None:
                enc = [encode(p, oracle(p)) for p in problems]
            else:
                enc = [encode(p, corrupt(task, p, oracle(p), rng)) for p in problems]
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, enc

    run(random.Random(seed + 1), min(n, 500))  # warm caches
    best: dict[str, Any] | None = None
    for r in range(repeats):
        gen, rest, enc = run(random.Random(seed + 100 + r), n)
        total = gen + rest
        res = {
            "n": n,
            "preset": preset,
            "corruptor": corruptor if cor is not None else None,
            "rate": rate if cor is not None else None,
            "seconds": total,
            "problems_per_s": n / total,
            "generate_us": gen / n * 1e6,
            "oracle_corrupt_encode_us": rest / n * 1e6,
            "tokens_per_problem": sum(len(e.tokens) for e in enc) / n,
            "completion_tokens_per_problem": sum(len(e.tokens) - e.prompt_len for e in enc) / n,
        }
        if note:
            res["note"] = note
        if best is None or res["problems_per_s"] > best["problems_per_s"]:
            best = res
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--preset", default=None, choices=["mini", "med", "hard"])
    ap.add_argument("--retry", action="store_true", help="also time retry(0.5)")
    args = ap.parse_args(argv)
    for preset in [args.preset] if args.preset else ["med", "hard"]:
        for corr in (None, "retry") if args.retry else (None,):
            print(json.dumps(bench_igsm(args.n, preset, corr)))


if __name__ == "__main__":
    main()
