"""Scoring solutions written by any model or tool from the problem text alone (`harness score`).

Input is JSON Lines with `problem`, `solution` and optionally `answer` and `id`; the file is read as
bytes and split on "\\n" only (str.splitlines() would also cut valid JSON at U+2028 / U+0085), and a
line that is not UTF-8 JSON gets a per-line reason, never a traceback. A verifier that raises on an
item fails that item with the reason.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.interfaces import Task
from harness.store import atomic_path


@dataclass
class ScoreSummary:
    n: int = 0
    n_correct: int = 0
    #: the leading words of each failure reason, counted
    reasons: Counter = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.n_correct / max(1, self.n)


def score_record(task: Task, lineno: int, raw: bytes) -> dict[str, Any] | None:
    """The verdict record of one input line (None for a blank line). Raises NotImplementedError if
    the task cannot score from text at all."""
    if not raw.strip():
        return None
    rec: dict[str, Any] = {"line": lineno}
    try:
        item = json.loads(raw.decode("utf-8"))
        problem, solution = item["problem"], item["solution"]
    except UnicodeDecodeError as exc:
        rec.update(correct=False, reason=f"bad record: line is not UTF-8 text ({exc.reason} at byte {exc.start})")
        return rec
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        rec.update(correct=False, reason=f"bad record: needs JSON with problem and solution ({exc})")
        return rec
    try:
        v = task.verify_text(problem, solution, item.get("answer"))
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - a verifier bug is reported per item
        rec.update(correct=False, reason=f"verifier raised {type(exc).__name__}: {exc}")
    else:
        rec.update(correct=bool(v.correct), reason=v.reason, details=v.details)
    if "id" in item:
        rec["id"] = item["id"]
    return rec


def score_file(task: Task, src: Path, out: Path) -> ScoreSummary:
    """Score every line of `src` and write one verdict record per scored line to `out` (JSONL)."""
    lines = Path(src).read_bytes().split(b"\n")
    summary = ScoreSummary()
    with atomic_path(out) as tmp, open(tmp, "w") as f:
        for lineno, raw in enumerate(lines, 1):
            rec = score_record(task, lineno, raw)
            if rec is None:
                continue
            summary.n += 1
            summary.n_correct += int(rec["correct"])
            if not rec["correct"]:
                summary.reasons[str(rec["reason"]).split(":")[0][:60]] += 1
            f.write(json.dumps(rec, default=str) + "\n")
    return summary
