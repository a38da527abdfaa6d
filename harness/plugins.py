"""Plugin loading and the registries of tasks, corruptors, model families and trainers.

Every plugin, built-in or third-party, comes from the entry-point group ``harness``. Loading is fault
tolerant: a plugin that fails to import, uses an unknown hook name, or raises while registering is
recorded (name, distribution, version, error) and dropped; the rest keep working. With
``HARNESS_STRICT_PLUGINS=1`` any such failure is fatal. ``HARNESS_DISABLE_PLUGINS=a,b`` blocks plugins
by entry-point name.

The plugin manager is the only process-wide mutable state: ``get_manager()`` builds it once.
"""

from __future__ import annotations

import difflib
import os
import re
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from harness import hookspecs
from harness.bench.base import Benchmark
from harness.probing import ProbeTarget
from harness.budgets import BUDGETS, Budget
from harness.interfaces import (
    Analysis,
    Corruptor,
    Decoder,
    Executor,
    Logger,
    ModelFamily,
    PlanError,
    Task,
    Trainer,
)

GROUP = "harness"
#: the pseudo-plugin whose source hash stands for the core modules that compute a cell
CORE = "harness-core"
KINDS: dict[str, type] = {
    "task": Task,
    "corruptor": Corruptor,
    "model": ModelFamily,
    "trainer": Trainer,
    "decoder": Decoder,
    "executor": Executor,
    "analysis": Analysis,
    "benchmark": Benchmark,
    "probe_target": ProbeTarget,
    "logger": Logger,
}
_HOOK_OF_KIND = {
    "task": "harness_register_tasks",
    "corruptor": "harness_register_corruptors",
    "model": "harness_register_models",
    "trainer": "harness_register_trainers",
    "decoder": "harness_register_decoders",
    "executor": "harness_register_executors",
    "analysis": "harness_register_analyses",
    "benchmark": "harness_register_benchmarks",
    "probe_target": "harness_register_probe_targets",
    "logger": "harness_register_loggers",
}


class PluginLoadError(RuntimeError):
    """Raised in strict mode when any plugin fails to load."""


class PluginHookError(RuntimeError):
    """Raised in strict mode when an observer hook (harness_run_start, ...) raises."""


@dataclass
class HookFailure:
    """An observer hook that raised during a run (its plugin's hooks were switched off)."""

    plugin: str
    hook: str
    error: str
    traceback: str


@dataclass
class Entry:
    """One registered name."""

    kind: str
    name: str
    cls: type
    plugin: str
    aliases: tuple[str, ...] = ()
    #: the one entry of its kind used when a spec leaves the axis out (the trainer axis)
    default: bool = False

    @property
    def description(self) -> str:
        doc = getattr(self.cls, "description", "") or (self.cls.__doc__ or "")
        return doc.strip().splitlines()[0] if doc.strip() else ""


@dataclass
class PluginInfo:
    name: str
    dist: str | None
    version: str | None
    registered: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in [*KINDS, "budget"]})
    error: str | None = None
    traceback: str | None = None
    #: the module the plugin's code lives in (its entry point's module, or an extra object's module)
    module: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "distribution": self.dist,
            "version": self.version,
            "status": "failed" if self.error else "ok",
        }
        for kind in self.registered:
            out["analyses" if kind == "analysis" else kind + "s"] = list(self.registered[kind])
        if self.error:
            out["error"] = self.error
        return out


