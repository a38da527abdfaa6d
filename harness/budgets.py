"""Named compute budgets. A budget fixes the number of training tokens, so every corruptor in a grid is
compared at equal tokens (as both seed studies do), plus the data and eval sizes around it.

Plugins adapt to a budget through ``budget_defaults(budget)`` by its declared ``profile`` (the scale
it stands for), never by its name: the model family shrinks its width under the ``pipeline`` profile,
a task picks a smaller preset. Explicit spec parameters always win. The core budgets are below; a
plugin adds its own with ``harness_register_budgets``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, field_validator

from harness.config import Config, PlanError


#: the scales a budget can stand for; plugins adapt to these, not to budget names
Profile = Literal["pipeline", "cpu", "gpu", "paper"]
PROFILES: dict[str, str] = {
    "pipeline": "proves the pipeline on a CPU in minutes; results are not meaningful",
    "cpu": "small models that learn on a CPU (a scaled-down replication)",
    "gpu": "one GPU, large enough to show the effect",
    "paper": "the studies' own scale and settings",
}


#: the largest integer a budget field takes (a signed 64-bit int: tensors and parquet columns hold it)
MAX_INT = 2**63 - 1


class Budget(Config):
    name: str
    description: str
    profile: Profile = Field(description="the scale this budget stands for; plugins adapt their defaults to it")
    train_tokens: int = Field(gt=0, description="tokens the trainer consumes (iters × batch × block)")
    batch_size: int = Field(gt=0)
    block_size: int = Field(gt=0, description="training window length in tokens")
    n_train: int = Field(gt=0, description="problems generated for the training stream")
    n_eval: int = Field(gt=0, description="held-out problems evaluated per cell")
    eval_batch_size: int = Field(default=256, gt=0)
    n_decision_eval: int = Field(default=500, ge=0, description="oracle traces for decision-point metrics")
    temperature: float = Field(default=0.1, ge=0.0, description="eval sampling temperature (0 = greedy)")
    curve_points: int = Field(
        default=0, ge=0, description="held-out evaluations during training (a learning curve), evenly spaced"
    )
    n_curve_eval: int = Field(
        default=500, gt=0, description="eval problems scored at each learning-curve point (the first ones)"
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_or_huge_ints(cls, v: object) -> object:
        # lax pydantic reads `n_eval = true` as 1; a count past 64 bits only overflows later
        if isinstance(v, bool):
            raise ValueError(f"expected a number, got the boolean {str(v).lower()}")
        if isinstance(v, int) and abs(v) > MAX_INT:
            raise ValueError(f"out of range (at most {MAX_INT:,})")
        return v

    @property
    def iters(self) -> int:
        return max(1, self.train_tokens // (self.batch_size * self.block_size))


#: the core's budgets (a plugin registers more through ``harness_register_budgets``)
BUDGETS: dict[str, Budget] = {
    "smoke": Budget(
        name="smoke",
        profile="pipeline",
        description="a few minutes on a 2-core CPU; proves the pipeline runs, results are NOT meaningful",
        train_tokens=16 * 256 * 120,
        batch_size=16,
        block_size=256,
        n_train=4_000,
        n_eval=200,
        eval_batch_size=200,
        n_decision_eval=100,
    ),
    "cpu": Budget(
        name="cpu",
        profile="cpu",
        description="a 2-core CPU, ~15 minutes per cell; small models that learn (a scaled-down replication)",
        train_tokens=8 * 128 * 20_000,
        batch_size=8,
        block_size=128,
        n_train=250_000,
        n_eval=2_000,
        eval_batch_size=500,
        n_decision_eval=500,
        curve_points=5,
        n_curve_eval=500,
    ),
    "tiny": Budget(
        name="tiny",
        profile="pipeline",
        description="seconds per cell; for the test suite only",
        train_tokens=8 * 128 * 12,
        batch_size=8,
        block_size=256,
        n_train=300,
        n_eval=40,
        eval_batch_size=40,
        n_decision_eval=20,
    ),
    "default": Budget(
        name="default",
        profile="gpu",
        description="one GPU, minutes per cell; large enough to show the effect",
        train_tokens=64 * 512 * 4_000,
        batch_size=64,
        block_size=512,
        n_train=250_000,
        n_eval=2_000,
        eval_batch_size=1_000,
        n_decision_eval=1_000,
    ),
    "paper": Budget(
        name="paper",
        profile="paper",
        description="the original's scale: MazeGPT's 30k iters × 64 × 512 tokens from 1M mazes",
        train_tokens=64 * 512 * 30_000,
        batch_size=64,
        block_size=512,
        n_train=1_000_000,
        n_eval=2_000,
        eval_batch_size=1_000,
        n_decision_eval=2_000,
    ),
}



def choose_budget(requested: str | None, device: str) -> str:
    """The budget a run uses when none is given: `default` on CUDA, `smoke` elsewhere (one rule for
    `run` and `validate`)."""
    if requested:
        return requested
    return "default" if device == "cuda" else "smoke"


def override_errors(names: object) -> list[str]:
    """Why these budget field names cannot be overridden (empty if all can): an unknown field (with a
    did-you-mean) or `name`, which picks the budget rather than changing it."""
    import difflib

    errors = []
    for key in names:  # type: ignore[attr-defined]
        if key == "name":
            errors.append("budget field 'name' cannot be overridden; pick the base budget with --budget")
        elif key not in Budget.model_fields:
            close = difflib.get_close_matches(str(key), list(Budget.model_fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(f"unknown budget field {key!r}{hint}; budget fields: "
                          + ", ".join(f for f in Budget.model_fields if f != "name"))
    return errors


def check_overrides(overrides: dict[str, object]) -> None:
    """Raise PlanError, one line per field, if these overrides cannot apply to any budget: an unknown
    field, `name`, or a value of the wrong type or range. (Every budget has the same fields, so this
    needs no base budget; `get_budget` checks again against the one picked.)"""
    get_budget(next(iter(BUDGETS)), **overrides)


def get_budget(name: str, available: dict[str, Budget] | None = None, /, **overrides: object) -> Budget:
    """The named budget (from `available`, default the core's), with fields overridden."""
    budgets = BUDGETS if available is None else available
    if name not in budgets:
        import difflib

        close = difflib.get_close_matches(name, list(budgets), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise PlanError(f"unknown budget {name!r}.{hint} Available budgets: {', '.join(budgets)}")
    b = budgets[name]
    if not overrides:
        return b.model_copy()
    unknown = override_errors(overrides)
    if unknown:
        raise PlanError("\n".join(unknown))
    try:
        return Budget(**{**b.model_dump(), **overrides})
    except ValidationError as exc:
        msgs = []
        for e in exc.errors():
            field = ".".join(str(x) for x in e["loc"])
            why = e["msg"].removeprefix("Value error, ")
            got = "" if e["type"].startswith("value_error") else f", got {_short(e.get('input'))}"
            msgs.append(f"budget field {field!r}: {why}{got}")
        raise PlanError("\n".join(msgs)) from None


def _short(v: object) -> str:
    try:
        text = repr(v)
    except ValueError:  # an int past Python's digit limit
        return "a number too large to print"
    return text if len(text) <= 60 else text[:57] + "..."
