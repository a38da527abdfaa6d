"""The planner: a parsed spec → validated cells, each with a stable identity.

Every error is found here, before any training starts: unknown names get "did you mean", invalid
parameters name the field and the reason, combinations a corruptor cannot run on are skipped with it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from pydantic import ValidationError

from harness import __version__
from harness.budgets import Budget
from harness.interfaces import PlanError, check_decodable
from harness.plugins import CORE, Manager
from harness.spec import AXES, Choice, parse_spec


@dataclass
class Component:
    """A resolved plugin instance choice: registry name, config, and where it came from."""

    kind: str
    choice: Choice
    name: str  # canonical registry name (aliases resolved; the family name for models)
    plugin: str
    version: str
    config: dict[str, Any]  # the validated config as JSON (what the identity hashes)
    cls: type
    #: the validated config object itself: configs are validated once, here, at plan time
    validated: Any = None

    def instantiate(self) -> Any:
        cfg = self.validated.model_copy(deep=True) if self.validated is not None else self.cls.Config(**self.config)
        return self.cls(cfg)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "plugin": self.plugin, "config": self.config}


@dataclass
class Cell:
    """One task × corruptor × model × trainer × seed under a budget, evaluated with a decoder; a
    fine-tuning cell has the `parent` whose final checkpoint it starts from."""

    task: Component
    corruptor: Component
    model: Component
    trainer: Component
    seed: int
    budget: Budget
    decoder: Component
    parent: "Cell | None" = None
    cell_id: str = ""
    plugin_versions: dict[str, str | None] = field(default_factory=dict)
    #: plugin (and "harness-core") → hash of its source files (harness.provenance)
    plugin_sources: dict[str, str | None] = field(default_factory=dict)
    #: the decoder is not the declared default: the condition says which one (e.g. " [beam(k=4)]")
    decoder_in_label: bool = False

    @property
    def condition(self) -> str:
        """The cell's label without the seed: what results are aggregated by (with the decoder in
        brackets when it is not the default, so one directory can hold several decoders' cells)."""
        base = "×".join(c.choice.label for c in (self.task, self.corruptor, self.model, self.trainer))
        return f"{base} [{self.decoder.choice.label}]" if self.decoder_in_label else base

    def identity(self) -> dict[str, Any]:
        return {
            "harness": __version__,
            "task": self.task.identity(),
            "corruptor": self.corruptor.identity(),
            "model": {**self.model.identity(), "label": self.model.choice.name},
            "trainer": self.trainer.identity(),
            "decoder": self.decoder.identity(),
            "parent": self.parent.cell_id if self.parent is not None else None,
            "seed": self.seed,
            "budget": self.budget.model_dump(mode="json"),
            "plugins": self.plugin_versions,
            "sources": self.plugin_sources,
        }

    def train_key(self) -> str:
        """The identity of what the cell trains (everything but the decoder): cells that differ only
        in how they are evaluated share it, so the runner trains once and evaluates each way."""
        ident = self.identity()
        ident.pop("decoder")
        return cell_id_of(ident)

    def to_json(self) -> dict[str, Any]:
        axes = {k: c.choice.label for k, c in zip(("task", "corruptor", "model", "trainer"),
                                                  (self.task, self.corruptor, self.model, self.trainer))}
        return {"cell_id": self.cell_id, "condition": self.condition, "axis_labels": axes, **self.identity()}


def scaled_budget(budget: Budget, scale: float) -> Budget:
    """The budget of a cell whose trainer asks for `token_scale`: its tokens and its training problems
    scaled (the same budget object when the scale is 1, so identities of unscaled cells are unchanged)."""
    if scale == 1.0:
        return budget
    return budget.model_copy(update={"train_tokens": max(1, round(budget.train_tokens * scale)),
                                     "n_train": max(1, round(budget.n_train * scale))})


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


def _validation_message(kind: str, choice: Choice, plugin: str, exc: ValidationError,
                        known: Sequence[str] = ()) -> str:
    import difflib

    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(config)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][0]), list(known), n=1) if err["loc"] else []
            msg = "unknown parameter" + (f" (did you mean {close[0]!r}?)" if close else
                                         f"; its parameters: {', '.join(known)}" if known else "")
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
        raise PlanError(_validation_message(kind, choice, entry.plugin, exc, list(fields))) from None
    return Component(
        kind=kind,
        choice=choice,
        name=entry.name if kind != "model" else choice.name,
        plugin=entry.plugin,
        version=f"{cls.version}/{plugin.version if plugin and plugin.version else '0'}",
        config=cfg.identity_json(),
        cls=cls,
        validated=cfg,
    )


def _sources(manager: Manager, plugins: Any) -> dict[str, str | None]:
    """The source hashes of the plugins taking part in a cell, and of the core's computing modules."""
    return {name: manager.source_hash(name) for name in sorted({*plugins, CORE})}


def check_pair(corruptor: Component, task: Component) -> None:
    """`corruptor.check(task)`: a PlanError means the combination is refused (skipped with its reason);
    anything else it raises is the plugin's bug, reported as a PlanError naming the plugin."""
    try:
        corruptor.instantiate().check(task.instantiate())
    except PlanError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plugin's check() must not be a traceback in validate
        raise PlanError(
            f"corruptor {corruptor.name!r} (plugin "
            f"{corruptor.plugin}) raised {type(exc).__name__} in check(): {exc} (check must raise PlanError "
            "to refuse a combination)") from exc


def _check_model(comp: Component) -> None:
    cls = getattr(comp.cls, "model_class", None)
    if cls is None:
        raise PlanError(f"model {comp.choice.label!r} (plugin {comp.plugin}): its family declares no "
                        "`model_class`, so the decode protocol cannot be checked")
    check_decodable(cls, f"model {comp.choice.label!r} (plugin {comp.plugin})")


