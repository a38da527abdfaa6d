"""The built-in executors (this module is the built-in plugin that registers them).

- `serial`: every cell in this process, one after another (the default with `--jobs 1`);
- `pool(jobs=N)`: N spawned worker processes on this machine, each with its share of the CPU threads
  (on one GPU they share the device). Workers send their lifecycle events back over a queue, so the
  terminal shows a cell when it really starts and how far it got. A worker that dies fails its cell
  only; `result.json` is never written for it, so a rerun redoes it.

An executor only runs what it is given; the order (a fine-tuning cell after its parent) and resume
are the runner's, so a cluster executor added as a plugin needs neither.
"""

from __future__ import annotations

import os
import queue as queue_mod
from typing import Any, Callable, ClassVar, Iterator, Sequence

from pydantic import Field

from harness.events import CellStarted
from harness.hookspecs import hookimpl
from harness.interfaces import Config, Executor


class SerialConfig(Config):
    pass


class Serial(Executor):
    """every cell in this process, one after another"""

    def layout(self) -> str:
        return "one cell at a time in this process"

    name: ClassVar[str] = "serial"
    description: ClassVar[str] = "every cell in this process, one after another"
    Config: ClassVar[type[SerialConfig]] = SerialConfig

    def run(self, cells: Sequence[Any], job: Callable, emit: Callable) -> Iterator[tuple[Any, dict]]:
        for cell in cells:
            emit(CellStarted(cell, "main"))
            yield cell, job(cell, emit)


class PoolConfig(Config):
    jobs: int = Field(default=2, ge=1, description="cells run at once, each in its own worker process")
    threads: int | None = Field(default=None, ge=1, description="torch threads per worker (default: cores / jobs)")


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _work(job: Callable, cell: Any, events: Any) -> dict:
    events.put(CellStarted(cell, f"pid {os.getpid()}"))
    return job(cell, events.put)


class Pool(Executor):
    """cells in N spawned worker processes on this machine"""

    name: ClassVar[str] = "pool"
    description: ClassVar[str] = "cells in `jobs` spawned worker processes on this machine (CPU threads split between them)"
    Config: ClassVar[type[PoolConfig]] = PoolConfig

    @property
    def threads(self) -> int:
        return self.config.threads or max(1, (os.cpu_count() or 1) // self.config.jobs)

    def layout(self) -> str:
        return f"running up to {self.config.jobs} cells at once ({self.threads} CPU thread(s) each)"

    def run(self, cells: Sequence[Any], job: Callable, emit: Callable) -> Iterator[tuple[Any, dict]]:
        import concurrent.futures as cf
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        with ctx.Manager() as mgr, cf.ProcessPoolExecutor(
            max_workers=self.config.jobs, mp_context=ctx, initializer=_init_worker, initargs=(self.threads,)
        ) as pool:
            events = mgr.Queue()
            futures = {pool.submit(_work, job, cell, events): cell for cell in cells}
            pending = set(futures)

            def drain() -> None:
                while True:
                    try:
                        emit(events.get_nowait())
                    except queue_mod.Empty:
                        return

            try:
                while pending:
                    done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                    drain()
                    for fut in done:
                        cell = futures[fut]
                        try:
                            row = fut.result()
                        except Exception as exc:  # noqa: BLE001 - a dead worker fails its cell, not the run
                            row = {"cell_id": cell.cell_id, "condition": cell.condition, "seed": cell.seed,
                                   "status": "failed", "error": f"worker died: {type(exc).__name__}: {exc}"}
                        yield cell, row
            finally:
                for fut in pending:
                    fut.cancel()
                drain()


@hookimpl
def harness_register_executors(register):
    register(Serial, default=True)
    register(Pool)
