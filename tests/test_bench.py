"""`harness bench` is generic: it runs whatever benchmarks the plugins register, with options from
`--set NAME.FIELD=VALUE` or each benchmark's environment variables, and runs with any one built-in
plugin disabled. Speed itself is printed by `harness bench` (BENCHMARKS.md), never asserted here."""

from __future__ import annotations

import json
import os
import sys
from typing import ClassVar

import pytest
from pydantic import Field, field_validator

import harness.plugins
from harness.bench import BenchConfig, BenchError, Benchmark, BenchRow, BenchTable
from harness.bench.suite import build_configs, parse_sets, select
from harness.cli import main
from harness.hookspecs import hookimpl
from harness.interfaces import PlanError
from harness.plugins import Manager
from tests.plugin_dirs import run_cli

BASELINE_VARS = ("HARNESS_MAZE_DATASET_PYTHON", "HARNESS_IGSM_OFFICIAL", "HARNESS_IGSM_OFFICIAL_PYTHON")


# --------------------------------------------------------------------------------- fake benchmarks
class FakeConfig(BenchConfig):
    speed: float = Field(default=2.0, gt=0)
    path: str | None = None

    @field_validator("path")
    @classmethod
    def _abs(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("/"):
            raise ValueError(f"must be an absolute path, got {v!r}")
        return v


class FakeBench(Benchmark):
    name = "fake"
    description = "a fake benchmark whose ratio is its `speed` option"
    Config = FakeConfig
    env: ClassVar[dict[str, str]] = {"path": "HARNESS_TEST_FAKE_PATH"}

    def run(self, quick, log):
        log(f"fake running, quick={quick}")
        self.tables.append(BenchTable("fake extra", ["a", "b"], [["1", "2"]]))
        s = self.config.speed
        return [BenchRow("fake rows", 100.0 * s, 100.0, s, 1.5, "things/s", f"a fake baseline ({self.config.path})")]


class BoomBench(Benchmark):
    name = "boom"
    description = "raises while running"

    def run(self, quick, log):
        raise RuntimeError("kaboom")


class NoBaseBench(Benchmark):
    name = "nobase"
    description = "a target that cannot be checked"

    def run(self, quick, log):
        return [BenchRow("unmeasured", 5.0, None, None, 1.0, "things/s", "NOT measured", baseline_measured=False)]


def _side(name: str, wall: list[float], cpu: list[float]):
    """A side whose r-th run did 100 units in wall[r] seconds of wall clock and cpu[r] of CPU time."""
    return Benchmark.Side(name, lambda r: Benchmark.Sample(100, wall[r], cpu[r]))


class RoundsBench(Benchmark):
    name = "rounds"
    description = "two sides in three interleaved rounds, one of which waits for a CPU"

    def run(self, quick, log):
        # per-round CPU-time ratios 2, 4, 3; side b got half a core
        rd = self.interleave([_side("a", [10, 5, 10 / 3], [10, 5, 10 / 3]), _side("b", [40, 40, 20], [20, 20, 10])],
                             3, log=log, unit="things/s")
        return [BenchRow.side_by_side("paired", "things/s", rd, "a", "b", target=2.5, baseline_source="side b")]


class QuotedBench(Benchmark):
    name = "quoted"
    description = "a baseline that is quoted, with a ratio below its target"

    def run(self, quick, log):
        rd = self.interleave([_side("ours", [1, 1], [1, 1])], 2)
        quote = Benchmark.Quote(1000.0, "BENCHMARKS.md, 2026-12-02", "2-core AMD EPYC VM")
        return [BenchRow.quoted("vs a quote", "things/s", rd, "ours", quote, target=10.0, baseline_source="theirs")]


class _FakePlugin:
    @hookimpl
    def harness_register_benchmarks(self, register):
        register(FakeBench)
        register(BoomBench)
        register(NoBaseBench)
        register(RoundsBench)
        register(QuotedBench)


@pytest.fixture
def fake_manager():
    m = Manager(strict=False, extra_plugins={"fakebench": _FakePlugin()})
    harness.plugins.reset_manager(m)
    yield m
    harness.plugins.reset_manager(None)


def _bench(capsys, *args: str) -> tuple[int, dict | None, str]:
    rc = main(["bench", *args])
    out = capsys.readouterr()
    data = json.loads(out.out) if "--json" in args and out.out.strip() else None
    return rc, data, " ".join((out.out + out.err).split())  # rich wraps long lines


# ------------------------------------------------------------------------------------------ rows
def test_bench_row_met_and_validation():
    assert BenchRow("x", 10.0, 5.0, 2.0, 1.5, "u/s", "src").met is True
    assert BenchRow("x", 10.0, 5.0, 2.0, 3.0, "u/s", "src").met is False
    assert BenchRow("x", 10.0, 5.0, 2.0, None, "u/s", "src").met is None  # informational
    assert BenchRow("x", 10.0, None, None, 1.0, "u/s", "src").met is None  # not checked
    with pytest.raises(ValueError, match="ratio without a baseline"):
        BenchRow("x", 10.0, None, 2.0, 1.0, "u/s", "src")
    with pytest.raises(ValueError, match="baseline without a ratio"):
        BenchRow("x", 10.0, 5.0, None, 1.0, "u/s", "src")
    with pytest.raises(ValueError, match="finite"):
        BenchRow("x", float("nan"), None, None, None, "u/s", "src")
    assert BenchRow("x", 1.0, 1.0, 1.0, 1.0, "u/s", "src").as_json()["met"] is True


def test_builtin_benchmarks_come_from_their_plugins():
    m = Manager(strict=False)
    owners = {n: m.get("benchmark", n)[0].plugin for n in m.names("benchmark")}
    assert owners == {"mazes": "mazes", "igsm": "igsm", "decode": "models", "train": "models",
                      "precision": "models"}
    desc = {p["name"]: p for p in m.describe()}
    assert desc["mazes"]["benchmarks"] == ["mazes"] and desc["models"]["benchmarks"] == ["decode", "train", "precision"]
    assert desc["corruptors"]["benchmarks"] == []


def test_core_bench_imports_no_plugin():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "harness" / "bench"
    for f in root.glob("*.py"):
        text = f.read_text()
        for pkg in ("harness_mazes", "harness_igsm", "harness_models"):
            assert pkg not in text, f"{f.name} mentions {pkg}"


# ------------------------------------------------------------------------------------ the suite
def test_suite_runs_selected_and_prints_tables(fake_manager, capsys):
    rc, data, text = _bench(capsys, "--only", "fake", "--json")
    assert rc == 0
    assert list(data["benchmarks"]) == ["fake"]
    (row,) = data["rows"]
    assert row["benchmark"] == "fake" and row["ratio"] == 2.0 and row["target"] == 1.5 and row["met"] is True
    assert data["benchmarks"]["fake"]["tables"] == [{"title": "fake extra", "columns": ["a", "b"], "rows": [["1", "2"]]}]
    assert data["targets_missed"] == [] and data["all_targets_met"] is True
    assert "fake running, quick=False" in text and "fake extra" in text and "a fake baseline" in text


def test_missed_target_exits_1_unless_no_fail(fake_manager, capsys):
    rc, data, text = _bench(capsys, "--only", "fake", "--set", "fake.speed=1.2", "--json")
    assert rc == 1 and data["rows"][0]["met"] is False and data["targets_missed"] == ["fake: fake rows"]
    assert "missed" in text
    rc, _, _ = _bench(capsys, "--only", "fake", "--set", "fake.speed=1.2", "--no-fail")
    assert rc == 0


def test_failed_benchmark_is_reported_and_the_others_run(fake_manager, capsys):
    rc, data, text = _bench(capsys, "--only", "boom,fake", "--json", "--no-fail")
    assert rc == 2  # a failure is not a missed target: --no-fail does not hide it
    assert data["failed"] == ["boom"] and data["benchmarks"]["boom"]["error"] == "RuntimeError: kaboom"
    assert [r["benchmark"] for r in data["rows"]] == ["fake"]
    assert "benchmark 'boom' failed" in text and "kaboom" in text


def test_unmeasured_target_is_not_checked_not_passed(fake_manager, capsys):
    rc, data, text = _bench(capsys, "--only", "nobase", "--json")
    assert rc == 0  # nothing missed
    assert data["targets_not_checked"] == ["nobase: unmeasured"] and data["all_targets_met"] is False
    assert data["rows"][0]["met"] is None and data["rows"][0]["ratio"] is None
    assert "not checked" in text


def test_rows_show_median_range_and_clock(fake_manager, capsys):
    rc, data, text = _bench(capsys, "--only", "rounds", "--json")
    assert rc == 0
    (row,) = data["rows"]
    assert row["ratio"] == pytest.approx(3.0) and (row["ratio_min"], row["ratio_max"]) == pytest.approx((2.0, 4.0))
    assert row["basis"] == "cpu" and row["rounds"] == 3 and row["baseline_status"] == "measured"
    assert row["ratio_other"]["basis"] == "wall" and row["ratio_other"]["median"] == pytest.approx(6.0)
    assert row["details"]["rounds"]["order"] == [["a", "b"], ["b", "a"], ["a", "b"]]
    assert "3.00×" in text and "(2.00–4.00×)" in text and "CPU time" in text and "3 rounds" in text
    assert "by wall clock the ratio is 6.00× (4.00–8.00×)" in text
    # side b got half a core: a loud warning, kept in --json
    assert data["warnings"] == ["rounds: b got 50% of a core (median CPU/wall time; range 50%–50%): it waited for a CPU"]
    assert "WARNING: rounds: b got 50% of a core" in text


def test_quoted_baseline_is_not_judged(fake_manager, capsys):
    rc, data, text = _bench(capsys, "--only", "quoted", "--json")
    assert rc == 0  # 0.1× against a quote is no missed target
    (row,) = data["rows"]
    assert row["baseline_status"] == "quoted" and row["met"] is None and row["ratio"] == pytest.approx(0.1)
    assert data["targets_missed"] == [] and data["targets_not_checked"] == ["quoted: vs a quote"]
    assert "quoted, not measured" in text and "not judged" in text and "vs a quote" in text
    assert "quoted, not measured (from BENCHMARKS.md, 2026-12-02, 2-core AMD EPYC VM): theirs" in text


def test_machine_header_and_loaded_machine_warning(fake_manager, capsys, monkeypatch):
    rc, data, text = _bench(capsys, "--only", "fake", "--json")
    m = data["machine"]
    assert {"cpu", "flags", "cores", "load_average", "summary"} <= set(m) and m["cpu"] in text
    monkeypatch.setattr(os, "getloadavg", lambda: (os.cpu_count() + 1.5, 1.0, 1.0))
    rc, data, text = _bench(capsys, "--only", "fake", "--json")
    assert rc == 0
    assert len(data["load_warnings"]) == 2  # at the start and after the benchmark
    assert data["load_warnings"][0].startswith(f"WARNING: the machine is loaded: load average "
                                               f"{os.cpu_count() + 1.5:.2f} > {os.cpu_count()} cores")
    assert "WARNING: the machine is loaded" in text and "2 load warning(s)" in text


def test_only_unknown_name_did_you_mean(fake_manager, capsys):
    rc, data, text = _bench(capsys, "--only", "fake,fak")
    assert rc == 2 and "unknown benchmark 'fak'" in text and "Did you mean 'fake'" in text
    with pytest.raises(PlanError, match="names no benchmark"):
        select(fake_manager, " , ")
    assert select(fake_manager, "nobase,fake,nobase") == ["nobase", "fake"]


def test_set_unknown_option_names_field_and_suggests(fake_manager, capsys):
    rc, _, text = _bench(capsys, "--only", "fake", "--set", "fake.sped=3")
    assert rc == 2
    assert "benchmark 'fake' (plugin fakebench) has no option 'sped'" in text and "Did you mean 'speed'" in text
    rc, _, text = _bench(capsys, "--set", "fale.speed=3")
    assert rc == 2 and "unknown benchmark 'fale'" in text and "Did you mean 'fake'" in text


def test_set_bad_value_names_field_and_source(fake_manager, capsys):
    rc, _, text = _bench(capsys, "--only", "fake", "--set", "fake.speed=fast")
    assert rc == 2 and "option 'speed' (from --set fake.speed)" in text and "valid number" in text
    rc, _, text = _bench(capsys, "--only", "fake", "--set", "fake.speed=-1")
    assert rc == 2 and "greater than 0" in text


@pytest.mark.parametrize("item", ["fake=3", "fake.speed", ".speed=3", "fake.=3", "fake.speed="])
def test_set_malformed(item):
    with pytest.raises(PlanError, match="NAME.FIELD=VALUE|empty value"):
        parse_sets([item])


def test_set_for_unselected_benchmark(fake_manager):
    with pytest.raises(PlanError, match="benchmark 'fake' is not selected by --only"):
        build_configs(fake_manager, ["nobase"], parse_sets(["fake.speed=3"]), {})


def test_env_var_supplies_option_and_set_wins(fake_manager):
    env = {"HARNESS_TEST_FAKE_PATH": "/from/env"}
    assert build_configs(fake_manager, ["fake"], [], env)["fake"].path == "/from/env"
    cfg = build_configs(fake_manager, ["fake"], parse_sets(["fake.path=/from/set"]), env)["fake"]
    assert cfg.path == "/from/set"
    with pytest.raises(PlanError, match=r"option 'path' \(from \$HARNESS_TEST_FAKE_PATH\): .*absolute path"):
        build_configs(fake_manager, ["fake"], [], {"HARNESS_TEST_FAKE_PATH": "relative"})
    # a bad variable for a benchmark that is not run is not read
    assert build_configs(fake_manager, ["nobase"], [], {"HARNESS_TEST_FAKE_PATH": "relative"})
    assert build_configs(fake_manager, ["fake"], [], {"HARNESS_TEST_FAKE_PATH": "  "})["fake"].path is None


# ------------------------------------------------------------------------ the built-in options
@pytest.fixture(scope="module")
def builtin() -> Manager:
    return Manager(strict=False)


def test_mazes_options(builtin):
    with pytest.raises(PlanError, match=r"option 'maze_dataset_python' \(from --set mazes.maze_dataset_python\): .*no file"):
        build_configs(builtin, ["mazes"], parse_sets(["mazes.maze_dataset_python=/nonexistent/python"]), {})
    with pytest.raises(PlanError, match=r"\(from \$HARNESS_MAZE_DATASET_PYTHON\): .*no file"):
        build_configs(builtin, ["mazes"], [], {"HARNESS_MAZE_DATASET_PYTHON": "/nonexistent/python"})
    with pytest.raises(PlanError, match="has no option 'maze_dataset_pyton'. Did you mean 'maze_dataset_python'"):
        build_configs(builtin, ["mazes"], parse_sets(["mazes.maze_dataset_pyton=x"]), {})
    cfg = build_configs(builtin, ["mazes"], parse_sets(["mazes.n=500"]), {"HARNESS_MAZE_DATASET_PYTHON": sys.executable})
    assert cfg["mazes"].n == 500 and cfg["mazes"].maze_dataset_python == sys.executable


def test_igsm_options(builtin, tmp_path):
    cfg = build_configs(builtin, ["igsm"], parse_sets(["igsm.presets=[hard]", "igsm.n=50", "igsm.pipeline=false"]), {})
    assert cfg["igsm"].presets == ["hard"] and cfg["igsm"].n == 50 and cfg["igsm"].pipeline is False
    with pytest.raises(PlanError, match="option 'presets.0' .*Input should be 'mini', 'med' or 'hard'"):
        build_configs(builtin, ["igsm"], parse_sets(["igsm.presets=[medium]"]), {})
    with pytest.raises(PlanError, match="lacks"):
        build_configs(builtin, ["igsm"], [], {"HARNESS_IGSM_OFFICIAL": str(tmp_path),
                                               "HARNESS_IGSM_OFFICIAL_PYTHON": sys.executable})
    for d in ("data_gen", "math_gen", "tools", "const"):
        (tmp_path / d).mkdir()
    with pytest.raises(PlanError, match="official is set but official_python is not"):
        build_configs(builtin, ["igsm"], parse_sets([f"igsm.official={tmp_path}"]), {})
    cfg = build_configs(builtin, ["igsm"], [], {"HARNESS_IGSM_OFFICIAL": str(tmp_path),
                                                "HARNESS_IGSM_OFFICIAL_PYTHON": sys.executable})
    assert cfg["igsm"].official == str(tmp_path)


def test_mazes_given_interpreter_without_maze_dataset_fails_clearly(builtin):
    from harness_mazes.bench import MazesBenchmark

    cfg = build_configs(builtin, ["mazes"], parse_sets(
        [f"mazes.maze_dataset_python={sys.executable}", "mazes.n=200", "mazes.baseline_n=10"]), {})["mazes"]
    with pytest.raises(BenchError, match="cannot import maze_dataset"):
        MazesBenchmark(cfg).run(True, lambda m: None)


def test_mazes_without_interpreter_is_quoted_not_measured(builtin):
    from harness_mazes.bench import MAZE_DATASET_QUOTE, MazesBenchmark

    cfg = build_configs(builtin, ["mazes"], parse_sets(["mazes.n=200"]), {})["mazes"]
    (row,) = MazesBenchmark(cfg).run(True, lambda m: None)
    assert row.baseline == MAZE_DATASET_QUOTE.value and row.status == "quoted" and row.met is None
    assert row.quoted_from.startswith("quoted, not measured (from BENCHMARKS.md") and "AMD EPYC" in row.quoted_from
    assert row.baseline_source.startswith("quoted, not measured") and row.ratio == pytest.approx(row.ours / row.baseline)
    assert row.basis == "cpu" and row.rounds == 2


FAKE_MAZE_DATASET = """
class _Maze:
    def find_shortest_path(self, a, b):
        return [a, b]


class LatticeMazeGenerators:
    @staticmethod
    def gen_dfs(shape):
        sum(range(2000))  # some work
        return _Maze()
"""


def test_mazes_side_by_side_with_a_baseline_interpreter(builtin, tmp_path, monkeypatch):
    """Rounds interleave ours with the baseline child (order alternating); the child times its own loop
    with both clocks; the ratio is the median per-round CPU-time ratio, judged against the target."""
    from harness_mazes.bench import MazesBenchmark

    (tmp_path / "maze_dataset").mkdir()
    (tmp_path / "maze_dataset" / "__init__.py").write_text(FAKE_MAZE_DATASET)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    cfg = build_configs(builtin, ["mazes"], parse_sets(
        [f"mazes.maze_dataset_python={sys.executable}", "mazes.n=300", "mazes.baseline_n=50",
         "mazes.repeats=3"]), {})["mazes"]
    (row,) = MazesBenchmark(cfg).run(True, lambda m: None)
    assert row.status == "measured" and row.met is not None and row.basis == "cpu" and row.rounds == 3
    rounds = row.details["rounds"]
    assert rounds["order"] == [["ours", "maze-dataset"], ["maze-dataset", "ours"], ["ours", "maze-dataset"]]
    base = rounds["samples"]["maze-dataset"]
    assert all(s["work"] == 50 and s["cpu_s"] > 0 and s["process_cpu_seconds"] >= s["cpu_s"] for s in base)
    ratios = sorted(row.details["round_ratios"])
    assert row.ratio == pytest.approx(ratios[1]) and (row.ratio_min, row.ratio_max) == pytest.approx((ratios[0], ratios[2]))


def test_igsm_without_official_is_quoted_not_measured(builtin):
    from harness_igsm.bench import OFFICIAL_QUOTES, IGSMBenchmark

    cfg = build_configs(builtin, ["igsm"], parse_sets(["igsm.presets=[med,mini]", "igsm.n=20", "igsm.pipeline=false"]),
                        {})
    med, mini = IGSMBenchmark(cfg["igsm"]).run(True, lambda m: None)
    assert med.status == "quoted" and med.baseline == OFFICIAL_QUOTES["med"].value and med.met is None
    assert med.target == 1.0 and med.quoted_from.startswith("quoted, not measured (from BENCHMARKS.md")
    assert "stale" in med.baseline_source and med.ratio == pytest.approx(med.ours / med.baseline)
    # no rate is recorded for mini: no ratio at all
    assert mini.status == "none" and mini.ratio is None and mini.met is None
    assert mini.baseline_source.startswith("NOT measured")


def test_igsm_official_that_cannot_run_fails_clearly(builtin, tmp_path):
    from harness_igsm.bench import IGSMBenchmark

    for d in ("data_gen", "math_gen", "tools", "const"):  # the layout, but no code in it
        (tmp_path / d).mkdir()
    cfg = build_configs(builtin, ["igsm"], parse_sets(
        [f"igsm.official={tmp_path}", f"igsm.official_python={sys.executable}", "igsm.presets=[med]",
         "igsm.n=10", "igsm.pipeline=false"]), {})
    with pytest.raises(BenchError, match="the official iGSM generator failed"):
        IGSMBenchmark(cfg["igsm"]).run(True, lambda m: None)


OFFICIAL = os.environ.get("HARNESS_IGSM_OFFICIAL", "/tmp/igsm_official")
OFFICIAL_PY = os.environ.get("HARNESS_IGSM_OFFICIAL_PYTHON", "/tmp/igsm-official-venv/bin/python")


@pytest.mark.skipif(not (os.path.isdir(os.path.join(OFFICIAL, "data_gen")) and os.path.isfile(OFFICIAL_PY)),
                    reason="no official iGSM copy (see plugins/igsm/README.md, fidelity)")
def test_igsm_side_by_side_with_the_official_generator(builtin):
    from harness_igsm.bench import IGSMBenchmark

    cfg = build_configs(builtin, ["igsm"], parse_sets(["igsm.presets=[med]", "igsm.n=30", "igsm.pipeline=false"]),
                        {"HARNESS_IGSM_OFFICIAL": OFFICIAL, "HARNESS_IGSM_OFFICIAL_PYTHON": OFFICIAL_PY})
    (row,) = IGSMBenchmark(cfg["igsm"]).run(True, lambda m: None)
    assert row.status == "measured" and row.baseline > 0 and row.basis == "cpu" and row.rounds == 2
    assert row.ratio_min <= row.ratio <= row.ratio_max
    d = row.details
    assert [s["work"] for s in d["rounds"]["samples"]["official"]] == [30, 30]
    assert all(s["cpu_s"] > 0 for s in d["rounds"]["samples"]["official"])
    assert d["rounds"]["order"] == [["ours", "official"], ["official", "ours"]]
    assert 1 <= d["mean_op"]["official"] <= 15 and 1 <= d["mean_op"]["ours"] <= 15  # both the med training law


# ------------------------------------------------------------------- any one plugin disabled
EXPECTED = {"igsm": {"mazes", "decode", "train", "precision"},
            "mazes": {"igsm", "decode", "train", "precision"},
            "models": {"mazes", "igsm"}}


@pytest.mark.parametrize("disabled", sorted(EXPECTED))
def test_bench_runs_with_one_builtin_plugin_disabled(disabled):
    env = {"HARNESS_DISABLE_PLUGINS": disabled, **{v: "" for v in BASELINE_VARS}}
    r = run_cli("bench", "--quick", "--no-fail", "--json", "--set", "igsm.pipeline=false" if disabled != "igsm"
                else "mazes.n=1000", env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    data = json.loads(r.stdout)
    assert set(data["benchmarks"]) == EXPECTED[disabled]
    assert data["failed"] == [] and all(b["status"] == "ok" for b in data["benchmarks"].values())
    assert data["rows"] and all(row["benchmark"] in EXPECTED[disabled] for row in data["rows"])
    if "mazes" in EXPECTED[disabled]:
        (mz,) = [row for row in data["rows"] if row["benchmark"] == "mazes"]
        assert mz["baseline_status"] == "quoted" and mz["met"] is None
        assert mz["baseline_source"].startswith("quoted, not measured")
    assert data["machine"]["cpu"] and all(row["rounds"] for row in data["rows"])


def test_set_for_a_disabled_plugins_benchmark_is_unknown():
    r = run_cli("bench", "--quick", "--set", "igsm.n=50", env={"HARNESS_DISABLE_PLUGINS": "igsm"})
    assert r.returncode == 2
    assert "unknown benchmark 'igsm'" in r.stdout + r.stderr


def test_bench_list_json():
    r = run_cli("bench", "--list", "--json")
    assert r.returncode == 0, r.stderr
    by = {b["name"]: b for b in json.loads(r.stdout)}
    assert set(by) == {"mazes", "igsm", "decode", "train", "precision"}
    opts = {o["name"]: o for o in by["mazes"]["options"]}
    assert opts["maze_dataset_python"]["env"] == "HARNESS_MAZE_DATASET_PYTHON"
    assert {o["name"]: o["env"] for o in by["igsm"]["options"]}["official_python"] == "HARNESS_IGSM_OFFICIAL_PYTHON"
