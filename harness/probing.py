"""Probes: what a trained model's residual stream holds about its own mistakes (`harness probe`).

For each finished cell of a run directory: rebuild its model from the checkpoint, draw held-out
samples (eval-side problems, never trained on, corrupted as the probe target asks), read the
residual stream at every requested layer (`DecodableModel.residual_stream`, TransformerLens hook
names `blocks.{L}.hook_resid_pre|post`), fit each probe on the activations of 80% of the *problems*
(never positions of one sample on both sides) and score it on the rest.

Controls, so a number means something: the same probe fitted to shuffled labels (`control_value`;
`selectivity` = value − control), and the same probe on a randomly initialised model of the same
shape (rows with `weights = "random-init"`). Metrics are class-balanced (balanced accuracy, AUROC)
because "on a mistake" is rare; intervals are a bootstrap over test problems.

Probe targets are registered components (`harness_register_probe_targets`): a label function over
the encoded sample and its tags, for the tasks it applies to. This module is the built-in plugin
registering the task-generic `on_mistake`.

Outputs, atomic and resumable: one Parquet per (cell, target, settings) under `DIR/probes/units/`,
reused on a rerun; `DIR/probes.parquet` gathers the units of the latest invocation (probe several
targets in one call to have them in one table).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Literal, Sequence

import numpy as np
import polars as pl
from pydantic import Field

from harness.hookspecs import hookimpl
from harness.interfaces import Config, Encoded, PlanError, Problem, Registered, Step, Tag
from harness.store import atomic_write_parquet, read_result

COLUMNS = ["cell_id", "condition", "seed", "target", "site", "layer", "probe", "weights", "metric", "value",
           "ci_low", "ci_high", "control_value", "selectivity", "n_train", "n_test", "positive_rate"]


# ------------------------------------------------------------------------------------------ targets
class ProbeTarget(Registered):
    """What a probe is asked to read off the residual stream, for the tasks it applies to."""

    #: task names it applies to (empty: any task)
    tasks: ClassVar[frozenset[str]] = frozenset()
    #: the corruptor (a spec item, e.g. "fallible(p=0.5)") whose traces are labelled
    corruptor: ClassVar[str] = "oracle"

    def applies(self, task: Any) -> bool:
        return not self.tasks or task.name in self.tasks

    def labels(self, task: Any, problem: Problem, trace: Sequence[Step], enc: Encoded) -> tuple[np.ndarray, np.ndarray]:
        """(positions, labels): the token positions whose residual stream is probed (the model has
        read that token) and an integer class per position."""
        raise NotImplementedError


class OnMistakeConfig(Config):
    at: Literal["mistake", "correction"] = Field(
        default="mistake",
        description="which token is labelled 1: the wrong step's first token (the later MazeGPT code) or the "
        "correction's first token (the blog-time notebook); they differ by one position")
    p: float = Field(default=0.5, gt=0.0, le=1.0, description="fallible's mistake rate for the probed traces")


class OnMistake(ProbeTarget):
    """1 on the token where the trace is on a mistake, 0 on every other completion step token"""

    name: ClassVar[str] = "on_mistake"
    description: ClassVar[str] = ("is the model on a mistake? (fallible traces; label 1 on the wrong step's token, "
                                  "or on the correction's with at=correction)")
    Config: ClassVar[type[OnMistakeConfig]] = OnMistakeConfig

    @property
    def corruptor(self) -> str:  # type: ignore[override]
        return f"fallible(p={self.config.p})"

    def applies(self, task: Any) -> bool:
        return "wrong" in task.candidate_kinds and task.has_natural_undo

    def labels(self, task, problem, trace, enc):
        want = Tag.MISTAKE if self.config.at == "mistake" else Tag.CORRECTION
        pos = np.array([a for a, _ in enc.step_spans], dtype=np.int64)
        lab = np.array([int(s.tag == want) for s in trace], dtype=np.int64)
        return pos, lab


# ------------------------------------------------------------------------------------------ probes
def _balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    accs = [float((pred[y == c] == c).mean()) for c in np.unique(y)]
    return float(np.mean(accs)) if accs else float("nan")


def _auroc(y: np.ndarray, score: np.ndarray) -> float:
    from scipy.stats import rankdata

    pos, neg = y == 1, y == 0
    n1, n0 = int(pos.sum()), int(neg.sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def fit_probe(kind: str, x: np.ndarray, y: np.ndarray, n_classes: int, seed: int, steps: int = 300):
    """A linear probe (logistic regression, LBFGS, class-balanced), MazeGPT's MLP probe
    (`mlp`: d → 512 → classes) or its later deeper one (`mlp2`: d → 512 → 256 → classes), AdamW;
    returns a function x → class probabilities."""
    import torch

    torch.manual_seed(seed)
    xt = torch.from_numpy(x).float()
    mu, sd = xt.mean(0, keepdim=True), xt.std(0, keepdim=True) + 1e-6
    xt = (xt - mu) / sd
    yt = torch.from_numpy(y).long()
    counts = torch.bincount(yt, minlength=n_classes).float().clamp(min=1)
    weight = counts.sum() / (n_classes * counts)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    d = x.shape[1]
    if kind == "linear":
        net = torch.nn.Linear(d, n_classes)
        opt = torch.optim.LBFGS(net.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = loss_fn(net(xt), yt) + 1e-4 * net.weight.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
    elif kind in ("mlp", "mlp2"):
        hidden = [512] if kind == "mlp" else [512, 256]  # MazeGPT's d→512→2 and its later d→512→256→2
        layers: list[torch.nn.Module] = []
        width = d
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        net = torch.nn.Sequential(*layers, torch.nn.Linear(width, n_classes))
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
        g = torch.Generator().manual_seed(seed)
        batch = min(256, len(xt))
        for _ in range(steps * 3):
            idx = torch.randint(0, len(xt), (batch,), generator=g)
            opt.zero_grad()
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
    else:
        raise PlanError(f"unknown probe {kind!r}; use linear, mlp or mlp2")
    net.eval()

    def predict(xs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(net((torch.from_numpy(xs).float() - mu) / sd), -1).numpy()

    return predict


def score_probe(y: np.ndarray, probs: np.ndarray, groups: np.ndarray, seed: int, n_boot: int = 200) -> dict[str, Any]:
    """Balanced accuracy and AUROC (binary) on test positions, with bootstrap intervals over test
    problems (`groups`: the problem of each position)."""
    pred = probs.argmax(1)
    out = {"balanced_accuracy": (_balanced_accuracy(y, pred), [])}
    if probs.shape[1] == 2:
        out["auroc"] = (_auroc(y, probs[:, 1]), [])
    rng = np.random.default_rng(seed)
    uniq = np.unique(groups)
    members = {g: np.flatnonzero(groups == g) for g in uniq}
    for _ in range(n_boot):
        pick = np.concatenate([members[g] for g in rng.choice(uniq, len(uniq))])
        out["balanced_accuracy"][1].append(_balanced_accuracy(y[pick], pred[pick]))
        if "auroc" in out:
            out["auroc"][1].append(_auroc(y[pick], probs[pick, 1]))
    res = {}
    for k, (v, boots) in out.items():
        b = np.array([x for x in boots if not np.isnan(x)])
        res[k] = (v, float(np.quantile(b, 0.025)) if len(b) else float("nan"),
                  float(np.quantile(b, 0.975)) if len(b) else float("nan"))
    return res


# ----------------------------------------------------------------------------------- activations
def activations(model: Any, seqs: list[np.ndarray], positions: list[np.ndarray], sites: list[str],
                device: Any, batch_size: int = 64) -> dict[str, np.ndarray]:
    """The residual stream at `sites` for each (sequence, position), stacked in order: site → [N, d]."""
    import torch

    if not hasattr(model, "residual_stream"):
        raise PlanError(f"{type(model).__name__} does not expose residual_stream(idx) (needed by probes)")
    out: dict[str, list[np.ndarray]] = {s: [] for s in sites}
    model.eval()
    for b0 in range(0, len(seqs), batch_size):
        rows = seqs[b0 : b0 + batch_size]
        width = max(len(s) for s in rows)
        idx = np.zeros((len(rows), width), dtype=np.int64)
        for r, s in enumerate(rows):
            idx[r, : len(s)] = s  # right padding: harmless for a causal model
        stream = model.residual_stream(torch.from_numpy(idx).to(device))
        for site in sites:
            if site not in stream:
                raise PlanError(f"the model has no hook point {site!r} (it has e.g. {next(iter(stream))!r})")
            h = stream[site].float().cpu().numpy()
            for r, pos in enumerate(positions[b0 : b0 + batch_size]):
                out[site].append(h[r, pos])
    return {s: np.concatenate(v) if v else np.zeros((0, 0)) for s, v in out.items()}


# -------------------------------------------------------------------------------------- the command
@dataclass
class ProbeSettings:
    targets: list[tuple[str, Any]]  # (label as written, e.g. "on_mistake(at=correction)", ProbeTarget)
    probes: list[str]
    layers: list[int] | None  # None = all
    site: str  # resid_pre | resid_post
    n_problems: int
    seed: int
    controls: bool = True

    def key(self, target: Any) -> str:
        blob = json.dumps({"t": target.name, "tv": target.version, "tc": target.config.model_dump(mode="json"),
                           "p": self.probes, "l": self.layers, "s": self.site, "n": self.n_problems,
                           "seed": self.seed, "c": self.controls}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class ProbedCell:
    """A finished cell rebuilt for probing: its task, trained model, an untrained model of the same
    shape (the control) and its results row; `shape_key` says which cells share that control."""

    task: Any
    model: Any
    random_model: Any
    row: dict[str, Any]
    shape_key: str


def _rebuild(manager: Any, run_dir: Path, cell_id: str) -> ProbedCell:
    import torch
    from safetensors.torch import load_model

    from harness.planning import resolve
    from harness.spec import Choice

    cfg = json.loads((run_dir / "cells" / cell_id / "config.json").read_text())
    res = read_result(run_dir, cell_id) or {}
    budget = manager.budget("default")
    task = resolve(manager, "task", Choice(cfg["task"]["name"], tuple(cfg["task"]["config"].items())), budget)
    model_label = cfg["model"].get("label") or cfg["model"]["name"]
    fam = resolve(manager, "model", Choice(model_label, tuple(cfg["model"]["config"].items())), budget)
    t, family = task.instantiate(), fam.instantiate()
    context = int(res.get("context") or 256)
    model = family.build(vocab_size=len(t.vocab), block_size=context)
    load_model(model, str(run_dir / "cells" / cell_id / "model.safetensors"))
    torch.manual_seed(0)
    random_model = family.build(vocab_size=len(t.vocab), block_size=context)
    shape = json.dumps([task.identity(), fam.identity(), context], sort_keys=True)
    return ProbedCell(t, model, random_model, res, hashlib.sha256(shape.encode()).hexdigest()[:16])


def _layers(model: Any, seq: np.ndarray, site: str, device: Any) -> list[int]:
    """The block indices a model's residual stream names for `site` (from its hook point names)."""
    import torch

    names = model.residual_stream(torch.from_numpy(seq[None, :]).to(device)).keys()
    suffix = f".hook_{site}"
    return sorted(int(n[len("blocks."):-len(suffix)]) for n in names if n.startswith("blocks.") and n.endswith(suffix))


