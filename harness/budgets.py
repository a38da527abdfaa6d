"""Named compute budgets. A budget fixes the number of training tokens, so every corruptor in a grid is
compared at equal tokens (as both seed studies do), plus the data and eval sizes around it.

Plugins may adapt to a budget through ``budget_defaults(name)`` (the model family shrinks its width
under ``smoke``; a task picks a smaller preset); explicit spec parameters always win.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError

from harness.interfaces import Config, PlanError


class Budget(Config):
    name: str
    description: str
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

    @property
    def iters(self) -> int:
        return max(1, self.train_tokens // (self.batch_size * self.block_size))


BUDGETS: dict[str, Budget] = {
    "smoke": Budget(
        name="smoke",
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

BudgetName = Literal["smoke", "cpu", "tiny", "default", "paper"]
#: budgets that shrink models to CPU size (plugins check membership rather than a name)
CPU_BUDGETS = frozenset({"smoke", "tiny"})


def get_budget(name: str, **overrides: object) -> Budget:
    if name not in BUDGETS:
        import difflib

        close = difflib.get_close_matches(name, list(BUDGETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise PlanError(f"unknown budget {name!r}.{hint} Available budgets: {', '.join(BUDGETS)}")
    b = BUDGETS[name]
    if not overrides:
        return b.model_copy()
    if "name" in overrides:
        raise PlanError("budget override 'name' is not allowed; pick the base budget with --budget")
    try:
        return Budget(**{**b.model_dump(), **overrides})
    except ValidationError as exc:
        import difflib

        msgs = []
        for e in exc.errors():
            field = ".".join(str(x) for x in e["loc"])
            why = e["msg"]
            if e["type"] == "extra_forbidden":
                close = difflib.get_close_matches(field, list(Budget.model_fields), n=1)
                why = "unknown field" + (f" (did you mean {close[0]!r}?)" if close else "")
            msgs.append(f"budget field {field!r}: {why}")
        raise PlanError("; ".join(msgs) + f". Budget fields: {', '.join(Budget.model_fields)}") from None
