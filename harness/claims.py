"""Claims on a shared run directory: several `harness run` processes (on one machine or many sharing a
filesystem) never run a cell at the same time, and a dead worker's cell is taken over.

A claim is the file ``DIR/claims/<cell_id>.json``, created exclusively: its content is written to a
temporary file that is then hard-linked onto the claim's name (``os.link`` fails if the name exists,
atomically, also on NFS, unlike ``O_EXCL`` on old NFS clients). It records who holds it (host, pid,
the process's start time, a random token, the Slurm job if any) and its lease. The holder's heartbeat
thread touches the file (its mtime) every ``lease / 4`` seconds; a claim is *stale*

- when its mtime is older than its lease (the holder stopped: a dead machine, a frozen process), or
- at once, when the holder ran on this host and that process is gone (a SIGKILLed local worker: the
  rerun takes its cell over without waiting out the lease).

Taking over a stale claim happens under a short-lived ``<cell_id>.takeover`` lock (same link trick),
re-checking staleness under it, so two workers never both break one claim. A holder whose claim was
taken over (it froze for longer than the lease) sees the token change at its next heartbeat;
`holds()` says so and the runner does not record that cell's row as its own.

Clocks: leases compare file mtimes with this machine's clock, so machines sharing a directory need
clocks within a small fraction of the lease (NTP gives milliseconds; the default lease is 2 minutes).
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

DEFAULT_LEASE_S = 120.0
TAKEOVER_LOCK_S = 30.0  # a takeover (or table-write) lock older than this was left by a dead process


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (Linux); None where /proc has no answer."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _proc_start(pid: int) -> str | None:
    """A process's start time in clock ticks since boot (Linux); None where /proc has no answer."""
    fields = _proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that pid: alive as far as we can tell
    fields = _proc_stat(pid)
    if fields and fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent
        return False
    now_start = fields[19] if fields and len(fields) > 19 else None
    return start is None or now_start is None or now_start == start  # a reused pid is not our holder


def worker_name() -> str:
    """Who this process is, for `harness status`: host, pid and the Slurm job / Ray node if any."""
    parts = [f"{socket.gethostname()} pid {os.getpid()}"]
    job = os.environ.get("SLURM_JOB_ID")
    if job:
        task = os.environ.get("SLURM_ARRAY_TASK_ID")
        parts.append(f"slurm job {job}" + (f"_{task}" if task else ""))
    if os.environ.get("CUDA_VISIBLE_DEVICES"):
        parts.append(f"gpu {os.environ['CUDA_VISIBLE_DEVICES']}")
    return ", ".join(parts)


def _link_create(path: Path, payload: dict[str, Any]) -> bool:
    """Create `path` with `payload` iff it does not exist (atomically); False if it exists."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
    finally:
        os.unlink(tmp)


def read_claim(path: Path) -> dict[str, Any] | None:
    """A claim file's content with its heartbeat (mtime) as `heartbeat`, or None if there is none."""
    try:
        info = json.loads(path.read_text())
        if not isinstance(info, dict):  # valid JSON, but not a claim
            return None
        info["heartbeat"] = path.stat().st_mtime
        return info
    except (OSError, ValueError):
        return None


def is_stale(info: dict[str, Any], now: float | None = None) -> bool:
    now = time.time() if now is None else now
    if now - float(info.get("heartbeat", 0)) > float(info.get("lease_s", DEFAULT_LEASE_S)):
        return True
    if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
        return not _alive(info["pid"], info.get("pid_start"))
    return False


class FileLock:
    """A mutual-exclusion lock file beside the data it guards (the results tables): created with the
    link trick; one left by a dead process (older than `stale_s`) is broken."""

    def __init__(self, path: Path, stale_s: float = TAKEOVER_LOCK_S, poll_s: float = 0.05):
        self.path, self.stale_s, self.poll_s = Path(path), stale_s, poll_s

    def acquire(self, timeout: float = 600.0) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        while not _link_create(self.path, {"owner": worker_name(), "at": time.time()}):
            try:
                if time.time() - self.path.stat().st_mtime > self.stale_s:
                    self.path.unlink(missing_ok=True)
                    continue
            except FileNotFoundError:
                continue
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"could not take the lock {self.path} within {timeout:.0f} s")
            time.sleep(self.poll_s)

    def release(self) -> None:
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


@dataclass
class Held:
    path: Path
    token: str
    lost: bool = False


