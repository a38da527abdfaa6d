"""What both loggers read off a cell: a folder-safe name for its condition, its configuration as flat
scalars, its results row's numeric columns, and the x-axis of a progress event."""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from typing import Any

from harness import PlanError

AXES = ("task", "corruptor", "model", "trainer", "decoder")
#: numeric columns of a results row that describe the cell rather than measure it
NOT_METRICS = frozenset({"seed"})


def need(module: str, extra: str, logger: str) -> Any:
    """Import an optional dependency, or refuse the run at plan time with the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name is not None and module.startswith(exc.name):
            raise PlanError(f"logger {logger!r} needs {extra}, which is not installed: "
                            f"pip install 'harness[{extra}]'") from None
        raise PlanError(f"logger {logger!r} needs {extra}, which failed to import ({type(exc).__name__}: "
                        f"{exc}); reinstall it: pip install 'harness[{extra}]'") from None


def slug(text: str, limit: int = 100) -> str:
    """A folder name for a condition ("mazes×fallible(p=0.2)×gpt-2L×pretrain" →
    "mazes_fallible(p=0.2)_gpt-2L_pretrain"), with a short hash when it had to be shortened."""
    s = re.sub(r"[^A-Za-z0-9_.,=()+-]+", "-", text.replace("×", "_")).strip("-.") or "condition"
    if len(s) > limit:
        s = f"{s[: limit - 9]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return s


def _scalar(v: Any) -> bool | int | float | str:
    if isinstance(v, (bool, int, float, str)):
        return v
    return json.dumps(v, sort_keys=True, default=str)


def flat_config(cell: Any) -> dict[str, bool | int | float | str]:
    """The cell's resolved configuration as flat scalars: each axis's label and config fields
    (``corruptor.p``), the seed, the budget's fields, the parent cell (hparams, a run's config)."""
    out: dict[str, bool | int | float | str] = {"condition": cell.condition, "cell_id": cell.cell_id,
                                                "seed": int(cell.seed)}
    for axis in AXES:
        comp = getattr(cell, axis)
        out[axis] = comp.choice.label
        for k, v in (comp.config or {}).items():
            out[f"{axis}.{k}"] = _scalar(v)
    for k, v in cell.budget.model_dump(mode="json").items():
        out[f"budget.{k}"] = _scalar(v)
    out["parent"] = cell.parent.cell_id if cell.parent is not None else ""
    return out


def numeric_metrics(row: dict[str, Any]) -> dict[str, float]:
    """The numeric (finite, non-boolean) columns of a results row, as floats."""
    out = {}
    for k, v in row.items():
        if k in NOT_METRICS or isinstance(v, bool) or not isinstance(v, numbers.Real):  # (numpy bools are not Real)
            continue
        if math.isfinite(v):
            out[k] = float(v)
    return out


def x_of(event: Any) -> int:
    """The x-axis of a progress event: the optimizer step when the trainer reports one, else the
    tokens done (a trainer that calls progress with three arguments)."""
    return int(event.values.get("step", event.done))
