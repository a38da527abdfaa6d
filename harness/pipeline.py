"""One cell, as a short list of stages: data → model → train → checkpoint → evaluate → metrics.

Each stage is a function that takes what the earlier ones returned and returns a typed record; the
results row is assembled in one place (`results_row`) from those records, under the schema in
`harness.schema`. `run_cell` (harness.runner) calls the stages in order and writes the files.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl

from harness.data import LossPolicy, corrupt_and_encode, draw_problems, eval_seed, pack, stable_seed
from harness.decision import decision_metrics
from harness.events import CellPhase, CellProgress, RunMessage
from harness.interfaces import DecodableModel, PlanError, Problem, Tag, TrainData, TrainResult, Verdict
from harness.metrics import DECODE_PREFIX, task_column
from harness.planning import Cell
from harness.problem_cache import ProblemCache, cache_identity
from harness.progress_log import progress_line
from harness.store import atomic_path, problems_dir


@dataclass
class CellContext:
    """What every stage of one cell shares: the cell, its folder, the device, and where to report."""

    cell: Cell
    dir: Path
    device: Any  # torch.device
    emit: Callable[[Any], None]
    log: Callable[[str], None]

    #: seconds between progress lines in the cell's log.txt
    log_every_s: float = 30.0
    #: the run directory (default: the one `dir` lies in, DIR/cells/<id>)
    run_dir: Path | None = None
    _stage: dict[str, Any] = field(default_factory=dict)

    def phase(self, name: str, total: float | None = None) -> None:
        now = time.monotonic()
        self._stage = {"phase": name, "total": total, "started": now, "last": now}
        self.emit(CellPhase(self.cell, name, total))

    def progress(self, done: float, info: str = "", values: dict[str, float] | None = None) -> None:
        # plain floats: the event is pickled from pool workers (never a tensor or a numpy scalar)
        self.emit(CellProgress(self.cell, done, info, {k: float(v) for k, v in (values or {}).items()}))
        st = self._stage
        if st and time.monotonic() - st["last"] >= self.log_every_s:  # a trail in log.txt, also off-terminal
            st["last"] = time.monotonic()
            self.log(progress_line("progress", st["phase"], st["total"], done, st["started"], info))

    def warn(self, message: str) -> None:
        self.log(message)
        self.emit(RunMessage(f"{self.cell.condition} seed {self.cell.seed}: {message}", self.cell))


# ---------------------------------------------------------------------------------------------- data
@dataclass
class DataRecord:
    """The training stream and the eval problems of a cell."""

    train: TrainData
    train_problems: int
    train_keys: set[str]
    mistakes_per_sample: float
    frac_samples_with_mistake: float
    eval_problems: list[Problem]
    composition: dict[str, Any]
    seconds: float


def problem_set(task: Any, task_id: Any, seed: int, side: str, n: int, sources: dict[str, str | None] | None = None
                ) -> tuple[dict[str, Any], Callable[[Callable[[int], None] | None], list[Problem]]]:
    """One side's problem set as a cell draws it: its cache identity and `draw(on_progress)`. Training
    problems depend on (task, seed) only, so oracle and fallible cells of one seed train on the same
    problems (paired comparisons); eval problems on the task config alone, so every cell of a grid is
    scored on the same items."""
    rng = random.Random(stable_seed("train-problems", task_id, seed) if side == "train" else eval_seed(task))

    def draw(progress: Callable[[int], None] | None) -> list[Problem]:
        return draw_problems(task, rng, n, side, on_progress=progress)

    return cache_identity(task_id, sources or {}, seed if side == "train" else None, side, n), draw


def side_problems(task: Any, task_id: Any, seed: int, side: str, n: int, cache: ProblemCache | None = None,
                  sources: dict[str, str | None] | None = None, on_progress: Callable[[int], None] | None = None,
                  on_wait: Callable[[], None] | None = None) -> list[Problem]:
    """The problems of one side (`problem_set`); with a `cache` (a task that keeps its problems), read
    back if a sibling cell, an earlier run or the prefetcher already drew them, else drawn and kept."""
    ident, draw = problem_set(task, task_id, seed, side, n, sources)
    return draw(on_progress) if cache is None else cache.get(task, ident, draw, on_progress, on_wait)


def draw_samples(task: Any, corruptor: Any, task_id: Any, corruptor_id: Any, seed: int, n: int,
                 side: str = "train", on_progress: Callable[[int], None] | None = None,
                 cache: ProblemCache | None = None, sources: dict[str, str | None] | None = None,
                 on_wait: Callable[[], None] | None = None):
    """The problems of one side (`side_problems`) and their corrupted, encoded traces; corruption
    depends on (corruptor, task, seed). `harness data` and `harness show` call this too, so they show
    what a run trains on."""
    problems = side_problems(task, task_id, seed, side, n, cache, sources, on_progress, on_wait)
    rng_c = random.Random(stable_seed("corrupt", corruptor_id, task_id, seed))
    return problems, corrupt_and_encode(task, corruptor, problems, rng_c)


def build_data(ctx: CellContext, task: Any, corruptor: Any, trainer: Any) -> DataRecord:
    """The packed training stream (`draw_samples`, train side) and the eval problems of a cell."""
    cell, budget = ctx.cell, ctx.cell.budget
    t0 = time.perf_counter()
    ctx.phase("data", budget.n_train)
    cache = ProblemCache(problems_dir(ctx.run_dir or ctx.dir.parent.parent), ctx.log)
    problems, pairs = draw_samples(task, corruptor, cell.task.identity(), cell.corruptor.identity(), cell.seed,
                                   budget.n_train, "train", on_progress=ctx.progress, cache=cache,
                                   sources=cell.plugin_sources,
                                   on_wait=lambda: ctx.log("data: another cell is drawing these problems; waiting"))
    n_mistakes = [sum(1 for s in tr if s.tag == Tag.MISTAKE) for tr, _ in pairs]
    train_keys = {p.key for p in problems}
    policy = LossPolicy(loss_on=trainer.loss_on, masked_tags=corruptor.loss_masked_tags())
    data = pack([e for _, e in pairs], len(task.vocab), policy, n_distinct=len(train_keys))
    del pairs
    ctx.log(f"data: {len(problems)} problems ({len(train_keys)} distinct), {len(data.tokens)} tokens")
    lengths = np.diff(np.append(data.sample_starts, len(data.tokens)))
    median = int(np.median(lengths))
    if budget.block_size < median:
        ctx.warn(f"warning: training windows of {budget.block_size} tokens are shorter than the median "
                 f"training sample ({median} tokens), so most samples are never seen whole; raise "
                 f"--budget-set block_size (and lower batch_size to keep the tokens per step)")
    eval_problems = side_problems(task, cell.task.identity(), cell.seed, "eval", budget.n_eval, cache,
                                  cell.plugin_sources)
    return DataRecord(
        train=data,
        train_problems=len(problems),
        train_keys=train_keys,
        mistakes_per_sample=sum(n_mistakes) / max(1, len(n_mistakes)),
        frac_samples_with_mistake=sum(1 for m in n_mistakes if m) / max(1, len(n_mistakes)),
        eval_problems=eval_problems,
        composition={"train": composition(problems), "eval": composition(eval_problems)},
        seconds=time.perf_counter() - t0,
    )


def composition(problems) -> dict[str, dict[str, Any]]:
    """Per meta field with few values (≤ 40: size, op, split, ...): value → {"n", "distinct"} problems.
    Written per cell (data.json), so a report can show the eval set's mix beside the training mix."""
    values: dict[str, dict[Any, list[str]]] = {}
    for p in problems:
        for k, v in p.meta.items():
            if isinstance(v, (bool, int, str)):
                values.setdefault(k, {}).setdefault(v, []).append(p.key)
    out: dict[str, dict[str, Any]] = {}
    for k, by in values.items():
        if len(by) <= 40:
            order = sorted(by, key=lambda v: (isinstance(v, str), v if not isinstance(v, str) else 0, str(v)))
            out[k] = {str(v): {"n": len(by[v]), "distinct": len(set(by[v]))} for v in order}
    return out


