"""MazeGPT's correctness rule for a completion (the text after the prompt, cut at the first `;`).

Strip whitespace; correct iff every character is one of N/E/S/W, every move stays on the grid and never
enters a `#`, and the final position is `e`. Backtracking and revisits are allowed; passing over `e` is
fine as long as the walk ends there. Never raises: garbage gets a reason.
Reasons use 0-based character indices ("bad char 'x' at 3") and 1-based move numbers ("wall at move 2").
"""

from __future__ import annotations

from harness.interfaces import Verdict

from .text import DC, DIR_CODE, DR, WALL


def verify_walk(maze: str, n: int, start: int, end: int, completion: object) -> Verdict:
    try:
        if not isinstance(completion, str):
            return Verdict(False, f"not text ({type(completion).__name__})")
        s = completion.strip()
        if not s:
            return Verdict(False, "empty")
        for k, ch in enumerate(s):
            if ch not in DIR_CODE:
                return Verdict(False, f"bad char {ch!r} at {k}", {"index": k})
        rows = maze.split("\n")
        r, c = divmod(start, n)
        for k, ch in enumerate(s):
            d = DIR_CODE[ch]
            r += DR[d]
            c += DC[d]
            if not (0 <= r < n and 0 <= c < n):
                return Verdict(False, f"left the grid at move {k + 1}", {"index": k, "n_moves": len(s)})
            if rows[r][c] == WALL:
                return Verdict(False, f"wall at move {k + 1}", {"index": k, "n_moves": len(s)})
        if r * n + c != end:
            return Verdict(False, f"ends at ({r},{c}) not the end", {"n_moves": len(s)})
        return Verdict(True, "reached the end", {"n_moves": len(s)})
    except Exception as exc:  # pragma: no cover - defensive: the verifier must never raise
        return Verdict(False, f"verifier error: {type(exc).__name__}: {exc}")
