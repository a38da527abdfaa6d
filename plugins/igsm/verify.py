"""Full-solution checker for iGSM (Physics of LMs Part 2.1 §1.8 logic, made stricter).

`verify_solution(problem_text, solution_text, answer=None) -> Verdict` works from the problem text alone.
A solution is correct iff, after dropping every sentence containing "[BACK]" (or the plain word "BACK"):
  * every sentence is "Define <param> as <v>; <step>; ...; so <v> = ...", every step parses;
  * every variable is one letter, defined once, used only after its definition; every number written for a
    variable or constant equals it; every binary operation is right mod 23 (results 0..22);
  * every Define names an existing, definable parameter, defined once, after all of its parents;
  * the parameters its computation references (intermediates resolved) are exactly its true parents, and the
    value it computes is its true value (stricter than the official checker);
  * the last defined parameter is the query, and the answer ("Answer: n." or `answer`) is the true answer.
Unnecessary (existing, correctly computed) parameters are allowed and counted.

Sentence numbers in reasons are 1-based positions among all sentences of the solution, retracted [BACK]
sentences and the "Answer" sentence included, so they point into the text as written.

Every wrong verdict carries `details["kind"]`: the cause of its reason without the reason's names, numbers
and sentence positions ("wrong value", "wrong parents", "unreadable problem", ...: a short, stable set), so
that `harness score` can count failures by what went wrong. A problem or solution longer than
`MAX_PROBLEM_CHARS` / `MAX_SOLUTION_CHARS` is refused unparsed ("problem too long", "solution too long").
"""

from __future__ import annotations

import functools
import re
from typing import Any

from harness import Verdict

from .parse import (
    CATEGORY_POS,
    MAX_PROBLEM_CHARS,
    MOD,
    Evaluation,
    Param,
    ParsedProblem,
    ParsedSolution,
    ProblemParseError,
    parse_problem,
    parse_solution,
    param_name,
    too_long,
)

__all__ = ["verify_solution", "parse_problem_cached"]


@functools.lru_cache(maxsize=512)
def _parse_cached(text: str) -> ParsedProblem | ProblemParseError:
    try:
        return parse_problem(text)
    except ProblemParseError as e:
        return e


def parse_problem_cached(problem_text: str) -> ParsedProblem:
    """parse_problem with an LRU cache (the result is shared: treat it as read-only)."""
    r = _parse_cached(problem_text)
    if isinstance(r, ProblemParseError):
        raise r
    return r


def _q(name: str) -> str:
    return "'" + name + "'"


def _fmt(ps) -> str:
    return "{" + ", ".join(_q(param_name(p)) for p in sorted(ps)) + "}"


def _show(n: int) -> str:
    """An integer as text; a huge one (str() refuses more than 4,300 digits) by its size."""
    return str(n) if abs(n) < 10**30 else f"a number of about {int(abs(n).bit_length() * 0.30103) + 1} digits"


def _apply(op: str, a: int, b: int) -> int:
    if op == "+":
        return (a + b) % MOD
    if op == "-":
        return (a - b) % MOD
    return (a * b) % MOD


