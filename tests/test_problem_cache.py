"""The problem cache (harness.problem_cache): a (task, seed)'s problems are drawn once and read back by
the other cells of that seed; what is read back behaves exactly as what was drawn; a damaged file is
drawn again, a live drawer is waited for, a dead one's lock is broken, an unwritable folder costs only
the saving, and a task without records draws as before."""

from __future__ import annotations

import gc
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import polars as pl
import pytest
from harness_igsm import IGSMTask
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import problem_cache as pc
from harness.data import draw_problems
from harness.interfaces import Problem
from harness.pipeline import draw_samples
from harness.planning import resolve_one
from harness.plugins import get_manager
from harness.problem_cache import ProblemCache, cache_identity, supported
from harness.testing import check_task
from harness.testing import conformance as kit
from tests.plugin_dirs import run_cli

MANAGER = get_manager()
N = 40


def component(item: str, budget: str = "tiny"):
    return resolve_one(MANAGER, "task", item, MANAGER.budget(budget), "--task")


@pytest.fixture(scope="module")
def igsm():
    comp = component("igsm")
    return comp, comp.instantiate()


def ident(comp, seed=0, side="train", n=N, sources=None):
    return cache_identity(comp.identity(), sources or {"igsm": "a", "harness-core": "b"}, seed, side, n)


class Counting:
    """draw(on_progress) that counts its calls."""

    def __init__(self, task, seed=0, n=N):
        self.task, self.seed, self.n, self.calls = task, seed, n, 0

    def __call__(self, on_progress=None):
        self.calls += 1
        return draw_problems(self.task, random.Random(self.seed), self.n, "train", on_progress=on_progress)


def same_problems(a: list[Problem], b: list[Problem], task) -> bool:
    return len(a) == len(b) and all(
        x.key == y.key and x.meta == y.meta
        and np.array_equal(task.encode(x, task.oracle(x)).tokens, task.encode(y, task.oracle(y)).tokens)
        for x, y in zip(a, b))


# -------------------------------------------------------------------------------------- records
def test_builtin_support_is_declared_where_it_pays():
    assert supported(IGSMTask())  # ~0.6 ms a problem to draw
    assert not supported(component("mazes").instantiate())  # drawing is as fast as reading back


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), preset=st.sampled_from(["med", "hard"]), fmt=st.sampled_from(["pq", "qp"]),
       reask=st.booleans())
def test_igsm_records_round_trip_through_json(seed, preset, fmt, reask):
    task = component(f"igsm(preset={preset},format={fmt},reask={str(reask).lower()})").instantiate()
    kit.check_problem_records(task, n=3, seed=seed)
    kit.check_problem_records(task, n=3, seed=seed, side="eval")  # OOD ops and re-asked queries too


def test_the_kit_catches_a_record_that_loses_something(igsm):
    _, task = igsm

    class Lossy(IGSMTask):
        def problem_from_record(self, key, meta, record):
            record["s"] = record["s"][:-1]  # drops the last solution sentence
            return super().problem_from_record(key, meta, record)

    class NotJSON(IGSMTask):
        def problem_record(self, problem):
            return {"g": object()}

    with pytest.raises(AssertionError, match="oracle trace|encodes differently"):
        kit.check_problem_records(Lossy(task.config), n=5)
    with pytest.raises(AssertionError, match="not plain JSON"):
        kit.check_problem_records(NotJSON(task.config), n=2)
    assert kit.check_problem_records in kit.CHECKS
    check_task(task)  # the built-in passes the whole kit, records included


# ---------------------------------------------------------------------------------------- cache
def test_drawn_once_then_read_back(tmp_path, igsm):
    comp, task = igsm
    logs: list[str] = []
    cache = ProblemCache(tmp_path / "problems", logs.append)
    draw = Counting(task)
    first = cache.get(task, ident(comp), draw)
    second = cache.get(task, ident(comp), draw)
    assert draw.calls == 1 and same_problems(first, second, task)
    assert json.loads(cache.path(ident(comp)).with_suffix(".json").read_text()) == json.loads(json.dumps(ident(comp)))
    assert any("kept 40 train problems" in m for m in logs) and any("read 40 train problems back" in m for m in logs)
    assert not list((tmp_path / "problems" / "locks").glob("*.json"))  # released


