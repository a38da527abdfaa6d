"""A damaged run directory is never trusted and never crashes a run: a finished cell whose files do
not check out (items.parquet truncated or gone, totals that disagree, another cell's result.json, a
result.json that is not an object or not whole) is recomputed, saying why; stray files and folders are
ignored; temporary files left by a killed writer are removed, a live writer's are kept."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import polars as pl
import pytest

from harness.events import RunMessage
from harness.hookspecs import hookimpl
from harness.planning import plan
from harness.plugins import Manager
from harness.runner import run_plan
from harness.store import atomic_write_json, check_finished, clean_temp_files

SPEC = "mazes(min_size=3,max_size=3)×oracle,fallible×gpt-1L"


class Messages:
    def __init__(self):
        self.lines = []

    @hookimpl
    def harness_run_message(self, event: RunMessage):
        self.lines.append(event.message)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    m = Manager(strict=True)
    p = plan(m, SPEC, budget="tiny")
    out = tmp_path_factory.mktemp("base") / "run"
    summary = run_plan(p, m, out)
    assert not summary.failed
    return m, p, out


def _ids(p):
    return {c.corruptor.name: c.cell_id for c in p.cells}


def _damage_items_truncated(d, other):
    raw = (d / "items.parquet").read_bytes()
    (d / "items.parquet").write_bytes(raw[: len(raw) // 2])


def _damage_items_deleted(d, other):
    (d / "items.parquet").unlink()


def _damage_items_fewer_rows(d, other):
    pl.read_parquet(d / "items.parquet").head(3).write_parquet(d / "items.parquet")


def _damage_accuracy(d, other):
    row = json.loads((d / "result.json").read_text())
    (d / "result.json").write_text(json.dumps({**row, "accuracy": 7.0}))


def _damage_copied_from_other(d, other):
    shutil.copy(other / "result.json", d / "result.json")


def _damage_not_a_dict(d, other):
    (d / "result.json").write_text("[1, 2, 3]")


def _damage_partial(d, other):
    (d / "result.json").write_text((d / "result.json").read_text()[:40])


def _damage_not_utf8(d, other):
    (d / "result.json").write_bytes(b"\xff\xfe{\x00")


DAMAGES = [_damage_items_truncated, _damage_items_deleted, _damage_items_fewer_rows, _damage_accuracy,
           _damage_copied_from_other, _damage_not_a_dict, _damage_partial, _damage_not_utf8]


@pytest.mark.slow
@pytest.mark.parametrize("damage", DAMAGES, ids=[d.__name__[len("_damage_"):] for d in DAMAGES])
def test_a_damaged_cell_is_recomputed_and_the_rest_kept(base, tmp_path, damage):
    m, p, src = base
    out = tmp_path / "run"
    shutil.copytree(src, out)
    ids = _ids(p)
    damage(out / "cells" / ids["oracle"], out / "cells" / ids["fallible"])
    (out / "cells" / "junk").mkdir()  # stray folders and files are ignored
    (out / "cells" / "junk" / "result.json").write_text('{"status": "ok"}')
    (out / "cells" / "afile").write_text("x")
    msgs = Messages()
    m.pm.register(msgs)
    try:
        summary = run_plan(p, m, out)
    finally:
        m.pm.unregister(msgs)
    assert summary.ran == [ids["oracle"]] and summary.skipped == [ids["fallible"]] and not summary.failed
    if damage not in (_damage_not_a_dict, _damage_partial, _damage_not_utf8):  # those read as "no result"
        assert any(ids["oracle"] in line and "do not check out" in line for line in msgs.lines), msgs.lines
    res = pl.read_parquet(out / "results.parquet")
    assert sorted(res["cell_id"].to_list()) == sorted(ids.values())
    fresh = json.loads((out / "cells" / ids["oracle"] / "result.json").read_text())
    assert check_finished(out, ids["oracle"], fresh) is None
    items = pl.read_parquet(out / "items.parquet")
    assert items.group_by("cell_id").len().sort("cell_id")["len"].to_list() == [res["n_eval"][0]] * 2


def test_check_finished_accepts_a_whole_cell_and_names_what_is_wrong(base):
    m, p, out = base
    ids = _ids(p)
    row = json.loads((out / "cells" / ids["oracle"] / "result.json").read_text())
    assert check_finished(out, ids["oracle"], row) is None
    assert "belongs to cell" in check_finished(out, ids["fallible"], row)
    assert "accuracy=7.0" in check_finished(out, ids["oracle"], {**row, "accuracy": 7.0})
    assert "lacks" in check_finished(out, ids["oracle"], {k: v for k, v in row.items() if k != "n_eval"})


def test_temporary_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    (tmp_path / "cells" / "abc").mkdir(parents=True)
    host = socket.gethostname().replace(".", "_")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        left = tmp_path / "cells" / "abc" / f".items.parquet.{host}-{dead_pid}.k2j3h4.tmp"
        mine = tmp_path / f".run.json.{host}-{live.pid}.a1b2c3.tmp"
        old = tmp_path / ".results.parquet.x8y7z6.tmp"  # an older name: no writer to check
        fresh_other_host = tmp_path / ".plan.json.otherhost-1.q1w2e3.tmp"
        for f in (left, mine, old, fresh_other_host):
            f.write_text("partial")
        os.utime(old, (time.time() - 2 * 86400,) * 2)
        assert clean_temp_files(tmp_path) == 2
        assert not left.exists() and not old.exists() and mine.exists() and fresh_other_host.exists()
    finally:
        live.kill()
        live.wait()


def test_atomic_writes_name_their_writer(tmp_path):
    atomic_write_json(tmp_path / "x.json", {"a": 1})
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.slow
def test_the_report_replaces_a_planted_symlink_instead_of_writing_through_it(base, tmp_path):
    from harness.report import write_report

    m, p, src = base
    out = tmp_path / "run"
    shutil.copytree(src, out)
    victim = tmp_path / "outside.txt"
    victim.write_text("precious")
    for name in ("README.md", "accuracy.png"):
        target = out / name
        if target.exists():
            target.unlink()
        target.symlink_to(victim)
    write_report(out)
    assert victim.read_text() == "precious"
    assert not (out / "README.md").is_symlink() and "#" in (out / "README.md").read_text()
    assert not (out / "accuracy.png").is_symlink() and (out / "accuracy.png").read_bytes()[:4] == b"\x89PNG"
