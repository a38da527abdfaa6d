"""scripts/bench_gpu_packing.py: nanoGPT's FLOPs formula against a hand count, the peak-flops lookup,
and the CPU path end to end (the same code measures k cells per GPU on a CUDA machine)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys

import pytest

from tests.plugin_dirs import ROOT

spec = importlib.util.spec_from_file_location("bench_gpu_packing", ROOT / "scripts" / "bench_gpu_packing.py")
bgp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bgp)


def test_flops_per_token_is_nanogpts_formula_by_hand():
    # gpt-2L at the tiny budget: N = 115,904 params − 256 × 64 learned positions = 99,520;
    # 6N = 597,120; attention 12 · 2 layers · 4 heads · 16 dims · 256 tokens = 393,216
    assert bgp.flops_per_token(99_520, 2, 4, 16, 256) == 990_336
    # gpt-8L at the default budget with a 14M-parameter body: 6 · 14e6 + 12 · 8 · 6 · 64 · 512
    assert bgp.flops_per_token(14_000_000, 8, 6, 64, 512) == 84_000_000 + 18_874_368


def test_peak_lookup_known_unknown_and_override():
    assert bgp.peak_flops("NVIDIA H100 80GB HBM3") == 989.4e12
    assert bgp.peak_flops("NVIDIA H100 PCIe") == 756e12
    assert bgp.peak_flops("NVIDIA H200") == 989.4e12
    assert bgp.peak_flops("NVIDIA A100-SXM4-80GB") == 312e12
    assert bgp.peak_flops("NVIDIA A10") == 125e12 and bgp.peak_flops("NVIDIA L4") == 121e12
    assert bgp.peak_flops("NVIDIA A10G") is None  # not "A10": no guess
    assert bgp.peak_flops("CPU (AMD EPYC, x86_64, 2 cores, 1 torch thread)") is None
    assert bgp.peak_flops("Some Future GPU") is None
    assert bgp.peak_flops("Some Future GPU", 100.0) == 100e12
    assert bgp.peak_flops("NVIDIA H100 80GB HBM3", 500.0) == 500e12  # the override wins
    assert bgp.mfu(1e12, None) is None and bgp.fmt_mfu(None) == "n/a (peak unknown; --peak-tflops)"
    assert bgp.fmt_mfu(bgp.mfu(989.4e12 / 4, 989.4e12)) == "25.0%"


@pytest.mark.slow
def test_the_cpu_path_writes_the_packing_table(tmp_path):
    md = tmp_path / "gpu-packing.md"
    r = subprocess.run([sys.executable, "scripts/bench_gpu_packing.py", "--device", "cpu", "--budget", "tiny",
                        "--spec", "mazes×oracle×gpt-2L", "--k", "1,2", "--rounds", "1", "--out", str(md)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    text = md.read_text()
    assert text == r.stdout
    assert "device: CPU (" in text and "torch " in text and "command: `python scripts/bench_gpu_packing.py" in text
    assert "Partial" not in text and "--jobs 1" in text and "pool(jobs=2" in text
    one = re.search(r"^\| gpt-2L \| 2, 4, 16, 256 \| 99,520 \| 0.99 M \| fp32 \| ([\d.]+) \| ([\d,]+) \| (.+) \|$",
                    text, re.M)
    assert one, text
    assert float(one[1]) > 0 and float(one[2].replace(",", "")) > 0
    assert one[3] == "n/a (peak unknown; --peak-tflops)"  # a CPU has no listed peak: nothing invented
    for k in (1, 2):
        row = re.search(rf"^\| {k} \| {k} \| ([\d.]+) \| ([\d,]+) \| ([\d.]+)× \| ([\d,]+) \| (.+) \| (.+) \|$",
                        text, re.M)
        assert row, text
        assert all(float(row[i].replace(",", "")) > 0 for i in (1, 2, 3, 4))
        assert row[5] == row[6] == "n/a (peak unknown; --peak-tflops)"
    assert re.search(r"^\| 1 \| 1 \| [\d.]+ \| [\d,]+ \| 1\.00× \|", text, re.M)  # k = 1 is the baseline


def test_cell_shape_drops_learned_positions_from_n(tmp_path):
    # gpt-8L at the default budget as a CPU run recorded it: 14,364,288 params, context 512, d 384, 6 heads;
    # N = 14,364,288 − 512 × 384 = 14,167,680; 6N + 12 · 8 · 6 · 64 · 512 = 85,006,080 + 18,874,368
    d = tmp_path / "cells" / "abc"
    d.mkdir(parents=True)
    model = {"n_layer": 8, "n_head": 6, "d_model": 384, "pos": "learned", "block_size": None}
    d.joinpath("config.json").write_text(json.dumps({"model": {"config": model}, "budget": {"block_size": 512}}))
    row = {"cell_id": "abc", "n_params": 14_364_288, "context": 512}
    got = bgp.cell_shape(tmp_path, row)
    assert got == {"L": 8, "H": 6, "Q": 64, "T": 512, "N": 14_167_680, "fpt": 103_880_448}
    d.joinpath("config.json").write_text(json.dumps({"model": {"config": {**model, "pos": "rope"}},
                                                     "budget": {"block_size": 512}}))
    assert bgp.cell_shape(tmp_path, row)["N"] == 14_364_288  # rotary positions have no parameters