def _parent_of(manager: Manager, child: "Cell", spec: str, budget: Budget, depth: int) -> "Cell":
    """The cell a trainer's `init_from` names: one condition (3 or 4 axes, one choice each), with the
    child's seed, budget and decoder; its task and model must equal the child's."""
    if depth > 8:
        raise PlanError(f"init_from chain deeper than 8 stages at {spec!r} (a cycle?)")
    axes = parse_spec(spec)
    if any(len(ax) != 1 for ax in axes):
        raise PlanError(f"init_from={spec!r} must name one condition (no ',' alternatives or sweeps)")
    if len(axes) == 3:
        axes = [*axes, [Choice(manager.default("trainer").name)]]
    t, c, m, tr = (resolve(manager, kind, ax[0], budget) for kind, ax in zip(AXES, axes))
    for what, mine, theirs in (("task", child.task, t), ("model", child.model, m)):
        if mine.identity() != theirs.identity():
            raise PlanError(f"init_from={spec!r}: the parent's {what} {theirs.choice.label!r} differs from this "
                            f"cell's {mine.choice.label!r} (a checkpoint only fits the same {what})")
    check_pair(c, t)
    versions = {p.name: p.version for p in manager.plugins.values() if not p.error}
    involved = {k: versions.get(k) for k in {t.plugin, c.plugin, m.plugin, tr.plugin, child.decoder.plugin}}
    parent = Cell(t, c, m, tr, child.seed, scaled_budget(budget, float(tr.config.get("token_scale", 1.0))),
                  child.decoder, plugin_versions=dict(sorted(involved.items())),
                  plugin_sources=_sources(manager, involved), decoder_in_label=child.decoder_in_label)
    _link(manager, parent, budget, depth + 1)
    return parent


def _link(manager: Manager, cell: "Cell", budget: Budget, depth: int = 0) -> None:
    """Resolve the cell's parent (if its trainer starts from one) and give it its identity."""
    init_from = cell.trainer.config.get("init_from")
    if init_from:
        cell.parent = _parent_of(manager, cell, str(init_from), budget, depth)
    cell.cell_id = cell_id_of(cell.identity())


def resolve_items(manager: Manager, kind: str, text: str, budget: Budget) -> list[Component]:
    """Every alternative of a one-axis spec of `kind` (e.g. ``on_mistake,on_mistake(at=correction)``),
    resolved as a spec's axis is (for command-line options naming components)."""
    return [resolve(manager, kind, c, budget) for c in parse_spec(text, 1, 1)[0]]


def resolve_one(manager: Manager, kind: str, text: str | None, budget: Budget, option: str) -> Component:
    """The one component `text` names (the declared default when `text` is empty); `option` names the
    command-line option in the error when it names several."""
    if not text:
        return resolve(manager, kind, Choice(manager.default(kind).name), budget)
    comps = resolve_items(manager, kind, text, budget)
    if len(comps) != 1:
        raise PlanError(f"{option} {text!r} must name one {kind}")
    return comps[0]


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
    decoder: str | Choice | None = None,
) -> Plan:
    """Resolve every cell of a spec; raise PlanError listing every problem found.

    `budget_overrides` change fields of the named budget (e.g. train_tokens); they are part of every
    cell's identity, and plugins adapt to the budget by its profile. A three-axis spec gets the
    trainer a plugin declared the default; `decoder` (default: the declared default decoder) is how
    every cell is evaluated: one, or a comma list (each cell of the spec once per decoder; the
    conditions then name their decoder, e.g. "…×pretrain [beam(k=4)]"). A trainer whose `init_from` names a condition makes each of its cells a
    fine-tuning stage: the parent cell (same seed) joins the plan before it."""
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
    for comp in resolved[2]:
        try:
            _check_model(comp)
        except PlanError as exc:
            errors.append(str(exc))
    try:
        decs = ([resolve(manager, "decoder", decoder, budget_obj)] if isinstance(decoder, Choice)
                else resolve_items(manager, "decoder", decoder, budget_obj) if decoder
                else [resolve_one(manager, "decoder", None, budget_obj, "--decoder")])
    except PlanError as exc:
        errors.append(str(exc))
    else:
        default_dec = resolve(manager, "decoder", Choice(manager.default("decoder").name), budget_obj)
        dec_is_default = len(decs) == 1 and decs[0].identity() == default_dec.identity()
    cells: list[Cell] = []
    skipped: list[str] = []
    if not errors:
        versions = {p.name: p.version for p in manager.plugins.values() if not p.error}
        for t, c, m, tr in itertools.product(*resolved):
            try:
                check_pair(c, t)
            except PlanError as exc:
                msg = f"{t.choice.label} × {c.choice.label}: {exc}"
                if msg not in skipped:
                    skipped.append(msg)
                continue
            cell_budget = scaled_budget(budget_obj, float(tr.config.get("token_scale", 1.0)))
            for dec, s in itertools.product(decs, seed_list):
                involved = {k: versions.get(k) for k in {t.plugin, c.plugin, m.plugin, tr.plugin, dec.plugin}}
                cell = Cell(t, c, m, tr, s, cell_budget, dec, plugin_versions=dict(sorted(involved.items())),
                            plugin_sources=_sources(manager, involved),
                            decoder_in_label=not dec_is_default)
                try:
                    _link(manager, cell, budget_obj)
                except PlanError as exc:
                    if str(exc) not in errors:
                        errors.append(str(exc))
                    continue
                chain, up = [], cell.parent
                while up is not None:  # parents run first: they join the plan before their children
                    chain.append(up)
                    up = up.parent
                cells.extend(reversed(chain))
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