# --------------------------------------------------------------------------------------------- model
@dataclass
class ModelRecord:
    model: Any  # torch.nn.Module following DecodableModel
    n_params: int
    n_params_non_embedding: int | None
    context: int
    init_from: str | None  # the parent cell whose checkpoint it starts from


def build_model(ctx: CellContext, task: Any, family: Any, data: DataRecord) -> ModelRecord:
    """A fresh model (seeded by the model identity and seed) whose context covers the longest eval
    prompt + generation cap, or the parent cell's final checkpoint for a fine-tuning stage."""
    import torch

    cell = ctx.cell
    longest = max(len(task.encode_prompt(p)) + task.max_new_tokens(p) for p in data.eval_problems)
    block = max(cell.budget.block_size, longest)
    torch.manual_seed(stable_seed("init", cell.model.identity(), cell.seed) % (2**63))
    parent = cell.parent
    if parent is not None:
        meta = _read_json(ctx.dir.parent / parent.cell_id / "result.json") or {}
        if meta.get("status") != "ok":
            raise PlanError(f"parent cell {parent.cell_id} ({parent.condition}) has not finished")
        block = max(block, int(meta.get("context") or 0))  # the parent's positions, so its weights fit
    model = family.build(vocab_size=len(task.vocab), block_size=block)
    if not isinstance(model, DecodableModel):
        raise PlanError(f"model family {cell.model.name!r} built a {type(model).__name__}, which does not follow "
                        "the decode protocol (harness.interfaces.DecodableModel)")
    if parent is not None:
        from safetensors.torch import load_model

        load_model(model, str(ctx.dir.parent / parent.cell_id / "model.safetensors"))
        ctx.log(f"model: starts from the checkpoint of parent cell {parent.cell_id} ({parent.condition})")
    non_emb = None
    if hasattr(model, "num_params"):
        with contextlib.suppress(Exception):
            non_emb = int(model.num_params(non_embedding=True))
    model.to(ctx.device)
    return ModelRecord(model, int(sum(p.numel() for p in model.parameters())), non_emb, int(block),
                       parent.cell_id if parent is not None else None)


