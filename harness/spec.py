"""The spec grammar (pure): a spec string → per axis, the alternatives it names.

Grammar (whitespace is ignored)::

    spec   := axis SEP axis SEP axis [SEP axis]      task × corruptor × model [× trainer]
    SEP    := "×" | "*"                              ("*" is the ASCII alternative)
    axis   := item ("," item)*                       alternatives: the cross product is taken
    item   := NAME ["(" param ("," param)* ")"]
    param  := KEY "=" value | KEY "=" "[" value ("," value)* "]" | KEY "=" value ("|" value)+
    value  := a number, true/false, none, a word, a "quoted string", or a list "[" value, ... "]"
              (a list is a value inside a sweep: eval_ops=[[7,8]] sets eval_ops to [7, 8])
    value  := number | true | false | none | bare-word | "quoted string"

A bracketed or ``|``-separated value is a sweep: the item expands into one alternative per value
(several sweeps in one item multiply). Example::

    mazes(max_size=7)×oracle,fallible(p=[0.1,0.2])×gpt-2L,gpt-4L(d_model=256)

Experiment files (TOML, `harness.experiment`) hold the same thing in a reviewable form; the planner
(`harness.planning`) resolves names and parameters into cells. Syntax errors are found here, before
anything is looked up.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from harness.interfaces import PlanError

AXES = ("task", "corruptor", "model", "trainer")
#: safety limits, checked before anything is resolved: `--seeds 1000000` or a sweep of sweeps would
#: otherwise plan (and print) for minutes. Every cell is a training run; split a bigger grid into runs.
MAX_SEEDS = 10_000
MAX_CELLS = 20_000
#: how deeply lists may nest in a value (eval_ops=[[7,8]] is depth 2)
MAX_DEPTH = 8
_SEP_RE = "×*"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Choice:
    """One alternative on one axis after sweeps are expanded: a name plus explicit parameters."""

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        # a list value is written as a one-value sweep ([[7,8]]): a bare [7,8] would read back as a sweep
        inner = ",".join(f"{k}=[{_fmt(v)}]" if isinstance(v, (list, tuple)) else f"{k}={_fmt(v)}" for k, v in self.params)
        return f"{self.name}({inner})"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.params)


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_fmt(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    # quote strings that hold grammar characters or would read back as another type ("1", "true")
    if isinstance(v, str) and (not v or re.search(r"[,()\[\]|=\s\"'\\]", v) or parse_value(v) != v):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


# ------------------------------------------------------------------------------------------ parsing
def _split_top(text: str, seps: str) -> list[str]:
    """Split on any char of `seps` outside parentheses, brackets and quotes."""
    parts, depth, buf, quote, escaped = [], 0, [], None, False
    for ch in text:
        if quote:
            buf.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                raise PlanError(f"unbalanced ')' or ']' in {text!r}")
        if ch in seps and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if depth != 0 or quote:
        raise PlanError(f"unbalanced parentheses, brackets or quotes in {text!r}")
    parts.append("".join(buf))
    return parts


def parse_value(text: str, _depth: int = 0) -> Any:
    t = text.strip()
    if not t:
        raise PlanError("empty parameter value")
    if t[0] == '"' and t[-1] == '"' and len(t) >= 2:
        try:
            return json.loads(t)  # JSON escapes as Choice.label writes them
        except json.JSONDecodeError:
            return t[1:-1]
    if t[0] == "'" and t[-1] == "'" and len(t) >= 2:
        return t[1:-1]
    if t[0] == "[" and t[-1] == "]":  # a list value (inside a sweep: eval_ops=[[7,8]])
        if _depth >= MAX_DEPTH:
            raise PlanError(f"lists nested more than {MAX_DEPTH} deep in {_clip(t)}")
        return tuple(parse_value(v, _depth + 1) for v in _split_top(t[1:-1], ",") if v.strip())
    low = t.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if low in ("none", "null"):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def _parse_param_values(raw: str) -> list[Any]:
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        vals = [v for v in _split_top(raw[1:-1], ",") if v.strip()]
        if not vals:
            raise PlanError(f"empty sweep {raw!r}")
        return [parse_value(v) for v in vals]
    alts = _split_top(raw, "|")  # respects quotes: "a|b" is one string, "a b"|"c d" a sweep
    return [parse_value(v) for v in alts]


def parse_item(text: str) -> list[Choice]:
    """`fallible(p=[0.1,0.2])` → [Choice(fallible, p=0.1), Choice(fallible, p=0.2)]."""
    t = text.strip()
    if not t:
        raise PlanError("empty name in spec (two commas in a row, or a trailing comma?)")
    m = re.fullmatch(r"([^()]+?)\s*(?:\((.*)\))?", t, flags=re.S)
    if not m:
        raise PlanError(f"cannot parse {t!r}: expected NAME or NAME(key=value, ...)")
    name, inner = m.group(1).strip(), m.group(2)
    if not _NAME_RE.match(name):
        raise PlanError(f"invalid name {name!r}")
    sweeps: list[tuple[str, list[Any]]] = []
    if inner is not None and inner.strip():
        for part in _split_top(inner, ","):
            if not part.strip():
                continue
            if "=" not in part:
                raise PlanError(f"parameter {part.strip()!r} of {name!r} needs the form key=value")
            key, raw = part.split("=", 1)
            key = key.strip()
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise PlanError(f"invalid parameter name {key!r} in {name!r}")
            if any(k == key for k, _ in sweeps):
                raise PlanError(f"parameter {key!r} given twice in {name!r}")
            try:
                sweeps.append((key, _parse_param_values(raw)))
            except PlanError as exc:
                raise PlanError(f"parameter {key!r} of {name!r}: {exc}") from None
    keys = [k for k, _ in sweeps]
    n = 1
    for _, values in sweeps:
        n *= len(values)
    if n > MAX_CELLS:
        raise PlanError(f"{name!r}: its sweeps expand to {n:,} alternatives; at most {MAX_CELLS:,} "
                        "(split the grid into several runs)")
    return [Choice(name, tuple(zip(keys, combo))) for combo in itertools.product(*[v for _, v in sweeps])]


def _clip(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[: n - 3] + "...")


#: an "x" between a name (or its parameters) and the next name: probably meant as the axis separator
_LETTER_X = re.compile(r"(?<=[a-z0-9)\]])x(?=[a-z])")


def parse_spec(text: str, min_axes: int = 3, max_axes: int = 4) -> list[list[Choice]]:
    """A spec string → per axis, the list of choices (sweeps expanded)."""
    axes_text = _split_top(text.strip(), _SEP_RE)
    if not (min_axes <= len(axes_text) <= max_axes):
        want = " × ".join(AXES[:min_axes]) + (f" [× {AXES[3]}]" if max_axes == 4 else "")
        hint = ""
        if len(axes_text) < min_axes and _LETTER_X.search(text):
            hint = f"; did you mean {_LETTER_X.sub('×', text)!r}? (the letter x is not a separator)"
        raise PlanError(
            f"spec {text!r} has {len(axes_text)} axes; expected {want} "
            f"(separate axes with '×' or '*', alternatives with ','){hint}"
        )
    axes: list[list[Choice]] = []
    for axis_text in axes_text:
        choices: list[Choice] = []
        for item in _split_top(axis_text, ","):
            choices.extend(parse_item(item))
        axes.append(choices)
    return axes
