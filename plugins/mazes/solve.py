"""The maze payload and the plain, scalar solver: BFS path, junctions and side-branch moves.

A maze is a tree over its open tiles (step-2 DFS), so the BFS path from start to end is the unique path
and the shortest one. A *junction* is a tile on the path, other than the start and the end, with three or
more open neighbours (MazeGPT's rule: the start is never checked, the end is never expanded). At a
junction the wrong moves are the moves into its open neighbours that are not on the path.

The vectorised generator (``generator.py``) computes the same payload for whole batches; tests
cross-check the two.
"""

from __future__ import annotations

from collections import deque
import numpy as np

from harness import Problem, Step

from .steps import STEP_TABLE, MAX_TILES, step_of
from .text import DC, DIRS, DR, END, START, WALL

#: shared "no junction on the path" mapping (never mutated)
NO_WRONG: dict[int, list[Step]] = {}


class MazeState:
    """A problem's payload: everything later calls need, computed once at generation time.

    n:      grid side (tiles); tile index = row * n + col
    start, end: tile indices
    moves:  the oracle move string (e.g. "SSEENN")
    steps:  the oracle trace (shared cached Step objects, see steps.py)
    wrong:  position i on the path (tile after i oracle moves) → wrong Steps at that junction
    """

    __slots__ = ("n", "start", "end", "moves", "steps", "wrong")

    def __init__(self, n: int, start: int, end: int, moves: str, steps: list[Step], wrong: dict[int, list[Step]]):
        self.n = n
        self.start = start
        self.end = end
        self.moves = moves
        self.steps = steps
        self.wrong = wrong

    def __getstate__(self) -> tuple:
        return (self.n, self.start, self.end, self.moves, self.steps, self.wrong)

    def __setstate__(self, state: tuple) -> None:
        self.n, self.start, self.end, self.moves, self.steps, self.wrong = state

    @property
    def path(self) -> list[int]:
        """Tile indices of the oracle path, start and end included."""
        return [self.start] + [s.key for s in self.steps]

    @property
    def junctions(self) -> list[int]:
        """Path positions i (tile after i oracle moves) that are junctions."""
        return sorted(self.wrong)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"MazeState(n={self.n}, start={self.start}, end={self.end}, moves={self.moves!r})"


def maze_text(grid: np.ndarray, start: int, end: int) -> str:
    """Rows of `#`/space with `s` and `e`, joined by newlines (no trailing newline)."""
    n = grid.shape[0]
    rows = [["#" if not grid[r, c] else " " for c in range(n)] for r in range(n)]
    rows[start // n][start % n] = START
    rows[end // n][end % n] = END
    return "\n".join("".join(row) for row in rows)


def parse_maze(text: str) -> tuple[np.ndarray, int, int]:
    """Maze text → (open grid bool [n, n], start tile, end tile)."""
    rows = text.split("\n")
    n = len(rows)
    if any(len(r) != n for r in rows):
        raise ValueError("maze text is not a square grid")
    grid = np.array([[ch != WALL for ch in r] for r in rows], dtype=bool)
    flat = "".join(rows)
    return grid, flat.index(START), flat.index(END)


def open_neighbours(grid: np.ndarray, tile: int) -> list[tuple[int, int]]:
    """(direction code, neighbour tile) for each open 4-neighbour of a tile."""
    n = grid.shape[0]
    r, c = divmod(tile, n)
    out = []
    for d in range(4):
        rr, cc = r + DR[d], c + DC[d]
        if 0 <= rr < n and 0 <= cc < n and grid[rr, cc]:
            out.append((d, rr * n + cc))
    return out


def bfs_path(grid: np.ndarray, start: int, end: int) -> list[int] | None:
    """Shortest path (tile indices, start..end) by BFS on the tile graph; None if unreachable."""
    parent = {start: start}
    q = deque([start])
    while q:
        t = q.popleft()
        if t == end:
            break
        for _, u in open_neighbours(grid, t):
            if u not in parent:
                parent[u] = t
                q.append(u)
    if end not in parent:
        return None
    path = [end]
    while path[-1] != start:
        path.append(parent[path[-1]])
    return path[::-1]


def direction(n: int, a: int, b: int) -> int:
    """Direction code of the move from tile a to the adjacent tile b."""
    delta = b - a
    if delta == -n:
        return 0
    if delta == 1:
        return 1
    if delta == n:
        return 2
    if delta == -1:
        return 3
    raise ValueError(f"tiles {a} and {b} are not adjacent")


def build_state(grid: np.ndarray, start: int, end: int) -> MazeState:
    """The payload of a maze, computed the plain way (BFS + neighbour scans)."""
    n = grid.shape[0]
    path = bfs_path(grid, start, end)
    if path is None:
        raise ValueError("end not reachable from start")
    dirs = [direction(n, a, b) for a, b in zip(path, path[1:])]
    steps = [step_of(d, t) for d, t in zip(dirs, path[1:])]
    wrong: dict[int, list[Step]] = {}
    for i in range(1, len(path) - 1):
        nbs = open_neighbours(grid, path[i])
        if len(nbs) >= 3:
            wrong[i] = [step_of(d, u) for d, u in nbs if u != path[i - 1] and u != path[i + 1]]
    return MazeState(n, start, end, "".join(DIRS[d] for d in dirs), steps, wrong or NO_WRONG)


def make_problem(grid: np.ndarray, start: int, end: int) -> Problem:
    state = build_state(grid, start, end)
    return Problem(
        maze_text(grid, start, end),
        state,
        {"size": state.n, "n_decisions": len(state.wrong), "path_len": len(state.steps)},
    )


__all__ = [
    "MazeState",
    "NO_WRONG",
    "STEP_TABLE",
    "MAX_TILES",
    "bfs_path",
    "build_state",
    "direction",
    "make_problem",
    "maze_text",
    "open_neighbours",
    "parse_maze",
]
