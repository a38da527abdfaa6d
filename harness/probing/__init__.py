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

Targets that can label the model's own text (`ProbeTarget.own_steps`) also get the regret rows: the
trained model writes greedy solutions to the test problems, and each probe is asked whether it flags
the model's own first wrong step (`regret_rate`) and how often it flags the right steps before it
(`own_false_alarm`).

- `targets.py`: ProbeTarget (the plugin seam), ProbeExample, OwnSteps, the generic `on_mistake`;
- `probes.py`: linear / MLP / V-probe fitting and the class-balanced scores;
- `run.py`: the command over a run directory (units, controls, resumable outputs);
- `heatmap.py`: the MazeGPT-style heatmap (a probe's P(flag) as the task moves a goal over the grid).

This package is the built-in plugin registering `on_mistake`.
"""

from harness.hookspecs import hookimpl
from harness.probing.probes import PROBES, fit_probe, fit_vprobe, score_own_steps, score_probe
from harness.probing.targets import OnMistake, OnMistakeConfig, OwnSteps, ProbeExample, ProbeTarget

__all__ = ["COLUMNS", "OWN_METRICS", "PROBES", "OnMistake", "OnMistakeConfig", "OwnSteps", "ProbeExample",
           "ProbeSettings", "ProbeTarget", "activations", "fit_probe", "fit_vprobe", "run_probes",
           "score_own_steps", "score_probe"]


_RUN = ("COLUMNS", "OWN_METRICS", "ProbeSettings", "activations", "run_probes")


def __getattr__(name: str):
    """The names of run.py (polars) resolve on first use: loading this plugin to list it stays light."""
    if name in _RUN:
        from harness.probing import run

        return getattr(run, name)
    raise AttributeError(f"module 'harness.probing' has no attribute {name!r}")


@hookimpl
def harness_register_probe_targets(register):
    register(OnMistake)