# --------------------------------------------------------------------------------------------- train
#: results columns a trainer reports about training (copied when a sibling's training is reused)
_TRAIN_FIELDS = ("train_loss", "tokens_seen", "problems_seen", "train_seconds", "tokens_per_s", "iters", "precision",
                 "trainable_params")


def reuse_training(ctx: CellContext, m: ModelRecord) -> TrainResult | None:
    """The training of a finished sibling cell (same `train_key`: it differs only in its decoder),
    loaded instead of training again; None when there is none. The learning curve's held-out points
    used the sibling's decoder, so only its loss curve is kept."""
    from safetensors.torch import load_model

    key = ctx.cell.train_key()
    for d in sorted(ctx.dir.parent.iterdir()):
        if d == ctx.dir or not (d / "model.safetensors").exists():
            continue
        res = _read_json(d / "result.json") or {}
        if res.get("status") != "ok" or res.get("train_key") != key or res.get("trained_by"):
            continue  # (a sibling that reused another's training points to that one, which is also here)
        load_model(m.model, str(d / "model.safetensors"))
        curve = (_read_json(d / "curve.json") or {}).get("loss", [])
        metrics = {k: res[k] for k in _TRAIN_FIELDS if k in res}
        metrics["trained_by"] = d.name
        ctx.log(f"train: reused the training of sibling cell {d.name} (same everything but the decoder)")
        return TrainResult(metrics=metrics, curve=[tuple(x) for x in curve], evals=[])
    return None