def test_the_key_covers_what_decides_the_draw(tmp_path, igsm):
    comp, task = igsm
    base = pc.cache_key(ident(comp))
    other = component("igsm(preset=hard)")
    variants = [ident(comp, seed=1), ident(comp, side="eval", seed=None), ident(comp, n=N + 1),
                ident(comp, sources={"igsm": "edited", "harness-core": "b"}),
                ident(comp, sources={"igsm": "a", "harness-core": "edited"}), ident(other)]
    keys = {pc.cache_key(v) for v in variants}
    assert base not in keys and len(keys) == len(variants)


@pytest.mark.parametrize("damage", ["truncated", "short", "columns", "garbage_record", "not_parquet"])
def test_a_damaged_file_is_drawn_again(tmp_path, igsm, damage):
    comp, task = igsm
    logs: list[str] = []
    cache = ProblemCache(tmp_path / "problems", logs.append)
    draw = Counting(task)
    good = cache.get(task, ident(comp), draw)
    path = cache.path(ident(comp))
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "short":
        pl.read_parquet(path).head(N - 1).write_parquet(path)
    elif damage == "columns":
        pl.read_parquet(path).rename({"record": "rec"}).write_parquet(path)
    elif damage == "garbage_record":
        pl.read_parquet(path).with_columns(pl.lit('{"g": [1, 2]}').alias("record")).write_parquet(path)
    else:
        path.write_text("not a parquet file")
    again = cache.get(task, ident(comp), draw)
    assert draw.calls == 2 and same_problems(good, again, task)
    assert any("does not read back" in m for m in logs)
    assert cache.get(task, ident(comp), draw) and draw.calls == 2  # rewritten whole


def test_a_task_without_records_draws_every_time(tmp_path):
    mazes = component("mazes").instantiate()
    cache = ProblemCache(tmp_path / "problems")
    draw = Counting(mazes)
    cache.get(mazes, ident(component("mazes")), draw)
    cache.get(mazes, ident(component("mazes")), draw)
    assert draw.calls == 2 and not (tmp_path / "problems").exists()


def test_an_unwritable_folder_costs_only_the_saving(tmp_path, igsm):
    comp, task = igsm
    (tmp_path / "problems").write_text("a file where the folder would be")
    logs: list[str] = []
    got = ProblemCache(tmp_path / "problems", logs.append).get(task, ident(comp), Counting(task))
    assert len(got) == N and any("drawing without keeping" in m for m in logs)


def test_an_unkeepable_payload_is_reported_and_the_run_goes_on(tmp_path, igsm):
    comp, task = igsm

    class NotJSON(IGSMTask):
        def problem_record(self, problem):
            return {"g": object()}

    bad = NotJSON(task.config)
    logs: list[str] = []
    got = ProblemCache(tmp_path / "problems", logs.append).get(bad, ident(comp), Counting(bad))
    assert len(got) == N and any("could not keep" in m for m in logs)
    assert not list((tmp_path / "problems").glob("*.parquet"))


def remote_holder(path, token):
    """Make a lock look held by a process on another machine (a claim as harness.claims writes it, with
    the draw locks' lease): only its heartbeat says it is alive."""
    path.write_text(json.dumps({"host": "another-node", "pid": 1, "pid_start": None, "token": token,
                                "lease_s": pc._STALE_S}))


