"""Drawing the next cells' problems while the current one trains (`harness run --prefetch`).

On a GPU the data stage is on the critical path: an iGSM cell draws 250,000 problems on one CPU core
(minutes) while the GPU waits. The prefetcher is one background process that walks the run's pending
cells in the order they will run and draws each distinct problem set (a (task, seed)'s training
problems; the eval problems) into the run directory's problems folder (harness.problem_cache), from
which the cells read them back. It draws through the very function a cell uses
(`pipeline.side_problems`) under the same per-set lock, so a cell that reaches a set the prefetcher
is drawing waits for it instead of drawing it twice, and results are identical with or without it.
Tasks that keep no problem records are skipped (their cells draw as before). Nothing it holds
matters: stopping or killing it costs at most the set it was drawing (its lock is broken at once,
its temporary file removed by the next run).
"""

from __future__ import annotations

import datetime as _dt
import json
import multiprocessing as mp
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


def want_prefetch(setting: str, device: str) -> bool:
    """--prefetch auto|on|off: auto prefetches on CUDA, where the CPU is idle while the GPU trains; on
    a CPU the cores already train cells side by side."""
    if setting not in ("auto", "on", "off"):
        raise ValueError(f"--prefetch must be auto, on or off, got {setting!r}")
    return setting == "on" or (setting == "auto" and device == "cuda")


class Prefetcher:
    """The background process, as a context manager: started on enter (if there is anything to
    draw), stopped on exit (at once if it is still drawing: its work is only ever a head start)."""

    def __init__(self, out_dir: Path, cells: Sequence[Any]):
        self.out_dir = Path(out_dir)
        self.jobs = prefetch_jobs(cells)
        self.proc: Any = None
        self._stop: Any = None

    @property
    def log_path(self) -> Path:
        return problems_dir(self.out_dir) / "prefetch.log"

    def __enter__(self) -> "Prefetcher":
        if self.jobs:
            ctx = mp.get_context("spawn")  # never fork a process that may hold CUDA or threads
            self._stop = ctx.Event()
            self.proc = ctx.Process(target=_work, args=(str(self.out_dir), self.jobs, self._stop),
                                    name="harness-prefetch", daemon=True)
            self.proc.start()
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


def _work(out_dir: str, jobs: list[PrefetchJob], stop: Any) -> None:
    """The prefetcher process: draw each set in turn (read back if it is already there: a no-op)."""
    from harness.pipeline import side_problems
    from harness.problem_cache import ProblemCache

    folder = problems_dir(Path(out_dir))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "prefetch.log", "a", buffering=1) as f:
        def log(msg: str) -> None:
            f.write(f"{_dt.datetime.now().isoformat(timespec='seconds')} {msg}\n")

        cache = ProblemCache(folder, log)
        tasks: dict[str, Any] = {}
        log(f"prefetch: {len(jobs)} problem set(s) to draw ahead of the cells")
        for job in jobs:
            if stop.is_set():
                log("prefetch: stopped (the run ended)")
                return
            try:
                key = json.dumps(job.task.identity(), sort_keys=True, default=str)
                task = tasks.get(key) or tasks.setdefault(key, job.task.instantiate())
                side_problems(task, job.task.identity(), job.seed, job.side, job.n, cache, job.sources)
            except Exception as exc:  # noqa: BLE001 - the cell draws it itself
                log(f"prefetch: {job} failed ({type(exc).__name__}: {exc}); the cell will draw it itself\n"
                    + traceback.format_exc())
        log("prefetch: done")
