"""`harness probe` over a run directory: rebuild each finished cell, label held-out sequences, read
the residual stream, fit the probes with their controls, score them, and (for targets that can label
the model's own text) measure how often each probe flags the model's own first wrong step.

Outputs, atomic and resumable: one Parquet per (cell, target, settings) under `DIR/probes/units/`,
reused on a rerun; `DIR/probes.parquet` gathers the units of the latest invocation (probe several
targets in one call to have them in one table).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import polars as pl

from harness.interfaces import PlanError
from harness.probing.probes import ACTIVATION_PROBES, fit_probe, fit_vprobe, score_own_steps, score_probe
from harness.probing.targets import labelled_sequences, target_corruptor
from harness.store import atomic_write_parquet, read_result

COLUMNS = ["cell_id", "condition", "seed", "target", "site", "layer", "probe", "weights", "metric", "value",
           "ci_low", "ci_high", "control_value", "selectivity", "n_train", "n_test", "positive_rate", "heatmap"]
#: metrics over the model's own completions (the others are over held-out labelled sequences)
OWN_METRICS = ("regret_rate", "own_false_alarm", "own_balanced_accuracy")


# ----------------------------------------------------------------------------------- activations
def activations(model: Any, seqs: Sequence[np.ndarray], positions: Sequence[np.ndarray], sites: list[str],
                device: Any, batch_size: int = 64) -> dict[str, np.ndarray]:
    """The residual stream at `sites` for each (sequence, position), stacked in order: site → [N, d]."""
    import torch

    if not hasattr(model, "residual_stream"):
        raise PlanError(f"{type(model).__name__} does not expose residual_stream(idx) (needed by probes)")
    out: dict[str, list[np.ndarray]] = {s: [] for s in sites}
    model.eval()
    with torch.no_grad():
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


def _split(a: np.ndarray, lengths: Sequence[int]) -> list[np.ndarray]:
    return np.split(a, np.cumsum(lengths)[:-1]) if len(lengths) else []


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
    vprobe: dict[str, int] = field(default_factory=lambda: {"rank": 8, "steps": 500})
    heatmap: bool = False  # MazeGPT's goal heatmap, for tasks with goal variants (heatmap.py)

    def key(self, target: Any) -> str:
        blob = {"t": target.name, "tv": target.version, "tc": target.config.model_dump(mode="json"),
                "p": self.probes, "l": self.layers, "s": self.site, "n": self.n_problems,
                "seed": self.seed, "c": self.controls}
        if "vprobe" in self.probes:
            blob["v"] = self.vprobe
        if self.heatmap:
            blob["h"] = True
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:12]


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

    with torch.no_grad():
        names = model.residual_stream(torch.from_numpy(seq[None, :]).to(device)).keys()
    suffix = f".hook_{site}"
    return sorted(int(n[len("blocks."):-len(suffix)]) for n in names if n.startswith("blocks.") and n.endswith(suffix))


@dataclass
class ProbeData:
    """The labelled held-out sequences of one (cell, target): per sequence its tokens, positions,
    labels and problem index; `test` marks the sequences of the test problems (20%, by problem)."""

    seqs: list[np.ndarray]
    poss: list[np.ndarray]
    labs: list[np.ndarray]
    groups: list[int]
    test: np.ndarray  # bool per sequence

    def flat(self, which: bool) -> tuple[np.ndarray, np.ndarray]:
        """(labels, problem index) per position of the test (True) or training (False) sequences."""
        sel = [i for i in range(len(self.seqs)) if self.test[i] == which]
        y = np.concatenate([self.labs[i] for i in sel])
        g = np.concatenate([np.full(len(self.labs[i]), self.groups[i]) for i in sel])
        return y, g

    def pick(self, which: bool) -> list[int]:
        return [i for i in range(len(self.seqs)) if self.test[i] == which]


def _probe_data(manager: Any, cell: ProbedCell, target: Any, s: ProbeSettings) -> tuple[ProbeData, list] | None:
    from harness.data import draw_problems, eval_seed, stable_seed

    task = cell.task
    corr = target_corruptor(manager, target)
    corr.check(task)
    problems = draw_problems(task, random.Random(eval_seed(task) + 1), s.n_problems, "eval")
    rng = random.Random(stable_seed("probe", target.name, s.seed))
    seqs, poss, labs, groups = labelled_sequences(task, target, corr, problems, rng)
    if not seqs:
        return None
    uniq = np.unique(groups)
    perm = np.random.default_rng(s.seed).permutation(uniq)
    test_groups = set(perm[: max(1, len(uniq) // 5)].tolist())
    test = np.array([g in test_groups for g in groups])
    return ProbeData(seqs, poss, labs, groups, test), [problems[g] for g in sorted(test_groups)]


def _own_completions(cell: ProbedCell, target: Any, problems: list, device: Any, log: Callable[[str], None]) -> list:
    """The trained model's own greedy completions of the test problems, labelled by the target
    (`OwnSteps`); empty when the target cannot label generated text."""
    from harness.decode import generate

    task = cell.task
    if not problems or not _labels_own(target):
        return []
    prompts = [task.encode_prompt(p) for p in problems]
    outs = generate(cell.model.to(device), prompts, end_token=task.end_token,
                    max_new_tokens=[task.max_new_tokens(p) for p in problems], temperature=0.0, device=device)
    own = [target.own_steps(task, p, out) for p, out in zip(problems, outs)]
    own = [o for o in own if o is not None and len(o.positions)]
    n_wrong = sum(o.first_wrong is not None for o in own)
    log(f"  own greedy completions: {len(own)} labelled, {n_wrong} with a wrong step")
    return own


def _labels_own(target: Any) -> bool:
    from harness.probing.targets import ProbeTarget

    return target.flag_class is not None and type(target).own_steps is not ProbeTarget.own_steps


@dataclass
class _Fitted:
    """One fitted probe (and its shuffled-label twin) on one model: how to get its probabilities on
    any (sequences, positions)."""

    kind: str
    layer: int
    site: str
    main: Callable[..., np.ndarray]
    control: Callable[..., np.ndarray] | None


def _probs(f: Callable[..., np.ndarray], kind: str, acts: dict[str, np.ndarray] | None, site: str,
           seqs: Sequence[np.ndarray], poss: Sequence[np.ndarray]) -> np.ndarray:
    return f(seqs, poss) if kind == "vprobe" else f(acts[site])


def _fit_all(m: Any, data: ProbeData, layers: list[int], sites: list[str], s: ProbeSettings, n_classes: int,
             shuffled: np.ndarray, device: Any, log: Callable[[str], None], what: str) -> list[_Fitted]:
    tr = data.pick(False)
    y_tr, _ = data.flat(False)
    fitted: list[_Fitted] = []
    if len(np.unique(y_tr)) < 2:
        log(f"probe {what}: one class only in training; skipped")
        return fitted
    act_kinds = [k for k in s.probes if k in ACTIVATION_PROBES]
    if act_kinds:
        acts = activations(m, [data.seqs[i] for i in tr], [data.poss[i] for i in tr], sites, device)
        for layer, site in zip(layers, sites):
            for kind in act_kinds:
                main = fit_probe(kind, acts[site], y_tr, n_classes, s.seed)
                ctrl = fit_probe(kind, acts[site], shuffled, n_classes, s.seed) if s.controls else None
                fitted.append(_Fitted(kind, layer, site, main, ctrl))
    if "vprobe" in s.probes:
        last = _layers(m, data.seqs[0], "resid_post", device)[-1]
        lab_tr = [data.labs[i] for i in tr]
        shuf_tr = _split(shuffled, [len(x) for x in lab_tr])
        seq_tr, pos_tr = [data.seqs[i] for i in tr], [data.poss[i] for i in tr]
        kw = dict(rank=s.vprobe["rank"], steps=s.vprobe["steps"])
        main = fit_vprobe(m, seq_tr, pos_tr, lab_tr, n_classes, s.seed, device, **kw)
        ctrl = fit_vprobe(m, seq_tr, pos_tr, shuf_tr, n_classes, s.seed, device, **kw) if s.controls else None
        fitted.append(_Fitted("vprobe", last, f"blocks.{last}.hook_resid_post", main, ctrl))
    return fitted


def _rows_for(fitted: list[_Fitted], m: Any, seqs: Sequence[np.ndarray], poss: Sequence[np.ndarray],
              device: Any, score: Callable[[np.ndarray], dict[str, tuple[float, float, float]]],
              control_score: Callable[[np.ndarray], dict[str, tuple[float, float, float]]], base: dict[str, Any],
              site_name: str) -> list[dict[str, Any]]:
    """Rows scoring each fitted probe (and its control) on the given sequences."""
    sites = sorted({f.site for f in fitted if f.kind != "vprobe"})
    acts = activations(m, seqs, poss, sites, device) if sites and len(seqs) else {}
    rows = []
    for f in fitted:
        scores = score(_probs(f.main, f.kind, acts, f.site, seqs, poss))
        control = control_score(_probs(f.control, f.kind, acts, f.site, seqs, poss)) if f.control else {}
        for metric, (v, lo, hi) in scores.items():
            cv = control.get(metric, (None,))[0]
            cv = None if cv is None or np.isnan(cv) else cv
            rows.append({**base, "site": "resid_post" if f.kind == "vprobe" else site_name, "layer": f.layer,
                         "probe": f.kind, "metric": metric, "value": v, "ci_low": lo, "ci_high": hi,
                         "control_value": cv, "selectivity": None if cv is None else v - cv})
    return rows


def _heatmap_rows(cell_id: str, cell: ProbedCell, label: str, target: Any, s: ProbeSettings, fitted: list[_Fitted],
                  held_out: list[dict[str, Any]], problems: list, manager: Any, device: Any, stem: Path | None,
                  base: dict[str, Any], model: Any) -> list[dict[str, Any]]:
    """The goal heatmap of `model` (each probe kind at its best held-out layer): one
    `heatmap_balanced_accuracy` row per probe and, when `stem` is given (the trained model), a PNG
    and a Parquet of P(flag) per goal cell beside it."""
    from harness.probing.heatmap import goal_heatmap_inputs, plot_goal_heatmap
    from harness.probing.probes import balanced_accuracy

    task = cell.task
    maps = goal_heatmap_inputs(task, target, target_corruptor(manager, target), problems, s.seed)
    if not maps:
        return []
    h = maps[0]  # the one drawn; the agreement pools the cells of all of them
    best: dict[str, tuple[float, int]] = {}
    for r in held_out:
        if r["metric"] == "balanced_accuracy" and (r["probe"] not in best or r["value"] > best[r["probe"]][0]):
            best[r["probe"]] = (r["value"], r["layer"])
    chosen = [f for f in fitted if f.kind in best and f.layer == best[f.kind][1]]
    sites = sorted({f.site for f in chosen if f.kind != "vprobe"})
    seqs = [x for m in maps for x in m.seqs]
    poss = [x for m in maps for x in m.poss]
    truth = np.concatenate([m.truth for m in maps])
    acts = activations(model, seqs, poss, sites, device) if sites else {}
    flag = int(target.flag_class)
    panels, rows, table = [], [], []
    defined = ~np.isnan(truth)
    for f in chosen:
        p_all = _probs(f.main, f.kind, acts, f.site, seqs, poss)[:, flag]
        p_flag = p_all[: len(h.cells)]
        panels.append((f"{f.kind} L{f.layer}", p_flag))
        agree = (balanced_accuracy(truth[defined].astype(int), (p_all[defined] > 0.5).astype(int))
                 if defined.any() else float("nan"))
        rows.append({**base, "site": "resid_post" if f.kind == "vprobe" else s.site, "layer": f.layer, "probe": f.kind,
                     "metric": "heatmap_balanced_accuracy", "value": agree, "ci_low": None, "ci_high": None,
                     "control_value": None, "selectivity": None, "n_test": int(defined.sum()),
                     "heatmap": None if stem is None else str(Path("probes") / "heatmaps" / stem.with_suffix(".png").name)})
        table += [{"cell_id": cell_id, "target": label, "probe": f.kind, "layer": f.layer, "row": r, "col": c,
                   "p_flag": float(v), "truth": None if np.isnan(t) else float(t)}
                  for (r, c), v, t in zip(h.cells, p_flag, h.truth)]
    if stem is None:
        return rows
    plot_goal_heatmap(h, panels, stem.with_suffix(".png"),
                      f"{cell.row.get('condition')} seed {cell.row.get('seed')}\nP(flag) at a held-out sample's first flagged "
                      "step as its goal moves over every cell (s start, e the sample's own goal)")
    atomic_write_parquet(stem.with_suffix(".parquet"), pl.DataFrame(table))
    return rows


def probe_cell(manager: Any, cell_id: str, cell: ProbedCell, label: str, target: Any, s: ProbeSettings,
               device: Any, log: Callable[[str], None], controls_cache: dict[str, Any],
               heatmap_stem: Path | None = None) -> pl.DataFrame:
    """The rows of one (cell, target). The random-init control's fitted probes depend only on the
    cell's shape, the target and the settings (the same untrained model, the same probe data), so
    they are fitted once per shape and reused for the other cells of that shape."""
    task, res = cell.task, cell.row
    if not target.applies(task):
        return pl.DataFrame()
    built = _probe_data(manager, cell, target, s)
    if built is None:
        return pl.DataFrame()
    data, test_problems = built
    n_classes = int(target.n_classes)
    y_tr, _ = data.flat(False)
    y_te, g_te = data.flat(True)
    shuffled = y_tr.copy()
    np.random.default_rng(s.seed + 1).shuffle(shuffled)
    cell.model.to(device)
    layers = s.layers if s.layers is not None else _layers(cell.model, data.seqs[0], s.site, device)
    sites = [f"blocks.{L}.hook_{s.site}" for L in layers]
    own = _own_completions(cell, target, test_problems, device, log) if _labels_own(target) else []
    te = data.pick(True)
    seq_te, pos_te = [data.seqs[i] for i in te], [data.poss[i] for i in te]
    ident = {"cell_id": cell_id, "condition": res.get("condition"), "seed": res.get("seed"), "target": label}
    rows = []
    for weights, m in (("trained", cell.model), ("random-init", cell.random_model)):
        if weights == "random-init" and not s.controls:
            continue
        m.to(device)
        base = {**ident, "weights": weights, "n_train": len(y_tr), "n_test": len(y_te),
                "positive_rate": float((np.concatenate(data.labs) == 1).mean())}
        control_key = f"{cell.shape_key}-{label}-{s.key(target)}"
        cached = controls_cache.get(control_key) if weights == "random-init" else None
        if cached is not None:
            fitted, held_out = cached
            rows += [{**r, **ident} for r in held_out]
            log(f"probed {res.get('condition')} seed {res.get('seed')} (random-init): {label}, probes reused from a cell of the same shape")
        else:
            fitted = _fit_all(m, data, layers, sites, s, n_classes, shuffled, device, log, f"{target.name}")
            held_out = _rows_for(fitted, m, seq_te, pos_te, device,
                                 lambda p: score_probe(y_te, p, g_te, s.seed),
                                 lambda p: score_probe(y_te, p, g_te, s.seed, n_boot=0), base, s.site)
            if weights == "random-init":
                controls_cache[control_key] = (fitted, held_out)
            rows += held_out
            log(f"probed {res.get('condition')} seed {res.get('seed')} ({weights}): {label}, "
                f"{len(fitted)} probe(s) at {len(layers)} layer(s)")
        if s.heatmap and heatmap_stem is not None:
            trained = weights == "trained"
            hm = _heatmap_rows(cell_id, cell, label, target, s, fitted, held_out, test_problems, manager, device,
                               heatmap_stem if trained else None, base, m)
            rows += [{**r, **ident} for r in hm]
            if trained:
                log(f"  goal heatmap: {heatmap_stem.with_suffix('.png')}" if hm else
                    f"  no goal heatmap: task {task.name!r} has no goal variants or no flagged step")
        if own:
            o_seqs, o_poss = [o.tokens for o in own], [o.positions for o in own]
            lens = [len(p) for p in o_poss]
            flag = int(target.flag_class)
            rows += [{**r, "n_test": sum(o.first_wrong is not None for o in own)} for r in _rows_for(
                fitted, m, o_seqs, o_poss, device,
                lambda p: score_own_steps(own, _split(p, lens), flag, s.seed),
                lambda p: score_own_steps(own, _split(p, lens), flag, s.seed, n_boot=0), base, s.site)]
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
    controls_cache: dict[str, Any] = {}
    for cid in cells:
        cell = None
        for label, target in s.targets:
            path = units / f"{cid}-{target.name}-{s.key(target)}.parquet"
            if path.exists():
                frames.append(pl.read_parquet(path, glob=False))
                reused += 1
                continue
            cell = cell or _rebuild(manager, run_dir, cid)
            df = probe_cell(manager, cid, cell, label, target, s, torch.device(device), log, controls_cache,
                            heatmap_stem=run_dir / "probes" / "heatmaps" / path.stem)
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
