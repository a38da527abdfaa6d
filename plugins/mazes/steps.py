"""Cached Step objects for every (direction, destination tile) of grids up to 32×32.

A maze pipeline makes tens of thousands of traces per second; the oracle trace of a maze is a list of
these shared objects (a Step's key is the index ``row * n + col`` of the tile the move enters). Treat them
as immutable: corruptors re-tag with ``Step.as_``, which returns a new object.
"""

from __future__ import annotations

from harness import Step, Tag

from .text import DIRS

MAX_SIZE = 32
MAX_TILES = MAX_SIZE * MAX_SIZE  # code of a step = dir * MAX_TILES + destination tile

#: oracle-tagged steps, indexed by dir * MAX_TILES + tile
STEP_TABLE: list[Step] = [Step(d, t, Tag.ORACLE) for d in DIRS for t in range(MAX_TILES)]
#: the same moves tagged as corrections (what `undo` returns)
UNDO_TABLE: list[Step] = [Step(d, t, Tag.CORRECTION) for d in DIRS for t in range(MAX_TILES)]


def step_of(d: int, tile: int) -> Step:
    return STEP_TABLE[d * MAX_TILES + tile]
