"""The built-in executors (this module is the built-in plugin that registers them).

- `serial`: every cell in this process, one after another (the default with `--jobs 1`);
- `pool(jobs=N)`: N spawned worker processes on this machine, each with its share of the CPU threads
  (on one GPU they share the device). Workers send their lifecycle events back over a queue, so the
  terminal shows a cell when it really starts and how far it got. A worker that dies breaks the
  pool, which fails every cell in flight: each of those is retried once in a fresh pool, so only a
  cell that kills its worker twice is recorded failed (without a `result.json`: a rerun redoes it).

An executor only runs what it is given; the order (a fine-tuning cell after its parent) and resume
are the runner's, so a cluster executor added as a plugin needs neither.
"""

from __future__ import annotations

import os
import queue as queue_mod
from typing import Any, Callable, ClassVar, Iterable, Iterator

from pydantic import Field

from harness.events import CellStarted
from harness.hookspecs import hookimpl
from harness.interfaces import Config, Executor


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask: a Slurm or taskset share), else all."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class SerialConfig(Config):
    threads: int | None = Field(default=None, ge=1, le=4096,
                                description="torch CPU threads for the cells (default: leave torch's setting)")


class Serial(Executor):
    """every cell in this process, one after another"""

    def layout(self) -> str:
        t = self.config.threads
        return "one cell at a time in this process" + (f" ({t} CPU thread{'s' if t > 1 else ''})" if t else "")

    name: ClassVar[str] = "serial"
    description: ClassVar[str] = "every cell in this process, one after another"
    Config: ClassVar[type[SerialConfig]] = SerialConfig

    def run(self, cells: Iterable[Any], job: Callable, emit: Callable) -> Iterator[tuple[Any, dict]]:
        if self.config.threads:
            import torch

            torch.set_num_threads(self.config.threads)
        for cell in cells:
            emit(CellStarted(cell, "main"))
            yield cell, job(cell, emit)


class PoolConfig(Config):
    jobs: int = Field(default=2, ge=1, le=4096, description="cells run at once, each in its own worker process")
    threads: int | None = Field(default=None, ge=1, le=4096,
                                description="torch threads per worker (default: usable cores / jobs)")
    gpus: int | None = Field(default=None, ge=0, description="on CUDA: how many of the visible GPUs to spread "
                             "workers over (default: all); worker i runs on GPU i mod gpus, so jobs = k × gpus "
                             "packs k cells per GPU")


def _init_worker(threads: int, slots: Any, gpus: int) -> None:
    # before torch initialises CUDA: pin this worker to one GPU (worker i → GPU i mod gpus)
    if gpus:
        slot = slots.get()
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        ids = visible.split(",") if visible else [str(i) for i in range(gpus)]
        os.environ["CUDA_VISIBLE_DEVICES"] = ids[slot % gpus]
    import torch

    torch.set_num_threads(threads)


def _warm_imports() -> None:
    """In the event queue's server process, before it serves: import the core and every plugin, so
    that two threads unpickling the first events of two workers never import the same modules at
    once (Python reports that as an import deadlock and the event, and its cell, is lost)."""
    import harness.events  # noqa: F401
    import harness.planning  # noqa: F401
    from harness.plugins import get_manager

    get_manager()


def _work(job: Callable, cell: Any, events: Any) -> dict:
    where = f"pid {os.getpid()}"
    if os.environ.get("CUDA_VISIBLE_DEVICES"):
        where += f", gpu {os.environ['CUDA_VISIBLE_DEVICES']}"
    events.put(CellStarted(cell, where))
    return job(cell, events.put)


