"""Loggers as a harness plugin: `tensorboard` (event files per cell, grouped by condition) and `wandb`
(a Weights & Biases run per cell, grouped by condition), switched on per run with
`harness run --log tensorboard,wandb(project=NAME)`.

Each needs an optional extra (`pip install 'harness[tensorboard]'`, `'harness[wandb]'`); without it
they are still listed, and using one refuses the run at plan time, saying which extra to install."""

from harness import hookimpl
from harness_loggers.tensorboard_logger import TensorBoard
from harness_loggers.wandb_logger import WandB

__all__ = ["TensorBoard", "WandB"]


@hookimpl
def harness_register_loggers(register):
    register(TensorBoard)
    register(WandB)