def _check(pp: ParsedProblem, ev: Evaluation, sol: ParsedSolution, ans: int | None, n_back: int) -> Verdict:
    true_answer = ev.values.get(pp.query)
    details: dict[str, Any] = {
        "n_back": n_back,
        "n_unnecessary": 0,
        "n_sentences": len(sol.sentences),
        "answer": ans,
        "true_answer": true_answer,
        "first_error_sentence": None,
    }

    def fail(idx: int | None, msg: str, kind: str) -> Verdict:
        details["first_error_sentence"] = idx
        details["kind"] = kind
        return Verdict(False, f"sentence {idx}: {msg}" if idx is not None else msg, details)

    value: dict[str, int] = {}  # variable -> value
    deps: dict[str, frozenset[Param]] = {}  # variable -> parameters it stands for (intermediates resolved)
    defined: dict[Param, int] = {}  # parameter -> sentence index
    order: list[Param] = []
    for s in sol.sentences:
        k = s.index
        if s.error is not None:
            return fail(k, s.error, s.error_kind or "unreadable sentence")
        key = pp.resolve_name(s.name or "")
        if key is None or key not in ev.parents:
            return fail(k, f"unknown parameter {_q(s.name or '')}", "unknown parameter")
        name = param_name(key)
        if key in defined:
            return fail(k, f"parameter {_q(name)} is defined twice (first in sentence {defined[key]})",
                        "parameter defined twice")
        need = ev.parents[key]
        missing = need - defined.keys()
        if missing:
            return fail(k, f"{_q(name)} is defined before its parent(s) {_fmt(missing)}",
                        "defined before its parents")
        if s.var in value:
            return fail(k, f"variable {s.var!r} is defined twice", "variable defined twice")
        refs: set[Param] = set()
        for st in s.steps:
            for opd, stated in zip(st.operands, st.stated):
                if isinstance(opd, str):
                    if opd not in value:
                        return fail(k, f"variable {opd!r} used before definition", "variable used before definition")
                    if stated != value[opd]:
                        return fail(k, f"{opd} is {value[opd]} but is written as {stated}", "variable written wrong")
                    refs |= deps[opd]
                elif stated != opd:
                    return fail(k, f"constant {opd} is written as {stated}", "constant written wrong")
            if st.target in value:
                return fail(k, f"variable {st.target!r} is defined twice", "variable defined twice")
            if st.kind == "const":
                v = st.result
            elif st.kind == "copy":
                v = st.stated[0]
            else:
                a, b = st.stated
                v = _apply(st.op or "+", a, b)
                if st.result != v:
                    return fail(k, f"{a} {st.op} {b} = {st.result} is wrong mod {MOD} ({v})", "wrong arithmetic")
            value[st.target] = int(v or 0)
            dd: set[Param] = set()
            for opd in st.operands:
                if isinstance(opd, str):
                    dd |= deps[opd]
            deps[st.target] = frozenset(dd)
        deps[s.var] = frozenset({key})
        if refs != need:
            return fail(k, f"{_q(name)} uses parents {_fmt(refs)} but needs {_fmt(need)}", "wrong parents")
        got, true = value[s.var], ev.values[key]
        if got != true:
            return fail(k, f"{_q(name)} is computed as {got} but its true value is {true}", "wrong value")
        defined[key] = k
        order.append(key)

    if sol.answer_error is not None:
        idx_s, _, msg = sol.answer_error.partition(": ")
        try:
            idx = int(idx_s.split()[-1])
        except (ValueError, IndexError):
            idx = None
        return fail(idx, msg or sol.answer_error, sol.answer_error_kind or "unreadable answer")
    if not order:
        return fail(None, "no solution sentences", "no solution sentences")
    if order[-1] != pp.query:
        return fail(sol.sentences[-1].index,
                    f"last parameter {_q(param_name(order[-1]))} is not the query {_q(param_name(pp.query))}",
                    "last parameter is not the query")
    if ans is None:
        return fail(None, "missing answer", "missing answer")
    if ans != true_answer:
        return fail(sol.answer_index, f"wrong answer {_show(ans)} (true answer {true_answer})", "wrong answer")
    needed = ev.ancestors_or_self(pp.query)
    details["n_unnecessary"] = sum(1 for p in order if p not in needed)
    return Verdict(True, "correct", details)


