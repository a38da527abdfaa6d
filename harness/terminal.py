"""The terminal display of a run: a rich progress view implemented as lifecycle hooks (as pytest's
terminal reporter is a plugin). `harness run` registers one for the length of the run; any other
observer (a logger, a dashboard) implements the same hooks."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from harness.events import CellFinished, CellPhase, CellProgress, CellStarted, RunMessage, RunStarted
from harness.hookspecs import hookimpl


class TerminalReporter:
    """One bar for the grid and one per running cell (several at once under a process pool)."""

    def __init__(self, console: Console, n_cells: int):
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False,
        )
        self.cells = self.progress.add_task("cells", total=n_cells, info="")
        self.bars: dict[str, Any] = {}  # cell id → its current stage's bar
        self.scale: dict[str, float] = {}

    def __enter__(self) -> "TerminalReporter":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def _drop(self, cell_id: str) -> None:
        bar = self.bars.pop(cell_id, None)
        if bar is not None:
            self.progress.remove_task(bar)

    @hookimpl
    def harness_run_start(self, event: RunStarted) -> None:
        if event.pending and event.executor != "serial":
            self.progress.console.print(f"{event.layout}: {event.pending} cells to run", markup=False)

    @hookimpl
    def harness_cell_start(self, event: CellStarted) -> None:
        if event.worker != "main":
            self.progress.console.print(f"[dim]start {escape(event.cell.condition)} seed {event.cell.seed} "
                                        f"({escape(event.worker)})[/dim]")

    @hookimpl
    def harness_cell_phase(self, event: CellPhase) -> None:
        cid = event.cell.cell_id
        self._drop(cid)
        label = f"  {escape(event.cell.condition)} s{event.cell.seed}: {escape(event.phase)}"
        scale = 1e6 if event.total and event.total > 1e7 else 1.0
        if scale > 1 and event.phase == "train":
            label += " (M tokens)"
        self.scale[cid] = scale
        total = None if event.total is None else event.total / scale
        self.bars[cid] = self.progress.add_task(label, total=total, info="")

    @hookimpl
    def harness_cell_progress(self, event: CellProgress) -> None:
        cid = event.cell.cell_id
        if cid in self.bars:
            info = escape(event.info)
            rate = event.values.get("tokens_per_s") if event.values else None
            if rate:
                info += f", {rate:,.0f} tok/s"
            self.progress.update(self.bars[cid], completed=event.done / self.scale.get(cid, 1.0), info=info)

    @hookimpl
    def harness_cell_end(self, event: CellFinished) -> None:
        cell, row = event.cell, event.row
        self._drop(cell.cell_id)
        self.progress.advance(self.cells)
        if event.skipped and row.get("status") != "ok":
            self.progress.console.print(f"[yellow]failed in another worker[/yellow] {escape(cell.condition)} seed "
                                        f"{cell.seed}: ", end="")
            self.progress.console.print(str(row.get("error")), markup=False)
        elif event.skipped:
            self.progress.console.print(f"[dim]skip (done) {escape(cell.condition)} seed {cell.seed}[/dim]")
        elif row.get("status") == "ok":
            self.progress.console.print(
                f"[green]ok[/green] {escape(cell.condition)} seed {cell.seed}: accuracy "
                f"{100 * row['accuracy']:.1f}% ({row['n_eval']} items, {row['seconds']:.0f}s)")
        else:
            self.progress.console.print(f"[red]FAILED[/red] {escape(cell.condition)} seed {cell.seed}: ", end="")
            self.progress.console.print(str(row.get("error")), markup=False)

    @hookimpl
    def harness_run_message(self, event: RunMessage) -> None:
        self.progress.console.print(event.message, markup=False)
