"""Experiment files: a spec in a reviewable TOML form, with the run's budget, seeds and device.

The file's structure is a pydantic model (`ExperimentFile`, unknown keys refused): a key of the wrong
type is an error naming the file and the key, before anything is planned."""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator, model_validator

from harness.budgets import check_overrides
from harness.interfaces import PlanError
from harness.spec import _NAME_RE, AXES, MAX_CELLS, MAX_DEPTH, MAX_SEEDS, Choice, parse_spec

#: the largest seed number (a seed enters torch.manual_seed and numpy generators: 64 bits)
MAX_SEED = 2**63 - 1
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _kind(v: Any) -> str:
    """What a TOML value is, in the file's words."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
             dict: "a table"}
    for t, name in names.items():
        if type(v) is t:
            return name
    return f"a {type(v).__name__}"  # TOML dates and times


def _show(v: Any) -> str:
    try:
        text = repr(v)
    except ValueError:  # an int past Python's digit limit
        return _kind(v)
    return f"{_kind(v)} {text if len(text) <= 40 else text[:37] + '...'}"


def _value(v: Any, depth: int = 0) -> Any:
    """A parameter value as the spec grammar writes it: a number, boolean, string or a list of them
    (lists become tuples, as the grammar reads them)."""
    if isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, list):
        if depth >= MAX_DEPTH:
            raise ValueError(f"arrays nested more than {MAX_DEPTH} deep")
        return tuple(_value(x, depth + 1) for x in v)
    raise ValueError(f"a parameter value is a number, boolean, string or array, got {_kind(v)}")


def _key(k: str) -> str:
    if not _KEY_RE.match(k):
        raise ValueError(f"{k!r} is not a parameter name (letters, digits and _)")
    return k


def _sweep_values(v: Any) -> Any:
    if not isinstance(v, list) or not v:
        raise ValueError(f"a sweep must be a non-empty list of values, got {_show(v)}")
    return v


def _one_or_many(v: Any) -> Any:
    if isinstance(v, dict):
        return [v]  # [task] (one table) as well as [[task]]
    if not isinstance(v, list) or not all(isinstance(e, dict) for e in v):
        raise ValueError(f"an axis is [[tables]] with name, params, sweep, got {_show(v)}")
    return v


Key = Annotated[str, AfterValidator(_key)]
Value = Annotated[Any, AfterValidator(_value)]
Sweep = Annotated[list[Value], BeforeValidator(_sweep_values)]


class AxisEntry(BaseModel):
    """One `[[task]]` (`[[corruptor]]`, `[[model]]`, `[[trainer]]`) table."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    params: dict[Key, Value] = {}
    sweep: dict[Key, Sweep] = {}

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError(f"{v!r} is not a name (a letter or _, then letters, digits, _ . -)")
        return v

    @model_validator(mode="after")
    def _disjoint(self) -> AxisEntry:
        both = sorted(set(self.params) & set(self.sweep))
        if both:
            raise ValueError(f"{both[0]!r} is both in params and in sweep")
        n = 1
        for values in self.sweep.values():
            n *= len(values)
        if n > MAX_CELLS:
            raise ValueError(f"the sweeps expand to {n:,} alternatives; at most {MAX_CELLS:,} "
                             "(split the grid into several runs)")
        return self

    def choices(self) -> list[Choice]:
        keys = list(self.params) + list(self.sweep)
        combos = itertools.product(*[[v] for v in self.params.values()], *self.sweep.values())
        return [Choice(self.name, tuple(zip(keys, combo))) for combo in combos]


Axis = Annotated[list[AxisEntry], BeforeValidator(_one_or_many)]