def _verify(problem_text: Any, solution_text: Any, answer: Any) -> Verdict:
    base = {"n_back": 0, "n_unnecessary": 0, "n_sentences": 0, "answer": None, "true_answer": None,
            "first_error_sentence": None}

    def wrong(kind: str, reason: str) -> Verdict:
        return Verdict(False, reason, {**base, "kind": kind})

    if isinstance(problem_text, ParsedProblem):
        pp = problem_text
    else:
        if not isinstance(problem_text, str):
            return wrong("problem not text", f"problem: not text ({type(problem_text).__name__})")
        if len(problem_text) > MAX_PROBLEM_CHARS:  # before the cache, which would keep the text
            return wrong("problem too long", "problem: " + too_long("problem", len(problem_text), MAX_PROBLEM_CHARS))
        try:
            pp = parse_problem_cached(problem_text)
        except ProblemParseError as e:
            return wrong(e.kind, f"problem: {e}")
    if not isinstance(solution_text, str):
        return wrong("solution not text", f"solution is not text ({type(solution_text).__name__})")
    sol = parse_solution(solution_text)
    if sol.error is not None:
        return wrong(sol.error_kind or "unreadable solution", f"solution: {sol.error}")
    base.update(n_back=sol.n_back, n_sentences=len(sol.sentences))

    ans: int | None = None
    if answer is not None:
        if isinstance(answer, bool):
            return wrong("answer not an integer", f"answer {answer!r} is not an integer")
        if isinstance(answer, int):
            ans = answer
        else:
            try:
                ans = int(str(answer).strip())
            except ValueError:
                return wrong("answer not an integer", f"answer {str(answer)[:20]!r} is not an integer")
        if sol.answer is not None and sol.answer != ans:
            base["answer"] = ans
            return wrong("answer differs from the text",
                         f"the answer in the text ({sol.answer}) differs from the given answer ({_show(ans)})")
    else:
        ans = sol.answer
    base["answer"] = ans

    # Readings of the category names (windows of a categorization) when the problem's names do not pin
    # one: first the problem's own sentences decide, by the reading under which the most items carry their
    # layer's category name ("Workout Backpack" in the Backpack layer); then the solution's abstract Defines
    # narrow what is left. A text that still admits readings under which this solution is right and others
    # under which it is wrong is scored under the ones it admits: correct if correct under any of them.
    cands = list(pp.candidates)
    if len(cands) > 1:
        ev = [_name_evidence(pp, pp.evaluate(c)) for c in cands]
        best = max(ev)
        if best > 0:
            cands = [c for c, e in zip(cands, ev) if e == best]
    extra: set[Param] = set()
    for s in sol.sentences:
        if s.name:
            p = pp.resolve_name(s.name)
            if p is not None and pp.is_abstract(p):
                extra.add(p)
    narrowed = [c for c in cands if pp.consistent(c, extra)]
    if narrowed:
        cands = narrowed
    used = sorted(pp.categories | {k for _, k in extra})
    groups: dict[tuple, tuple[int, int]] = {}
    for c in cands:
        sig = tuple(pp.evaluate(c).layer_of.get(k) for k in used)
        groups.setdefault(sig, c)
    if not groups:
        return wrong("unreadable problem", "problem: no categorization layer fits the category names")
    verdicts = [_check(pp, pp.evaluate(c), sol, ans, sol.n_back) for c in groups.values()]
    v = next((v for v in verdicts if v.correct), verdicts[0])
    if len(verdicts) > 1:
        v.details["n_readings"] = len(verdicts)
        if len({t.correct for t in verdicts}) > 1:
            v.details["ambiguous_readings"] = sum(t.correct for t in verdicts)
    return v


def _name_evidence(pp: ParsedProblem, ev: Evaluation) -> int:
    """How many items of the problem have their own layer's category name (singular or plural) as a word of
    their name under this reading."""
    cat_of = {layer: k for k, layer in ev.layer_of.items()}
    n = 0
    for item, depth in pp.depth.items():
        k = cat_of.get(depth)
        if k is not None and _CAT_WORD[k].search(item):
            n += 1
    return n


def _cat_word(k: str) -> re.Pattern:
    forms = {k, k[:-1] if k.endswith("s") else k + "s"}
    return re.compile(r"\b(?:" + "|".join(re.escape(f) for f in sorted(forms)) + r")\b", re.I)


_CAT_WORD = {k: _cat_word(k) for k in CATEGORY_POS}


def verify_solution(problem_text: str, solution_text: str, answer: int | None = None) -> Verdict:
    """Check a whole iGSM solution against the problem text. Never raises."""
    try:
        return _verify(problem_text, solution_text, answer)
    except Exception as exc:  # pragma: no cover - last resort: the verifier must never raise
        return Verdict(False, f"internal: {type(exc).__name__}: {exc}",
                       {"first_error_sentence": None, "kind": "verifier error"})
