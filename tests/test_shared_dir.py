"""Several `harness run` processes on one results directory: concurrent workers share the cells (none
runs twice, the tables stay whole), a SIGKILLed worker's cell is taken over, static shards add up to
the unsharded run cell for cell, `--no-wait` leaves claimed cells alone, `harness status` tells the
states apart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from tests.plugin_dirs import ROOT, run_cli

pytestmark = pytest.mark.slow

SPEC = "mazes×oracle,fallible×gpt-2L"
SAME = ["train_loss", "n_correct", "accuracy", "n_train_distinct", "mistakes_per_sample", "dp_correct_prob"]


def _worker(out: Path, *extra: str, seeds: int = 3) -> subprocess.Popen:
    env = dict(os.environ, COLUMNS="200", OMP_NUM_THREADS="1")
    env.pop("HARNESS_STRICT_PLUGINS", None)
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", SPEC, "--budget", "tiny", "--seeds",
                             str(seeds), "--out", str(out), *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _starts(out: Path, cell_id: str) -> int:
    """How many times the cell was started (each run writes one header line to its log)."""
    log = out / "cells" / cell_id / "log.txt"
    return sum(line.split(" ", 2)[1:2] == ["cell"] for line in log.read_text().splitlines())


def _ran(stdout: str) -> int:
    words = " ".join(stdout.split())
    return int(words.split("ran ", 1)[1].split(" ", 1)[0])


@pytest.mark.parametrize("workers", [2, 3])
def test_concurrent_workers_run_every_cell_once(tmp_path, workers):
    out = tmp_path / "run"
    procs = [_worker(out) for _ in range(workers)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n\n".join(outs)
    res = pl.read_parquet(out / "results.parquet")
    assert res.height == 6 and set(res["status"]) == {"ok"} and res["cell_id"].n_unique() == 6
    for cid in res["cell_id"]:
        assert _starts(out, cid) == 1, f"cell {cid} ran more than once"
    assert sum(_ran(o) for o in outs) == 6, "the workers' ran counts do not add up to the plan"
    items = pl.read_parquet(out / "items.parquet")
    assert set(items["cell_id"]) == set(res["cell_id"])
    assert not list((out / "claims").glob("*.json")), "claims were left behind"
    st = json.loads(run_cli("status", str(out), "--json").stdout)
    assert st["counts"]["done"] == 6 and st["counts"]["pending"] == 0


def test_a_killed_worker_loses_its_cell_to_another(tmp_path):
    out = tmp_path / "run"
    longer = ("--budget-set", "train_tokens=204800")  # 100 steps: a cell outlasts the second below on a fast CPU
    a = _worker(out, *longer)
    victim, deadline = None, time.time() + 300
    while victim is None and time.time() < deadline:  # a claim of A's on a cell that is not done yet
        for p in (out / "claims").glob("*.json") if (out / "claims").is_dir() else ():
            try:
                info = json.loads(p.read_text())
            except (OSError, ValueError):
                continue
            if info.get("pid") == a.pid and not (out / "cells" / info["cell_id"] / "result.json").exists():
                victim = info["cell_id"]
        time.sleep(0.02)
    b = _worker(out, *longer)  # B starts while A holds the claim ...
    time.sleep(1.0)
    os.killpg(a.pid, signal.SIGKILL)  # ... and A dies mid-cell
    a.wait()
    assert victim is not None, "worker A never held a claim"
    text = b.communicate(timeout=600)[0]
    assert b.returncode == 0, text
    res = pl.read_parquet(out / "results.parquet")
    assert res.height == 6 and set(res["status"]) == {"ok"}
    row = res.filter(pl.col("cell_id") == victim).row(0, named=True)
    assert row["worker"].startswith(f"{socket.gethostname()} pid {b.pid}"), "the killed worker's cell was not redone by B"
    for cid in res["cell_id"]:
        assert _starts(out, cid) <= (2 if cid == victim else 1)


def test_two_shards_equal_the_unsharded_run(tmp_path):
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    procs = [_worker(whole, seeds=2), _worker(sharded, "--shard", "0/2", seeds=2),
             _worker(sharded, "--shard", "1/2", seeds=2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n\n".join(outs)
    assert _ran(outs[1]) + _ran(outs[2]) == 4 and _ran(outs[1]) and _ran(outs[2])
    a = pl.read_parquet(whole / "results.parquet").sort("cell_id")
    b = pl.read_parquet(sharded / "results.parquet").sort("cell_id")
    assert a["cell_id"].to_list() == b["cell_id"].to_list()
    assert a.select(SAME).equals(b.select(SAME)), "a shard's numbers differ from the unsharded run's"
    ia = pl.read_parquet(whole / "items.parquet").sort("cell_id", "item_id")
    ib = pl.read_parquet(sharded / "items.parquet").sort("cell_id", "item_id")
    assert ia["completion"].to_list() == ib["completion"].to_list()


def test_bad_shards_are_refused(tmp_path):
    for bad in ("2/2", "x", "1/0", "-1/3"):
        r = run_cli("run", SPEC, "--budget", "tiny", "--out", str(tmp_path / "r"), f"--shard={bad}")
        assert r.returncode == 2 and "--shard" in r.stdout, r.stdout
    assert not (tmp_path / "r").exists()


def _cell_ids(seeds: int = 1) -> list[str]:
    from harness.planning import plan
    from harness.plugins import get_manager

    return [c.cell_id for c in plan(get_manager(), SPEC, budget="tiny", seeds=seeds).cells]


def _claim_as(out: Path, cell_id: str, pid: int) -> None:
    p = out / "claims" / f"{cell_id}.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"cell_id": cell_id, "owner": f"test pid {pid}", "host": socket.gethostname(),
                             "pid": pid, "pid_start": None, "token": "t", "claimed_at": time.time(),
                             "lease_s": 3600}))


def test_no_wait_leaves_claimed_cells_and_a_waiting_worker_takes_them_over(tmp_path):
    out = tmp_path / "run"
    ids = _cell_ids()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        _claim_as(out, ids[0], holder.pid)  # a live local process holds the first cell
        r = _worker(out, "--no-wait", seeds=1)
        text = r.communicate(timeout=600)[0]
        assert r.returncode == 0, text
        assert "left to other workers" in " ".join(text.split()), text
        assert not (out / "cells" / ids[0] / "result.json").exists(), "--no-wait ran a cell another worker held"
        assert json.loads((out / "cells" / ids[1] / "result.json").read_text())["status"] == "ok"
        st = json.loads(run_cli("status", str(out), "--json").stdout)["cells"]
        assert {c["cell_id"]: c["state"] for c in st} == {ids[0]: "running", ids[1]: "done"}
        w = _worker(out, seeds=1)  # waits for the live holder, then takes its cell over when it dies
        time.sleep(4)
        assert w.poll() is None, "the worker did not wait for the cell another worker held"
        holder.kill()
        killed = time.time()
        text = w.communicate(timeout=600)[0]
        assert w.returncode == 0, text
        res = out / "cells" / ids[0] / "result.json"
        assert json.loads(res.read_text())["status"] == "ok" and res.stat().st_mtime >= killed
    finally:
        holder.kill()


def test_status_tells_every_state_apart(tmp_path):
    out = tmp_path / "run"
    cells = [{"cell_id": c, "condition": f"cond-{c}", "seed": 0} for c in ("a", "b", "c", "d", "e")]
    (out / "cells").mkdir(parents=True)
    (out / "plan.json").write_text(json.dumps({"spec": "x", "cells": cells}))
    for cid, status in (("a", "ok"), ("b", "failed")):
        (out / "cells" / cid).mkdir()
        (out / "cells" / cid / "result.json").write_text(json.dumps(
            {"cell_id": cid, "status": status, "error": "boom [/x] [bold]" if status == "failed" else None,
             "seconds": 1.0}))
    _claim_as(out, "c", os.getpid())  # a live holder
    (out / "claims" / "d.json").write_text(json.dumps(
        {"cell_id": "d", "owner": "far pid 1", "host": "far-away", "pid": 1, "token": "t", "lease_s": 10,
         "claimed_at": 0}))
    os.utime(out / "claims" / "d.json", (0, 0))  # silent for ages: stalled
    r = run_cli("status", str(out), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    got = {c["cell_id"]: c["state"] for c in json.loads(r.stdout)["cells"]}
    assert got == {"a": "done", "b": "failed", "c": "running", "d": "stalled", "e": "pending"}
    text = run_cli("status", str(out)).stdout
    assert "1 done, 1 running, 1 stalled, 1 failed, 1 pending" in text and "boom [/x] [bold]" in text
    r = run_cli("status", str(tmp_path / "nothing"))
    assert r.returncode == 2 and "not a run directory" in r.stdout


SUICIDE = '''
import os
from harness.hookspecs import hookimpl
from harness.interfaces import Config, Corruptor

class SuicideConfig(Config):
    pass

class Suicide(Corruptor):
    """a corruptor whose process dies (tests that a dead pool worker loses only its own cell)"""
    name = "suicide"
    Config = SuicideConfig
    def corrupt(self, task, problem, trace, rng):
        os._exit(3)

@hookimpl
def harness_register_corruptors(register):
    register(Suicide)
'''


def test_a_worker_that_dies_loses_only_its_own_cell(tmp_path):
    from tests.plugin_dirs import make_plugin

    make_plugin(tmp_path / "plug", "harness-suicide", "0.1", "harness_suicide", SUICIDE)
    out = tmp_path / "run"
    r = run_cli("run", "mazes×suicide,oracle,fallible×gpt-2L", "--budget", "tiny", "--seeds", "2", "--jobs", "2",
                "--out", str(out), pythonpath=tmp_path / "plug", env={"OMP_NUM_THREADS": "1"})
    assert r.returncode == 1, r.stdout + r.stderr
    res = pl.read_parquet(out / "results.parquet")
    assert res.height == 6
    status = dict(zip(res["corruptor"], res["status"]))
    assert status == {"suicide": "failed", "oracle": "ok", "fallible": "ok"}, res.select("corruptor", "status")
    assert set(res.filter(pl.col("status") == "ok")["corruptor"]) == {"oracle", "fallible"}
    assert res.filter(pl.col("status") == "ok").height == 4, "a cell that shared the pool with the dying one failed"
    assert all("worker died" in e for e in res.filter(pl.col("status") == "failed")["error"])


def test_ctrl_c_says_how_to_resume_and_leaves_no_claim(tmp_path):
    out = tmp_path / "run"
    w = _worker(out, seeds=2)
    deadline = time.time() + 300
    while time.time() < deadline and not list((out / "claims").glob("*.json") if (out / "claims").is_dir() else []):
        time.sleep(0.05)
    os.killpg(w.pid, signal.SIGINT)
    text = w.communicate(timeout=120)[0]
    assert w.returncode == 130, text
    assert "rerun the same command to resume" in text
    assert not list((out / "claims").glob("*.json")), "an interrupted run left its claims behind"


def test_text_that_looks_like_markup_is_printed_as_text(tmp_path):
    from tests.plugin_dirs import make_plugin

    out = tmp_path / "odd[/x]name"
    r = run_cli("run", "mazes×oracle×gpt-2L", "--budget", "tiny", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "odd[/x]name" in r.stdout and (out / "results.parquet").exists()
    make_plugin(tmp_path / "plug", "harness-broken", "0.1", "harness_broken", "raise ImportError('bad [/x] thing')\n")
    r = run_cli("list", pythonpath=tmp_path / "plug")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "bad [/x] thing" in r.stdout and "mazes" in r.stdout


def test_outside_a_terminal_progress_is_logged_as_lines(tmp_path):
    out = tmp_path / "run"
    r = run_cli("run", "mazes×oracle×gpt-2L", "--budget", "tiny", "--out", str(out),
                env={"HARNESS_PROGRESS_EVERY": "0"})
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "mazes×oracle×gpt-2L×pretrain seed 0: train" in ln]
    assert len(lines) >= 3 and any("%" in ln and "ETA" in ln and "/s" in ln for ln in lines), r.stderr
    log = next((out / "cells").iterdir()) / "log.txt"
    assert "progress: train" in log.read_text()
