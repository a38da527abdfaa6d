"""The results row of a cell: fixed core columns plus the task's declared metrics (``task.<name>``).

`results_row` is the one place a row is assembled, from the typed records the cell's stages return.
A trainer's own metrics (`TrainResult.metrics`: train_loss, tokens_seen, tokens_per_s, ...) are
kept under their names, except that they can never replace a core column.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from harness.pipeline import DataRecord, EvalRecord, ModelRecord
    from harness.planning import Cell

#: column → what it holds; every ok row has each of them (failed rows: identity, status, error, times)
CORE_COLUMNS: dict[str, str] = {
    "cell_id": "the cell's identity (hash of its resolved configuration, seed, budget, versions)",
    "condition": "the cell's label without the seed: what results aggregate by",
    "task": "task label", "corruptor": "corruptor label", "model": "model label", "trainer": "trainer label",
    "decoder": "decoder label", "seed": "seed", "budget": "budget name", "init_from": "parent cell id or null",
    "train_key": "identity of the training (all but the decoder): cells sharing it train once, the others "
                 "reuse the checkpoint and name it in `trained_by`",
    "device": "cpu or cuda", "device_name": "the device, in words",
    "status": "ok or failed", "error": "the failure, if any",
    "n_eval": "eval items", "n_correct": "correct eval items", "accuracy": "n_correct / n_eval",
    "n_eval_distinct": "distinct eval problems", "frac_eval_seen_in_train": "eval items whose problem is in training",
    "n_train_problems": "training samples generated", "n_train_distinct": "distinct training problems",
    "train_stream_tokens": "tokens in the packed training stream",
    "mistakes_per_sample": "wrong steps per training sample",
    "frac_samples_with_mistake": "training samples with at least one mistake",
    "n_params": "model parameters", "n_params_non_embedding": "model parameters without embeddings",
    "context": "the model's context (block size)",
    "data_seconds": "seconds building data", "eval_seconds": "seconds of the final evaluation",
    "seconds": "seconds for the whole cell", "started_at": "UTC start", "finished_at": "UTC end",
}


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def identity_columns(cell: "Cell", device: str, device_name: str) -> dict[str, Any]:
    return {
        "cell_id": cell.cell_id, "condition": cell.condition, "task": cell.task.choice.label,
        "corruptor": cell.corruptor.choice.label, "model": cell.model.choice.label,
        "trainer": cell.trainer.choice.label, "decoder": cell.decoder.choice.label, "seed": cell.seed,
        "budget": cell.budget.name, "init_from": cell.parent.cell_id if cell.parent is not None else None,
        "device": device, "device_name": device_name,
    }


def results_row(
    cell: "Cell", device: str, device_name: str, data: "DataRecord", model: "ModelRecord",
    train_metrics: dict[str, Any], ev: "EvalRecord",
) -> dict[str, Any]:
    """The row of a finished cell (status, timings and started/finished times are added by the runner)."""
    items = ev.items
    n_correct = int(items["correct"].sum())
    row: dict[str, Any] = identity_columns(cell, device, device_name)
    trainer_own = {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                   for k, v in train_metrics.items() if k not in CORE_COLUMNS}
    row.update(trainer_own)
    row.update(
        status="ok", error=None, n_eval=items.height, n_correct=n_correct,
        accuracy=n_correct / max(1, items.height),
        n_eval_distinct=len({p.key for p in data.eval_problems}),
        frac_eval_seen_in_train=float(items["seen_in_train"].mean()),
        n_train_problems=data.train_problems, n_train_distinct=len(data.train_keys),
        train_stream_tokens=int(len(data.train.tokens)),
        mistakes_per_sample=data.mistakes_per_sample, frac_samples_with_mistake=data.frac_samples_with_mistake,
        n_params=model.n_params, n_params_non_embedding=model.n_params_non_embedding, context=model.context,
        data_seconds=data.seconds, eval_seconds=ev.seconds, train_key=cell.train_key(),
    )
    row.update(ev.decision)
    row.update(ev.task_metrics)
    row.update(ev.decoder_metrics)
    return row
