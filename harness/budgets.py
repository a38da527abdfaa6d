"""Named compute budgets. A budget fixes the number of training tokens, so every corruptor in a grid is
compared at equal tokens (as both seed studies do), plus the data and eval sizes around it.

Plugins adapt to a budget through ``budget_defaults(budget)`` by its declared ``profile`` (the scale
it stands for), never by its name: the model family shrinks its width under the ``pipeline`` profile,
a task picks a smaller preset. Explicit spec parameters always win. The core budgets are below; a
plugin adds its own with ``harness_register_budgets``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError

from harness.config import Config, PlanError


#: the scales a budget can stand for; plugins adapt to these, not to budget names
Profile = Literal["pipeline", "cpu", "gpu", "paper"]
PROFILES: dict[str, str] = {
    "pipeline": "proves the pipeline on a CPU in minutes; results are not meaningful",
    "cpu": "small models that learn on a CPU (a scaled-down replication)",
    "gpu": "one GPU, large enough to show the effect",
    "paper": "the studies' own scale and settings",
}


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


def get_budget(name: str, available: dict[str, Budget] | None = None, **overrides: object) -> Budget:
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
