"""MazeGPT's generator: n×n tile grids carved by a step-2 randomized DFS (recursive backtracker).

Walls are whole tiles and there is no border. From a uniformly random tile (any parity) the DFS repeatedly
picks a uniformly random tile two steps away (N/E/S/W) that is still a wall, opens it and the tile in
between, pushes it, and pops when stuck. The result is a perfect maze (a spanning tree) over the tiles that
share the start's row and column parity, plus the passages between them. The end is uniform over the
opened tiles other than the start.

Two implementations:
- ``generate_reference(rng, n)``: plain scalar Python, obviously correct, used by tests as the yardstick.
- ``generate_batch(rng, sizes)``: the same process for a whole batch at once with numpy (arrays indexed
  [batch, tile], one loop iteration per DFS step, parent pointers recorded for the path), ~50× faster.

Both consume their randomness from the `random.Random` given (the batch one seeds a numpy Generator
from ``rng.getrandbits(64)``), so a seed reproduces the data. The two do not draw the same mazes from the
same seed; they draw from the same distribution.

n = 3 deviation: a DFS started at the centre tile of a 3×3 grid cannot move (no tile two steps away), so
the maze would have no tile for `e`; such starts are redrawn (uniform over the other 8 tiles). n ≥ 4
never hits this.
"""

from __future__ import annotations

import random
from functools import lru_cache

import numpy as np

from harness import Problem, Step

from .solve import NO_WRONG, MazeState, make_problem
from .steps import MAX_TILES, STEP_TABLE
from .text import DC, DR, MOVE_BYTES


