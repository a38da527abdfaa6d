"""The one timing helper every benchmark uses (`harness.bench.interleave` and friends): sides run in
rounds of alternating order, each run timed by wall clock and process CPU time, ratios as the median
of per-round ratios with their range; the machine header and the loaded-machine warning."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from harness.bench import (BenchRow, ChildCPU, Quote, Sample, Side, Stats, Stopwatch, interleave, load_warning,
                           machine_info)
from harness.bench.base import Benchmark


def _scripted(name: str, calls: list, rates_wall: list[float], rates_cpu: list[float] | None = None,
              comparable: bool = True) -> Side:
    """A side whose r-th run reports work 100 at the given per-round rates (no real timing)."""
    def run(r: int) -> Sample:
        calls.append((r, name))
        cpu = None if rates_cpu is None else 100 / rates_cpu[r]
        return Sample(100, 100 / rates_wall[r], cpu)

    return Side(name, run, cpu_comparable=comparable)


def test_rounds_alternate_order_and_pair_runs_within_a_round():
    calls: list = []
    rd = interleave([_scripted("a", calls, [1] * 4, [1] * 4), _scripted("b", calls, [1] * 4, [1] * 4)], 4)
    assert calls == [(0, "a"), (0, "b"), (1, "b"), (1, "a"), (2, "a"), (2, "b"), (3, "b"), (3, "a")]
    assert rd.order == [["a", "b"], ["b", "a"], ["a", "b"], ["b", "a"]] and rd.rounds == 4
    calls.clear()
    interleave([_scripted("a", calls, [1] * 3), _scripted("b", calls, [1] * 3)], 3, alternate=False)
    assert [n for _, n in calls] == ["a", "b"] * 3


def test_ratio_is_the_median_of_per_round_ratios_with_range():
    calls: list = []
    # per-round ratios a/b: 2, 4, 3 (the best of each side, 30/5 = 6, would be another number entirely)
    rd = interleave([_scripted("a", calls, [10, 20, 30], [10, 20, 30]),
                     _scripted("b", calls, [5, 5, 10], [5, 5, 10])], 3)
    st = rd.ratio("a", "b", "cpu")
    assert (st.median, st.min, st.max) == pytest.approx((3.0, 2.0, 4.0))
    row = BenchRow.side_by_side("x", "u/s", rd, "a", "b", target=2.5, baseline_source="b")
    assert row.ratio == pytest.approx(3.0) and (row.ratio_min, row.ratio_max) == pytest.approx((2.0, 4.0))
    assert row.ours == pytest.approx(20.0) and row.baseline == pytest.approx(5.0)
    assert row.basis == "cpu" and row.rounds == 3 and row.met is True and row.status == "measured"
    assert row.details["round_ratios"] == pytest.approx([2.0, 4.0, 3.0])
    assert [len(v) for v in row.details["rounds"]["samples"].values()] == [3, 3]


def test_basis_cpu_where_both_sides_compare_else_wall():
    calls: list = []
    # by wall clock a is 2× b; by CPU time they are equal (b spent half its wall time waiting)
    a = _scripted("a", calls, [10, 10], [10, 10])
    b = _scripted("b", calls, [5, 5], [10, 10])
    rd = interleave([a, b], 2)
    row = BenchRow.side_by_side("x", "u/s", rd, "a", "b", target=None, baseline_source="b")
    assert row.basis == "cpu" and row.ratio == pytest.approx(1.0)
    assert row.ratio_other == {"basis": "wall", "median": pytest.approx(2.0), "min": pytest.approx(2.0),
                               "max": pytest.approx(2.0)}
    assert [w.split()[0] for w in rd.waited()] == ["b"]  # b got half a core
    multi = _scripted("m", calls, [10, 10], [5, 5], comparable=False)  # two threads: CPU time sums them
    rd2 = interleave([multi, _scripted("b2", calls, [5, 5], [5, 5])], 2)
    row2 = BenchRow.side_by_side("x", "u/s", rd2, "m", "b2", target=None, baseline_source="b")
    assert row2.basis == "wall" and row2.ratio == pytest.approx(2.0) and row2.ratio_other is None


def test_a_side_that_waited_for_a_cpu_is_named():
    calls: list = []
    rd = interleave([_scripted("slow", calls, [5, 5], [10, 10]), _scripted("fine", calls, [10, 10], [10, 10])], 2)
    (w,) = rd.waited()
    assert w.startswith("slow got 50% of a core")

    class B(Benchmark):
        name = "b"

        def run(self, quick, log):
            return []

    bench = B(B.Config())
    bench.interleave([_scripted("slow2", calls, [5], [10])], 1, label="cmp")
    assert bench.warnings == ["cmp: slow2 got 50% of a core (median CPU/wall time; range 50%–50%): it waited for a CPU"]


def test_stopwatch_cpu_time_excludes_waiting():
    with Stopwatch() as idle:
        time.sleep(0.2)
    with Stopwatch() as busy:
        t = time.process_time()
        while time.process_time() - t < 0.2:
            pass
    assert idle.wall_s >= 0.19 and idle.cpu_s < 0.1  # sleeping costs no CPU, however loaded the machine
    assert busy.cpu_s >= 0.2 and busy.wall_s >= 0.95 * busy.cpu_s
    s = busy.sample(10, note="x")
    assert s.work == 10 and s.info == {"note": "x"} and s.rate("cpu") == pytest.approx(10 / busy.cpu_s)


def test_child_cpu_counts_a_subprocess_cpu_time():
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    with ChildCPU() as cc:
        subprocess.run([sys.executable, "-c", burn], check=True)
    with ChildCPU() as idle:
        subprocess.run([sys.executable, "-c", "import time; time.sleep(0.4)"], check=True)
    assert cc.cpu_s >= 0.3 and cc.wall_s >= cc.cpu_s * 0.9
    assert idle.wall_s >= 0.4 and idle.cpu_s < idle.wall_s - 0.2


def test_sample_and_stats_validation():
    with pytest.raises(ValueError, match="positive work"):
        Sample(0, 1.0, 1.0)
    with pytest.raises(ValueError, match="CPU time must be positive"):
        Sample(1, 1.0, 0.0)
    with pytest.raises(ValueError, match="no CPU time"):
        Sample(1, 1.0, None).rate("cpu")
    with pytest.raises(ValueError, match="rounds"):
        interleave([Side("a", lambda r: Sample(1, 1, 1))], 0)
    with pytest.raises(ValueError, match="distinct"):
        interleave([Side("a", lambda r: Sample(1, 1, 1))] * 2, 1)
    st = Stats.of([3, 1, 2, 10])
    assert (st.median, st.min, st.max) == (2.5, 1, 10) and st.spread == pytest.approx(9 / 2.5)


def test_quoted_baseline_is_never_judged():
    calls: list = []
    rd = interleave([_scripted("ours", calls, [50, 60, 70], [100, 120, 140])], 3)
    q = Quote(10.0, "BENCHMARKS.md, 2026-12-02", "2-core AMD EPYC VM")
    row = BenchRow.quoted("x", "u/s", rd, "ours", q, target=5.0, baseline_source="the baseline")
    assert row.status == "quoted" and not row.baseline_measured and row.met is None  # 12× ≥ 5×, still not judged
    assert row.ratio == pytest.approx(12.0) and (row.ratio_min, row.ratio_max) == pytest.approx((10.0, 14.0))
    assert row.quoted_from == "quoted, not measured (from BENCHMARKS.md, 2026-12-02, 2-core AMD EPYC VM)"
    assert row.baseline_source.startswith("quoted, not measured (from BENCHMARKS.md")
    assert row.as_json()["baseline_status"] == "quoted" and row.as_json()["met"] is None
    low = BenchRow.quoted("x", "u/s", rd, "ours", q, target=100.0, baseline_source="b")
    assert low.met is None  # a quoted ratio below target is not "missed" either
    with pytest.raises(ValueError, match="quoted from"):
        BenchRow("x", 10.0, 5.0, 2.0, 1.0, "u/s", "src", baseline_measured=False)
    with pytest.raises(ValueError, match="outside its range"):
        BenchRow("x", 10.0, 5.0, 2.0, 1.0, "u/s", "src", ratio_min=2.5, ratio_max=3.0)
    alone = BenchRow.alone("x", "u/s", rd, "ours", target=1.0, baseline_source="none")
    assert alone.status == "none" and alone.met is None and alone.ours == pytest.approx(120.0)
    assert (alone.ours_min, alone.ours_max) == pytest.approx((100.0, 140.0))


def test_machine_info_reads_cpu_model_and_matmul_flags(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
                 "flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512_bf16 amx_bf16 amx_tile amx_int8 xyz\n\n"
                 "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu\n")
    info = machine_info(str(f))
    assert info["cpu"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert info["flags"] == ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16",
                             "amx_int8"]
    assert "Intel(R) Xeon(R) Platinum 8480+" in info["summary"] and "amx_tile" in info["summary"]
    assert info["cores"] >= 1 and len(info["load_average"]) == 3
    missing = machine_info(str(tmp_path / "none"))
    assert missing["flags"] == [] and missing["cpu"]


def test_load_warning_when_load_exceeds_cores():
    assert load_warning(3.0, 2).startswith("WARNING: the machine is loaded: load average 3.00 > 2 cores")
    assert load_warning(2.0, 2) is None and load_warning(0.1, 16) is None
