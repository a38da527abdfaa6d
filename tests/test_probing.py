"""Probes: the linear and MLP probes recover what a residual stream holds (a linear feature, an
XOR-only feature), labels line up with the encoded tags, and `harness probe` runs end to end over a
tiny run — resumable, with controls, and on the third-party task's own target."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from harness.data import draw_problems
from harness.probing import OnMistake, fit_probe, score_probe
from harness.interfaces import Tag


def _features(n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 16)).astype(np.float32)
    linear = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    xor = ((x[:, 2] > 0) ^ (x[:, 3] > 0)).astype(np.int64)
    return x, linear, xor


@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_a_linear_feature_is_recovered_by_both_probes(kind):
    x, y, _ = _features(3000, 0)
    xt, yt, _ = _features(1000, 1)
    probs = fit_probe(kind, x, y, 2, seed=0)(xt)
    s = score_probe(yt, probs, np.arange(len(yt)) // 10, seed=0, n_boot=50)
    assert s["balanced_accuracy"][0] > 0.95 and s["auroc"][0] > 0.98
    assert s["balanced_accuracy"][1] <= s["balanced_accuracy"][0] <= s["balanced_accuracy"][2]


@pytest.mark.parametrize("deep", ["mlp", "mlp2"])
def test_an_xor_feature_is_found_by_the_mlps_only(deep):
    x, _, y = _features(4000, 0)
    xt, _, yt = _features(1000, 1)
    groups = np.arange(len(yt))
    lin = score_probe(yt, fit_probe("linear", x, y, 2, seed=0)(xt), groups, 0, n_boot=0)
    mlp = score_probe(yt, fit_probe(deep, x, y, 2, seed=0)(xt), groups, 0, n_boot=0)
    assert lin["balanced_accuracy"][0] < 0.6 < 0.85 < mlp["balanced_accuracy"][0]


def test_shuffled_labels_carry_nothing():
    x, y, _ = _features(3000, 0)
    xt, yt, _ = _features(1000, 1)
    shuffled = np.random.default_rng(3).permutation(y)
    s = score_probe(yt, fit_probe("linear", x, shuffled, 2, seed=0)(xt), np.arange(len(yt)), 0, n_boot=0)
    assert abs(s["balanced_accuracy"][0] - 0.5) < 0.06


@pytest.mark.parametrize("at, want", [("mistake", Tag.MISTAKE), ("correction", Tag.CORRECTION)])
def test_on_mistake_labels_sit_on_the_chosen_token(at, want):
    from harness import component

    task = component("task", "mazes", min_size=6, max_size=6)
    corr = component("corruptor", "fallible", p=0.5)
    target = OnMistake(OnMistake.Config(at=at))
    rng = random.Random(0)
    seen = 0
    for p in draw_problems(task, random.Random(1), 60, "eval"):
        trace = corr.corrupt(task, p, task.oracle(p), rng)
        enc = task.encode(p, trace)
        pos, lab = target.labels(task, p, trace, enc)
        assert len(pos) == len(trace) and (pos >= enc.prompt_len).all()
        assert np.array_equal(lab == 1, enc.tags[pos] == want)  # exactly the tagged tokens
        seen += int(lab.sum())
    assert seen > 5  # the test saw mistakes to label


@pytest.mark.slow
def test_harness_probe_end_to_end_resumes_and_has_controls(tmp_path):
    from tests.plugin_dirs import run_cli

    out = tmp_path / "run"
    r = run_cli("run", "mazes(min_size=6,max_size=6)×oracle,fallible×gpt-2L", "--budget", "tiny", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    cmd = ("probe", str(out), "--n", "80", "--probe", "linear,mlp")
    r = run_cli(*cmd)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "probed 2 unit(s), reused 0" in r.stdout and "balanced" in r.stdout
    t = pl.read_parquet(out / "probes.parquet")
    assert set(t["layer"]) == {0, 1} and set(t["probe"]) == {"linear", "mlp"}
    held = t.filter(pl.col("metric").is_in(["balanced_accuracy", "auroc"]))
    assert set(t["weights"]) == {"trained", "random-init"}
    assert held["control_value"].null_count() == 0 and held.height == 2 * 2 * 2 * 2 * 2  # cells×layers×probes×weights×metrics
    assert ((held["ci_low"] <= held["value"]) & (held["value"] <= held["ci_high"])).all()
    # the rest are the regret rows on the models' own greedy walks (mazes can judge its own moves)
    assert set(t["metric"]) - set(held["metric"]) <= {"regret_rate", "own_false_alarm", "own_balanced_accuracy"}
    (out / "probes.parquet").unlink()  # as if killed before the table was gathered
    r = run_cli(*cmd)
    assert r.returncode == 0 and "probed 0 unit(s), reused 2" in r.stdout
    assert pl.read_parquet(out / "probes.parquet").sort(["cell_id", "layer", "probe", "weights", "metric"]).equals(
        t.sort(["cell_id", "layer", "probe", "weights", "metric"]))
    r = run_cli("report", str(out))
    assert r.returncode == 0 and (out / "probes_on_mistake.png").exists()
    assert "## Probes" in (out / "README.md").read_text()
    r = run_cli("probe", str(out), "--probe", "linaer")
    assert r.returncode == 2 and "Did you mean 'linear'" in r.stdout
    r = run_cli("probe", str(out), "--target", "on_mistak")
    assert r.returncode == 2 and "Did you mean 'on_mistake'" in r.stdout


@pytest.mark.slow
def test_the_third_party_task_probes_its_own_target(tmp_path):
    from tests.plugin_dirs import run_cli

    out = tmp_path / "run"
    assert run_cli("run", "treewalk×oracle×gpt-1L", "--budget", "tiny", "--out", str(out)).returncode == 0
    r = run_cli("probe", str(out), "--target", "at_branch", "--n", "120", "--probe", "linear", "--no-controls")
    assert r.returncode == 0, r.stdout + r.stderr
    t = pl.read_parquet(out / "probes.parquet")
    assert set(t["target"]) == {"at_branch"} and set(t["weights"]) == {"trained"} and 0 < t["positive_rate"][0] < 1


@pytest.mark.slow
def test_a_killed_probe_resumes_without_redoing_finished_units(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.plugin_dirs import ROOT, run_cli

    out = tmp_path / "run"
    r = run_cli("run", "mazes(min_size=6,max_size=6)×oracle,fallible×gpt-1L", "--budget", "tiny", "--seeds", "2",
                "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    args = [sys.executable, "-m", "harness.cli", "probe", str(out), "--n", "60", "--probe", "linear"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline, units = time.time() + 300, []
    while time.time() < deadline:
        units = list((out / "probes" / "units").glob("*.parquet"))
        if units or proc.poll() is not None:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert units, "no unit finished before the kill"
    kept = {p.name: p.stat().st_mtime_ns for p in units}
    r = run_cli("probe", str(out), "--n", "60", "--probe", "linear")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"reused {len(kept)}" in " ".join(r.stdout.split())
    for name, st in kept.items():
        assert (out / "probes" / "units" / name).stat().st_mtime_ns == st, "a finished unit was redone"
    assert pl.read_parquet(out / "probes.parquet")["cell_id"].n_unique() == 4


def test_probe_arms_are_compared_paired_by_seed():
    from harness.report import probe_paired

    rows = []
    for seed, (a, b) in enumerate([(0.9, 0.8), (0.85, 0.8), (0.95, 0.8)]):
        for cond, v in (("fallible", a), ("oracle", b)):
            rows.append({"target": "t", "probe": "linear", "layer": 1, "seed": seed, "condition": cond,
                         "weights": "trained", "value": v})
        rows.append({"target": "t", "probe": "linear", "layer": 1, "seed": seed, "condition": "fallible",
                     "weights": "random-init", "value": 0.1})  # controls never enter the comparison
    out = probe_paired(pl.DataFrame(rows), {"fallible": "oracle"})
    assert out.height == 1 and out["seeds"][0] == 3 and out["baseline"][0] == "oracle"
    assert out["diff"][0] == pytest.approx(0.1)
    assert out["low"][0] < 0.1 < out["high"][0] and 0 < out["p"][0] < 0.1


def test_mazes_goal_variants_move_the_end_over_every_open_tile():
    from harness import component
    from harness_mazes.solve import parse_maze

    task = component("task", "mazes", min_size=6, max_size=6)
    p = draw_problems(task, random.Random(2), 1, "eval")[0]
    grid, start, end = parse_maze(p.key)
    g = task.goal_variants(p)
    n = grid.shape[0]
    assert g.shape == (n, n) and g.marks == {"s": divmod(start, n), "e": divmod(end, n)}
    assert sorted(r * n + c for (r, c), _ in g.cells) == [t for t in range(n * n) if grid.flat[t] and t != start]
    for (r, c), pv in g.cells:
        gv, sv, ev = parse_maze(pv.key)
        assert (gv == grid).all() and sv == start and ev == r * n + c


def test_heatmap_truth_says_whether_the_step_is_a_mistake_for_each_goal():
    from harness import component
    from harness.probing.heatmap import goal_heatmap_inputs

    task = component("task", "mazes", min_size=7, max_size=7)
    corr = component("corruptor", "fallible", p=1.0)
    target = OnMistake(OnMistake.Config(at="mistake"))
    problems = draw_problems(task, random.Random(4), 30, "eval")
    maps = goal_heatmap_inputs(task, target, corr, problems, seed=0, limit=10)
    assert len(maps) >= 5
    for h in maps:
        p = problems[h.problem_index] if h is maps[0] else None
        truth = dict(zip(h.cells, h.truth))
        if p is not None:
            n = h.shape[0]
            assert truth[divmod(p.payload.end, n)] == 1.0  # the sample's own goal: the wrong move is wrong
        for seq, pos in zip(h.seqs, h.poss):
            assert len(pos) == 1 and pos[0] < len(seq)
        assert {0.0, 1.0} <= set(np.unique(h.truth[~np.isnan(h.truth)]).tolist())  # the entered branch is "on the way"


@pytest.mark.slow
def test_harness_probe_heatmap_end_to_end(tmp_path):
    from tests.plugin_dirs import run_cli

    out = tmp_path / "run"
    r = run_cli("run", "mazes(min_size=6,max_size=6)×fallible×gpt-1L", "--budget", "tiny", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("probe", str(out), "--n", "60", "--probe", "linear", "--heatmap", "--no-controls")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "goal heatmap" in r.stdout
    t = pl.read_parquet(out / "probes.parquet")
    hm = t.filter(pl.col("metric") == "heatmap_balanced_accuracy")
    assert hm.height == 1 and 0 <= hm["value"][0] <= 1 and hm["n_test"][0] > 0
    assert (out / hm["heatmap"][0]).exists()
    cells = pl.read_parquet((out / hm["heatmap"][0]).with_suffix(".parquet"))
    assert cells.height > 0 and cells["p_flag"].is_between(0, 1).all()
    r = run_cli("report", str(out))
    assert r.returncode == 0 and "Goal heatmaps" in (out / "README.md").read_text()


def test_on_mistake_labels_the_model_own_moves_up_to_its_first_mistake():
    from harness import component

    task = component("task", "mazes", min_size=6, max_size=6)
    corr = component("corruptor", "fallible", p=1.0)
    target = OnMistake(OnMistake.Config(at="mistake"))
    assert OnMistake(OnMistake.Config(at="correction")).own_steps(task, None, []) is None
    rng, seen = random.Random(0), 0
    for p in draw_problems(task, random.Random(3), 40, "eval"):
        enc = task.encode(p, task.oracle(p))
        own = target.own_steps(task, p, enc.tokens[enc.prompt_len:])
        assert own.first_wrong is None and not own.labels.any() and np.array_equal(own.tokens, enc.tokens)
        trace = corr.corrupt(task, p, task.oracle(p), rng)
        first = next((j for j, s in enumerate(trace) if s.tag == Tag.MISTAKE), None)
        if first is None:
            continue
        enc = task.encode(p, trace)
        own = target.own_steps(task, p, enc.tokens[enc.prompt_len:])
        assert own.first_wrong == first == len(own.labels) - 1 and own.labels[-1] == 1
        assert own.positions[-1] == enc.step_spans[first][0]  # the wrong move's own token
        seen += 1
    assert seen > 5