def probe_cell(manager: Any, cell_id: str, cell: ProbedCell, label: str, target: Any, s: ProbeSettings,
               device: Any, log: Callable[[str], None], controls_cache: dict[str, list[dict[str, Any]]]) -> pl.DataFrame:
    """The rows of one (cell, target). The random-init control depends only on the cell's shape, the
    target and the settings (the same untrained model, the same probe data), so it is computed once
    per shape and its rows reused for the other cells of that shape."""
    from harness.data import draw_problems, eval_seed, stable_seed
    from harness.planning import resolve_one

    task, res = cell.task, cell.row
    if not target.applies(task):
        return pl.DataFrame()
    corr = resolve_one(manager, "corruptor", target.corruptor, manager.budget("default"), "probe target corruptor").instantiate()
    corr.check(task)
    problems = draw_problems(task, random.Random(eval_seed(task) + 1), s.n_problems, "eval")
    rng = random.Random(stable_seed("probe", target.name, s.seed))
    seqs, poss, labs, groups = [], [], [], []
    for gi, p in enumerate(problems):
        trace = corr.corrupt(task, p, task.oracle(p), rng)
        enc = task.encode(p, trace)
        pos, lab = target.labels(task, p, trace, enc)
        if len(pos) == 0:
            continue
        seqs.append(enc.tokens)
        poss.append(pos)
        labs.append(lab)
        groups.append(np.full(len(pos), gi))
    if not seqs:
        return pl.DataFrame()
    y, g = np.concatenate(labs), np.concatenate(groups)
    n_classes = int(getattr(target, "n_classes", 2))
    uniq = np.unique(g)
    perm = np.random.default_rng(s.seed).permutation(uniq)
    test_groups = set(perm[: max(1, len(uniq) // 5)].tolist())
    test = np.array([x in test_groups for x in g])
    train = ~test
    shuffled = y[train].copy()
    np.random.default_rng(s.seed + 1).shuffle(shuffled)
    cell.model.to(device)
    layers = s.layers if s.layers is not None else _layers(cell.model, seqs[0], s.site, device)
    sites = [f"blocks.{L}.hook_{s.site}" for L in layers]
    ident = {"cell_id": cell_id, "condition": res.get("condition"), "seed": res.get("seed")}
    rows = []
    for weights, m in (("trained", cell.model), ("random-init", cell.random_model)):
        if weights == "random-init" and not s.controls:
            continue
        control_key = f"{cell.shape_key}-{label}-{s.key(target)}"
        if weights == "random-init" and control_key in controls_cache:
            rows += [{**r, **ident} for r in controls_cache[control_key]]
            log(f"probed {res.get('condition')} seed {res.get('seed')} (random-init): {label}, reused from a cell of the same shape")
            continue
        m.to(device)
        acts = activations(m, seqs, poss, sites, device)
        mine = []
        for layer, site in zip(layers, sites):
            x = acts[site]
            for kind in s.probes:
                if len(np.unique(y[train])) < 2:
                    log(f"probe {target.name} {site}: one class only in training; skipped")
                    continue
                fitted = fit_probe(kind, x[train], y[train], n_classes, s.seed)
                scores = score_probe(y[test], fitted(x[test]), g[test], s.seed)
                control = {}
                if s.controls:
                    ctrl = fit_probe(kind, x[train], shuffled, n_classes, s.seed)
                    control = score_probe(y[test], ctrl(x[test]), g[test], s.seed, n_boot=0)
                for metric, (v, lo, hi) in scores.items():
                    cv = control.get(metric, (None,))[0]
                    mine.append({
                        **ident, "target": label, "site": s.site, "layer": layer, "probe": kind, "weights": weights,
                        "metric": metric, "value": v, "ci_low": lo, "ci_high": hi, "control_value": cv,
                        "selectivity": None if cv is None else v - cv, "n_train": int(train.sum()),
                        "n_test": int(test.sum()), "positive_rate": float((y == 1).mean()),
                    })
        if weights == "random-init":
            controls_cache[control_key] = mine
        rows += mine
        log(f"probed {res.get('condition')} seed {res.get('seed')} ({weights}): {label} at {len(layers)} layers")
    return pl.DataFrame(rows, schema_overrides={"control_value": pl.Float64, "selectivity": pl.Float64})


def run_probes(manager: Any, run_dir: Path, s: ProbeSettings, device: str = "cpu",
               log: Callable[[str], None] = print) -> tuple[pl.DataFrame, int, int]:
    """Probe every finished cell (each rebuilt once, for all targets); returns (the table, units
    computed now, units reused)."""
    import torch

    from harness.analysis import finished_cells

    run_dir = Path(run_dir)
    cells = finished_cells(run_dir)
    if not cells:
        raise PlanError(f"{run_dir} has no finished cell to probe")
    units = run_dir / "probes" / "units"
    frames, ran, reused = [], 0, 0
    controls_cache: dict[str, list[dict[str, Any]]] = {}
    for cid in cells:
        cell = None
        for label, target in s.targets:
            path = units / f"{cid}-{target.name}-{s.key(target)}.parquet"
            if path.exists():
                frames.append(pl.read_parquet(path))
                reused += 1
                continue
            cell = cell or _rebuild(manager, run_dir, cid)
            df = probe_cell(manager, cid, cell, label, target, s, torch.device(device), log, controls_cache)
            if df.height == 0:
                df = pl.DataFrame(schema={c: pl.Utf8 for c in ("cell_id", "target")})
            atomic_write_parquet(path, df)
            frames.append(df)
            ran += 1
    frames = [f for f in frames if f.height]
    table = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    if table.height:
        atomic_write_parquet(run_dir / "probes.parquet", table.select([c for c in COLUMNS if c in table.columns]))
    return table, ran, reused


@hookimpl
def harness_register_probe_targets(register):
    register(OnMistake)