def train(ctx: CellContext, task: Any, trainer: Any, decoder: Any, data: DataRecord, m: ModelRecord,
          train_keys: set[str]) -> TrainResult:
    """Fit the model; at the budget's learning-curve points, score it on the first `n_curve_eval`
    eval problems with the same decoder as the final evaluation."""
    budget = ctx.cell.budget
    ctx.phase("train", budget.train_tokens)
    curve_problems = data.eval_problems[: budget.n_curve_eval]
    dp_problems = data.eval_problems[: budget.n_decision_eval]

    def evaluate_point(step: int) -> dict[str, float]:
        ctx.progress(step * budget.batch_size * budget.block_size, "learning-curve eval")
        with trainer.inference_context(ctx.device):
            ev = evaluate(ctx, task, decoder, m.model, curve_problems, train_keys, tag=f"curve-{step}")
            point = {"accuracy": float(ev.items["correct"].mean()), "n_eval": float(ev.items.height)}
            point.update(decision_metrics(m.model, task, dp_problems, ctx.device,
                                          batch_size=budget.eval_batch_size))
        ctx.log(f"curve: step {step} {point}")
        return point

    result = trainer.fit(m.model, data.train, budget, ctx.device, ctx.cell.seed,
                         progress=lambda done, total, loss, values=None: ctx.progress(
                             done, f"loss {loss:.3f}", {"tokens": done, "loss": loss, **(values or {})}),
                         evaluate=evaluate_point)
    ctx.log(f"train: {result.metrics}")
    return result


def save_checkpoint(model: Any, path: Path) -> None:
    from safetensors.torch import save_model

    with atomic_path(path) as tmp:
        save_model(model, str(tmp))


# ------------------------------------------------------------------------------------------ evaluate
@dataclass
class EvalRecord:
    items: pl.DataFrame
    verdicts: list[Verdict]
    seconds: float = 0.0
    task_metrics: dict[str, float | None] = field(default_factory=dict)
    decision: dict[str, float] = field(default_factory=dict)
    decoder_metrics: dict[str, float] = field(default_factory=dict)  # decode.<name>: means over items


def evaluate(ctx: CellContext, task: Any, decoder: Any, model: Any, problems: list[Problem],
             train_keys: set[str], tag: str = "") -> EvalRecord:
    """Decode every problem's prompt and verify each completion (`tag` varies the decoding seed, e.g.
    per learning-curve point; the final evaluation has none). An unended completion is wrong without
    being verified; a verifier that raises fails the item, not the cell."""
    t0 = time.perf_counter()
    cell, budget = ctx.cell, ctx.cell.budget
    prompts = [task.encode_prompt(p) for p in problems]
    caps = [task.max_new_tokens(p) for p in problems]
    kw: dict[str, Any] = {"task": task, "problems": problems} if getattr(decoder, "needs_task", False) else {}
    outs = decoder.generate(model, prompts, end_token=task.end_token, max_new_tokens=caps,
                            batch_size=budget.eval_batch_size, device=ctx.device,
                            seed=stable_seed("decode", cell.cell_id, *([tag] if tag else [])) % (2**63), **kw)
    extras: list[dict[str, Any]] = [{} for _ in outs]
    if kw:
        outs, extras = [o[0] for o in outs], [dict(o[1]) for o in outs]
    rows, verdicts = [], []
    end = task.end_token
    broken: list[int] = []  # items whose verify raised or returned no Verdict (a bug in the task)
    for i, (p, ids, cap) in enumerate(zip(problems, outs, caps)):
        ids = list(ids)
        completion = task.decode(ids)
        if end not in ids:
            v = Verdict(False, f"no end token within {cap} new tokens")
        else:
            try:
                v = task.verify(p, completion)
            except Exception as exc:  # noqa: BLE001 - a verifier bug must not lose the cell
                v = Verdict(False, f"verify must never raise: {type(task).__name__} raised "
                                   f"{type(exc).__name__}: {exc}")
                broken.append(i)
            else:
                if not isinstance(v, Verdict):
                    v = Verdict(False, f"verify must return a Verdict: {type(task).__name__} returned "
                                       f"{type(v).__name__}")
                    broken.append(i)
        verdicts.append(v)
        r = {
            "cell_id": cell.cell_id, "condition": cell.condition, "seed": cell.seed, "item_id": i,
            "problem_key": p.key, "correct": bool(v.correct), "reason": v.reason,
            "details": json.dumps(v.details, sort_keys=True, default=str) if v.details else None,
            "completion": completion, "n_new_tokens": len(ids), "seen_in_train": p.key in train_keys,
        }
        for k, val in p.meta.items():
            r[f"meta_{k}"] = val
        for k, val in extras[i].items():
            r[f"decode_{k}"] = val
        rows.append(r)
    if broken:
        first = broken[0]
        ctx.warn(f"warning: {verdicts[first].reason} (on {len(broken)} of {len(problems)} items, first item "
                 f"{first}, completion {rows[first]['completion'][:60]!r}); they count as wrong. Fix the "
                 f"task's verifier: harness.testing.check_task finds such bugs")
    ev = EvalRecord(items_frame(rows), verdicts, time.perf_counter() - t0)
    if kw:
        ev.decoder_metrics = {DECODE_PREFIX + k: v for k, v in decoder.summarize(extras).items()}
    return ev


