"""The maze generator: perfect mazes, MazeGPT's distribution, vectorised vs reference agreement."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from harness.plugins import Manager
from harness_mazes import MazesConfig, MazesTask, build_state, generate_reference, parse_maze
from harness_mazes.solve import bfs_path

from tests.mazes_helpers import component, problems, task, tile_graph, walk


def check_perfect(p) -> None:
    grid, start, end = parse_maze(p.key)
    n = grid.shape[0]
    assert p.meta["size"] == n == p.payload.n
    assert start == p.payload.start and end == p.payload.end
    assert start != end
    nodes, edges = tile_graph(grid)
    assert len(edges) == len(nodes) - 1, "not a tree"
    assert component(grid, start) == set(nodes), "not connected"
    # every open tile shares the start's row or column parity (step-2 DFS lattice + passages)
    sr, sc = divmod(start, n)
    for t in nodes:
        r, c = divmod(t, n)
        assert r % 2 == sr % 2 or c % 2 == sc % 2
        assert not (r % 2 != sr % 2 and c % 2 != sc % 2)
    # the oracle is the BFS shortest path, which in a tree is the unique path
    bfs = bfs_path(grid, start, end)
    assert walk(n, start, p.payload.moves) == bfs == p.payload.path
    assert p.meta["path_len"] == len(p.payload.moves) == len(bfs) - 1
    assert p.meta["n_decisions"] == len(p.payload.wrong)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lo=st.integers(3, 12), span=st.integers(0, 4))
def test_vectorised_mazes_are_perfect(seed, lo, span):
    ps = problems(seed, 40, min_size=lo, max_size=lo + span)
    assert len(ps) == 40
    for p in ps:
        assert lo <= p.meta["size"] <= lo + span
        check_perfect(p)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 14))
def test_reference_mazes_are_perfect(seed, n):
    check_perfect(generate_reference(random.Random(seed), n))


def test_vectorised_payload_matches_scalar_solver():
    """Junctions, wrong moves and path recomputed the plain way from the maze text agree."""
    for p in problems(11, 3000):
        grid, start, end = parse_maze(p.key)
        ref = build_state(grid, start, end)
        assert ref.moves == p.payload.moves
        assert ref.steps == p.payload.steps
        assert {i: [(s.text, s.key) for s in v] for i, v in ref.wrong.items()} == {
            i: [(s.text, s.key) for s in v] for i, v in p.payload.wrong.items()
        }


def test_junction_rule():
    """A junction is a path tile (not start/end) with 3+ open neighbours; wrong moves are exactly its
    open neighbours off the path."""
    for p in problems(5, 2000):
        grid, start, end = parse_maze(p.key)
        n = grid.shape[0]
        path = p.payload.path
        on_path = set(path)
        for i in range(1, len(path) - 1):
            r, c = divmod(path[i], n)
            nbs = [
                (rr * n + cc)
                for rr, cc in ((r - 1, c), (r, c + 1), (r + 1, c), (r, c - 1))
                if 0 <= rr < n and 0 <= cc < n and grid[rr, cc]
            ]
            if len(nbs) >= 3:
                assert sorted(s.key for s in p.payload.wrong[i]) == sorted(u for u in nbs if u not in on_path)
                assert len(p.payload.wrong[i]) == len(nbs) - 2
            else:
                assert i not in p.payload.wrong
        assert 0 not in p.payload.wrong and len(path) - 1 not in p.payload.wrong


def test_same_seed_same_mazes():
    a = problems(123, 500)
    b = problems(123, 500)
    assert [p.key for p in a] == [p.key for p in b]
    assert [p.payload.moves for p in a] == [p.payload.moves for p in b]
    assert [p.key for p in problems(124, 500)] != [p.key for p in a]
    t = task()
    assert t.sample(random.Random(3)).key == t.sample(random.Random(3)).key


def test_sizes_uniform_in_range():
    ps = problems(1, 12000)
    sizes = np.array([p.meta["size"] for p in ps])
    assert sizes.min() == 4 and sizes.max() == 9
    counts = np.bincount(sizes, minlength=10)[4:]
    assert np.all(np.abs(counts - 2000) < 4 * np.sqrt(2000))


def test_distribution_matches_mazegpt_statistics():
    """Reference law (1M draws of a re-implementation of the original generator): mean solution 9.96 moves, 65.4% of mazes without a
    junction on the path."""
    ps = problems(2, 20000)
    L = np.array([p.meta["path_len"] for p in ps])
    dec = np.array([p.meta["n_decisions"] for p in ps])
    assert abs(L.mean() - 9.96) < 0.25
    assert abs((dec >= 1).mean() - 0.346) < 0.05
    assert L.max() <= 48


def test_vectorised_and_reference_agree_in_distribution():
    rng = random.Random(9)
    t = task()
    for n in range(4, 10):
        vec = task(min_size=n, max_size=n).sample_batch(random.Random(n), 3000)
        ref = [generate_reference(rng, n) for _ in range(800)]
        for stat in ("path_len", "n_decisions"):
            a = np.array([p.meta[stat] for p in vec], dtype=float)
            b = np.array([p.meta[stat] for p in ref], dtype=float)
            se = np.sqrt(a.var() / len(a) + b.var() / len(b))
            assert abs(a.mean() - b.mean()) < 5 * se + 1e-9, (n, stat, a.mean(), b.mean())
        # open-tile counts (depend on the start parity) and end-on-passage rate
        a = np.array([p.key.count("#") for p in vec], dtype=float)
        b = np.array([p.key.count("#") for p in ref], dtype=float)
        se = np.sqrt(a.var() / len(a) + b.var() / len(b))
        assert abs(a.mean() - b.mean()) < 5 * se + 1e-9
    assert t.sample(rng).meta["size"] in range(4, 10)


def test_small_and_large_sizes():
    for p in problems(4, 300, min_size=3, max_size=3):
        check_perfect(p)
        assert p.payload.start != 4  # the centre of a 3×3 grid cannot start a DFS
    for p in problems(4, 20, min_size=32, max_size=32):
        check_perfect(p)


def test_config_validation():
    with pytest.raises(ValidationError, match="min_size"):
        MazesConfig(min_size=2)
    with pytest.raises(ValidationError, match="max_size"):
        MazesConfig(max_size=33)
    with pytest.raises(ValidationError, match="must not exceed"):
        MazesConfig(min_size=8, max_size=5)
    with pytest.raises(ValidationError):
        MazesConfig(bogus=1)
    assert MazesConfig().min_size == 4 and MazesConfig().max_size == 9
    assert MazesTask(MazesConfig(max_new_tokens=77)).max_new_tokens(problems(0, 1)[0]) == 77


def test_registered_as_plugin():
    m = Manager(strict=True)
    assert "mazes" in m.names("task")
    entry, _ = m.get("task", "mazes")
    assert entry.cls is MazesTask