class Claims:
    """This process's claims on the cells of one run directory, kept alive by a heartbeat thread."""

    def __init__(self, out_dir: Path, lease_s: float = DEFAULT_LEASE_S, heartbeat_s: float | None = None,
                 folder: Path | None = None):
        """Claims on the cells of `out_dir` (in out_dir/claims), or on any names in `folder` (the
        problem cache claims the right to draw a problem set this way)."""
        if lease_s <= 0:
            raise ValueError(f"lease must be positive, got {lease_s}")
        self.dir = Path(folder) if folder is not None else Path(out_dir) / "claims"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lease_s = float(lease_s)
        self.heartbeat_s = heartbeat_s if heartbeat_s is not None else max(0.05, self.lease_s / 4)
        self.held: dict[str, Held] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.owner = worker_name()
        self.pid_start = _proc_start(os.getpid())

    # --------------------------------------------------------------------------------- claiming
    def path(self, cell_id: str) -> Path:
        return self.dir / f"{cell_id}.json"

    def try_claim(self, cell_id: str) -> bool:
        """Claim the cell if nobody holds it (or its holder is gone); True if it is now ours."""
        path = self.path(cell_id)
        token = uuid.uuid4().hex
        payload = {"cell_id": cell_id, "owner": self.owner, "host": socket.gethostname(), "pid": os.getpid(),
                   "pid_start": self.pid_start, "token": token, "claimed_at": time.time(), "lease_s": self.lease_s}
        for _ in range(2):
            if _link_create(path, payload):
                with self._lock:
                    self.held[cell_id] = Held(path, token)
                self._ensure_heartbeat()
                return True
            info = self._state(path)
            if info is None:  # released between our attempt and the read: try once more
                continue
            if info.get("token") in {h.token for h in self.held.values()}:
                return False  # our own (a second claim attempt by this process)
            if not is_stale(info) or not self._break(cell_id, info):
                return False
        return False

    def _break(self, cell_id: str, seen: dict[str, Any]) -> bool:
        """Remove a stale claim, under the takeover lock, if it is still the stale one we saw."""
        lock = self.dir / f"{cell_id}.takeover"
        if not _link_create(lock, {"owner": self.owner, "at": time.time()}):
            try:
                if time.time() - lock.stat().st_mtime > TAKEOVER_LOCK_S:
                    lock.unlink(missing_ok=True)
            except FileNotFoundError:
                pass
            return False
        try:
            now_info = self._state(self.path(cell_id))
            if now_info is None:
                return True
            if now_info.get("token") != seen.get("token") or not is_stale(now_info):
                return False
            self.path(cell_id).unlink(missing_ok=True)
            return True
        finally:
            lock.unlink(missing_ok=True)

    def _state(self, path: Path) -> dict[str, Any] | None:
        """The claim at `path`, or None if there is none; a file that is not a readable claim (a
        damaged disk, someone's stray file) counts as a claim without a holder, stale once it is
        older than this lease, so it cannot block a cell (or a problem set) for ever."""
        info = read_claim(path)
        if info is not None:
            return info
        try:
            return {"heartbeat": path.stat().st_mtime, "lease_s": self.lease_s}
        except OSError:
            return None

    def holds(self, cell_id: str) -> bool:
        """Whether the claim is still ours (not taken over after a stall longer than the lease)."""
        h = self.held.get(cell_id)
        if h is None or h.lost:
            return False
        info = read_claim(h.path)
        return bool(info and info.get("token") == h.token)

    def release(self, cell_id: str) -> None:
        with self._lock:
            h = self.held.pop(cell_id, None)
        if h is not None and not h.lost:
            info = read_claim(h.path)
            if info and info.get("token") == h.token:
                h.path.unlink(missing_ok=True)

    def release_all(self) -> None:
        for cell_id in list(self.held):
            self.release(cell_id)
        self._stop.set()

    # -------------------------------------------------------------------------------- heartbeat
    def _ensure_heartbeat(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._beat, name="harness-claims-heartbeat", daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            self.beat()

    def beat(self) -> None:
        """Touch every held claim; mark the ones another worker took over as lost."""
        with self._lock:
            held = list(self.held.values())
        for h in held:
            info = read_claim(h.path)
            if not info or info.get("token") != h.token:
                h.lost = True
                continue
            try:
                os.utime(h.path)
            except FileNotFoundError:
                h.lost = True


def list_claims(out_dir: Path) -> Iterator[dict[str, Any]]:
    """Every claim in a run directory with its state (`stale`), for `harness status`."""
    d = Path(out_dir) / "claims"
    if not d.is_dir():
        return
    now = time.time()
    for p in sorted(d.glob("*.json")):
        info = read_claim(p)
        if info is not None:
            info["stale"] = is_stale(info, now)
            yield info