def _strict_default() -> bool:
    return os.environ.get("HARNESS_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


class Manager:
    """The pluggy manager plus the registries it fills."""

    def __init__(self, strict: bool | None = None, extra_plugins: dict[str, object] | None = None):
        self.strict = _strict_default() if strict is None else strict
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.entries: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}  # kind → name → entry
        self.aliases: dict[str, dict[str, str]] = {k: {} for k in KINDS}  # kind → alias → name
        self.budgets: dict[str, Budget] = dict(BUDGETS)  # the core's, then those plugins register
        self.budget_owner: dict[str, str] = {name: "harness" for name in BUDGETS}
        self._sources: dict[str, str | None] = {}
        self.silenced: set[str] = set()  # plugins whose observer hooks raised (see notify)
        self.hook_failures: list[HookFailure] = []
        self._load(extra_plugins or {})

    # -- loading -------------------------------------------------------------------------------------
    def _fail(self, info: PluginInfo, exc: BaseException, what: str) -> None:
        info.error = f"{what}: {type(exc).__name__}: {exc}"
        info.traceback = "".join(traceback.format_exception(exc))
        self.plugins[info.name] = info
        if self.strict:
            raise PluginLoadError(
                f"plugin {info.name!r} ({info.dist or '?'} {info.version or '?'}) failed to load: "
                f"{info.error}"
            ) from exc

    def _load(self, extra: dict[str, object]) -> None:
        blocked = {s.strip() for s in os.environ.get("HARNESS_DISABLE_PLUGINS", "").split(",") if s.strip()}
        candidates: list[tuple[str, Any, PluginInfo]] = []
        owner: dict[str, str | None] = {}  # entry-point name → distribution that claimed it first
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            if ep.name in blocked:
                continue
            dist = getattr(ep, "dist", None)
            info = PluginInfo(ep.name, dist.name if dist else None, dist.version if dist else None,
                              module=ep.value.split(":")[0].strip())
            if ep.name in owner:
                if owner[ep.name] != info.dist:  # another distribution uses the same plugin name
                    info.name = f"{ep.name}@{info.dist}"
                    self._fail(info, ValueError(
                        f"plugin name {ep.name!r} is already used by distribution {owner[ep.name]!r}; "
                        f"rename the entry point or disable one with HARNESS_DISABLE_PLUGINS"), "name clash")
                continue
            owner[ep.name] = info.dist
            try:
                obj = ep.load()
            except BaseException as exc:  # noqa: BLE001 - any import failure is reported, not fatal
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                self._fail(info, exc, "import failed")
                continue
            candidates.append((ep.name, obj, info))
        for name, obj in extra.items():
            info = PluginInfo(name, None, None, module=obj.__name__ if isinstance(obj, ModuleType)
                              else getattr(obj, "__module__", None) or type(obj).__module__)
            if name in owner or name in self.plugins:
                info.name = f"{name}@extra"
                self._fail(info, ValueError(f"plugin name {name!r} is already taken"), "name clash")
                continue
            candidates.append((name, obj, info))

        for name, obj, info in candidates:
            try:
                self.pm.register(obj, name=name)
                self._check_hook_names(obj, name)
            except Exception as exc:  # noqa: BLE001
                if self.pm.is_registered(obj):
                    self.pm.unregister(obj)
                self._fail(info, exc, "invalid hooks")
                continue
            self.plugins[name] = info

        for impl in self.pm.hook.harness_register_budgets.get_hookimpls():
            info = self.plugins[impl.plugin_name]
            if not info.error:
                self._register_budgets(impl, info)
        for kind, hook in _HOOK_OF_KIND.items():
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                info = self.plugins[impl.plugin_name]
                if info.error:
                    continue
                self._call_register(kind, impl, info)

    def _register_budgets(self, impl: Any, info: PluginInfo) -> None:
        added: list[str] = []

        def register(budget: Budget) -> None:
            if not isinstance(budget, Budget):
                raise TypeError(f"harness_register_budgets must register Budget instances, got {budget!r}")
            if budget.name in self.budgets:
                raise ValueError(f"budget {budget.name!r} is already registered by {self.budget_owner[budget.name]!r}")
            self.budgets[budget.name] = budget
            self.budget_owner[budget.name] = info.name
            added.append(budget.name)
            info.registered["budget"].append(budget.name)

        try:
            impl.function(register=register)
        except Exception as exc:  # noqa: BLE001 - roll back this plugin's budgets, then report
            for name in added:
                self.budgets.pop(name, None)
                self.budget_owner.pop(name, None)
            info.registered["budget"].clear()
            self._fail(info, exc, "harness_register_budgets raised")

    def _check_hook_names(self, obj: object, name: str) -> None:
        """pluggy accepts hooks with no spec silently; catch misspellings (what check_pending does)."""
        for caller in self.pm.get_hookcallers(obj) or []:
            if not caller.has_spec():
                known = [h for h in dir(hookspecs) if h.startswith("harness_")]
                close = difflib.get_close_matches(caller.name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise pluggy.PluginValidationError(
                    obj, f"unknown hook {caller.name!r} in plugin {name!r}{hint}"
                )
        self.pm.check_pending()

    def _call_register(self, kind: str, impl: Any, info: PluginInfo) -> None:
        added: list[tuple[str, str, tuple[str, ...]]] = []

        def register(cls: type, *, aliases: tuple[str, ...] | list[str] = (), default: bool = False) -> None:
            base = KINDS[kind]
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise TypeError(f"{hook_name} must register {base.__name__} subclasses, got {cls!r}")
            name = getattr(cls, "name", None)
            if not isinstance(name, str) or not name:
                raise TypeError(f"{cls.__name__} has no `name`")
            if kind == "model":
                re.compile(cls.pattern)
            if kind == "task":
                _check_task_constants(cls)
            for n in (name, *aliases):
                if n in self.entries[kind] or n in self.aliases[kind]:
                    owner = self._resolve_entry(kind, n).plugin
                    raise ValueError(f"{kind} {n!r} is already registered by plugin {owner!r}")
            if default:
                other = next((e for e in self.entries[kind].values() if e.default), None)
                if other is not None:
                    raise ValueError(f"{kind} {name!r} is declared the default, but plugin {other.plugin!r} "
                                     f"already declared {other.name!r} the default {kind}")
            self.entries[kind][name] = Entry(kind, name, cls, info.name, tuple(aliases), default)
            for a in aliases:
                self.aliases[kind][a] = name
            added.append((kind, name, tuple(aliases)))
            info.registered[kind].append(name)

        hook_name = _HOOK_OF_KIND[kind]
        try:
            impl.function(register=register)
        except Exception as exc:  # noqa: BLE001 - roll back what this plugin registered, then report
            for k, name, aliases in added:
                self.entries[k].pop(name, None)
                for a in aliases:
                    self.aliases[k].pop(a, None)
            for k in info.registered:
                info.registered[k].clear()
            for k in KINDS:  # drop everything this plugin registered under other hooks too
                for name in [n for n, e in self.entries[k].items() if e.plugin == info.name]:
                    e = self.entries[k].pop(name)
                    for a in e.aliases:
                        self.aliases[k].pop(a, None)
            for name in [n for n, owner in self.budget_owner.items() if owner == info.name]:
                self.budgets.pop(name)
                self.budget_owner.pop(name)
            self._fail(info, exc, f"{hook_name} raised")

    # -- lookup --------------------------------------------------------------------------------------
    def _resolve_entry(self, kind: str, name: str) -> Entry:
        name = self.aliases[kind].get(name, name)
        return self.entries[kind][name]

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])

    def default(self, kind: str) -> Entry:
        """The entry a plugin declared the default of its kind (``register(cls, default=True)``)."""
        for entry in self.entries[kind].values():
            if entry.default:
                return entry
        raise PlanError(f"no {kind} is declared the default (register(..., default=True)); name one in the "
                        f"spec. Available {kind}s: {', '.join(self.names(kind)) or '(none)'}")

    def budget(self, name: str, /, **overrides: Any) -> Budget:
        """A registered budget (the core's or a plugin's), with fields overridden."""
        from harness.budgets import get_budget

        return get_budget(name, self.budgets, **overrides)

    def get(self, kind: str, name: str) -> tuple[Entry, dict[str, Any]]:
        """The entry for `name` plus config fields implied by the name (a model family's pattern)."""
        if kind == "model":
            for entry in self.entries["model"].values():
                m = re.fullmatch(entry.cls.pattern, name)
                if m:
                    return entry, {k: int(v) if v.isdigit() else v for k, v in m.groupdict().items()}
        canonical = self.aliases[kind].get(name, name)
        if canonical in self.entries[kind]:
            return self.entries[kind][canonical], {}
        raise PlanError(self.unknown_message(kind, name))

    def unknown_message(self, kind: str, name: str) -> str:
        avail = sorted(set(self.entries[kind]) | set(self.aliases[kind]))
        pool = list(avail)
        if kind == "model":
            pool += [_example_model_name(e.cls.pattern) for e in self.entries["model"].values()]
        close = difflib.get_close_matches(name, pool, n=3, cutoff=0.5)
        msg = f"unknown {kind} {name!r}."
        if close:
            msg += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
        msg += f" Available {kind}s: " + (", ".join(avail) if avail else "(none)")
        failed = [p for p in self.plugins.values() if p.error]
        if failed:
            msg += ". Plugins that failed to load: " + ", ".join(p.name for p in failed)
        return msg

    def failures(self) -> list[PluginInfo]:
        return [p for p in self.plugins.values() if p.error]

    def describe(self) -> list[dict[str, Any]]:
        return [p.as_json() for p in sorted(self.plugins.values(), key=lambda p: p.name)]

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def source_hash(self, plugin: str) -> str | None:
        """A hash of the plugin's source files (harness.provenance), part of the identity of every cell
        it takes part in; "harness-core" is the core modules that compute a cell. None without source."""
        if plugin not in self._sources:
            from harness import provenance

            if plugin == CORE:
                self._sources[plugin] = provenance.core_source_hash()
            else:
                info = self.plugins.get(plugin)
                self._sources[plugin] = provenance.module_source_hash(info.module) if info and info.module else None
        return self._sources[plugin]

    def source_paths(self) -> dict[str, str]:
        """Plugin name → the folder (or file) its source lives in, for the loaded plugins."""
        from harness import provenance

        out = {}
        for name, info in sorted(self.plugins.items()):
            files = provenance.source_files(info.module) if info.module and not info.error else []
            if files:
                out[name] = os.path.commonpath([str(f.parent) for f in files]) if len(files) > 1 else str(files[0])
        return out

    def notify(self, hook_name: str, event: Any) -> None:
        """Call every observer of a lifecycle hook, each on its own: one that raises (or calls
        `sys.exit`) is reported and its observer hooks are switched off for the rest of this process,
        and the others go on. In strict mode (HARNESS_STRICT_PLUGINS=1) the failure is fatal."""
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        for impl in reversed(impls):  # pluggy's own call order: last registered first
            if impl.plugin_name in self.silenced:
                continue
            try:
                impl.function(event=event)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - an observer never takes the run down
                if self.strict:
                    raise PluginHookError(
                        f"plugin {impl.plugin_name!r} raised in {hook_name}: {type(exc).__name__}: {exc}"
                    ) from exc
                self.silenced.add(impl.plugin_name)
                self.hook_failures.append(HookFailure(impl.plugin_name, hook_name, f"{type(exc).__name__}: {exc}",
                                                      "".join(traceback.format_exception(exc))))
                if hook_name != "harness_run_message":
                    from harness.events import RunMessage

                    self.notify("harness_run_message", RunMessage(
                        f"plugin {impl.plugin_name!r} raised in {hook_name} ({type(exc).__name__}: {exc}); "
                        "its hooks are off for the rest of this run, which goes on"))


