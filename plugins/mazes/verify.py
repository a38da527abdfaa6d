"""MazeGPT's correctness rule for a completion (the text after the prompt, cut at the first `;`).

Strip whitespace; correct iff every character is one of N/E/S/W, every move stays on the grid and never
enters a `#`, and the final position is `e`. Backtracking and revisits are allowed; passing over `e` is
fine as long as the walk ends there. Never raises: garbage gets a reason.

For the retry family, `[BACK]` retracts the move just before it (as iGSM's checker drops a sentence
that ends in [BACK]): the retracted move is not walked. A `[BACK]` with nothing left to retract is an
error. `details["n_back"]` counts them.
Reasons use 0-based character indices ("bad char 'x' at 3") and 1-based move numbers ("wall at move 2").
"""

from __future__ import annotations

from harness import Verdict

from .text import DC, DIR_CODE, DR, WALL

BACK = "[BACK]"


def verify_walk(maze: str, n: int, start: int, end: int, completion: object) -> Verdict:
    try:
        if not isinstance(completion, str):
            return Verdict(False, f"not text ({type(completion).__name__})")
        s = completion.strip()
        n_back = s.count(BACK)
        if n_back:
            kept: list[str] = []
            for k, part in enumerate(s.split(BACK)):
                if k > 0:
                    if not kept:
                        return Verdict(False, f"[BACK] number {k} has no move to retract", {"n_back": n_back})
                    kept.pop()
                kept.extend(part)
            s = "".join(kept)
        if not s:
            return Verdict(False, "empty", {"n_back": n_back})
        for k, ch in enumerate(s):
            if ch not in DIR_CODE:
                return Verdict(False, f"bad char {ch!r} at {k}", {"index": k, "n_back": n_back})
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
        return Verdict(True, "reached the end", {"n_moves": len(s), "n_back": n_back})
    except Exception as exc:  # pragma: no cover - defensive: the verifier must never raise
        return Verdict(False, f"verifier error: {type(exc).__name__}: {exc}")
