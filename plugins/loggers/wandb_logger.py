"""`--log wandb`: one Weights & Biases run per cell, grouped by condition."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from harness import Config, Logger, hookimpl
from harness_loggers.common import need, numeric_metrics, x_of

GROUP_BY = Literal["condition", "task", "corruptor", "model", "trainer", "run", "none"]


class WandBConfig(Config):
    project: str = Field(default="harness", min_length=1, description="W&B project")
    entity: str | None = Field(default=None, description="W&B entity (team or user; default: your default entity)")
    mode: Literal["online", "offline", "disabled"] | None = Field(
        default=None, description="online, offline or disabled (default: $WANDB_MODE, else online)")
    group_by: GROUP_BY = Field(
        default="condition", description="what a run's group is: the cell's condition (its seeds together), one "
        "axis's label, the run directory's name, or none")
    tags: tuple[str, ...] = Field(default=(), description='tags for every run: tags="a,b"')
    dir: str | None = Field(default=None, description="where W&B writes its files (default: $WANDB_DIR, else "
                            "the run directory)")

    @field_validator("tags", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return tuple(t.strip() for t in v.split(",") if t.strip()) if isinstance(v, str) else v


class WandB(Logger):
    """Weights & Biases: a run per cell (named by its condition, seed and cell id, grouped by condition,
    the cell's resolved config as the run's config, the corruptor as its job type), train/loss,
    train/lr, train/tokens_per_s per step, the results row's numbers as its summary."""

    name = "wandb"
    description = ("Weights & Biases: a run per cell grouped by condition, train/* per step, the results "
                   "row as summary; honours WANDB_MODE=offline (needs the wandb extra)")
    Config = WandBConfig
    config: WandBConfig

    def __init__(self, config: WandBConfig):
        super().__init__(config)
        self.wandb = need("wandb", "wandb", self.name)
        self.out_dir: Path | None = None
        self.runs: dict[str, Any] = {}  # cell id → its open W&B run
        self.finished: list[str] = []  # where each finished run is (its URL, or its offline folder)

    # -- the run of a cell ---------------------------------------------------------------------------
    def group(self, cell: Any) -> str | None:
        by = self.config.group_by
        if by == "none":
            return None
        if by == "condition":
            return cell.condition
        if by == "run":
            return self.out_dir.name if self.out_dir is not None else None
        return getattr(cell, by).choice.label

    def _run(self, cell: Any) -> Any:
        run = self.runs.get(cell.cell_id)
        if run is None:
            wb = self.wandb
            directory = self.config.dir or os.environ.get("WANDB_DIR") or (
                str(self.out_dir) if self.out_dir is not None else None)
            if directory:
                Path(directory).mkdir(parents=True, exist_ok=True)
            run = self.runs[cell.cell_id] = wb.init(
                project=self.config.project, entity=self.config.entity, mode=self.config.mode,
                name=f"{cell.condition} seed {cell.seed} {cell.cell_id}", group=self.group(cell),
                job_type=cell.corruptor.name[:64], tags=list(self.config.tags), config=cell.to_json(),
                dir=directory, reinit="create_new",
                # no console capture (the terminal display owns the terminal); one line at the end instead
                settings=wb.Settings(console="off", silent=True),
            )
        return run

    # -- hooks ---------------------------------------------------------------------------------------
    @hookimpl
    def harness_run_start(self, event: Any) -> None:
        self.out_dir = Path(event.out_dir)

    @hookimpl
    def harness_cell_start(self, event: Any) -> None:
        self._run(event.cell)

    @hookimpl
    def harness_cell_progress(self, event: Any) -> None:
        if not event.values:  # data drawing, evaluation: counts without numbers to plot
            return
        self._run(event.cell).log({f"train/{k}": v for k, v in event.values.items() if k != "step"},
                                  step=x_of(event))

    @hookimpl
    def harness_cell_end(self, event: Any) -> None:
        if event.skipped:  # finished by an earlier run, which logged it
            return
        run = self._run(event.cell)
        row = event.row
        run.summary.update({**numeric_metrics(row), "status": str(row.get("status")),
                            **({"error": str(row["error"])} if row.get("error") else {})})
        self._finish(event.cell.cell_id, 0 if row.get("status") == "ok" else 1)

    def _finish(self, cell_id: str, exit_code: int) -> None:
        run = self.runs.pop(cell_id, None)
        if run is None:
            return
        if getattr(run, "disabled", False):
            where = ""
        elif getattr(run, "offline", False):
            where = str(Path(run.settings.sync_dir).parent)
        else:
            where = run.url or ""
        run.finish(exit_code=exit_code)
        self.finished.append(where)

    def close(self) -> None:
        for cell_id in list(self.runs):  # an interrupted run: its open cells end as failed
            self._finish(cell_id, 1)
        if self.finished:
            n, local = len(self.finished), sorted({w for w in self.finished if w and not w.startswith("http")})
            if local:
                where = f"offline in {local[0]} (upload them: wandb sync {local[0]}/offline-run-*)"
            else:
                where = f"to project {self.config.project}" + (f": {self.finished[-1]}" if self.finished[-1] else "")
            print(f"wandb: {n} run(s) logged {where}", file=sys.stderr)
            self.finished.clear()
