"""The verifier: MazeGPT's rule, never an exception."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.interfaces import Verdict
from harness_mazes import parse_maze
from harness_mazes.text import DC, DIRS, DR, OPPOSITE

from tests.mazes_helpers import problems, task

T = task()
PS = problems(21, 200)


@settings(max_examples=300, deadline=None)
@given(k=st.integers(0, len(PS) - 1), s=st.text(max_size=150))
def test_random_text_never_raises(k, s):
    v = T.verify(PS[k], s)
    assert isinstance(v, Verdict) and isinstance(v.reason, str) and v.reason


@settings(max_examples=300, deadline=None)
@given(k=st.integers(0, len(PS) - 1), s=st.text(alphabet="NESW \n;x.", max_size=150))
def test_move_strings_never_raise(k, s):
    v = T.verify(PS[k], s)
    assert isinstance(v, Verdict) and v.reason
    if v.correct:
        assert set(s.strip()) <= set(DIRS)


def test_oracle_passes_and_truncation_fails():
    for p in PS:
        assert T.verify(p, p.payload.moves).correct
        assert T.verify(p, "  " + p.payload.moves + "\n").correct
        assert not T.verify(p, p.payload.moves[:-1]).correct
        assert "not the end" in T.verify(p, p.payload.moves[:-1]).reason or len(p.payload.moves) == 1


def test_garbage_reasons():
    p = PS[0]
    assert T.verify(p, "").reason == "empty"
    assert T.verify(p, "   ").reason == "empty"
    assert T.verify(p, "NNx").reason == "bad char 'x' at 2"
    assert not T.verify(p, None).correct  # type: ignore[arg-type]


def test_walls_and_grid_edges_fail():
    saw_wall = saw_edge = 0
    for p in PS:
        grid, start, _ = parse_maze(p.key)
        n = grid.shape[0]
        r, c = divmod(start, n)
        for d in range(4):
            rr, cc = r + DR[d], c + DC[d]
            if not (0 <= rr < n and 0 <= cc < n):
                v = T.verify(p, DIRS[d] + p.payload.moves)
                assert not v.correct and v.reason == "left the grid at move 1"
                saw_edge += 1
            elif not grid[rr, cc]:
                v = T.verify(p, DIRS[d] + OPPOSITE[DIRS[d]] + p.payload.moves)
                assert not v.correct and v.reason == "wall at move 1"
                saw_wall += 1
    assert saw_wall > 50 and saw_edge > 20


def test_backtracking_passes():
    rng = random.Random(0)
    for p in PS:
        grid, start, _ = parse_maze(p.key)
        n = grid.shape[0]
        moves = p.payload.moves
        tiles = p.payload.path
        out = []
        for i, t in enumerate(tiles):
            r, c = divmod(t, n)
            for d in range(4):  # detour into any open neighbour and straight back
                rr, cc = r + DR[d], c + DC[d]
                if 0 <= rr < n and 0 <= cc < n and grid[rr, cc] and rng.random() < 0.5:
                    out.append(DIRS[d] + OPPOSITE[DIRS[d]])
            if i < len(moves):
                out.append(moves[i])
        s = "".join(out)
        assert T.verify(p, s).correct, (p.key, s)
        # passing over the end and leaving it is wrong unless the walk comes back
        if len(moves) >= 1:
            back = OPPOSITE[moves[-1]]
            assert not T.verify(p, moves + back).correct
            assert T.verify(p, moves + back + moves[-1]).correct
