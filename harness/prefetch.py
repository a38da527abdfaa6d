"""Drawing the next cells' problems while the current one trains (`harness run --prefetch`).

On a GPU the data stage is on the critical path: an iGSM cell draws 250,000 problems on one CPU core
(minutes) while the GPU waits. The prefetcher is one background process that walks the run's pending
cells in the order they will run and draws each distinct problem set (a (task, seed)'s training
problems; the eval problems) into the run directory's problems folder (harness.problem_cache), from
which the cells read them back. It draws through the very recipe a cell uses (`pipeline.problem_set`)
under the same per-set lock, so a cell that reaches a set the prefetcher is drawing waits for it
instead of drawing it twice, and results are identical with or without it; it skips a set that is
kept already or that a cell is drawing (never reading one back: it needs no problems).
Tasks that keep no problem records are skipped (their cells draw as before). Nothing it holds
matters: stopping or killing it costs at most the set it was drawing (its lock is broken at once,
its temporary file removed by the next run).
"""

from __future__ import annotations

import datetime as _dt
import json
import multiprocessing as mp
import os
import signal
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from harness.problem_cache import cache_identity, cache_key, supported
from harness.store import problems_dir

__all__ = ["PrefetchJob", "Prefetcher", "prefetch_jobs", "want_prefetch"]


@dataclass(frozen=True)
class PrefetchJob:
    """One problem set, as the cell that needs it would draw it."""

    task: Any  # harness.planning.Component (picklable: the pool sends whole cells to its workers)
    seed: int
    side: str  # train | eval
    n: int
    sources: dict[str, str | None] = field(default_factory=dict)

    def __str__(self) -> str:
        who = f"seed {self.seed} " if self.side == "train" else ""
        return f"{self.task.choice.label} {who}{self.side} ({self.n:,} problems)"


def prefetch_jobs(cells: Sequence[Any]) -> list[PrefetchJob]:
    """The distinct problem sets of `cells` (in run order) whose task keeps its problems. The first
    training set goes last: the first cell draws it itself at once, so the prefetcher starts with the
    next set instead of waiting on that one."""
    seen: set[str] = set()
    jobs: list[PrefetchJob] = []
    for c in cells:
        if not supported(c.task.cls):
            continue
        for side, n in (("train", c.budget.n_train), ("eval", c.budget.n_eval)):
            seed = c.seed if side == "train" else None
            key = cache_key(cache_identity(c.task.identity(), c.plugin_sources, seed, side, n))
            if key not in seen:
                seen.add(key)
                jobs.append(PrefetchJob(c.task, c.seed, side, n, dict(c.plugin_sources)))
    if jobs and jobs[0].side == "train":
        jobs.append(jobs.pop(0))
    return jobs


def want_prefetch(setting: str, device: str, executor: Any = None) -> bool:
    """--prefetch auto|on|off: auto prefetches on CUDA when the cells run on this machine (the
    built-in serial and pool executors), where a CPU core is idle while the GPU trains; not on a CPU,
    whose cores already train cells side by side, nor for a cluster executor, whose cells run
    elsewhere (its workers share the problems folder all the same)."""
    if setting not in ("auto", "on", "off"):
        raise ValueError(f"--prefetch must be auto, on or off, got {setting!r}")
    here = executor is None or getattr(executor, "name", None) in ("serial", "pool")
    return setting == "on" or (setting == "auto" and device == "cuda" and here)


class Prefetcher:
    """The background process, as a context manager: started on enter (if there is anything to
    draw), stopped on exit (at once if it is still drawing: its work is only ever a head start)."""

    def __init__(self, out_dir: Path, cells: Sequence[Any]):
        self.out_dir = Path(out_dir)
        self.jobs = prefetch_jobs(cells)
        self.proc: Any = None
        self._stop: Any = None
        self.error: str | None = None  # why the process could not start

    @property
    def log_path(self) -> Path:
        return problems_dir(self.out_dir) / "prefetch.log"

    def __enter__(self) -> "Prefetcher":
        if self.jobs:
            ctx = mp.get_context("spawn")  # never fork a process that may hold CUDA or threads
            self._stop = ctx.Event()
            self.proc = ctx.Process(target=_work, args=(str(self.out_dir), self.jobs, self._stop, os.getpid()),
                                    name="harness-prefetch", daemon=True)
            try:
                self.proc.start()
            except Exception as exc:  # noqa: BLE001 - a head start only: the cells draw for themselves
                self.proc, self.error = None, f"{type(exc).__name__}: {exc}"
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self, grace_s: float = 1.0) -> None:
        if self.proc is None:
            return
        self._stop.set()
        self.proc.join(grace_s)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5.0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.proc = None


class _Stop(BaseException):  # not an Exception: no handler on the way swallows it
    """The run ended (or the process that started this one died): stop drawing."""


def _work(out_dir: str, jobs: list[PrefetchJob], stop: Any, parent: int) -> None:
    """The prefetcher process: draw each set that is neither kept nor being drawn by a cell; stop as
    soon as the run ends or its process dies (checked between problems, so a killed run never leaves
    a prefetcher drawing sets nobody will read)."""
    from harness.pipeline import problem_set
    from harness.problem_cache import ProblemCache

    def check(_done: int = 0) -> None:
        if stop.is_set() or os.getppid() != parent:
            raise _Stop

    def on_term(_sig: int, _frame: Any) -> None:  # Prefetcher.stop's terminate(): stop between two bytecodes
        raise _Stop

    signal.signal(signal.SIGTERM, on_term)

    folder = problems_dir(Path(out_dir))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "prefetch.log", "a", buffering=1) as f:
        def log(msg: str) -> None:
            f.write(f"{_dt.datetime.now().isoformat(timespec='seconds')} {msg}\n")

        cache = ProblemCache(folder, log)
        tasks: dict[str, Any] = {}
        log(f"prefetch: {len(jobs)} problem set(s) to draw ahead of the cells")
        try:
            for job in jobs:
                check()
                try:
                    key = json.dumps(job.task.identity(), sort_keys=True, default=str)
                    task = tasks.get(key) or tasks.setdefault(key, job.task.instantiate())
                    ident, draw = problem_set(task, job.task.identity(), job.seed, job.side, job.n, job.sources)
                    what = cache.warm(task, ident, lambda: draw(check))
                    log(f"prefetch: {job}: {_SAID[what]}")
                except _Stop:
                    raise
                except Exception as exc:  # noqa: BLE001 - the cell draws it itself
                    log(f"prefetch: {job} failed ({type(exc).__name__}: {exc}); the cell will draw it itself\n"
                        + traceback.format_exc())
        except _Stop:
            log("prefetch: stopped (the run ended)")
            return
        log("prefetch: done")


_SAID = {"kept": "already kept", "busy": "being drawn by a cell; left to it", "drawn": "drawn",
         "skipped": "not kept (see above)"}
