"""MazeGPT's character serialization: vocabulary, lookup tables and the move alphabet.

A sample is the maze rows (`#` wall, space open, `s` start, `e` end) joined by newlines, then `;`, then the
moves (N/E/S/W), then `;` and a newline. Token ids follow the original's enum order; `[BACK]` (13) is an
addition reserved for the retry family of corruptors.
"""

from __future__ import annotations

import numpy as np

from harness import Tag

#: token strings, ids are positions (MazeGPT's enum order; `.`, `c`, `m` are declared but unused there too)
VOCAB: list[str] = [" ", "#", "s", "e", ".", ";", "S", "N", "E", "W", "\n", "c", "m", "[BACK]"]
TOKEN_ID: dict[str, int] = {t: i for i, t in enumerate(VOCAB)}
END_ID = TOKEN_ID[";"]
BACK_ID = TOKEN_ID["[BACK]"]
N_VOCAB = len(VOCAB)

#: byte → token id for the single-character tokens (-1: not a token)
BYTE_LUT = np.full(256, -1, dtype=np.int64)
for _t, _i in TOKEN_ID.items():
    if len(_t) == 1:
        BYTE_LUT[ord(_t)] = _i

#: token id → prompt tag under mask_walls (space, `#`, `.` carry no loss; `s`, `e`, `\n`, `;` do)
NOLOSS_TAG_LUT = np.full(N_VOCAB, Tag.PROMPT, dtype=np.int8)
for _t in (" ", "#", "."):
    NOLOSS_TAG_LUT[TOKEN_ID[_t]] = Tag.PROMPT_NOLOSS

#: directions in code order 0..3; N = row-1, E = col+1, S = row+1, W = col-1
DIRS = "NESW"
DIR_CODE = {d: k for k, d in enumerate(DIRS)}
DR = (-1, 0, 1, 0)
DC = (0, 1, 0, -1)
OPPOSITE = {"N": "S", "E": "W", "S": "N", "W": "E"}
MOVE_BYTES = np.frombuffer(DIRS.encode(), dtype=np.uint8)  # dir code → ASCII byte

WALL, OPEN, START, END = "#", " ", "s", "e"
