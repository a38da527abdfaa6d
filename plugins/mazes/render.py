"""A coloured picture of a maze and a trace, for `harness show`."""

from __future__ import annotations

from typing import Sequence

from rich.text import Text

from harness import Problem, Step, Tag

_TAG_STYLE = {Tag.ORACLE: "bold white", Tag.MISTAKE: "bold red", Tag.CORRECTION: "bold yellow"}


def render_maze(problem: Problem, trace: Sequence[Step]) -> Text:
    st = problem.payload
    n = st.n
    rows = problem.key.split("\n")
    path = set(st.path)
    junction_tiles = {st.path[i] for i in st.wrong}
    mistakes: set[int] = set()
    corrected: set[int] = set()
    for step in trace:
        if step.tag == Tag.MISTAKE and isinstance(step.key, int):
            mistakes.add(step.key)
        elif step.tag == Tag.CORRECTION and isinstance(step.key, int):
            corrected.add(step.key)
    out = Text()
    for r in range(n):
        for c in range(n):
            t = r * n + c
            ch = rows[r][c]
            if ch == "#":
                out.append("██", style="grey35")
            elif ch == "s":
                out.append("s ", style="bold black on green")
            elif ch == "e":
                out.append("e ", style="bold black on magenta")
            elif t in mistakes:
                out.append("✗ ", style="bold white on red")
            elif t in corrected:
                out.append("↺ ", style="bold black on yellow")
            elif t in junction_tiles:
                out.append("+ ", style="black on cyan")
            elif t in path:
                out.append("· ", style="white on blue")
            else:
                out.append("  ")
        out.append("\n")
    out.append(";", style="dim")
    for step in trace:
        out.append(step.text, style=_TAG_STYLE.get(step.tag, ""))
    out.append(";", style="dim")
    out.append(
        f"\nsize {n}, path {len(st.steps)} moves, {len(st.wrong)} junction(s); "
        f"{sum(s.tag == Tag.MISTAKE for s in trace)} mistake(s)",
        style="dim",
    )
    return out


__all__ = ["render_maze"]