def test_a_live_drawer_is_waited_for_not_repeated(tmp_path, igsm, monkeypatch):
    comp, task = igsm
    monkeypatch.setattr(pc, "_BEAT_S", 0.05)
    monkeypatch.setattr(pc, "_STALE_S", 0.3)  # the holder's heartbeat is all that keeps its lock alive
    folder = tmp_path / "problems"
    holder = ProblemCache(folder).lock(ident(comp))
    assert holder.acquire(timeout=0.0)
    remote_holder(holder.path, holder.token)
    problems = Counting(task)()

    def other_process_finishes():
        time.sleep(0.6)  # longer than several beats: the waiter must not break a live lock
        ProblemCache(folder)._write(task, ProblemCache(folder).path(ident(comp)), ident(comp), problems)
        holder.release()

    t = threading.Thread(target=other_process_finishes)
    t.start()
    waits: list[int] = []
    draw = Counting(task)
    got = ProblemCache(folder).get(task, ident(comp), draw, on_wait=lambda: waits.append(1))
    t.join()
    assert draw.calls == 0 and waits == [1] and same_problems(got, problems, task)
    assert not holder.path.exists()  # released by its holder


def test_a_silent_remote_drawer_is_given_up_on(tmp_path, igsm, monkeypatch):
    """A holder elsewhere whose heartbeat stopped (a dead node) is broken after _STALE_S."""
    comp, task = igsm
    monkeypatch.setattr(pc, "_STALE_S", 0.3)
    cache = ProblemCache(tmp_path / "problems")
    lock = cache.lock(ident(comp)).path
    lock.parent.mkdir(parents=True)
    remote_holder(lock, "theirs")
    draw = Counting(task)
    t0 = time.monotonic()
    assert len(cache.get(task, ident(comp), draw)) == N and draw.calls == 1
    assert 0.2 < time.monotonic() - t0 < 30


def test_a_hung_drawer_is_waited_for_at_most_max_wait(tmp_path, igsm, monkeypatch):
    comp, task = igsm
    monkeypatch.setattr(pc, "_MAX_WAIT_S", 0.4)
    logs: list[str] = []
    cache = ProblemCache(tmp_path / "problems", logs.append)
    holder = cache.lock(ident(comp))
    assert holder.acquire(timeout=0.0)  # alive (this process), never finishes
    try:
        draw = Counting(task)
        assert len(cache.get(task, ident(comp), draw)) == N and draw.calls == 1
        assert any("drawing them here without keeping" in m for m in logs)
        assert not cache.path(ident(comp)).exists() and holder.path.exists()  # its lock left alone
    finally:
        holder.release()


def test_a_holder_removes_only_its_own_lock(tmp_path):
    a = pc._DrawLock(tmp_path, "x")
    path = a.path
    assert a.acquire(timeout=0.0)
    remote_holder(path, "someone-who-broke-it")  # a's lock was judged dead and taken over
    a.release()
    assert path.exists()


def test_warming_draws_a_set_once_and_never_reads_it_back(tmp_path, igsm):
    comp, task = igsm
    cache = ProblemCache(tmp_path / "problems")
    draw = Counting(task)
    assert cache.warm(task, ident(comp), draw) == "drawn" and draw.calls == 1
    assert cache.warm(task, ident(comp), lambda: pytest.fail("drawn twice")) == "kept"
    assert same_problems(cache.get(task, ident(comp), lambda _p: pytest.fail("not kept")), Counting(task)(), task)
    other = ident(comp, seed=5)
    holder = cache.lock(other)
    assert holder.acquire(timeout=0.0)
    try:
        assert cache.warm(task, other, lambda: pytest.fail("drawn while a cell draws it")) == "busy"
    finally:
        holder.release()
    mazes = component("mazes").instantiate()
    assert cache.warm(mazes, ident(component("mazes")), lambda: pytest.fail("no records")) == "skipped"


