"""The CPU precision benchmark runs its variants interleaved and reports ratios against the first
(the speed itself is printed by `harness bench`, not asserted here)."""

import torch

from harness_models.bench import bench_precision


def test_bench_precision_rows_and_ratios():
    before = torch.get_num_threads()
    r = bench_precision(rounds=2, steps=2, variants=(("fp32", "off", 1), ("bf16", "off", 1)))
    assert [(x["precision"], x["threads"]) for x in r["rows"]] == [("fp32", 1), ("bf16", 1)]
    assert r["rows"][0]["ratio"] == 1.0
    assert all(x["tokens_per_s"] > 0 and x["ratio_min"] <= x["ratio"] <= x["ratio_max"] for x in r["rows"])
    assert torch.get_num_threads() == before  # the thread setting is restored
