"""The terminal bars show an ETA and, while training, tokens/s; progress text is printed as text."""

from __future__ import annotations

import io

from rich.console import Console

from harness.events import CellPhase, CellProgress
from harness.planning import plan
from harness.plugins import Manager
from harness.terminal import TerminalReporter


def test_bars_show_eta_and_tokens_per_second():
    cell = plan(Manager(), "mazes(min_size=3,max_size=3)×oracle×gpt-1L", budget="tiny").cells[0]
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=220, color_system=None)
    with TerminalReporter(console, 1) as t:
        t.harness_cell_phase(CellPhase(cell, "train", 1000.0))
        t.harness_cell_progress(CellProgress(cell, 500.0, "loss 1.234 [/x]", {"tokens_per_s": 12345.6}))
        t.progress.refresh()
    out = buf.getvalue()
    assert "500/1000" in out and "loss 1.234 [/x]" in out and "12,346 tok/s" in out
    assert "ETA" in out
