"""`ray`: each cell a Ray task with its resource request, on an existing cluster or a local one.

The runner (the Ray driver, where `harness run` was typed) claims each cell in the shared run
directory as it submits it and heart-beats the claim while the task runs, so Ray workers need only
the directory on a shared filesystem and the same harness installed. Tasks send their lifecycle
events back through a Ray queue, so the terminal shows each cell's progress. At most as many tasks are
in flight as the cluster can start at once (its CPUs / `cpus`, its GPUs / the GPU share), so cells are
claimed only when they can start. Ray's fractional GPUs are counted per node (ray#5902): a share of
1/k packs k cells onto each GPU of a node.
"""

from __future__ import annotations

import os
from typing import Any, Callable, ClassVar, Iterable, Iterator

from pydantic import Field

from harness import CellStarted, Config, Executor, PlanError

EXTRA = "the ray executor needs Ray: pip install 'harness[ray]' (or pip install 'ray>=2.9')"


class RayConfig(Config):
    address: str | None = Field(default=None, description="Ray cluster to join (default: $RAY_ADDRESS, else "
                                "start a local one for this run)")
    cpus: float = Field(default=1.0, gt=0, description="CPUs each cell asks for (its torch threads)")
    cells_per_gpu: int = Field(default=1, ge=1, description="on CUDA: cells sharing one GPU (each asks for "
                               "1/cells_per_gpu of a GPU)")
    max_in_flight: int | None = Field(default=None, ge=1, description="cells submitted at once (default: "
                                      "what the cluster's CPUs and GPUs can start)")
    num_cpus: int | None = Field(default=None, ge=1, description="CPUs of the local cluster this run starts "
                                 "(default: all); ignored when joining a cluster")


def _ray_cell(job: Callable, cell: Any, events: Any, threads: int) -> dict:
    """A Ray task: one cell, its events put on the driver's queue."""
    import ray
    import torch

    torch.set_num_threads(threads)

    def emit(event: Any) -> None:
        if events is not None:
            events.put_nowait(event)

    node = ray.get_runtime_context().get_node_id()[:8]
    where = f"ray node {node} pid {os.getpid()}"
    if os.environ.get("CUDA_VISIBLE_DEVICES"):
        where += f" gpu {os.environ['CUDA_VISIBLE_DEVICES']}"
    emit(CellStarted(cell, where))
    return job(cell, emit)


class Ray(Executor):
    """cells as Ray tasks on a Ray cluster (an existing one or a local one)"""

    name: ClassVar[str] = "ray"
    description: ClassVar[str] = ("each cell a Ray task asking for `cpus` CPUs (and 1/cells_per_gpu GPU on CUDA), "
                                  "on the cluster at `address`/$RAY_ADDRESS or a local one; needs harness[ray]")
    Config: ClassVar[type[RayConfig]] = RayConfig

    def __init__(self, config: RayConfig):
        super().__init__(config)
        try:
            import ray  # noqa: F401
        except ImportError:
            raise PlanError(EXTRA) from None

    def gpu_share(self, device: str) -> float:
        return 1.0 / self.config.cells_per_gpu if device == "cuda" else 0.0

    def layout(self) -> str:
        where = self.config.address or os.environ.get("RAY_ADDRESS") or "a local Ray cluster"
        return f"cells as Ray tasks on {where} ({self.config.cpus:g} CPU each)"

    def placement(self, device: str) -> str:
        g = self.gpu_share(device)
        return self.layout() + (f", {g:g} GPU each ({self.config.cells_per_gpu} per GPU)" if g else "")

    def run(self, cells: Iterable[Any], job: Callable, emit: Callable) -> Iterator[tuple[Any, dict]]:
        import queue as queue_mod

        import ray
        from ray.util.queue import Queue

        started_here = not ray.is_initialized()
        if started_here:
            address = self.config.address or os.environ.get("RAY_ADDRESS")
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                kwargs["address"] = address
            elif self.config.num_cpus:
                kwargs["num_cpus"] = self.config.num_cpus
            ray.init(**kwargs)
        try:
            gpus = self.gpu_share(getattr(job, "device", "cpu"))
            task = ray.remote(num_cpus=self.config.cpus, num_gpus=gpus, max_retries=0)(_ray_cell)
            res = ray.cluster_resources()
            limit = self.config.max_in_flight or max(1, min(
                int(res.get("CPU", 1) // self.config.cpus),
                int(res.get("GPU", 0) // gpus) if gpus else 1 << 30))
            events = Queue()
            threads = max(1, int(self.config.cpus))
            cells = iter(cells)
            in_flight: dict[Any, Any] = {}

            def fill() -> None:
                while len(in_flight) < limit:
                    cell = next(cells, None)
                    if cell is None:
                        return
                    in_flight[task.remote(job, cell, events, threads)] = cell

            def drain() -> None:
                while True:
                    try:
                        emit(events.get_nowait())
                    except queue_mod.Empty:  # ray.util.queue.Empty is a queue.Empty
                        return

            try:
                fill()
                while in_flight:
                    ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
                    drain()
                    for ref in ready:
                        cell = in_flight.pop(ref)
                        try:
                            row = ray.get(ref)
                        except Exception as exc:  # noqa: BLE001 - a lost task fails its cell, not the run
                            row = {"cell_id": cell.cell_id, "condition": cell.condition, "seed": cell.seed,
                                   "status": "failed", "error": f"ray task lost: {type(exc).__name__}: {exc}"}
                        yield cell, row
                    fill()
            finally:
                for ref in in_flight:
                    ray.cancel(ref, force=True)
                drain()
                ray.kill(events.actor)
        finally:
            if started_here:
                ray.shutdown()