def test_a_lock_whose_local_holder_died_is_broken_at_once(tmp_path, igsm):
    """No waiting out the stale time for a holder on this host whose process is gone (a killed run)."""
    comp, task = igsm
    cache = ProblemCache(tmp_path / "problems")
    lock = cache.lock(ident(comp)).path
    lock.parent.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid, "pid_start": None}))
    t0 = time.monotonic()
    draw = Counting(task)
    assert len(cache.get(task, ident(comp), draw)) == N and draw.calls == 1
    assert time.monotonic() - t0 < pc._STALE_S / 2 and not lock.exists()


def test_reading_back_leaves_the_cycle_collector_as_it_found_it(tmp_path, igsm):
    comp, task = igsm
    cache = ProblemCache(tmp_path / "problems")
    cache.get(task, ident(comp), Counting(task))
    assert gc.isenabled()
    cache.get(task, ident(comp), Counting(task))  # read back (gc paused inside)
    assert gc.isenabled()
    cache.path(ident(comp)).write_text("damaged")
    cache.get(task, ident(comp), Counting(task))  # a failed read too
    assert gc.isenabled()
    gc.disable()
    try:
        cache.get(task, ident(comp), Counting(task))
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_a_dead_drawers_lock_is_broken(tmp_path, igsm):
    comp, task = igsm
    cache = ProblemCache(tmp_path / "problems")
    lock = cache.lock(ident(comp)).path
    lock.parent.mkdir(parents=True)
    lock.write_text("12345\n")
    old = time.time() - pc._STALE_S - 5
    os.utime(lock, (old, old))
    draw = Counting(task)
    assert len(cache.get(task, ident(comp), draw)) == N and draw.calls == 1 and not lock.exists()


# ------------------------------------------------------------------------------------ in a cell
def test_read_back_problems_give_the_same_training_stream(tmp_path, igsm):
    comp, task = igsm
    corr_comp = resolve_one(MANAGER, "corruptor", "retry", MANAGER.budget("tiny"), "--corruptor")
    corr = corr_comp.instantiate()
    args = (task, corr, comp.identity(), corr_comp.identity(), 3, N, "train")
    plain_problems, plain = draw_samples(*args)
    cache = ProblemCache(tmp_path / "problems")
    draw_samples(*args, cache=cache, sources={})  # draws and keeps
    kept_problems, kept = draw_samples(*args, cache=cache, sources={})  # reads back
    assert [p.key for p in kept_problems] == [p.key for p in plain_problems]
    for (ta, ea), (tb, eb) in zip(plain, kept):
        assert kit._fingerprint(ta) == kit._fingerprint(tb)
        assert np.array_equal(ea.tokens, eb.tokens) and np.array_equal(ea.tags, eb.tags)


def test_a_grid_draws_each_seed_once(tmp_path):
    out = tmp_path / "run"
    r = run_cli("run", "igsm×oracle,retry×gpt-2L", "--budget", "tiny", "--seeds", "1", "--out", str(out),
                env={"HARNESS_JOBS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    logs = [p.read_text() for p in sorted((out / "cells").glob("*/log.txt"))]
    kept = [lg for lg in logs if "kept 300 train problems" in lg]
    read = [lg for lg in logs if "read 300 train problems back" in lg]
    assert len(kept) == 1 and len(read) == 1, logs
    assert sum("read 40 eval problems back" in lg for lg in logs) == 1
    assert len(list((out / "problems").glob("*.parquet"))) == 2  # one train set, one eval set
    res = pl.read_parquet(out / "results.parquet")
    assert set(res["status"]) == {"ok"}
    # the stream each cell trained on is what it would have drawn itself: a fresh run without the
    # folder gives identical results
    out2 = tmp_path / "run2"
    r = run_cli("run", "igsm×retry×gpt-2L", "--budget", "tiny", "--seeds", "1", "--out", str(out2),
                env={"HARNESS_JOBS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    a = res.filter(pl.col("corruptor") == "retry")
    b = pl.read_parquet(out2 / "results.parquet")
    for col in ("train_loss", "accuracy", "mistakes_per_sample"):
        assert a[col].to_list() == b[col].to_list(), col
