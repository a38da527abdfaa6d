"""Experiment files: a spec in a reviewable TOML form, with the run's budget, seeds and device."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path
from typing import Any

from harness.interfaces import PlanError
from harness.spec import AXES, Choice, parse_spec


def load_experiment(path: str | Path) -> dict[str, Any]:
    """Read an experiment TOML file. Two forms, combinable with `budget`, `seeds`, `device`::

        spec = "mazes×oracle,fallible×gpt-2L,gpt-4L"

    or per axis, where `sweep` values are lists::

        [[task]]
        name = "mazes"
        params = { max_size = 7 }
        [[corruptor]]
        name = "fallible"
        sweep = { p = [0.1, 0.2] }
        [[model]]
        name = "gpt-2L"
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PlanError(f"cannot read experiment file {p}: {exc}") from exc
    allowed = {"spec", "budget", "budget_overrides", "seeds", "device", "description", *AXES}
    unknown = set(data) - allowed
    if unknown:
        raise PlanError(f"{p}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    if "spec" in data and any(a in data for a in AXES):
        raise PlanError(f"{p}: give either `spec` or per-axis tables, not both")
    axes: list[list[Choice]] | None = None
    if "spec" in data:
        axes = parse_spec(str(data["spec"]))
    elif any(a in data for a in AXES):
        axes = []
        for axis in AXES:
            if axis == "trainer" and axis not in data:
                break  # the default trainer, as in a three-axis spec
            entries = data.get(axis, [])
            if isinstance(entries, dict):
                entries = [entries]
            if not entries:
                raise PlanError(f"{p}: axis [{axis}] is empty")
            choices: list[Choice] = []
            for e in entries:
                bad = set(e) - {"name", "params", "sweep"}
                if bad or "name" not in e:
                    raise PlanError(f"{p}: [[{axis}]] entries take name, params, sweep (got {sorted(e)})")
                params = dict(e.get("params", {}))
                sweep = dict(e.get("sweep", {}))
                for k, v in sweep.items():
                    if not isinstance(v, list) or not v:
                        raise PlanError(f"{p}: sweep {axis}.{e['name']}.{k} must be a non-empty list")
                keys = list(params) + list(sweep)
                for combo in itertools.product(*[[params[k]] for k in params], *sweep.values()):
                    choices.append(Choice(str(e["name"]), tuple(zip(keys, combo))))
            axes.append(choices)
    if axes is None:
        raise PlanError(f"{p}: needs `spec = \"...\"` or [[task]]/[[corruptor]]/[[model]] tables")
    if "budget_overrides" in data and not isinstance(data["budget_overrides"], dict):
        raise PlanError(f"{p}: [budget_overrides] must be a table of budget fields")
    keep = ("budget", "budget_overrides", "seeds", "device")
    return {"axes": axes, **{k: data[k] for k in keep if k in data}}