def items_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The eval items as a table, with every row's types considered (a column that is null for the
    first hundred items, such as `details` while a model rarely ends a completion, must not fail
    the cell when a later item has a value)."""
    df = pl.DataFrame(rows, infer_schema_length=None)
    if "details" in df.columns and df["details"].dtype == pl.Null:
        df = df.with_columns(pl.col("details").cast(pl.Utf8))
    return df


def final_evaluation(ctx: CellContext, task: Any, decoder: Any, trainer: Any, m: ModelRecord,
                     data: DataRecord) -> EvalRecord:
    """The held-out evaluation of the trained model, its task metrics and decision-point metrics, in
    the trainer's inference context (the precision it trained in)."""
    budget = ctx.cell.budget
    ctx.phase("eval", budget.n_eval)
    scoring = trainer.inference_context(ctx.device)
    if not isinstance(scoring, contextlib.nullcontext):
        dtype = getattr(scoring, "fast_dtype", None)  # torch.autocast's
        ctx.log(f"eval: in the trainer's inference context: "
                + (f"autocast to {dtype}" if dtype is not None else type(scoring).__name__))
    with scoring:
        ev = evaluate(ctx, task, decoder, m.model, data.eval_problems, data.train_keys)
        ctx.progress(budget.n_eval)
        ev.task_metrics = task_metric_values(task, data.eval_problems, ev.verdicts, ctx.log)
        ctx.phase("decision points", min(budget.n_decision_eval, len(data.eval_problems)))
        ev.decision = decision_metrics(m.model, task, data.eval_problems[: budget.n_decision_eval], ctx.device,
                                       batch_size=budget.eval_batch_size)
    ctx.log(f"eval: accuracy {float(ev.items['correct'].mean()):.4f} on {ev.items.height}; {ev.decision}")
    return ev


def task_metric_values(task, problems, verdicts, log: Callable[[str], None]) -> dict[str, float | None]:
    """The task's declared metrics as results columns (``task.<name>``); undeclared names are dropped
    with a log line (a task cannot add or overwrite a column it did not declare)."""
    declared = {m.name for m in task.metrics}
    out: dict[str, float | None] = {}
    for name, value in task.eval_metrics(problems, verdicts).items():
        if name not in declared:
            log(f"warning: task {task.name!r} returned metric {name!r} that it does not declare (Task.metrics); dropped")
            continue
        out[task_column(name)] = None if value is None else float(value)
    return out


def learning_curve(trained: TrainResult, ev: EvalRecord, budget: Any, n_curve: int) -> list[dict[str, float]]:
    """The held-out points during training plus the final model on the same curve problems."""
    evals = list(trained.evals)
    if evals:
        head = ev.items.filter(pl.col("item_id") < n_curve)
        evals.append({"step": float(budget.iters), "tokens": float(budget.iters * budget.batch_size * budget.block_size),
                      "accuracy": float(head["correct"].mean()), "n_eval": float(head.height), **ev.decision})
    return evals


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None