def _check_task_constants(cls: type) -> None:
    """A task's vocabulary and special ids are class constants; check them once, at registration."""
    vocab = getattr(cls, "vocab", None)
    if isinstance(vocab, property) or not vocab or not all(isinstance(t, str) for t in vocab):
        raise TypeError(f"task {cls.__name__} needs `vocab`: a class constant, a non-empty sequence of token strings")
    for attr, optional in (("end_token", False), ("back_token", True)):
        v = getattr(cls, attr, None)
        if v is None and optional:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < len(vocab):
            raise TypeError(f"task {cls.__name__} needs `{attr}`: a class constant, an id in 0..{len(vocab) - 1}"
                            f"{' or None' if optional else ''} (got {v!r})")


def _example_model_name(pattern: str) -> str:
    """gpt-(?P<n_layer>\\d+)L → gpt-8L, to power "did you mean" for family patterns."""
    return re.sub(r"\(\?P<\w+>[^)]*\)", "8", pattern).replace("\\", "")


_MANAGER: Manager | None = None


def get_manager() -> Manager:
    """The process-wide plugin manager (built on first use)."""
    global _MANAGER
    if _MANAGER is None:
        _MANAGER = Manager()
    return _MANAGER


def reset_manager(manager: Manager | None = None) -> None:
    """Replace the process-wide manager (tests register fixture plugins this way)."""
    global _MANAGER
    _MANAGER = manager
