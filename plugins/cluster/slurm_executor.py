"""`slurm`: an array of harness workers submitted with submitit, each claiming cells from the shared
run directory and packing `jobs` of them on its node (k per GPU).

Why workers rather than one array task per cell: Slurm schedulers are tuned for tens to hundreds of
array tasks, and a grid of thousands of minutes-long cells launched one task each spends its time in
the queue. Each array task here is a `harness.runner.work_cells` loop: it claims the next undone cell
(harness.claims: a lock file with a lease and a heartbeat), runs it, and goes on until the wave is
done, so uneven cells balance themselves, a pre-empted or timed-out task loses only its cells in
flight (another task, or the next `harness run`, takes them over when its lease runs out), and
`workers` = the number of cells gives the classic one-cell-per-task array. The submitting process
waits for the array, then reads the results from the directory; `harness status DIR` shows who runs
what meanwhile. The run directory must be on a filesystem every node sees.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Iterator, Literal

from pydantic import Field

from harness import DEFAULT_LEASE_S, Config, Executor, PlanError, RunMessage, read_cell_result

EXTRA = "the slurm executor needs submitit: pip install 'harness[slurm]' (or pip install 'submitit>=1.5')"


class SlurmConfig(Config):
    partition: str | None = Field(default=None, description="Slurm partition (sbatch --partition)")
    account: str | None = Field(default=None, description="Slurm account to charge (sbatch --account)")
    qos: str | None = Field(default=None, description="quality of service (sbatch --qos)")
    time_min: int = Field(default=240, ge=1, description="time limit of each worker, minutes (sbatch --time)")
    workers: int | None = Field(default=None, ge=1, description="array tasks (default: one per cell, at most "
                                "array_parallelism); each claims cells until none is left")
    jobs: int = Field(default=1, ge=1, description="cells each worker runs at once (k per GPU on CUDA)")
    gpus_per_task: int | None = Field(default=None, ge=0, description="GPUs per worker (default: 1 on CUDA, 0 on CPU)")
    cpus_per_task: int = Field(default=2, ge=1, description="CPUs per worker (split between its jobs)")
    mem_gb: float | None = Field(default=None, gt=0, description="memory per worker, GB (default: the partition's)")
    array_parallelism: int = Field(default=256, ge=1, description="array tasks running at once (sbatch --array=...%N)")
    lease_s: float = Field(default=DEFAULT_LEASE_S, gt=0, description="claim lease: a worker silent this long "
                           "(pre-empted, dead node) loses its cells to another")
    setup: list[str] = Field(default_factory=list, description="shell lines run before each worker (module load, "
                             "source a venv)")
    extra: dict[str, str] = Field(default_factory=dict, description="more sbatch options, e.g. {constraint = \"h100\"}")
    folder: str | None = Field(default=None, description="where submitit writes job scripts and logs (default: "
                               "RUN_DIR/slurm)")
    cluster: Literal["slurm", "local", "debug"] | None = Field(
        default=None, description="submitit backend (default: slurm where sbatch exists; local runs the workers "
        "as processes on this machine, for tests)")
    poll_s: float = Field(default=10.0, gt=0, description="seconds between checks of the array's state")
    compile_cache: str | None = Field(
        default="run", description="torch.compile's kernel cache for every worker (TORCHINDUCTOR_CACHE_DIR): 'run' = "
        "RUN_DIR/.torchinductor, shared by the array's tasks on every node (a node's /tmp, torch's default, is often "
        "wiped between jobs; a warm cache compiled a CPU cell 6x faster: scripts/bench_compile_cache.py); a path; or "
        "None for torch's default. A TORCHINDUCTOR_CACHE_DIR set in `setup` or the environment wins")


@dataclass(frozen=True)
class WorkerArgs:
    """What one array task gets (pickled by submitit into the job folder)."""

    cells: tuple[Any, ...]
    out_dir: Path
    device: str
    jobs: int
    threads: int
    lease_s: float
    compile_cache: str | None = None  # TORCHINDUCTOR_CACHE_DIR for this worker, unless set already


def compile_cache_dir(setting: str | None, out_dir: Path) -> str | None:
    """The inductor cache directory `compile_cache` names for a run in `out_dir` (None: torch's default)."""
    if setting is None or not setting.strip():
        return None
    return str(Path(out_dir) / ".torchinductor") if setting == "run" else str(Path(setting).expanduser().resolve())


def use_compile_cache(path: str | None, environ: Any = None) -> str | None:
    """Point torch.compile's kernel cache at `path` unless the environment names one already (before
    torch reads it); the directory in effect (None: torch's default)."""
    import os

    environ = os.environ if environ is None else environ
    if path and "TORCHINDUCTOR_CACHE_DIR" not in environ:
        environ["TORCHINDUCTOR_CACHE_DIR"] = path
    return environ.get("TORCHINDUCTOR_CACHE_DIR")


def slurm_worker(args: WorkerArgs) -> dict[str, int]:
    """An array task: claim and run cells of the wave until all are settled; a count of what it did."""
    cache = use_compile_cache(args.compile_cache)
    print(f"compile cache: {cache or 'torch default'}", flush=True)
    import torch

    from harness import CellFinished, CellStarted, local_executor, work_cells

    torch.set_num_threads(args.threads)

    def emit(event: Any) -> None:  # to the task's log (stdout), one line per event worth reading
        if isinstance(event, CellStarted):
            print(f"started {event.cell.cell_id} {event.cell.condition} seed {event.cell.seed} ({event.worker})", flush=True)
        elif isinstance(event, CellFinished) and not event.skipped:
            print(f"{event.row.get('status')} {event.cell.cell_id}: {event.row.get('error') or ''}", flush=True)
        elif isinstance(event, RunMessage):
            print(event.message, flush=True)

    executor = local_executor(args.jobs, args.threads)
    summary = work_cells(list(args.cells), args.out_dir, args.device, executor, args.lease_s, emit)
    return {"ran": len(summary.ran), "failed": len(summary.failed)}


class Slurm(Executor):
    """an array of harness workers on Slurm (submitit), each claiming cells from the shared directory"""

    name: ClassVar[str] = "slurm"
    description: ClassVar[str] = ("a Slurm job array of harness workers (submitit) that claim cells from the shared "
                                  "run directory, `jobs` at once per worker; needs harness[slurm]")
    Config: ClassVar[type[SlurmConfig]] = SlurmConfig
    claims_cells: ClassVar[bool] = False  # its workers claim cells themselves

    def __init__(self, config: SlurmConfig):
        super().__init__(config)
        try:
            import submitit  # noqa: F401
        except ImportError:
            raise PlanError(EXTRA) from None

    def layout(self) -> str:
        n = self.config.workers or "one per cell"
        return (f"Slurm array of harness workers ({n}, {self.config.array_parallelism} at once), "
                f"{self.config.jobs} cell(s) at once each")

    def gpus(self, device: str) -> int:
        if self.config.gpus_per_task is not None:
            return self.config.gpus_per_task
        return 1 if device == "cuda" else 0

    def executor(self, out_dir: Path, device: str, n_tasks: int) -> Any:
        """The configured submitit executor (its parameters are what the sbatch script says)."""
        import submitit

        folder = Path(self.config.folder) if self.config.folder else Path(out_dir) / "slurm"
        ex = submitit.AutoExecutor(folder=folder / "%j", cluster=self.config.cluster)
        params: dict[str, Any] = {"timeout_min": self.config.time_min, "cpus_per_task": self.config.cpus_per_task,
                                  "tasks_per_node": 1, "nodes": 1, "name": f"harness-{Path(out_dir).name}"}
        g = self.gpus(device)
        if g:
            params["gpus_per_node"] = g
        if self.config.mem_gb:
            params["mem_gb"] = self.config.mem_gb
        slurm = {"slurm_partition": self.config.partition, "slurm_account": self.config.account,
                 "slurm_qos": self.config.qos, "slurm_array_parallelism": min(n_tasks, self.config.array_parallelism),
                 "slurm_setup": list(self.config.setup) or None,
                 "slurm_additional_parameters": dict(self.config.extra) or None}
        if ex.cluster == "slurm":
            params.update({k: v for k, v in slurm.items() if v is not None})
        ex.update_parameters(**params)
        return ex

    def submit(self, cells: list[Any], job: Any) -> list[Any]:
        """Submit the array for these cells; the submitit jobs."""
        n = min(self.config.workers or len(cells), len(cells), 10_000)
        device = getattr(job, "device", "cpu")
        threads = max(1, self.config.cpus_per_task // self.config.jobs)
        out_dir = Path(job.out_dir).resolve()
        args = WorkerArgs(tuple(cells), out_dir, device, self.config.jobs, threads, self.config.lease_s,
                          compile_cache_dir(self.config.compile_cache, out_dir))
        ex = self.executor(job.out_dir, device, n)
        return ex.map_array(slurm_worker, [args] * n)

    def run(self, cells: Iterable[Any], job: Callable, emit: Callable) -> Iterator[tuple[Any, dict]]:
        cells = list(cells)
        if not cells:
            return
        jobs = self.submit(cells, job)
        ids = sorted({j.job_id.split("_")[0] for j in jobs})
        emit(RunMessage(f"submitted {len(jobs)} Slurm worker(s) (job {', '.join(ids)}) for {len(cells)} cells; "
                        f"logs in {Path(jobs[0].paths.folder).parent}; watch with: harness status {job.out_dir}"))
        errors: list[str] = []
        try:
            while not all(j.done() for j in jobs):
                time.sleep(self.config.poll_s)
        except KeyboardInterrupt:
            for j in jobs:
                j.cancel(check=False)
            raise
        for j in jobs:
            try:
                j.result()
            except Exception as exc:  # noqa: BLE001 - a failed worker's cells show up below without results
                errors.append(f"worker {j.job_id}: {type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}")
        for cell in cells:
            row = read_cell_result(job.out_dir, cell.cell_id)
            if row is None:
                row = {"cell_id": cell.cell_id, "condition": cell.condition, "seed": cell.seed, "status": "failed",
                       "error": "no Slurm worker finished this cell" + (f" ({'; '.join(errors)[:500]})" if errors else "")}
            yield cell, row


