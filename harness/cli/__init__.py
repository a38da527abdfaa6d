"""The `harness` command line: one thin module per command over library functions.

run | validate | status | list | plugins | data | show | score | report | analyze | probe | bench
"""

from __future__ import annotations

import argparse
import sys

from harness.cli.probe import add_parser as add_probe_parser


def _lazy(module: str, name: str):
    """A command function imported when the command runs: `--help` loads no command module."""

    def fn(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    fn.__qualname__ = fn.__name__ = name
    return fn


def _arg_type(name: str):
    """An argument type from harness.cli.common (e.g. _positive_int), imported when a value is parsed."""

    def conv(text: str):
        from harness.cli import common

        return getattr(common, name)(text)

    conv.__qualname__ = conv.__name__ = name
    return conv


cmd_run, cmd_validate = _lazy("harness.cli.run", "cmd_run"), _lazy("harness.cli.run", "cmd_validate")
cmd_status = _lazy("harness.cli.status", "cmd_status")
cmd_list, cmd_plugins = _lazy("harness.cli.registry", "cmd_list"), _lazy("harness.cli.registry", "cmd_plugins")
cmd_data, cmd_show = _lazy("harness.cli.data", "cmd_data"), _lazy("harness.cli.data", "cmd_show")
cmd_score = _lazy("harness.cli.score", "cmd_score")
cmd_report, cmd_analyze = _lazy("harness.cli.report", "cmd_report"), _lazy("harness.cli.report", "cmd_analyze")
cmd_bench = _lazy("harness.cli.bench", "cmd_bench")


EXAMPLES = """\
examples:
  harness run "mazes×oracle,fallible×gpt-8L" --budget smoke --seeds 2
  harness run "mazes*fallible(p=[0.1,0.2])*gpt-2L,gpt-4L" --seeds 3     (ASCII '*' for '×')
  harness run experiment.toml
  harness validate "mazes×oracle,fallible×gpt-6L"
  harness run "mazes×oracle,fallible×gpt-8L" --seeds 3 --out runs/grid --shard 0/2   (and 1/2 elsewhere)
  harness status runs/grid
  harness show "mazes×fallible" --n 3
  harness data "mazes×fallible(p=0.2)" --n 10000 --out fallible.parquet
  harness score igsm solutions.jsonl
  harness report runs/my-run --to reports/my-run
  harness analyze runs/my-run paired
  harness probe runs/my-run --target on_mistake --probe linear,mlp
  harness bench --json
"""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="harness",
        description="A plugin-based benchmark harness for training on mistakes.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    from harness.budgets import BUDGETS

    budgets = " | ".join(f"{k}: {v.description}" for k, v in BUDGETS.items())

    def add_plan_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("spec", help="task×corruptor×model[×trainer] spec, or an experiment .toml file")
        p.add_argument("--budget", default=None,
                       help=f"compute budget (default: smoke on CPU, default on CUDA). {budgets}; or one a "
                       "plugin registers (harness list)")
        p.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None, help="default auto")
        p.add_argument("--decoder", default=None, metavar="NAME[(k=v,...)][,NAME...]",
                       help="how eval completions are decoded (default: sample at the budget's temperature; "
                       "greedy; beam(k=4,sample=true); regret(detector=oracle,max_retries=10); or a plugin's; "
                       "harness list). A comma list evaluates every cell with each (each its own condition)")
        p.add_argument("--seeds", type=_arg_type("_seed_count"), default=None,
                       help="number of seeds (0..N-1), 1 to 10,000; default 1")
        p.add_argument("--budget-set", action="append", metavar="KEY=VALUE",
                       help="override a field of the budget, e.g. train_tokens=491520000 or n_eval=4096 "
                       "(repeatable; part of each cell's identity)")

    p = sub.add_parser("run", help="train and evaluate every cell of a spec", epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_plan_args(p)
    p.add_argument("--out", help="run directory (default runs/<spec>-<budget>); rerunning skips finished cells")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failed cell")
    p.add_argument("--force", action="store_true",
                   help="recompute every cell of the plan even if finished (each old result is kept as "
                   "result.previous.json). Cell ids already change when a plugin's source changes")
    p.add_argument("--rerun", action="append", metavar="CELL[,CELL]",
                   help="recompute these cells (ids or unique prefixes of 4+ characters, as `validate` lists "
                   "them), with the fine-tunes and decoder siblings that depend on their training")
    p.add_argument("--jobs", type=_arg_type("_positive_int"), default=None,
                   help="cells run at once in worker processes (the `pool` executor; on a GPU they share the "
                   "device). Default: on a CPU as many as there are cells and usable cores, one torch thread "
                   "each (a lone cell gets every core); on CUDA 1. $HARNESS_JOBS sets the default; 1 = the "
                   "`serial` executor, every cell in this process")
    p.add_argument("--threads", type=_arg_type("_positive_int"), default=None,
                   help="torch CPU threads per cell (default: 1 when several cells run at once, else the usable "
                   "cores)")
    p.add_argument("--executor", default=None, metavar="NAME[(k=v,...)]",
                   help="where cells run: serial, pool(jobs=N), or a plugin's (harness list); overrides --jobs")
    p.add_argument("--temperature", type=float, default=None,
                   help="eval sampling temperature (default 0.1 as MazeGPT; 0 = greedy)")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="run only static shard I of N (0-based) of the plan's cells, e.g. 0/4 on the first of "
                   "four machines sharing --out (a fine-tune or decoder sibling stays with its parent's shard)")
    p.add_argument("--lease", type=float, default=120.0, metavar="SECONDS",
                   help="claim lease: a cell claimed by a worker that stopped heart-beating this long is taken "
                   "over (a dead local process's claim at once). Default 120")
    p.add_argument("--log", default=None, metavar="NAME[(k=v,...)][,NAME...]",
                   help="send progress and metrics to loggers a plugin registers as well, e.g. "
                   "tensorboard or wandb(project=NAME) (harness list shows them; each needs its extra: "
                   "pip install 'harness[wandb]')")
    p.add_argument("--no-wait", action="store_true",
                   help="with other processes on the same --out: exit when every undone cell is claimed by "
                   "another worker instead of waiting for them (and taking over their cells if they die)")
    p.add_argument("--prefetch", choices=["auto", "on", "off"], default="auto",
                   help="draw the next cells' problems in a background process while a cell trains (tasks that "
                   "keep their problems, such as igsm; DIR/problems/prefetch.log). auto: on CUDA when cells run on "
                   "this machine (serial, pool); off on a CPU, whose cores already run cells side by side. "
                   "Results are the same either way")
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("status", help="where a run directory stands: done, running (claimed by whom, since when), "
                       "failed, pending")
    p.add_argument("dir", help="run directory")
    p.add_argument("--json", action="store_true", help="print the cells' states as JSON")
    p.set_defaults(fn=cmd_status)

    p = sub.add_parser("validate", help="plan every cell without training; non-zero exit if invalid")
    add_plan_args(p)
    p.add_argument("--show-config", action="store_true",
                   help="also print each condition's resolved configuration (every parameter of its task, "
                   "corruptor, model, trainer and decoder, with budget defaults applied) and the budget")
    p.set_defaults(fn=cmd_validate)

    p = sub.add_parser("list", help="everything registered: tasks, corruptors, models, trainers, decoders, executors, "
                       "analyses, benchmarks, probe targets, loggers, budgets; with NAME, its parameters")
    p.add_argument("name", nargs="?", default=None,
                   help="a component (e.g. mazes, fallible, gpt-8L, pretrain) or budget: print its parameters with "
                   "types, defaults, constraints and descriptions")
    p.add_argument("--params", action="store_true", help="print the parameters of every component")
    p.add_argument("--budget", default=None, help="with NAME or --params: also show the values this budget gives")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_list)

    p = sub.add_parser("plugins", help="loaded plugins, their versions and what they registered")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(fn=cmd_plugins)

    p = sub.add_parser("data", help="write the samples a cell of task×corruptor trains on (or its eval problems) to Parquet")
    p.add_argument("spec", help="task×corruptor, e.g. 'mazes×fallible(p=0.2)'")
    p.add_argument("--n", type=_arg_type("_positive_int"), required=True, help="number of problems")
    p.add_argument("--out", required=True, help="output .parquet file")
    p.add_argument("--seed", type=int, default=0, help="the cell seed whose training samples to write (default 0)")
    p.add_argument("--split", choices=["train", "eval"], default="train", help="which side of the split")
    p.set_defaults(fn=cmd_data)

    p = sub.add_parser("show", help="render the first training samples of a cell (problems with their corrupted traces)")
    p.add_argument("spec", help="task×corruptor, e.g. 'mazes×fallible'")
    p.add_argument("--n", type=_arg_type("_positive_int"), default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--with-mistakes", action="store_true", help="only show samples that contain a mistake")
    p.set_defaults(fn=cmd_show)

    p = sub.add_parser("score", help="score solutions written by any model or tool (JSONL) from the problem text")
    p.add_argument("task", help="task name, e.g. igsm or mazes")
    p.add_argument("file", help="JSONL with fields problem, solution and optionally answer, id")
    p.add_argument("--out", help="per-item verdicts JSONL, written atomically (default: <FILE stem>.verdicts.jsonl in "
                   "the working directory; /dev/null discards them). Exit 1 if some lines are not records, 2 if "
                   "nothing was scored")
    p.set_defaults(fn=cmd_score)

    p = sub.add_parser("report", help="write a Markdown report with plots for a run directory")
    p.add_argument("dir", help="run directory")
    p.add_argument("--to", help="output folder (default: the run directory), e.g. reports/NAME")
    p.add_argument(
        "--note",
        help="a Markdown paragraph placed under the title (what the run is, how it compares); @FILE reads it from a file",
    )
    p.set_defaults(fn=cmd_report)

    add_probe_parser(sub)
    from harness.cli.new_task import add_parser as add_new_task_parser  # light: argparse only

    add_new_task_parser(sub)

    p = sub.add_parser("analyze", help="run analyses over a finished run directory (reused while nothing changed)")
    p.add_argument("dir", help="run directory")
    p.add_argument("analysis", help="analysis name(s) with parameters, e.g. paired (harness list shows all)")
    p.add_argument("--force", action="store_true", help="recompute even if a finished result exists")
    p.set_defaults(fn=cmd_analyze)

    p = sub.add_parser(
        "bench", help="throughput of ours vs baselines, side by side (every benchmark the plugins register)",
        description="Run every registered benchmark (or --only some) and print one table: ours, the "
        "baseline, the ratio and its target. Each benchmark comes from a plugin; its options are set "
        "with --set NAME.FIELD=VALUE or the environment variables `harness bench --list` shows. Exit "
        "status: 1 if a target is missed (unless --no-fail), 2 if an option is bad or a benchmark failed.")
    p.add_argument("--json", action="store_true", help="print results as JSON on stdout")
    p.add_argument("--quick", action="store_true", help="tiny sizes (tests, smoke checks); numbers not meaningful")
    p.add_argument("--only", metavar="NAME[,NAME]", default=None, help="run only these benchmarks")
    p.add_argument("--set", action="append", metavar="NAME.FIELD=VALUE",
                   help="a benchmark option, e.g. mazes.maze_dataset_python=/tmp/maze-dataset-venv/bin/python "
                   "(repeatable; validated by the benchmark; wins over its environment variable)")
    p.add_argument("--list", action="store_true", help="list the registered benchmarks and their options")
    p.add_argument("--no-fail", action="store_true", help="exit 0 even if a target is missed")
    p.set_defaults(fn=cmd_bench)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except KeyboardInterrupt:
        hint = ""
        if getattr(args, "cmd", None) in ("run", "probe"):
            hint = ": finished cells are kept; rerun the same command to resume"
        print(f"interrupted{hint}", file=sys.stderr)
        return 130