def _visible_gpus() -> int:
    """GPUs this process may use, without initialising CUDA in it (workers are spawned afterwards)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([v for v in visible.split(",") if v.strip()])
    import torch

    return torch.cuda.device_count()


class Pool(Executor):
    """cells in N spawned worker processes on this machine"""

    name: ClassVar[str] = "pool"
    description: ClassVar[str] = ("cells in `jobs` spawned worker processes on this machine (CPU threads split "
                                  "between them; on CUDA each worker pinned to one GPU, k = jobs / gpus per GPU)")
    Config: ClassVar[type[PoolConfig]] = PoolConfig

    @property
    def threads(self) -> int:
        return self.config.threads or max(1, usable_cores() // self.config.jobs)

    def gpus_for(self, device: str) -> int:
        if device != "cuda":
            return 0
        n = _visible_gpus()
        return min(n, self.config.gpus) if self.config.gpus else n

    def layout(self) -> str:
        return f"running up to {self.config.jobs} cells at once ({self.threads} CPU thread(s) each)"

    def placement(self, device: str) -> str:
        """How workers are placed on this machine, in words (the plan's record of it)."""
        g = self.gpus_for(device)
        if not g:
            return self.layout()
        per = -(-self.config.jobs // g)
        return (f"{self.config.jobs} workers over {g} GPU(s), up to {per} cells per GPU "
                f"(CUDA_VISIBLE_DEVICES pinned per worker), {self.threads} CPU thread(s) each")

    def run(self, cells: Iterable[Any], job: Callable, emit: Callable) -> Iterator[tuple[Any, dict]]:
        """Cells are taken from `cells` only as workers free up (so a runner that claims each cell
        as it is taken shares a directory fairly with other processes)."""
        import concurrent.futures as cf
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        gpus = self.gpus_for(getattr(job, "device", "cpu"))
        cells = iter(cells)
        carry: list[Any] = []  # cells taken but not (or no longer) running because the pool broke
        self._tries: dict[str, int] = {}
        from multiprocessing.managers import SyncManager

        mgr = SyncManager(ctx=ctx)
        mgr.start(_warm_imports)  # its threads unpickle the workers' events: import what they hold first
        with mgr:
            events = mgr.Queue()
            while True:  # a new pool after a worker died and broke the old one (its cells failed)
                slots = mgr.Queue()
                for i in range(self.config.jobs):
                    slots.put(i)
                with cf.ProcessPoolExecutor(max_workers=self.config.jobs, mp_context=ctx, initializer=_init_worker,
                                            initargs=(self.threads, slots, gpus)) as pool:
                    broken = yield from self._drive(pool, cells, carry, job, emit, events)
                if not broken and not carry:
                    return

    def _drive(self, pool: Any, cells: Iterator[Any], carry: list[Any], job: Callable, emit: Callable,
               events: Any) -> Iterator[tuple[Any, dict]]:
        """Run cells on `pool` until `cells` is exhausted (returns False) or the pool broke (True)."""
        import concurrent.futures as cf
        from concurrent.futures.process import BrokenProcessPool

        futures: dict[Any, Any] = {}
        broken = False

        def fill() -> None:
            nonlocal broken
            while len(futures) < self.config.jobs and not broken:
                cell = carry.pop() if carry else next(cells, None)
                if cell is None:
                    return
                try:
                    futures[pool.submit(_work, job, cell, events)] = cell
                except BrokenProcessPool:
                    carry.append(cell)
                    broken = True

        def drain() -> None:
            while True:
                try:
                    emit(events.get_nowait())
                except queue_mod.Empty:
                    return

        try:
            fill()
            while futures:
                done, _ = cf.wait(list(futures), timeout=0.2, return_when=cf.FIRST_COMPLETED)
                drain()
                for fut in done:
                    cell = futures.pop(fut)
                    try:
                        row = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a dead worker fails its cell, not the run
                        if isinstance(exc, BrokenProcessPool):
                            broken = True
                            # one worker died and the pool failed every cell in flight: which one killed
                            # it is unknown, so each gets one more try in a fresh pool
                            self._tries[cell.cell_id] = self._tries.get(cell.cell_id, 0) + 1
                            if self._tries[cell.cell_id] < 2:
                                carry.append(cell)
                                continue
                        row = {"cell_id": cell.cell_id, "condition": cell.condition, "seed": cell.seed,
                               "status": "failed", "error": f"worker died: {type(exc).__name__}: {exc}"}
                    yield cell, row
                fill()
        finally:
            for fut in futures:
                fut.cancel()
            drain()
        return broken


@hookimpl
def harness_register_executors(register):
    register(Serial, default=True)
    register(Pool)
