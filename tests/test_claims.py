"""Claims on a shared run directory: exclusive, released, kept alive by the heartbeat, taken over when
the holder is gone (dead local pid at once, a silent remote holder after its lease), and never broken
by two workers at once."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.claims import Claims, FileLock, is_stale, list_claims, read_claim


def _fake_claim(d: Path, cell_id: str, host: str, pid: int, age_s: float, lease_s: float = 60.0) -> Path:
    p = d / "claims" / f"{cell_id}.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"cell_id": cell_id, "owner": f"{host} pid {pid}", "host": host, "pid": pid,
                             "pid_start": None, "token": "theirs", "claimed_at": time.time() - age_s,
                             "lease_s": lease_s}))
    t = time.time() - age_s
    os.utime(p, (t, t))
    return p


def test_a_claim_is_exclusive_until_released(tmp_path):
    a, b = Claims(tmp_path), Claims(tmp_path)
    assert a.try_claim("c1")
    assert not b.try_claim("c1"), "a live holder's claim was taken"
    assert not a.try_claim("c1"), "claiming twice must not succeed twice"
    assert b.try_claim("c2")
    assert a.holds("c1") and not b.holds("c1")
    a.release("c1")
    assert not (tmp_path / "claims" / "c1.json").exists()
    assert b.try_claim("c1") and b.holds("c1")
    a.release_all(), b.release_all()
    assert list(list_claims(tmp_path)) == []


def test_a_remote_holder_keeps_its_claim_within_the_lease_and_loses_it_after(tmp_path):
    _fake_claim(tmp_path, "fresh", "some-other-host", 12345, age_s=5)
    _fake_claim(tmp_path, "old", "some-other-host", 12345, age_s=90)
    c = Claims(tmp_path)
    assert not c.try_claim("fresh")
    assert c.try_claim("old"), "a claim silent for longer than its lease was not taken over"
    assert read_claim(tmp_path / "claims" / "old.json")["token"] != "theirs"
    c.release_all()


def test_a_dead_local_process_loses_its_claim_at_once(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    import socket

    _fake_claim(tmp_path, "c", socket.gethostname(), proc.pid, age_s=0, lease_s=3600)
    assert is_stale(read_claim(tmp_path / "claims" / "c.json"))
    c = Claims(tmp_path)
    assert c.try_claim("c")
    c.release_all()


def test_an_unreadable_claim_blocks_only_for_one_lease(tmp_path):
    """A claim file that is not a claim (damaged, a stray file) holds its cell like a silent holder:
    taken over once it is older than the lease, not before, and never left to block for ever."""
    c = Claims(tmp_path, lease_s=30)
    c.path("a").write_text("12345\n")  # valid JSON, not a claim
    c.path("b").write_bytes(b"\x00garbage")
    assert not c.try_claim("a") and not c.try_claim("b")
    old = time.time() - 31
    for name in ("a", "b"):
        os.utime(c.path(name), (old, old))
        assert c.try_claim(name) and read_claim(c.path(name))["token"] == c.held[name].token
    c.release_all()


def test_claims_can_live_in_any_folder(tmp_path):
    folder = tmp_path / "elsewhere" / "locks"
    c = Claims(tmp_path, lease_s=30, folder=folder)
    assert c.try_claim("set-1") and (folder / "set-1.json").exists()
    assert not (tmp_path / "claims").exists()
    c.release_all()
    assert not (folder / "set-1.json").exists()


def test_the_heartbeat_keeps_a_claim_fresh_and_notices_a_takeover(tmp_path):
    c = Claims(tmp_path, lease_s=0.4, heartbeat_s=0.05)
    assert c.try_claim("c")
    p = tmp_path / "claims" / "c.json"
    t0 = p.stat().st_mtime
    time.sleep(0.6)
    assert p.stat().st_mtime > t0 and not is_stale(read_claim(p)), "the heartbeat did not touch the claim"
    info = json.loads(p.read_text())
    p.write_text(json.dumps({**info, "token": "someone-else"}))  # another worker took it over
    time.sleep(0.2)
    assert not c.holds("c")
    c.release("c")
    assert p.exists(), "releasing a lost claim removed the new holder's claim"
    c.release_all()


def _race(args: tuple[str, list[str], int]) -> list[str]:
    d, ids, lease = args
    c = Claims(Path(d), lease_s=lease)
    won = [i for i in ids if c.try_claim(i)]
    time.sleep(0.3)  # hold them while the others try
    return won


def test_racing_processes_claim_each_cell_exactly_once(tmp_path):
    ids = [f"cell{i:03d}" for i in range(60)]
    ctx = mp.get_context("spawn")
    with ctx.Pool(4) as pool:
        wins = pool.map(_race, [(str(tmp_path), ids[k:] + ids[:k], 60) for k in (0, 15, 30, 45)])
    flat = [i for w in wins for i in w]
    assert sorted(flat) == ids, "a cell was claimed twice or by nobody"


def _break_stale(args: tuple[str, int]) -> bool:
    d, _ = args
    c = Claims(Path(d))
    got = c.try_claim("stale")
    time.sleep(0.3)
    return got


def test_a_stale_claim_is_taken_over_by_exactly_one_of_several_workers(tmp_path):
    for round_ in range(3):
        _fake_claim(tmp_path, "stale", "gone-host", 1, age_s=3600)
        ctx = mp.get_context("spawn")
        with ctx.Pool(4) as pool:
            got = pool.map(_break_stale, [(str(tmp_path), k) for k in range(4)])
        assert sum(got) == 1, f"round {round_}: {sum(got)} workers took over one claim"
        (tmp_path / "claims" / "stale.json").unlink()


def _increment(args: tuple[str, int]) -> None:
    d, n = args
    counter = Path(d) / "counter"
    for _ in range(n):
        with FileLock(Path(d) / "counter.lock", poll_s=0.001):
            v = int(counter.read_text())
            counter.write_text(str(v + 1))


def test_the_table_lock_excludes_other_processes(tmp_path):
    (tmp_path / "counter").write_text("0")
    ctx = mp.get_context("spawn")
    with ctx.Pool(3) as pool:
        pool.map(_increment, [(str(tmp_path), 40)] * 3)
    assert int((tmp_path / "counter").read_text()) == 120, "lost updates: the lock let two writers in"


def test_a_lock_left_by_a_dead_process_is_broken(tmp_path):
    lock = tmp_path / "x.lock"
    lock.write_text("{}")
    old = time.time() - 3600
    os.utime(lock, (old, old))
    with FileLock(lock):
        assert lock.exists()
    assert not lock.exists()


@settings(max_examples=30, deadline=None)
@given(age=st.floats(0, 1000), lease=st.floats(1, 500), remote=st.booleans())
def test_staleness_is_the_lease_for_remote_holders(age, lease, remote):
    import socket

    now = 1e9
    info = {"heartbeat": now - age, "lease_s": lease, "host": "elsewhere" if remote else socket.gethostname(),
            "pid": os.getpid(), "pid_start": None}
    # our own (live) pid on this host: stale only by lease; a remote holder: exactly by lease
    assert is_stale(info, now) == (now - info["heartbeat"] > lease)
