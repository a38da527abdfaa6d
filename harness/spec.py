"""The spec grammar and planning: a spec string or experiment file → validated cells.

Grammar (whitespace is ignored)::

    spec   := axis SEP axis SEP axis [SEP axis]      task × corruptor × model [× trainer]
    SEP    := "×" | "*"                              ("*" is the ASCII alternative)
    axis   := item ("," item)*                       alternatives: the cross product is taken
    item   := NAME ["(" param ("," param)* ")"]
    param  := KEY "=" value | KEY "=" "[" value ("," value)* "]" | KEY "=" value ("|" value)+
    value  := a number, true/false, none, a word, a "quoted string", or a list "[" value, ... "]"
              (a list is a value inside a sweep: eval_ops=[[7,8]] sets eval_ops to [7, 8])
    value  := number | true | false | none | bare-word | "quoted string"

A bracketed or ``|``-separated value is a sweep: the item expands into one alternative per value
(several sweeps in one item multiply). Example::

    mazes(max_size=7)×oracle,fallible(p=[0.1,0.2])×gpt-2L,gpt-4L(d_model=256)

Experiment files (TOML) hold the same thing in a reviewable form; see ``load_experiment``.
Every error is found here, before any training starts: unknown names get "did you mean", invalid
parameters name the field and the reason.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness import __version__
from harness.budgets import Budget
from harness.interfaces import PlanError
from harness.plugins import Manager

AXES = ("task", "corruptor", "model", "trainer")
_SEP_RE = "×*"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Choice:
    """One alternative on one axis after sweeps are expanded: a name plus explicit parameters."""

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        # a list value is written as a one-value sweep ([[7,8]]): a bare [7,8] would read back as a sweep
        inner = ",".join(f"{k}=[{_fmt(v)}]" if isinstance(v, (list, tuple)) else f"{k}={_fmt(v)}" for k, v in self.params)
        return f"{self.name}({inner})"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.params)


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_fmt(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    # quote strings that hold grammar characters or would read back as another type ("1", "true")
    if isinstance(v, str) and (not v or re.search(r"[,()\[\]|=\s\"'\\]", v) or parse_value(v) != v):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


# ------------------------------------------------------------------------------------------ parsing
def _split_top(text: str, seps: str) -> list[str]:
    """Split on any char of `seps` outside parentheses, brackets and quotes."""
    parts, depth, buf, quote, escaped = [], 0, [], None, False
    for ch in text:
        if quote:
            buf.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                raise PlanError(f"unbalanced ')' or ']' in {text!r}")
        if ch in seps and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if depth != 0 or quote:
        raise PlanError(f"unbalanced parentheses, brackets or quotes in {text!r}")
    parts.append("".join(buf))
    return parts


def parse_value(text: str) -> Any:
    t = text.strip()
    if not t:
        raise PlanError("empty parameter value")
    if t[0] == '"' and t[-1] == '"' and len(t) >= 2:
        try:
            return json.loads(t)  # JSON escapes as Choice.label writes them
        except json.JSONDecodeError:
            return t[1:-1]
    if t[0] == "'" and t[-1] == "'" and len(t) >= 2:
        return t[1:-1]
    if t[0] == "[" and t[-1] == "]":  # a list value (inside a sweep: eval_ops=[[7,8]])
        return tuple(parse_value(v) for v in _split_top(t[1:-1], ",") if v.strip())
    low = t.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if low in ("none", "null"):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def _parse_param_values(raw: str) -> list[Any]:
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        vals = [v for v in _split_top(raw[1:-1], ",") if v.strip()]
        if not vals:
            raise PlanError(f"empty sweep {raw!r}")
        return [parse_value(v) for v in vals]
    alts = _split_top(raw, "|")  # respects quotes: "a|b" is one string, "a b"|"c d" a sweep
    return [parse_value(v) for v in alts]


def parse_item(text: str) -> list[Choice]:
    """`fallible(p=[0.1,0.2])` → [Choice(fallible, p=0.1), Choice(fallible, p=0.2)]."""
    t = text.strip()
    if not t:
        raise PlanError("empty name in spec (two commas in a row, or a trailing comma?)")
    m = re.fullmatch(r"([^()]+?)\s*(?:\((.*)\))?", t, flags=re.S)
    if not m:
        raise PlanError(f"cannot parse {t!r}: expected NAME or NAME(key=value, ...)")
    name, inner = m.group(1).strip(), m.group(2)
    if not _NAME_RE.match(name):
        raise PlanError(f"invalid name {name!r}")
    sweeps: list[tuple[str, list[Any]]] = []
    if inner is not None and inner.strip():
        for part in _split_top(inner, ","):
            if not part.strip():
                continue
            if "=" not in part:
                raise PlanError(f"parameter {part.strip()!r} of {name!r} needs the form key=value")
            key, raw = part.split("=", 1)
            key = key.strip()
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise PlanError(f"invalid parameter name {key!r} in {name!r}")
            if any(k == key for k, _ in sweeps):
                raise PlanError(f"parameter {key!r} given twice in {name!r}")
            sweeps.append((key, _parse_param_values(raw)))
    keys = [k for k, _ in sweeps]
    return [Choice(name, tuple(zip(keys, combo))) for combo in itertools.product(*[v for _, v in sweeps])]


def parse_spec(text: str, min_axes: int = 3, max_axes: int = 4) -> list[list[Choice]]:
    """A spec string → per axis, the list of choices (sweeps expanded)."""
    axes_text = _split_top(text.strip(), _SEP_RE)
    if not (min_axes <= len(axes_text) <= max_axes):
        want = " × ".join(AXES[:min_axes]) + (f" [× {AXES[3]}]" if max_axes == 4 else "")
        raise PlanError(
            f"spec {text!r} has {len(axes_text)} axes; expected {want} "
            "(separate axes with '×' or '*', alternatives with ',')"
        )
    axes: list[list[Choice]] = []
    for axis_text in axes_text:
        choices: list[Choice] = []
        for item in _split_top(axis_text, ","):
            choices.extend(parse_item(item))
        axes.append(choices)
    return axes


# --------------------------------------------------------------------------------------- experiment
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


# ------------------------------------------------------------------------------------------ planning
@dataclass
class Component:
    """A resolved plugin instance choice: registry name, config, and where it came from."""

    kind: str
    choice: Choice
    name: str  # canonical registry name (aliases resolved; the family name for models)
    plugin: str
    version: str
    config: dict[str, Any]
    cls: type

    def instantiate(self) -> Any:
        return self.cls(self.cls.Config(**self.config))

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "plugin": self.plugin, "config": self.config}


@dataclass
class Cell:
    task: Component
    corruptor: Component
    model: Component
    trainer: Component
    seed: int
    budget: Budget
    cell_id: str = ""
    plugin_versions: dict[str, str | None] = field(default_factory=dict)

    @property
    def condition(self) -> str:
        """The cell's label without the seed: what results are aggregated by."""
        return "×".join(c.choice.label for c in (self.task, self.corruptor, self.model, self.trainer))

    def identity(self) -> dict[str, Any]:
        return {
            "harness": __version__,
            "task": self.task.identity(),
            "corruptor": self.corruptor.identity(),
            "model": {**self.model.identity(), "label": self.model.choice.name},
            "trainer": self.trainer.identity(),
            "seed": self.seed,
            "budget": self.budget.model_dump(mode="json"),
            "plugins": self.plugin_versions,
        }

    def to_json(self) -> dict[str, Any]:
        return {"cell_id": self.cell_id, "condition": self.condition, **self.identity()}


