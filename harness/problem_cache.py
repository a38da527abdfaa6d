"""Problems drawn once per (task, seed, side, n) and kept in the run directory.

Training problems depend on the task and the seed only (corruption has its own random stream), so
the oracle, retry and retry_miss cells of one seed train on the same problems. Where generating them
costs more than reading them back (iGSM: ~0.5 ms a problem, 250,000 a cell), the first cell that
needs them draws them and writes ``DIR/problems/<key>.parquet``; the other cells of that seed, and a
resumed run, read them back. A task opts in by implementing `problem_record` and
`problem_from_record` (harness.interfaces.ProblemSource); other tasks draw as before.

The key hashes what decides the draw: the task's identity, its plugin's source hash, the core's
source hash, the seed, the side and n, so a changed generator never reads stale problems. A cell that
finds another process drawing the same problems waits for it (a claim on the set in `locks/`, as
cells are claimed: one left by a dead process is taken over; a live one is waited for at most
`_MAX_WAIT_S`) instead of drawing them a second time.
`harness run --prefetch` uses the same folder to draw the next cells' problems in a background
process while the current cell trains. A
file that does not read back whole is drawn again; a file that cannot be written costs nothing but
the saving. The folder may be deleted at any time.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable

from harness.interfaces import Problem, ProblemSource

#: bump when the file layout changes (old files are then simply not found)
FORMAT = 1
#: rows per Arrow chunk while writing (bounds the Python strings alive at once)
_CHUNK = 16_384
#: the lease of a draw lock: one whose heartbeat is this old was left by a dead process
_STALE_S = 60.0
#: seconds between a drawer's heartbeats
_BEAT_S = 5.0
#: the longest a cell waits for another process drawing the same set before it draws them itself
_MAX_WAIT_S = 1800.0


def supported(task: Any) -> bool:
    """Whether the task (an instance or its class) implements the record pair (both overridden
    from ProblemSource)."""
    cls = task if isinstance(task, type) else type(task)
    return (getattr(cls, "problem_record", None) is not ProblemSource.problem_record
            and getattr(cls, "problem_from_record", None) is not ProblemSource.problem_from_record)


def cache_identity(task_identity: dict[str, Any], sources: dict[str, str | None], seed: int | None,
                   side: str, n: int) -> dict[str, Any]:
    plugin = task_identity.get("plugin")
    return {"format": FORMAT, "task": task_identity, "source": sources.get(plugin) if plugin else None,
            "core": sources.get("harness-core"), "seed": seed, "side": side, "n": n}


def cache_key(identity: dict[str, Any]) -> str:
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


class ProblemCache:
    """The problems folder of one run directory."""

    def __init__(self, folder: Path, log: Callable[[str], None] = lambda _m: None):
        self.folder = Path(folder)
        self.log = log

    def path(self, identity: dict[str, Any]) -> Path:
        return self.folder / f"{cache_key(identity)}.parquet"

    def lock(self, identity: dict[str, Any]) -> "_DrawLock":
        """The right to draw the set (`locks/<key>.json`)."""
        return _DrawLock(self.folder / "locks", cache_key(identity))

    def get(self, task: Any, identity: dict[str, Any], draw: Callable[[Callable[[int], None] | None], list[Problem]],
            on_progress: Callable[[int], None] | None = None,
            on_wait: Callable[[], None] | None = None) -> list[Problem]:
        """The problems `identity` names: read back if kept, else drawn by `draw(on_progress)` and kept.
        `on_wait` is called once if another process is drawing them and this one waits (at most
        `_MAX_WAIT_S`; then it draws them itself, without keeping)."""
        if not supported(task):
            return draw(on_progress)
        path, side = self.path(identity), identity["side"]
        got = self._read(task, path, identity["n"])
        if got is not None:
            self.log(f"problem cache: read {len(got)} {side} problems back from problems/{path.name}")
            return got
        lock = self.lock(identity)
        try:
            mine = lock.acquire(on_wait, timeout=_MAX_WAIT_S)
        except OSError as e:  # a read-only or vanished folder: draw without keeping
            self.log(f"problem cache: cannot lock in {self.folder} ({e}); drawing without keeping")
            return draw(on_progress)
        if not mine:
            self.log(f"problem cache: another process has been drawing problems/{path.name} for over "
                     f"{_MAX_WAIT_S:.0f} s; drawing them here without keeping")
            return draw(on_progress)
        try:
            got = self._read(task, path, identity["n"])  # kept by another process since the first look?
            if got is not None:
                self.log(f"problem cache: read {len(got)} {side} problems back from problems/{path.name}, "
                         "drawn meanwhile by another process")
                return got
            problems = draw(on_progress)
            self._write(task, path, identity, problems)
            return problems
        finally:
            lock.release()

    def warm(self, task: Any, identity: dict[str, Any], draw: Callable[[], list[Problem]]) -> str:
        """Make sure the set is kept, without reading it back (the prefetcher needs no problems): "kept"
        if its file is there, "busy" if another process holds its lock (left to it), "drawn" once
        drawn and written here, "skipped" for a task without records or a folder it cannot lock in."""
        if not supported(task):
            return "skipped"
        path = self.path(identity)
        if path.exists():
            return "kept"
        lock = self.lock(identity)
        try:
            if not lock.acquire(timeout=0.0):
                return "busy"
        except OSError as e:
            self.log(f"problem cache: cannot lock in {self.folder} ({e})")
            return "skipped"
        try:
            if path.exists():
                return "kept"
            self._write(task, path, identity, draw())
            return "drawn"
        finally:
            lock.release()

    # ------------------------------------------------------------------------------------ files
    def _read(self, task: Any, path: Path, n: int) -> list[Problem] | None:
        try:
            if not path.exists():
                return None
        except OSError:  # e.g. a stale NFS handle: as if not kept
            return None
        import polars as pl

        from harness.data import paused_gc

        # JSON values form no reference cycles, so the cycle collector has nothing to find while they
        # are built (as harness.data pauses it while drawing); paused, the read was 1.10x faster on a
        # heap of only the problems (scripts/bench_problem_cache.py), more where the heap holds more
        with paused_gc():
            return self._rebuild(task, path, n, pl)

    def _rebuild(self, task: Any, path: Path, n: int, pl: Any) -> list[Problem] | None:
        try:
            df = pl.read_parquet(path)
            if df.height != n or df.columns != ["key", "meta", "record"]:
                raise ValueError(f"{df.height} rows of {df.columns}, expected {n} of key, meta, record")
            loads, rebuild = json.loads, task.problem_from_record
            return [rebuild(k, loads(m), loads(r))
                    for k, m, r in zip(df["key"].to_list(), df["meta"].to_list(), df["record"].to_list())]
        except Exception as e:  # noqa: BLE001 - any damage means: draw again
            self.log(f"problem cache: {path.name} does not read back ({type(e).__name__}: {e}); drawing again")
            return None

    def _write(self, task: Any, path: Path, identity: dict[str, Any], problems: list[Problem]) -> None:
        import polars as pl

        from harness.store import atomic_path, atomic_write_json

        try:
            dumps, record = json.dumps, task.problem_record
            chunks = []
            for i in range(0, len(problems), _CHUNK):
                part = problems[i:i + _CHUNK]
                chunks.append(pl.DataFrame({
                    "key": [p.key for p in part],
                    "meta": [dumps(p.meta, separators=(",", ":")) for p in part],
                    "record": [dumps(record(p), separators=(",", ":")) for p in part],
                }, schema={"key": pl.String, "meta": pl.String, "record": pl.String}))
            df = pl.concat(chunks) if chunks else pl.DataFrame(schema={"key": pl.String, "meta": pl.String,
                                                                       "record": pl.String})
            atomic_write_json(path.with_suffix(".json"), identity)
            with atomic_path(path) as tmp:
                df.write_parquet(tmp, compression="zstd")
            self.log(f"problem cache: kept {len(problems)} {identity['side']} problems in problems/{path.name}")
        except Exception as e:  # noqa: BLE001 - a full disk, a payload that is not JSON, a task's bug: keep nothing
            self.log(f"problem cache: could not keep {path.name} ({type(e).__name__}: {e}); the run goes on")


class _DrawLock:
    """The right to draw one problem set: a claim (harness.claims) named by the set's key in the
    problems folder's `locks/`, kept alive by the claims' heartbeat while its holder draws, so a
    waiter can tell a live drawer (wait) from a dead one (a holder on this host whose process is
    gone at once, any other after `_STALE_S` without a heartbeat; taken over under the claims'
    takeover lock, by one waiter)."""

    def __init__(self, folder: Path, key: str):
        self.folder, self.key = Path(folder), key
        self._claims: Any = None

    @property
    def path(self) -> Path:
        return self.folder / f"{self.key}.json"

    @property
    def token(self) -> str | None:
        held = self._claims.held.get(self.key) if self._claims is not None else None
        return held.token if held is not None else None

    def acquire(self, on_wait: Callable[[], None] | None = None, timeout: float = _MAX_WAIT_S) -> bool:
        """Take the lock, waiting at most `timeout` seconds for a live holder (0: one try); False if
        it is still held then. `on_wait` is called once when this starts waiting."""
        from harness.claims import Claims

        self._claims = Claims(self.folder, lease_s=_STALE_S, heartbeat_s=_BEAT_S, folder=self.folder)
        deadline = time.monotonic() + timeout
        waited = False
        while not self._claims.try_claim(self.key):
            if time.monotonic() >= deadline:
                return False
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        return True

    def release(self) -> None:
        """Remove the lock if it is still this holder's (stops its heartbeat)."""
        if self._claims is not None:
            self._claims.release_all()