# ------------------------------------------------------------------------------------------ reference
def generate_reference(rng: random.Random, n: int) -> Problem:
    """One maze, the plain way: explicit-stack step-2 DFS from a random tile, random end."""
    if n < 3:
        raise ValueError("mazes need n >= 3")
    grid = np.zeros((n, n), dtype=bool)
    while True:
        sr, sc = rng.randrange(n), rng.randrange(n)
        if not (n == 3 and sr == 1 and sc == 1):
            break
    grid[sr, sc] = True
    stack = [(sr, sc)]
    while stack:
        r, c = stack[-1]
        options = []
        for d in range(4):
            rr, cc = r + 2 * DR[d], c + 2 * DC[d]
            if 0 <= rr < n and 0 <= cc < n and not grid[rr, cc]:
                options.append(d)
        if not options:
            stack.pop()
            continue
        d = rng.choice(options)
        grid[r + DR[d], c + DC[d]] = True
        grid[r + 2 * DR[d], c + 2 * DC[d]] = True
        stack.append((r + 2 * DR[d], c + 2 * DC[d]))
    start = sr * n + sc
    others = [t for t in range(n * n) if grid[t // n, t % n] and t != start]
    end = rng.choice(others)
    return make_problem(grid, start, end)


# ----------------------------------------------------------------------------------------- vectorised
@lru_cache(maxsize=64)
def _tables(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbour tables for an n×n grid with a sentinel tile T = n*n for "off the grid".

    nb1[t, d]: the tile one step in direction d (or T); nb2[t, d]: two steps (or T); mid[t, d] = nb1[t, d]
    where nb2 is on the grid (else T).
    """
    T = n * n
    nb1 = np.full((T, 4), T, dtype=np.intp)
    nb2 = np.full((T, 4), T, dtype=np.intp)
    for t in range(T):
        r, c = divmod(t, n)
        for d in range(4):
            rr, cc = r + DR[d], c + DC[d]
            if 0 <= rr < n and 0 <= cc < n:
                nb1[t, d] = rr * n + cc
            rr, cc = r + 2 * DR[d], c + 2 * DC[d]
            if 0 <= rr < n and 0 <= cc < n:
                nb2[t, d] = rr * n + cc
    mid = np.where(nb2 < T, nb1, T)
    for a in (nb1, nb2, mid):
        a.setflags(write=False)
    return nb1, nb2, mid


def _dir_lut(n: int) -> np.ndarray:
    """(b - a) + n → direction code of the move a → b (N: -n, E: +1, S: +n, W: -1)."""
    lut = np.zeros(2 * n + 1, dtype=np.intp)
    lut[0], lut[n + 1], lut[2 * n], lut[n - 1] = 0, 1, 2, 3
    return lut


def _carve(g: np.random.Generator, n: int, B: int):
    """Step-2 DFS for B mazes of side n at once. Returns (open [B, T+1], parent, depth, start)."""
    T = n * n
    _, nb2, mid = _tables(n)
    ar = np.arange(B)
    if n == 3:  # the centre tile cannot move: uniform over the other 8
        start = g.integers(0, T - 1, B)
        start += start >= 4
    else:
        start = g.integers(0, T, B)
    opn = np.zeros((B, T + 1), dtype=bool)
    opn[:, T] = True  # the sentinel counts as visited during the DFS
    opn[ar, start] = True
    parent = np.full((B, T + 1), T, dtype=np.intp)
    parent[ar, start] = start
    depth = np.zeros((B, T + 1), dtype=np.intp)
    S = ((n + 1) // 2) ** 2  # most nodes a sub-lattice can have
    stack = np.empty((B, S + 1), dtype=np.intp)  # column S is a scratch slot for no-op writes
    stack[:, 0] = start
    sp = np.zeros(B, dtype=np.intp)
    # flat views and per-row offsets: 1-D take/put is much cheaper than 2-D fancy indexing
    flat_open = opn.reshape(-1)
    flat_parent = parent.reshape(-1)
    flat_depth = depth.reshape(-1)
    flat_stack = stack.reshape(-1)
    base = ar * (T + 1)
    base2 = base[:, None]
    sbase = ar * (S + 1)
    scratch = sbase + S
    row4 = ar * 4
    nb2_flat = nb2.reshape(-1)
    mid_flat = mid.reshape(-1)
    # the stack of every maze is empty after exactly 2 * nodes - 1 iterations (each node pushed once,
    # popped once); finished mazes keep popping harmlessly (all their candidates are visited)
    rs = (start // n) % 2
    cs = (start % n) % 2
    nodes = ((n - rs + 1) // 2) * ((n - cs + 1) // 2)
    iters = int(2 * nodes.max() - 1) if B else 0
    for _ in range(iters):
        top = flat_stack[sbase + np.maximum(sp, 0)]
        top4 = top * 4
        d2 = nb2[top]  # [B, 4]
        visited = flat_open[base2 + d2]
        keys = g.random((B, 4))
        keys[visited] = -1.0
        k = keys.argmax(1)
        ok = ~visited.reshape(-1)[row4 + k]
        dest = np.where(ok, nb2_flat[top4 + k], T)
        m = np.where(ok, mid_flat[top4 + k], T)
        fd = base + dest
        fm = base + m
        flat_open[fd] = True
        flat_open[fm] = True
        flat_parent[fm] = top
        flat_parent[fd] = m
        dt = flat_depth[base + top]
        flat_depth[fm] = dt + 1
        flat_depth[fd] = dt + 2
        sp += np.where(ok, 1, -1)
        flat_stack[np.where(ok, sbase + sp, scratch)] = dest
    opn[:, T] = False
    return opn, parent, depth, start


def generate_batch(g: np.random.Generator, n: int, B: int) -> list[Problem]:
    """B mazes of side n (numpy Generator g)."""
    if B == 0:
        return []
    T = n * n
    nb1, _, _ = _tables(n)
    ar = np.arange(B)
    opn, parent, depth, start = _carve(g, n, B)
    # end: uniform over opened tiles except the start
    keys = g.random((B, T))
    keys[~opn[:, :T]] = -1.0
    keys[ar, start] = -1.0
    end = keys.argmax(1)
    L = depth[ar, end]  # path length in moves
    Lmax = int(L.max())
    # path tiles by walking parents from the end; column Lmax + 1 is scratch
    path = np.empty((B, Lmax + 2), dtype=np.intp)
    path[:, :] = start[:, None]
    cur = end.copy()
    pos = L.copy()
    for _ in range(Lmax):
        path[ar, np.where(pos >= 0, pos, Lmax + 1)] = cur
        cur = parent[ar, cur]
        pos -= 1
    path = path[:, : Lmax + 1]
    j = np.arange(Lmax)
    valid = j[None, :] < L[:, None]  # [B, Lmax]: move j exists
    dest = path[:, 1:]
    dirs = _dir_lut(n)[np.clip(dest - path[:, :-1] + n, 0, 2 * n)]
    codes = dirs * MAX_TILES + dest
    flat_steps = list(map(STEP_TABLE.__getitem__, codes[valid].tolist()))
    flat_moves = MOVE_BYTES[dirs[valid]].tobytes().decode("ascii")
    # open-neighbour counts and junctions (path positions 1..L-1 with 3+ open neighbours)
    deg = opn[:, nb1].sum(-1)  # [B, T]
    on_path_deg = np.take_along_axis(deg, path[:, :Lmax], 1)
    jun = (on_path_deg >= 3) & (j[None, :] >= 1) & valid
    n_dec = jun.sum(1)
    wrongs: dict[int, dict[int, list[Step]]] = {}
    jb, ji = np.nonzero(jun)
    if len(jb):
        jt = path[jb, ji]
        nbs = nb1[jt]  # [K, 4]
        isopen = opn[jb[:, None], nbs]
        w = isopen & (nbs != path[jb, ji - 1][:, None]) & (nbs != path[jb, ji + 1][:, None])
        wcodes = np.where(w, np.arange(4)[None, :] * MAX_TILES + nbs, -1).tolist()
        for b, i, row in zip(jb.tolist(), ji.tolist(), wcodes):
            wrongs.setdefault(b, {})[i] = [STEP_TABLE[c] for c in row if c >= 0]
    # maze text: rows joined by newlines
    W = n * (n + 1)
    ch = np.where(opn[:, :T], ord(" "), ord("#")).astype(np.uint8)
    ch[ar, start] = ord("s")
    ch[ar, end] = ord("e")
    txt = np.full((B, n, n + 1), ord("\n"), dtype=np.uint8)
    txt[:, :, :n] = ch.reshape(B, n, n)
    big = txt.tobytes().decode("ascii")
    out: list[Problem] = []
    append = out.append
    off = 0
    get_wrong = wrongs.get
    for b, (s, e, l, nd) in enumerate(zip(start.tolist(), end.tolist(), L.tolist(), n_dec.tolist())):
        o2 = off + l
        append(
            Problem(
                big[b * W : b * W + W - 1],
                MazeState(n, s, e, flat_moves[off:o2], flat_steps[off:o2], get_wrong(b, NO_WRONG)),
                {"size": n, "n_decisions": nd, "path_len": l},
            )
        )
        off = o2
    return out


def sample_mazes(rng: random.Random, count: int, min_size: int, max_size: int) -> list[Problem]:
    """`count` mazes with n uniform in [min_size, max_size], in draw order, from `rng`."""
    if count <= 0:
        return []
    g = np.random.Generator(np.random.PCG64(rng.getrandbits(64)))
    sizes = g.integers(min_size, max_size + 1, count)
    if min_size == max_size:
        return generate_batch(g, min_size, count)
    out: list[Problem | None] = [None] * count
    for n in range(min_size, max_size + 1):
        idx = np.flatnonzero(sizes == n)
        if len(idx):
            for i, p in zip(idx.tolist(), generate_batch(g, n, len(idx))):
                out[i] = p
    return out  # type: ignore[return-value]