@dataclass
class Plan:
    spec: str
    budget: Budget
    seeds: list[int]
    cells: list[Cell]
    #: task×corruptor combinations of the cross product that cannot run, with the reason
    skipped: list[str] = field(default_factory=list)

    @property
    def conditions(self) -> list[str]:
        return list(dict.fromkeys(c.condition for c in self.cells))


def _validation_message(kind: str, choice: Choice, plugin: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(config)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown parameter"
        lines.append(f"{kind} {choice.label!r} (plugin {plugin}): field {loc!r}: {msg}")
    return "\n".join(lines)


def resolve(manager: Manager, kind: str, choice: Choice, budget: Budget) -> Component:
    entry, implied = manager.get(kind, choice.name)
    cls = entry.cls
    try:
        defaults = dict(cls.budget_defaults(budget))
    except Exception as exc:  # noqa: BLE001 - a broken defaults hook is the plugin's error, not ours
        raise PlanError(f"{kind} {choice.name!r} (plugin {entry.plugin}): budget_defaults failed: {exc}")
    explicit = choice.as_dict()
    config_in = {**defaults, **implied, **explicit}
    # budget defaults for fields the config does not have are ignored (a family may not have them)
    fields = getattr(cls.Config, "model_fields", {})
    config_in = {k: v for k, v in config_in.items() if k in fields or k in explicit or k in implied}
    plugin = manager.plugins.get(entry.plugin)
    try:
        cfg = cls.Config(**config_in)
    except ValidationError as exc:
        raise PlanError(_validation_message(kind, choice, entry.plugin, exc)) from None
    return Component(
        kind=kind,
        choice=choice,
        name=entry.name if kind != "model" else choice.name,
        plugin=entry.plugin,
        version=f"{cls.version}/{plugin.version if plugin and plugin.version else '0'}",
        config=cfg.model_dump(mode="json"),
        cls=cls,
    )


def cell_id_of(identity: dict[str, Any]) -> str:
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def plan(
    manager: Manager,
    spec: str | list[list[Choice]],
    budget: str = "smoke",
    seeds: int | list[int] = 1,
    min_axes: int = 3,
    budget_overrides: dict[str, Any] | None = None,
) -> Plan:
    """Resolve every cell of a spec; raise PlanError listing every problem found.

    `budget_overrides` change fields of the named budget (e.g. train_tokens); they are part of every
    cell's identity, and plugins adapt to the budget by its profile. A three-axis spec gets the
    trainer a plugin declared the default."""
    axes = parse_spec(spec, min_axes=min_axes) if isinstance(spec, str) else spec
    spec_text = spec if isinstance(spec, str) else "×".join(",".join(c.label for c in ax) for ax in axes)
    if len(axes) == 3:
        axes = [*axes, [Choice(manager.default("trainer").name)]]
    budget_obj = manager.budget(budget, **(budget_overrides or {}))
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise PlanError("at least one seed is needed")
    errors: list[str] = []
    resolved: list[list[Component]] = []
    for kind, choices in zip(AXES, axes):
        comps = []
        for ch in choices:
            try:
                comps.append(resolve(manager, kind, ch, budget_obj))
            except PlanError as exc:
                if str(exc) not in errors:
                    errors.append(str(exc))
        resolved.append(comps)
    cells: list[Cell] = []
    skipped: list[str] = []
    if not errors:
        versions = {p.name: p.version for p in manager.plugins.values() if not p.error}
        for t, c, m, tr in itertools.product(*resolved):
            try:
                c.instantiate().check(t.instantiate())
            except PlanError as exc:
                msg = f"{t.choice.label} × {c.choice.label}: {exc}"
                if msg not in skipped:
                    skipped.append(msg)
                continue
            involved = {k: versions.get(k) for k in {t.plugin, c.plugin, m.plugin, tr.plugin}}
            for s in seed_list:
                cell = Cell(t, c, m, tr, s, budget_obj, plugin_versions=dict(sorted(involved.items())))
                cell.cell_id = cell_id_of(cell.identity())
                cells.append(cell)
    if errors:
        raise PlanError("\n".join(errors))
    if not cells:
        raise PlanError("no valid cell in this spec:\n" + "\n".join(skipped))
    seen: dict[str, Cell] = {}
    unique = []
    for cell in cells:
        if cell.cell_id not in seen:
            seen[cell.cell_id] = cell
            unique.append(cell)
    return Plan(spec=spec_text, budget=budget_obj, seeds=seed_list, cells=unique, skipped=skipped)
