"""Progress as plain log lines, for runs outside a terminal (tee, nohup, CI, Slurm logs), where the
rich bars do not show: a line when a cell enters a stage, then at most one every `every_s` seconds
with how far it got, its rate and an ETA. Implemented as lifecycle hooks through standard `logging`
(logger "harness.progress"), so a lab's own logging configuration can route it anywhere."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from harness.events import CellPhase, CellProgress
from harness.hookspecs import hookimpl

log = logging.getLogger("harness.progress")

#: seconds between progress lines of one cell (HARNESS_PROGRESS_EVERY overrides)
DEFAULT_EVERY_S = 30.0


def every_s_from_env() -> float:
    try:
        return max(0.0, float(os.environ.get("HARNESS_PROGRESS_EVERY", DEFAULT_EVERY_S)))
    except ValueError:
        return DEFAULT_EVERY_S


def progress_line(label: str, phase: str, total: float | None, done: float, started: float, info: str) -> str:
    """"<label>: train 41% (5,046,272/12,288,000), 1.2e+04/s, ETA 9m 58s, loss 1.93"."""
    elapsed = max(time.monotonic() - started, 1e-9)
    rate = done / elapsed
    parts = [f"{label}: {phase}"]
    if total:
        parts[0] += f" {100 * done / total:.0f}% ({done:,.0f}/{total:,.0f})"
    else:
        parts[0] += f" {done:,.0f} done"
    parts.append(f"{rate:,.3g}/s")
    if total and rate > 0 and done < total:
        eta = (total - done) / rate
        parts.append(f"ETA {int(eta // 60)}m {int(eta % 60):02d}s")
    if info:
        parts.append(info)
    return ", ".join(parts)


class LogReporter:
    """Stage and throttled progress lines per cell (the grid's ok/FAILED lines come from the
    terminal reporter, which prints them in or out of a terminal)."""

    def __init__(self, every_s: float = DEFAULT_EVERY_S):
        self.every_s = every_s
        self.state: dict[str, dict[str, Any]] = {}

    @hookimpl
    def harness_cell_phase(self, event: CellPhase) -> None:
        label = f"{event.cell.condition} seed {event.cell.seed}"
        self.state[event.cell.cell_id] = {"label": label, "phase": event.phase, "total": event.total,
                                          "started": time.monotonic(), "last": time.monotonic()}
        log.info(f"{label}: {event.phase}" + (f" ({event.total:,.0f})" if event.total else ""))

    @hookimpl
    def harness_cell_progress(self, event: CellProgress) -> None:
        st = self.state.get(event.cell.cell_id)
        if st is None:
            return
        now = time.monotonic()
        if now - st["last"] < self.every_s:
            return
        st["last"] = now
        log.info(progress_line(st["label"], st["phase"], st["total"], event.done, st["started"], event.info))