class ExperimentFile(BaseModel):
    """The keys an experiment file may hold, with their types."""

    model_config = ConfigDict(extra="forbid", strict=True)

    spec: str | None = None
    description: str | None = None
    budget: str | None = None
    budget_overrides: dict[str, Any] | None = None
    seeds: Any = None
    device: Literal["auto", "cpu", "cuda"] | None = None
    task: Axis | None = None
    corruptor: Axis | None = None
    model: Axis | None = None
    trainer: Axis | None = None

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds(cls, v: Any) -> Any:
        want = f"a number of seeds (1 to {MAX_SEEDS:,}) or an array of seed numbers"
        if v is None:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, list)):
            raise ValueError(f"{want}, got {_show(v)}")
        if isinstance(v, int):
            if not 1 <= v <= MAX_SEEDS:
                raise ValueError(f"{want}, got {v if abs(v) < 10**12 else 'a number out of range'}")
            return v
        if not v:
            raise ValueError(f"{want}, got an empty array")
        if len(v) > MAX_SEEDS:
            raise ValueError(f"at most {MAX_SEEDS:,} seeds, got an array of {len(v):,}")
        for s in v:
            if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED:
                raise ValueError(f"a seed number is an integer from 0 to {MAX_SEED:,}, got {_show(s)}")
        if len(set(v)) != len(v):
            raise ValueError("the array of seeds repeats a seed")
        return v

    @field_validator("budget_overrides", mode="before")
    @classmethod
    def _overrides(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, dict):
            raise ValueError(f"[budget_overrides] must be a table of budget fields, got {_show(v)}")
        try:
            check_overrides(v or {})
        except PlanError as exc:
            raise ValueError("; ".join(str(exc).splitlines())) from None
        return v


def _where(loc: tuple[Any, ...]) -> str:
    """A pydantic error location in the file's words: `seeds`, `[[task]] #1 params.max_size`."""
    if len(loc) >= 2 and loc[0] in AXES and isinstance(loc[1], int):
        rest = ".".join(str(x) for x in loc[2:] if x != "[key]")
        return f"[[{loc[0]}]] #{loc[1] + 1}" + (f" {rest}" if rest else "")
    return ".".join(str(x) for x in loc if x != "[key]")


def _errors(p: Path, exc: ValidationError) -> str:
    allowed = ", ".join(ExperimentFile.model_fields)
    lines = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden":
            if len(loc) == 1:
                lines.append(f"{p}: unknown key {loc[0]!r}; allowed: {allowed}")
            else:
                lines.append(f"{p}: {_where(loc[:-1])}: unknown key {loc[-1]!r}; "
                             f"[[{loc[0]}]] entries take name, params, sweep")
            continue
        if e["type"] == "missing" and len(loc) >= 2 and loc[0] in AXES:
            lines.append(f"{p}: {_where(loc[:-1])}: needs a {loc[-1]}; [[{loc[0]}]] entries take name, params, sweep")
            continue
        msg = e["msg"].removeprefix("Value error, ")
        if not e["type"].startswith("value_error"):
            msg += f", got {_show(e.get('input'))}"
        lines.append(f"{p}: key {_where(loc)!r}: {msg}")
    return "\n".join(dict.fromkeys(lines))


def _read(p: Path) -> dict[str, Any]:
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PlanError(f"cannot read experiment file {p}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(f"cannot read experiment file {p}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                        f"offset {exc.start}); TOML files are UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"cannot read experiment file {p}: {exc}") from None
    except RecursionError:
        raise PlanError(f"cannot read experiment file {p}: arrays or tables nested too deeply") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise PlanError(f"cannot read experiment file {p}: {str(exc).split(';')[0]}") from None


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

    `seeds` is a number of seeds (0..N-1) or an array of seed numbers.
    """
    p = Path(path)
    data = _read(p)
    try:
        exp = ExperimentFile.model_validate(data)
    except ValidationError as exc:
        raise PlanError(_errors(p, exc)) from None
    tables = [a for a in AXES if getattr(exp, a) is not None]
    if exp.spec is not None and tables:
        raise PlanError(f"{p}: give either `spec` or per-axis tables, not both")
    axes: list[list[Choice]]
    if exp.spec is not None:
        try:
            axes = parse_spec(exp.spec)
        except PlanError as exc:
            raise PlanError(f"{p}: key 'spec': {exc}") from None
    elif tables:
        axes = []
        for axis in AXES:
            entries = getattr(exp, axis)
            if axis == "trainer" and entries is None:
                break  # the default trainer, as in a three-axis spec
            if not entries:
                raise PlanError(f"{p}: axis [{axis}] is empty")
            axes.append([c for e in entries for c in e.choices()])
    else:
        raise PlanError(f"{p}: needs `spec = \"...\"` or [[task]]/[[corruptor]]/[[model]] tables")
    out: dict[str, Any] = {"axes": axes}
    for k in ("budget", "budget_overrides", "seeds", "device"):
        if getattr(exp, k) is not None:
            out[k] = getattr(exp, k)
    return out
