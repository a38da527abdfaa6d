"""Side-by-side comparison of our iGSM generator with the official one (facebookresearch/iGSM).

    .venv/bin/python -m harness_igsm.fidelity --official /tmp/igsm_official \\
        [--python /tmp/igsm-official-venv/bin/python] [--n 2000] [--preset med] [--seed 0] [--json OUT]

`--official` is a directory holding an extracted copy of the official code (its `data_gen/`, `math_gen/`,
`tools/`, `const/`); `scripts/igsm_official_venv.sh` builds the throwaway interpreter it needs (networkx,
numpy). The official code is copied into a temporary directory and run there by a small runner written by
this module; GPT-2's tokenizer, torch, pandas and matplotlib are replaced by stubs (only text and graph
facts are needed), so nothing is downloaded. Nothing of the official code enters the project.

Sets compared (N problems per side each):
  train  the training distribution: op ~ min of two U{1..max_op}, problems generated at that op and kept
         on the train bins (official: `IdGen` with op fixed per problem, `gen_prob(train_bin)`; ours: the
         harness's own training draw, `harness.data.draw_problems(task, rng, N, "train")`).
  op=K   forced-op eval sets: the in-distribution op (test bins on both sides) and the first OOD op
         (official: test bins; ours: the harness's OOD eval problems, which need no bins).

Every row is computed from the problem and solution *text* by the same code on both sides (names parsed
with `harness_igsm.parse`), with one two-sample test per row: chi-square for discrete laws, Kolmogorov–
Smirnov for lengths, two-proportion z tests for per-problem rates, problem-clustered z tests for shares
of sentences. Lengths are in word tokens with every item or category name one token (our tokenizer's
measure; the two sides' name lists differ, so characters are shown but not tested). Our verifier is also
run on the official solutions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

#: the official code's imports with what it does not need for text stubbed out; argv[1] is its copy
_PRELUDE = r'''
import json, random, sys, time, types

off = sys.argv[1]
sys.path.insert(0, off)


def _stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


class _Ids(list):
    def tolist(self):
        return list(self)


class _Tokenizer:  # GPT-2 tokens are not needed: text and graph facts only
    @classmethod
    def from_pretrained(cls, *a, **k):
        return cls()

    def encode(self, *a, **k):
        return [_Ids()]


for _name in ("torch", "torch.nn", "torch.nn.functional", "torch.distributed", "torch.utils", "pandas",
              "matplotlib"):
    _stub(_name)
_stub("torch.utils.data", Dataset=object)
_stub("transformers", GPT2Tokenizer=_Tokenizer)
_stub("matplotlib.patches", ArrowStyle=object, Patch=object, FancyArrowPatch=object)
_stub("matplotlib.lines", Line2D=object)

from data_gen.pretrain.id_gen import IdGen
from tools.tools import fix_seed, to_sketch
from const.params import train_bin, test_bin
'''

_RUNNER = _PRELUDE + r'''
n, mode, seed, max_op, max_edge = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), \
    int(sys.argv[6])
fix_seed(seed)
out = []
t0 = time.perf_counter()
for _ in range(n):
    if mode == "train":  # op drawn per problem ("light"), then generated at that op on the train bins
        g = IdGen(max_op=max_op, max_edge=max_edge, perm_level=5, detail_level=0)
        g.op = g.op_ = g.gen_sol_op("light")
        g.gen_prob(train_bin, p_format="pq")
    elif mode == "train-readme":  # the README's usage: op_ drawn once, every attempt redraws s
        g = IdGen(max_op=max_op, max_edge=max_edge, perm_level=5, detail_level=0)
        g.gen_prob(train_bin, p_format="pq")
    else:  # "op:K:test|train"
        _, k, bins = mode.split(":")
        g = IdGen(max_op=max_op, max_edge=max_edge, op=int(k), perm_level=5, detail_level=0)
        g.gen_prob(test_bin if bins == "test" else train_bin, p_format="pq")
    P = g.problem
    sketch = to_sketch(P, sol=" " + ". ".join(P.solution) + ".")["sol"]
    out.append({"problem": g.prob[1:], "solution": g.sol[1:], "answer": int(P.ans), "op": int(P.n_op),
                "bin": int(P.to_hash()), "sketch": sketch})
json.dump({"seconds": time.perf_counter() - t0, "items": out}, sys.stdout)
'''


# ------------------------------------------------------------------------------------------ samples
@dataclass
class Sample:
    """One generated problem as text (+ what the generator says about it)."""

    problem: str
    solution: str  # without "Answer"
    answer: int
    op: int
    bin: int | None = None
    sketch: str | None = None  # the generator's own sketch (official side)
    error: str = ""  # why our parser cannot read it, if it cannot


@dataclass
class SideSet:
    name: str
    samples: list[Sample]
    seconds: float
    note: str = ""


_OFFICIAL_DIRS = ("data_gen", "math_gen", "tools", "const")


def check_official_dir(official: str) -> str | None:
    """Why `official` is not an extracted copy of the official code (a sentence), or None if it is."""
    if not os.path.isdir(official):
        return f"{official!r} is not a directory"
    missing = [d for d in _OFFICIAL_DIRS if not os.path.isdir(os.path.join(official, d))]
    if missing:
        return f"{official!r} lacks {missing} (extract the official iGSM code there)"
    return None


def run_official_script(official: str, python: str, script: str, args: Sequence[str],
                        timeout: float = 3600.0) -> subprocess.CompletedProcess:
    """Run `script` (which starts with `_PRELUDE`) with `python` on a throwaway copy of the official code.

    The copy lives in a temporary directory that is the working directory, passed as the script's first
    argument; one thread for NumPy & co. and a fixed hash seed. ValueError if `official` is no such copy."""
    why = check_official_dir(official)
    if why:
        raise ValueError(why)
    with tempfile.TemporaryDirectory(prefix="igsm-official-") as tmp:
        for d in _OFFICIAL_DIRS:
            shutil.copytree(os.path.join(official, d), os.path.join(tmp, d))
        runner = os.path.join(tmp, "_harness_runner.py")
        with open(runner, "w") as f:
            f.write(script)
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   PYTHONHASHSEED="0")
        return subprocess.run([python, runner, tmp, *args], cwd=tmp, capture_output=True, text=True,
                              timeout=timeout, env=env)


def run_official(official: str, python: str, n: int, mode: str, seed: int, max_op: int, ip_max: int,
                 timeout: float = 3600.0) -> SideSet:
    """Run the official generator on a throwaway copy of `official` (a directory) with `python`."""
    why = check_official_dir(official)
    if why:
        raise SystemExit(f"--official {why}")
    res = run_official_script(official, python, _RUNNER, [str(n), mode, str(seed), str(max_op), str(ip_max)],
                              timeout)
    if res.returncode != 0:
        raise SystemExit(f"the official generator failed ({mode}):\n{res.stderr[-3000:]}")
    data = json.loads(res.stdout)
    items = [Sample(it["problem"], it["solution"], it["answer"], it["op"], it["bin"], it["sketch"])
             for it in data["items"]]
    return SideSet(mode, items, float(data["seconds"]))


def _sample_of(task, p) -> Sample:
    from .template import template_bin, template_of

    pl = p.payload
    sol = " ".join(s.text for s in task.oracle(p))
    return Sample(p.key, sol, pl.answer, p.meta["op"], template_bin(template_of(pl.sentences)))


def run_ours_train(task, n: int, seed: int) -> SideSet:
    from harness import draw_problems, paused_gc

    rng = random.Random(seed)
    t0 = time.perf_counter()
    with paused_gc():
        probs = draw_problems(task, rng, n, "train")
    dt = time.perf_counter() - t0
    return SideSet("train", [_sample_of(task, p) for p in probs], dt)


def run_ours_op(task, n: int, op: int, seed: int, bins: str) -> SideSet:
    """n problems at a forced op: bins "test" keeps the eval side of the split (as the harness's
    in-distribution eval set), "none" keeps all (as its OOD eval sets, which cannot collide)."""
    from harness import is_eval_side, paused_gc

    rng = random.Random(seed)
    split = "id" if bins == "test" else "ood"
    out = []
    t0 = time.perf_counter()
    with paused_gc():
        while len(out) < n:
            p = task.make(rng, op, split)
            if bins == "none" or is_eval_side(task, p):
                out.append(p)
    dt = time.perf_counter() - t0
    return SideSet(f"op:{op}", [_sample_of(task, p) for p in out], dt)


# ----------------------------------------------------------------------------------------- features
_SEP_RE = re.compile(r"'s\b|[.;,?:]|[^\s.;,?:]+")


def _name_regex(names: Sequence[str]) -> re.Pattern:
    alts = sorted(set(names), key=len, reverse=True)
    return re.compile("|".join(re.escape(a) for a in alts)) if alts else re.compile(r"(?!x)x")


def word_tokens(text: str, name_re: re.Pattern) -> int:
    """Word tokens with every name one token and "'s" and punctuation tokens of their own."""
    return len(_SEP_RE.findall(name_re.sub("N", text)))


@dataclass
class Facts:
    """What the rows measure, for one problem (from its text)."""

    op: int
    ip: int  # instance parameters = problem sentences
    layers: int
    n_nec: int  # solution sentences
    nec_inst: int
    nec_abs: int
    childless_abs: int  # abstract solution steps "so x = 0" (no parents)
    copies: int  # necessary problem sentences "... equals each C's D."
    forms: Counter = field(default_factory=Counter)  # necessary sentence forms
    two_first_abs: tuple[int, int] = (0, 0)  # (2-parent necessary sentences with an abstract 1st operand, all)
    big_abs: tuple[int, int] = (0, 0)  # (abstract sums of ≥3 products written post-order, all)
    abstract_query: bool = False
    answer0: bool = False
    prob_tokens: int = 0
    sol_tokens: int = 0
    prob_chars: int = 0
    sol_chars: int = 0
    bin: int | None = None
    ok: bool = True  # our verifier accepts the solution
    reason: str = ""
    sketch_match: bool | None = None  # our sketch of the text equals the generator's own


def _form(rule) -> str:
    if rule.rng_op == "const":
        return "const"
    base = {"ref": "copy", "sum": "sum" if len(rule.refs) == 2 else "sum3+", "diff": "diff"}[rule.combine]
    return base if rule.rng_op is None else f"{rule.rng_op}({base})"


def facts_of(s: Sample) -> Facts:
    from .parse import CHAINS, parse_problem, parse_solution
    from .template import sketch_bin, sketch_of_text
    from .verify import verify_solution

    pp = parse_problem(s.problem)
    sol = parse_solution(s.solution)
    names = list(pp.items) + [c for ch in CHAINS for c in ch]
    name_re = _name_regex(names)
    nec = [pp.resolve_name(x.name or "") for x in sol.sentences]
    nec_inst = [p for p in nec if p in pp.rules]
    nec_abs = [p for p in nec if p is not None and p not in pp.rules]
    childless = 0
    big = [0, 0]
    for x, p in zip(sol.sentences, nec):
        if p is None or p in pp.rules:
            continue
        if len(x.steps) == 1 and x.steps[0].kind == "const":
            childless += 1
        prods = [st for st in x.steps if st.op == "*"]
        if len(prods) >= 3:
            big[1] += 1
            big[0] += len(x.steps) > 2 and x.steps[2].op == "+"
    forms: Counter = Counter()
    two = [0, 0]
    for p in nec_inst:
        r = pp.rules[p]
        forms[_form(r)] += 1
        if r.combine in ("sum", "diff") and len(r.refs) == 2:
            two[1] += 1
            two[0] += pp.is_abstract(r.refs[0])
    v = verify_solution(s.problem, s.solution + f" Answer: {s.answer}.")

    def is_abs(name: str) -> bool:
        q = pp.resolve_name(name)
        return q is not None and q not in pp.rules

    sk = sketch_of_text(s.solution, is_abs)
    return Facts(
        op=s.solution.count(";"), ip=len(pp.rules), layers=pp.n_layers, n_nec=len(sol.sentences),
        nec_inst=len(nec_inst), nec_abs=len(nec_abs), childless_abs=childless, copies=forms["copy"],
        forms=forms, two_first_abs=(two[0], two[1]), big_abs=(big[0], big[1]),
        abstract_query=pp.is_abstract(pp.query), answer0=s.answer == 0,
        prob_tokens=word_tokens(s.problem, name_re), sol_tokens=word_tokens(s.solution, name_re),
        prob_chars=len(s.problem), sol_chars=len(s.solution),
        bin=s.bin if s.bin is not None else sketch_bin(sk), ok=v.correct, reason=v.reason,
        sketch_match=None if s.sketch is None else sk == s.sketch,
    )


def _facts_all(samples: Sequence[Sample]) -> tuple[list[Facts], list[Sample]]:
    """Facts of every sample our parser can read, and the samples it cannot (with .error set)."""
    from .parse import ProblemParseError

    out, bad = [], []
    for s in samples:
        try:
            out.append(facts_of(s))
        except ProblemParseError as e:
            s.error = str(e)
            bad.append(s)
    return out, bad


# ------------------------------------------------------------------------------------------- tests
def _merge_sparse(ca: Counter, cb: Counter, min_expected: float = 5.0) -> tuple[list[int], list[int]]:
    """Two count vectors over the sorted categories, adjacent categories merged until every expected
    count is at least min_expected (so the chi-square approximation holds)."""
    keys = sorted(set(ca) | set(cb), key=lambda k: (isinstance(k, str), k))
    a = [ca[k] for k in keys]
    b = [cb[k] for k in keys]
    na, nb = sum(a), sum(b)

    def ok(i: int) -> bool:
        t = a[i] + b[i]
        return min(t * na, t * nb) / (na + nb) >= min_expected

    i = 0
    while len(a) > 1 and i < len(a):
        if ok(i):
            i += 1
            continue
        j = i + 1 if i + 1 < len(a) else i - 1
        lo, hi = min(i, j), max(i, j)
        a[lo] += a[hi]
        b[lo] += b[hi]
        del a[hi], b[hi]
        i = lo
    return a, b


def chi2_two(ca: Counter, cb: Counter) -> float:
    from scipy.stats import chi2_contingency

    a, b = _merge_sparse(ca, cb)
    if len(a) < 2:
        return 1.0
    return float(chi2_contingency([a, b], correction=False)[1])


def chi2_gof(c: Counter, probs: dict[Any, float]) -> float:
    """Goodness of fit of counts c to a law (adjacent categories merged to expected ≥ 5)."""
    from scipy.stats import chisquare

    keys = sorted(probs)
    n = sum(c.values())
    obs = [c[k] for k in keys]
    exp = [probs[k] * n for k in keys]
    o2, e2 = [], []
    for o, e in zip(obs, exp):
        if e2 and e2[-1] < 5:
            o2[-1] += o
            e2[-1] += e
        else:
            o2.append(o)
            e2.append(e)
    if len(e2) > 1 and e2[-1] < 5:
        o_last, e_last = o2.pop(), e2.pop()
        o2[-1] += o_last
        e2[-1] += e_last
    return float(chisquare(o2, e2)[1])


def ks_two(a: Sequence[float], b: Sequence[float]) -> float:
    from scipy.stats import ks_2samp

    return float(ks_2samp(a, b, method="asymp").pvalue)


def _norm_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def prop_two(ka: int, na: int, kb: int, nb: int) -> float:
    """Two-proportion z test (pooled)."""
    p = (ka + kb) / (na + nb) if na + nb else 0.0
    se = math.sqrt(p * (1 - p) * (1 / na + 1 / nb)) if na and nb else 0.0
    return 1.0 if se == 0 else _norm_p((ka / na - kb / nb) / se)


def cluster_prop_two(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> float:
    """z test of two shares of sentences, each a ratio Σk/Σn over problems (k of n sentences per
    problem), with the problem-clustered (ratio-estimator) variance."""

    def est(xs: Sequence[tuple[int, int]]) -> tuple[float, float]:
        K = sum(k for k, _ in xs)
        N = sum(n for _, n in xs)
        if N == 0:
            return 0.0, 0.0
        r = K / N
        m = len(xs)
        var = sum((k - r * n) ** 2 for k, n in xs) / (N * N) * (m / max(m - 1, 1))
        return r, var

    ra, va = est(a)
    rb, vb = est(b)
    se = math.sqrt(va + vb)
    return 1.0 if se == 0 else _norm_p((ra - rb) / se)


def light_law(max_op: int) -> dict[int, float]:
    """P(op = k) for op = min of two U{1..max_op}."""
    return {k: ((max_op - k + 1) ** 2 - (max_op - k) ** 2) / max_op**2 for k in range(1, max_op + 1)}


# -------------------------------------------------------------------------------------------- rows
@dataclass
class Row:
    name: str
    test: str
    official: str
    ours: str
    p: float | None


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def _share(pairs: Sequence[tuple[int, int]]) -> float:
    n = sum(b for _, b in pairs)
    return sum(a for a, _ in pairs) / n if n else float("nan")


def _law(c: Counter, top: int = 4) -> str:
    n = sum(c.values())
    return ", ".join(f"{k}: {100 * v / n:.1f}%" for k, v in c.most_common(top))


def compare(fa: list[Facts], fb: list[Facts], max_op: int | None = None, bins_tested: bool = True) -> list[Row]:
    """Rows official (fa) vs ours (fb); max_op adds the op-law goodness of fit (training sets)."""
    rows: list[Row] = []

    def discrete(name: str, get: Callable[[Facts], Any], fmt: Callable[[Counter, list], str]) -> None:
        ca, cb = Counter(get(f) for f in fa), Counter(get(f) for f in fb)
        rows.append(Row(name, "chi-square", fmt(ca, [get(f) for f in fa]), fmt(cb, [get(f) for f in fb]),
                        chi2_two(ca, cb)))

    def mean_fmt(c: Counter, xs: list) -> str:
        return f"mean {_mean(xs):.2f}"

    discrete("op", lambda f: f.op, lambda c, xs: f"mean {_mean(xs):.2f}, op=1 {100 * c[1] / len(xs):.1f}%")
    if max_op is not None:
        law = light_law(max_op)
        pa, pb = chi2_gof(Counter(f.op for f in fa), law), chi2_gof(Counter(f.op for f in fb), law)
        rows.append(Row("op vs min-of-two-uniforms (GOF, each side)", "chi-square", f"p = {pa:.3g}",
                        f"p = {pb:.3g}", min(pa, pb)))
    discrete("parameters per problem (ip)", lambda f: f.ip, mean_fmt)
    discrete("layers d", lambda f: f.layers, lambda c, xs: _law(c))
    discrete("solution sentences (necessary parameters)", lambda f: f.n_nec, mean_fmt)
    for name, get in (("problem length (word tokens)", lambda f: f.prob_tokens),
                      ("solution length (word tokens)", lambda f: f.sol_tokens)):
        xa, xb = [get(f) for f in fa], [get(f) for f in fb]
        rows.append(Row(name, "KS", f"mean {_mean(xa):.1f}", f"mean {_mean(xb):.1f}", ks_two(xa, xb)))
    for name, get in (("problem length (characters, names differ: not tested)", lambda f: f.prob_chars),
                      ("solution length (characters, not tested)", lambda f: f.sol_chars)):
        rows.append(Row(name, "-", f"mean {_mean([get(f) for f in fa]):.0f}",
                        f"mean {_mean([get(f) for f in fb]):.0f}", None))

    def clustered(name: str, get: Callable[[Facts], tuple[int, int]]) -> None:
        a, b = [get(f) for f in fa], [get(f) for f in fb]
        rows.append(Row(name, "clustered z", f"{100 * _share(a):.1f}%", f"{100 * _share(b):.1f}%",
                        cluster_prop_two(a, b)))

    clustered("distractor fraction (problem sentences not in the solution)", lambda f: (f.ip - f.nec_inst, f.ip))
    clustered("copy sentences / necessary sentences", lambda f: (f.copies, f.nec_inst))
    for form in ("const", "sum", "diff", "sum3+", "more(copy)", "times(copy)"):
        clustered(f"necessary sentences: {form}", lambda f, form=form: (f.forms[form], f.nec_inst))
    clustered("2-parent necessary sentences with an abstract first operand", lambda f: f.two_first_abs)
    discrete("abstract solution steps per problem", lambda f: f.nec_abs, mean_fmt)
    discrete("childless abstract steps (so x = 0) per problem", lambda f: f.childless_abs, mean_fmt)
    a, b = [f.big_abs for f in fa], [f.big_abs for f in fb]
    rows.append(Row("abstract sums of ≥3 products in post-order", "-",
                    f"{sum(x for x, _ in a)}/{sum(y for _, y in a)}", f"{sum(x for x, _ in b)}/{sum(y for _, y in b)}",
                    None))
    for name, get in (("abstract query", lambda f: f.abstract_query), ("answer = 0", lambda f: f.answer0)):
        ka, kb = sum(get(f) for f in fa), sum(get(f) for f in fb)
        rows.append(Row(name, "two-proportion z", f"{100 * ka / len(fa):.1f}%", f"{100 * kb / len(fb):.1f}%",
                        prop_two(ka, len(fa), kb, len(fb))))
    ba = Counter(f.bin for f in fa)
    bb = Counter(f.bin for f in fb)
    rows.append(Row("template bin (SHA-256 mod 23)" + ("" if bins_tested else ", ours unfiltered: not tested"),
                    "chi-square" if bins_tested else "-", f"bins {min(ba)}..{max(ba)}",
                    f"bins {min(bb)}..{max(bb)}", chi2_two(ba, bb) if bins_tested else None))
    return rows


# ------------------------------------------------------------------------------------------- report
@dataclass
class Plan:
    short: str
    title: str
    mode: str  # the official runner's mode
    ours: Callable[[], SideSet]
    op_law: bool = False  # add the op-law goodness of fit (training sets)
    bins_tested: bool = True  # ours is filtered on the bins too


def summary(done: list[tuple[Plan, list[Row]]], alpha: float) -> str:
    """One table: a row per measure, a column per set (official / ours, p)."""
    names: list[str] = []
    for _, rows in done:
        for r in rows:
            if r.name not in names:
                names.append(r.name)
    head = "| row | " + " | ".join(f"{p.short}: official / ours (p)" for p, _ in done) + " |"
    out = [head, "|---|" + "---|" * len(done)]
    for name in names:
        cells = []
        for _, rows in done:
            r = next((r for r in rows if r.name == name), None)
            if r is None:
                cells.append("")
                continue
            p = "" if r.p is None else f" ({r.p:.2g}{' **REJECT**' if r.p < alpha else ''})"
            cells.append(f"{r.official} / {r.ours}{p}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def markdown(title: str, rows: list[Row], alpha: float) -> str:
    out = [f"**{title}**", "", "| row | test | official | ours | p |", "|---|---|---|---|---|"]
    for r in rows:
        p = "" if r.p is None else (f"{r.p:.3g}" + (" **REJECT**" if r.p < alpha else ""))
        out.append(f"| {r.name} | {r.test} | {r.official} | {r.ours} | {p} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--official", required=True, help="directory with the extracted official iGSM code")
    ap.add_argument("--python", default="/tmp/igsm-official-venv/bin/python",
                    help="interpreter with networkx + numpy for the official code (scripts/igsm_official_venv.sh)")
    ap.add_argument("--n", type=int, default=2000, help="problems per side and set")
    ap.add_argument("--preset", default="med", choices=["mini", "med", "hard"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--alpha", type=float, default=0.001)
    ap.add_argument("--sets", default="train,id,ood", help="comma list of: train, train-readme, id, ood")
    ap.add_argument("--json", default=None, help="also write the rows and timings here")
    args = ap.parse_args(argv)
    if not os.path.exists(args.python):
        raise SystemExit(f"--python {args.python!r} not found: run scripts/igsm_official_venv.sh first")

    from harness_igsm import IGSMConfig, IGSMTask

    task = IGSMTask(IGSMConfig(preset=args.preset))
    cfg = task.config
    max_op, ip_max = cfg.max_op, cfg.ip_max
    plans: list[Plan] = []
    for name in args.sets.split(","):
        name = name.strip()
        if name == "train":
            plans.append(Plan("train", "train: op ~ min of two uniforms, train bins", "train",
                              lambda: run_ours_train(task, args.n, args.seed), op_law=True))
        elif name == "train-readme":
            redrawn = IGSMTask(IGSMConfig(preset=args.preset, attempt_op="redrawn"))
            plans.append(Plan("train-readme", "train, official README usage (IdGen(op=None): op drawn once, s "
                              "redrawn per attempt) vs ours with attempt_op=redrawn", "train-readme",
                              lambda: run_ours_train(redrawn, args.n, args.seed + 7), op_law=True))
        elif name == "id":
            op = cfg.id_eval_op
            plans.append(Plan(f"op={op}", f"op = {op}, test bins (in-distribution eval)", f"op:{op}:test",
                              lambda op=op: run_ours_op(task, args.n, op, args.seed + 1, "test")))
        elif name == "ood":
            op = cfg.eval_ops[0]
            plans.append(Plan(f"op={op}", f"op = {op} (OOD eval; official: test bins, ours: no bins needed)",
                              f"op:{op}:test", lambda op=op: run_ours_op(task, args.n, op, args.seed + 2, "none"),
                              bins_tested=False))
        else:
            raise SystemExit(f"unknown set {name!r} (train, train-readme, id, ood)")

    report: dict[str, Any] = {"n": args.n, "preset": args.preset, "sets": []}
    t_all = time.perf_counter()
    any_reject = False
    print(f"# iGSM fidelity: official vs ours, preset {args.preset}, n = {args.n} per side, "
          f"alpha = {args.alpha}\n")
    done: list[tuple[Plan, list[Row]]] = []
    for k, plan in enumerate(plans):
        off = run_official(args.official, args.python, args.n, plan.mode, args.seed + 1000 + k, max_op, ip_max)
        mine = plan.ours()
        fa, unread = _facts_all(off.samples)
        fb, unread_b = _facts_all(mine.samples)
        if unread_b:
            raise SystemExit(f"our own problems failed to parse: {[s.error for s in unread_b[:3]]}")
        rows = compare(fa, fb, max_op if plan.op_law else None, bins_tested=plan.bins_tested)
        done.append((plan, rows))
        rej = [r.name for r in rows if r.p is not None and r.p < args.alpha]
        any_reject |= bool(rej)
        acc_a, acc_b = sum(f.ok for f in fa), sum(f.ok for f in fb)
        sk = [f.sketch_match for f in fa if f.sketch_match is not None]
        op_ok = sum(f.op == s.op for f, s in zip(fa, [s for s in off.samples if not s.error]))
        print(markdown(plan.title, rows, args.alpha))
        print()
        print(f"- speed: official {len(off.samples) / off.seconds:,.0f} problems/s, ours "
              f"{len(mine.samples) / mine.seconds:,.0f} problems/s ({off.seconds:.1f} s vs {mine.seconds:.2f} s, "
              "one core each)")
        print(f"- our verifier accepts {acc_a}/{len(off.samples)} official solutions and {acc_b}/{len(fb)} of ours")
        bad = Counter(f.reason.split(":")[0] for f in fa if not f.ok) + Counter(
            "unparsable: " + s.error[:50] for s in unread)
        if bad:
            print(f"  (official not accepted: {dict(bad)})")
        print(f"- our sketch of the official solution text equals the official to_sketch for {sum(sk)}/{len(sk)}; "
              f"official op (`n_op`) = ';' count for {op_ok}/{len(fa)}")
        print(f"- rows rejecting at alpha = {args.alpha}: {', '.join(rej) if rej else 'none'}\n")
        report["sets"].append({
            "title": plan.title, "mode": plan.mode,
            "rows": [r.__dict__ for r in rows],
            "official_per_s": len(off.samples) / off.seconds, "ours_per_s": len(mine.samples) / mine.seconds,
            "verifier_official": [acc_a, len(off.samples)], "verifier_ours": [acc_b, len(fb)],
            "sketch_match": [sum(sk), len(sk)], "rejects": rej,
        })
    if len(done) > 1:
        print(summary(done, args.alpha))
        print()
    report["seconds"] = time.perf_counter() - t_all
    print(f"total {report['seconds']:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if any_reject else 0


if __name__ == "__main__":
    sys.exit(main())
