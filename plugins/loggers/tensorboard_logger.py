"""`--log tensorboard`: TensorBoard event files, one run (folder) per cell, grouped by condition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field

from harness import Config, Logger, hookimpl
from harness_loggers.common import flat_config, need, numeric_metrics, slug, x_of


class TensorBoardConfig(Config):
    dir: str | None = Field(default=None, description="root of the event files (default: <run dir>/tensorboard); "
                            "each cell writes to <root>/<condition>/<cell id>")


class TensorBoard(Logger):
    """TensorBoard event files: per-step train/loss, train/lr, train/tokens_per_s, a cell's final metrics,
    and its configuration as hparams and text; one folder per condition, one run per cell in it."""

    name = "tensorboard"
    description = ("TensorBoard event files under <run dir>/tensorboard/<condition>/<cell id>: train/* per "
                   "step, metrics/* at the end, the config as hparams (needs the tensorboard extra)")
    Config = TensorBoardConfig
    config: TensorBoardConfig

    def __init__(self, config: TensorBoardConfig):
        super().__init__(config)
        need("tensorboard", "tensorboard", self.name)  # torch's writer needs the tensorboard package
        self._writer_cls = need("torch.utils.tensorboard", "tensorboard", self.name).SummaryWriter
        self._summary = need("torch.utils.tensorboard.summary", "tensorboard", self.name)
        self.root: Path | None = Path(config.dir) if config.dir else None
        self.writers: dict[str, Any] = {}  # cell id → its open SummaryWriter
        self.last_x: dict[str, int] = {}  # cell id → the last step written

    # -- where ---------------------------------------------------------------------------------------
    def cell_dir(self, cell: Any) -> Path:
        root = self.root if self.root is not None else Path("tensorboard")
        return root / slug(cell.condition) / cell.cell_id

    def _writer(self, cell: Any) -> Any:
        w = self.writers.get(cell.cell_id)
        if w is None:
            w = self.writers[cell.cell_id] = self._writer_cls(log_dir=str(self.cell_dir(cell)), flush_secs=30)
            w.add_text("config", "```\n" + json.dumps(cell.to_json(), indent=2, default=str) + "\n```", 0)
        return w

    # -- hooks ---------------------------------------------------------------------------------------
    @hookimpl
    def harness_run_start(self, event: Any) -> None:
        if self.root is None:
            self.root = Path(event.out_dir) / "tensorboard"

    @hookimpl
    def harness_cell_start(self, event: Any) -> None:
        self._writer(event.cell)

    @hookimpl
    def harness_cell_progress(self, event: Any) -> None:
        if not event.values:  # data drawing, evaluation: counts without numbers to plot
            return
        w = self._writer(event.cell)
        x = x_of(event)
        for k, v in event.values.items():
            if k != "step":
                w.add_scalar(f"train/{k}", v, x)
        self.last_x[event.cell.cell_id] = x

    @hookimpl
    def harness_cell_end(self, event: Any) -> None:
        if event.skipped:  # finished by an earlier run, whose events are already in its folder
            return
        cell, row = event.cell, event.row
        w = self._writer(cell)
        # at the last step written (a cell that reused a sibling's training wrote none: the budget's last)
        x = self.last_x.pop(cell.cell_id, int(getattr(cell.budget, "iters", 0) or 0))
        metrics = {f"metrics/{k}": v for k, v in numeric_metrics(row).items()}
        for k, v in metrics.items():
            w.add_scalar(k, v, x)
        hp = {**flat_config(cell), "status": str(row.get("status"))}
        for summary in self._summary.hparams(hp, metrics):  # the HParams dashboard: config ↔ metrics
            w.file_writer.add_summary(summary, x)
        if row.get("error"):
            w.add_text("error", str(row["error"]), x)
        self._close(cell.cell_id)

    def _close(self, cell_id: str) -> None:
        w = self.writers.pop(cell_id, None)
        if w is not None:
            w.close()

    def close(self) -> None:
        for cell_id in list(self.writers):
            self._close(cell_id)
