"""`harness data` and `harness show`: the samples a cell trains on, as Parquet or as pictures."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.markup import escape

from harness.cli.common import OutputError, _check_out, _console, _manager, _plan_error, _task_corruptor
from harness.interfaces import PlanError, Tag


def cmd_data(args: argparse.Namespace) -> int:
    """The samples a cell of this task×corruptor with `--seed` trains on (or, with --split eval, the
    eval problems every cell is scored on), drawn by the very function the runner uses."""
    import polars as pl

    from harness.pipeline import draw_samples

    console = _console(stderr=True)
    try:
        out = _check_out(args.out, "file", "--out")
    except OutputError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    m = _manager(console)
    try:
        t, c, task, corruptor = _task_corruptor(m, args.spec)
    except PlanError as exc:
        return _plan_error(console, exc)
    t0 = time.perf_counter()
    problems, pairs = draw_samples(task, corruptor, t.identity(), c.identity(), args.seed, args.n, args.split)
    rows = []
    for p, (trace, enc) in zip(problems, pairs):
        rows.append(
            {
                "problem_key": p.key,
                "problem": task.prompt_text(p),
                "completion": task.decode(enc.tokens[enc.prompt_len :].tolist()),
                "steps": [s.text for s in trace],
                "step_tags": [s.tag.label for s in trace],
                "token_ids": enc.tokens.tolist(),
                "token_tags": [Tag(int(x)).label for x in enc.tags],
                "n_mistakes": sum(1 for s in trace if s.tag == Tag.MISTAKE),
                **{f"meta_{k}": v for k, v in p.meta.items()},
            }
        )
    dt = time.perf_counter() - t0
    df = pl.DataFrame(rows, infer_schema_length=None)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        df.write_parquet(out)
    except OSError as exc:  # a full disk, or the place changed since the check
        console.print(f"[red]error:[/red] cannot write {escape(str(out))}: {escape(exc.strerror or str(exc))}")
        return 2
    console.print(f"wrote {len(rows)} items to {escape(str(out))} ({len(rows) / dt:,.0f} items/s incl. serialization)")
    return 0


def _token_text(task, problem, trace):
    """The encoded sample as the model reads it, coloured by tag. Character-level tasks print tokens
    as they are (a space token as '·', so walls and corridors stay visible, without wrapping); word-level
    tasks print '|' between tokens and wrap."""
    from rich.text import Text


    enc = task.encode(problem, trace)
    vocab = task.vocab
    words = [vocab[int(i)] for i in enc.tokens]
    char_level = all(len(w) == 1 for w in words[: enc.prompt_len])
    text = Text(no_wrap=char_level, overflow="ignore" if char_level else "fold")
    styles = {Tag.ORACLE: "bold green", Tag.MISTAKE: "bold red", Tag.CORRECTION: "bold yellow"}
    for k, (w, tag) in enumerate(zip(words, enc.tags.tolist())):
        style = styles.get(tag, "dim") if k >= enc.prompt_len else "dim"
        if char_level:
            w = w.replace(" ", "·").replace("\n", "↵\n" if k >= enc.prompt_len else "\n")
        elif k:
            text.append("|", style="dim")
        text.append(w, style=style)
    return text


def cmd_show(args: argparse.Namespace) -> int:
    """Pictures of the first training samples of a cell with `--seed` (as `harness data` draws them)."""
    from rich.columns import Columns
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    from harness.pipeline import draw_samples

    console = _console()
    m = _manager(console)
    try:
        t, c, task, corruptor = _task_corruptor(m, args.spec)
    except PlanError as exc:
        return _plan_error(console, exc)
    pool = args.n if not args.with_mistakes else max(200, 50 * args.n)
    problems, pairs = draw_samples(task, corruptor, t.identity(), c.identity(), args.seed, pool, "train")
    shown = 0
    for p, (trace, _) in zip(problems, pairs):
        if shown >= args.n:
            break
        if args.with_mistakes and not any(s.tag == Tag.MISTAKE for s in trace):
            continue
        shown += 1
        picture = task.render(p, trace)
        text = _token_text(task, p, trace)
        meta = ", ".join(f"{k}={v}" for k, v in p.meta.items())
        if picture is None:
            body: Any = text
        elif "\n" in task.prompt_text(p):  # a picture-like prompt (a grid): side by side
            body = Columns([picture, text], padding=(0, 4))
        else:
            body = Group(picture, Text(""), text)
        console.print(Panel(body, title=f"{task.name} #{shown}  {meta}"))
    if shown < args.n:
        console.print(f"[yellow]only {shown} of the first {pool} samples contain a mistake[/yellow]")
    console.print("[dim]legend: [bold green]oracle step[/bold green], [bold red]mistake[/bold red], "
                  "[bold yellow]correction[/bold yellow]; dim = prompt / end tokens; the token text shows "
                  "what the model reads ('·' = a space token, '|' = a boundary between word tokens)[/dim]")
    return 0
