"""Shared helpers for the mazes tests (plain functions, no fixtures magic)."""

from __future__ import annotations

import random
from collections import deque

import numpy as np

from harness.interfaces import Tag

from harness_mazes import MazesConfig, MazesTask, parse_maze
from harness_mazes.text import DC, DIR_CODE, DR, OPPOSITE


def task(**kw) -> MazesTask:
    return MazesTask(MazesConfig(**kw))


def problems(seed: int, n: int, **kw):
    return task(**kw).sample_batch(random.Random(seed), n)


def tile_graph(grid: np.ndarray):
    """(open tiles, undirected edges between 4-adjacent open tiles)."""
    n = grid.shape[0]
    nodes = [r * n + c for r in range(n) for c in range(n) if grid[r, c]]
    edges = set()
    for t in nodes:
        r, c = divmod(t, n)
        if c + 1 < n and grid[r, c + 1]:
            edges.add((t, t + 1))
        if r + 1 < n and grid[r + 1, c]:
            edges.add((t, t + n))
    return nodes, edges


def component(grid: np.ndarray, start: int) -> set[int]:
    n = grid.shape[0]
    seen = {start}
    q = deque([start])
    while q:
        r, c = divmod(q.popleft(), n)
        for d in range(4):
            rr, cc = r + DR[d], c + DC[d]
            if 0 <= rr < n and 0 <= cc < n and grid[rr, cc] and rr * n + cc not in seen:
                seen.add(rr * n + cc)
                q.append(rr * n + cc)
    return seen


def walk(n: int, start: int, moves: str) -> list[int]:
    """Tiles visited by a move string (no bounds checks)."""
    r, c = divmod(start, n)
    out = [start]
    for ch in moves:
        d = DIR_CODE[ch]
        r, c = r + DR[d], c + DC[d]
        out.append(r * n + c)
    return out


def strip_mistakes(trace):
    return [s for s in trace if s.tag == Tag.ORACLE]


__all__ = [
    "OPPOSITE",
    "component",
    "parse_maze",
    "problems",
    "strip_mistakes",
    "task",
    "tile_graph",
    "walk",
]
