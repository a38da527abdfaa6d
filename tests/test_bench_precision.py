"""The models plugin's benchmarks (precision, decode, train) time their sides with the shared
interleaved helper: CPU time for one-thread sides, wall clock for several threads, the torch thread
setting restored (the speed itself is printed by `harness bench`, not asserted here)."""

import torch

from harness import BenchRow
from harness_models.bench import decode_sides, torch_threads
from harness_models.benchmarks import DecodeBenchmark, DeviceConfig, PrecisionBenchmark, PrecisionConfig, TrainBenchmark


def test_precision_rows_basis_and_ratios():
    before = torch.get_num_threads()
    bench = PrecisionBenchmark(PrecisionConfig(rounds=2, steps=2, compile=False, two_threads=True))
    rows = bench.run(True, lambda m: None)
    assert torch.get_num_threads() == before  # the thread setting is restored
    one, two = rows
    assert "bf16, 1 thread vs fp32" in one.what and one.basis == "cpu"  # one thread each: CPU time compares
    assert "bf16, 2 threads vs fp32" in two.what and two.basis == "wall"  # two threads: CPU time sums them
    assert all(r.rounds == 2 and r.ratio_min <= r.ratio <= r.ratio_max and r.status == "measured" for r in rows)
    order = one.details["rounds"]["order"]
    assert order == [["fp32/eager/1t", "bf16/eager/1t", "bf16/eager/2t"], ["bf16/eager/2t", "bf16/eager/1t", "fp32/eager/1t"]]
    (table,) = bench.tables
    assert [r[0] for r in table.rows] == ["fp32/eager/1t", "bf16/eager/1t", "bf16/eager/2t"]
    assert [r[2] for r in table.rows] == ["CPU time", "CPU time", "wall clock"] and table.rows[0][3].startswith("1.00×")


def test_decode_one_thread_cpu_time_and_more_threads_wall_clock():
    before = torch.get_num_threads()
    (row,) = DecodeBenchmark(DeviceConfig(rounds=2)).run(True, lambda m: None)
    assert row.basis == "cpu" and row.rounds == 2 and row.status == "measured" and row.met is not None
    assert "1 thread" in row.what and row.details["identical"] == [True, True]
    assert row.details["rounds"]["order"] == [["kv", "naive"], ["naive", "kv"]]
    assert row.ratio_other["basis"] == "wall"
    assert torch.get_num_threads() == before
    sides, meta = decode_sides(n_prompts=2, prompt_len=12, max_new_tokens=3, n_naive=1, n_layer=1, d_model=32,
                               threads=2)
    assert [s.cpu_comparable for s in sides] == [False, False]  # two threads: CPU time would sum them
    bench = DecodeBenchmark(DeviceConfig())
    with torch_threads(2):
        rd = bench.interleave(sides, 1)
    two = BenchRow.side_by_side("x", "tokens/s", rd, "kv", "naive", target=None, baseline_source="naive")
    assert two.basis == "wall" and two.ratio_other is None and bench.warnings == []
    assert torch.get_num_threads() == before


def test_train_rounds_are_interleaved_and_timed_by_cpu():
    seen = []

    def log(msg):
        seen.append(msg)
        if msg.startswith("round "):  # the thread count while the sides run
            seen.append(torch.get_num_threads())

    (row,) = TrainBenchmark(DeviceConfig(rounds=2)).run(True, log)
    assert row.basis == "cpu" and row.rounds == 2 and row.target == 0.9
    assert row.details["rounds"]["order"] == [["trainer", "bare"], ["bare", "trainer"]]
    assert [x for x in seen if isinstance(x, int)] == [1, 1]
    assert len(row.details["round_ratios"]) == 2


def test_the_two_thread_variant_is_left_out_on_two_cores(monkeypatch):
    from harness_models import benchmarks

    monkeypatch.setattr(benchmarks, "_usable_cores", lambda: 2)
    rows = PrecisionBenchmark(PrecisionConfig(rounds=1, steps=2, compile=False)).run(True, lambda m: None)
    assert [r.what.split(" (")[0] for r in rows] == ["CPU training: bf16, 1 thread vs fp32 eager, 1 thread"] or \
        all("2 threads" not in r.what for r in rows)
