"""Parse iGSM problem text and solution text (Physics of LMs Part 2.1 format) without any name lists.

Problem text: sentences "The number of each <A>'s <B> equals <rhs>." plus the question
"How many <B> does <A> have?", in either order (pq or qp). Every instance parameter "A's B" is an edge A→B of
the structure graph; a name in "X's Y" that is not an item of the structure graph is a category name, i.e. the
parameter is abstract. Which layer a category name denotes is fixed by the four public categorization chains
and the window offset of the problem (see `ParsedProblem.candidates`).

Solution text: "Define <param> as <v>; <step>; ...; so <v> = <expr>." sentences, "Define <param> as [BACK]."
retractions (dropped), optionally closed by "Answer: <n>.".

Parameters are `Param = (owner, child)` tuples of names; `param_name` renders "owner's child".
Everything here raises `ProblemParseError` on a malformed problem; solution parsing never raises and records
per-sentence errors instead. Every error also carries a *kind*: a short, stable name of what went wrong
(`ProblemParseError.kind`, `SolSentence.error_kind`, ...), without the names and numbers of the message, so
that failures can be counted by cause.

Input size is bounded (`MAX_PROBLEM_CHARS`, `MAX_SOLUTION_CHARS`) and every pattern here runs in time linear
in its input (no regular expression with two overlapping unbounded parts that can backtrack into each other),
so text written by anyone cannot make the parser take quadratic time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

MOD = 23
MAX_NUMBER = MOD - 1
#: the longest problem / solution text parsed (characters); generated iGSM problems at the largest op (52)
#: are about 3,000 characters, their solutions shorter. Longer text is refused with a reason, unparsed.
MAX_PROBLEM_CHARS = 100_000
MAX_SOLUTION_CHARS = 100_000
#: a name with more "'s " than this has no reading as "<A>'s <B>" (real names have one to three)
MAX_SPLITS = 16

# The paper's four categorizations (public, Part 2.1 §2 / App. D): each an ordered chain of 4 category layers.
CHAINS: tuple[tuple[str, ...], ...] = (
    ("District", "Supermarket", "Product", "Ingredient"),
    ("Zoo", "Enclosure", "Animal", "Bone"),
    ("School", "Classroom", "Backpack", "Stationery"),
    ("Ecosystems", "Creatures", "Organs", "Cells"),
)
CATEGORY_POS: dict[str, tuple[int, int]] = {k: (ci, li) for ci, ch in enumerate(CHAINS) for li, k in enumerate(ch)}

Param = tuple[str, str]


class ProblemParseError(ValueError):
    """The problem text is not an iGSM problem this parser understands. `kind` names the cause without the
    message's specifics ("unreadable problem", "problem too long", "problem not text")."""

    def __init__(self, message: str, kind: str = "unreadable problem"):
        super().__init__(message)
        self.kind = kind


def param_name(p: Param) -> str:
    return f"{p[0]}'s {p[1]}"


def _norm(s: str) -> str:
    return " ".join(s.split())


def too_long(what: str, n: int, limit: int) -> str:
    return f"{what} is {n:,} characters, more than the {limit:,} this parser reads"


def _splits(name: str) -> list[Param]:
    """Every way to read `name` as "<A>'s <B>" (split at each "'s "), first split first; none for a name with
    more than MAX_SPLITS of them (each split copies the name: this keeps the work linear in its length)."""
    out: list[Param] = []
    if name.count("'s ") > MAX_SPLITS:
        return out
    i = name.find("'s ")
    while i >= 0:
        a, b = name[:i].strip(), name[i + 3 :].strip()
        if a and b:
            out.append((a, b))
        i = name.find("'s ", i + 1)
    return out


def _item_category() -> dict:
    """names.ITEM_CATEGORY (item -> (chain, layer index in chain)) when the names module provides it."""
    try:
        from .names import ITEM_CATEGORY  # type: ignore[attr-defined]

        return ITEM_CATEGORY if isinstance(ITEM_CATEGORY, dict) else {}
    except Exception:
        return {}


# --------------------------------------------------------------------------------------------- problem
@dataclass(frozen=True, slots=True)
class Rule:
    """The right-hand side of one problem sentence.

    rng_op: None (no RNG parent), "const" ("equals N"), "more" ("N more than X": N + X), "times" (N · X).
    combine: None (only RNG), "ref" (one parent), "sum" (2+ parents), "diff" (P − Q).
    """

    rng_op: str | None
    rng: int | None
    combine: str | None
    refs: tuple[Param, ...]
    text: str

    def value(self, vals: dict[Param, int]) -> int:
        x = 0
        if self.combine == "ref":
            x = vals[self.refs[0]]
        elif self.combine == "sum":
            x = sum(vals[r] for r in self.refs)
        elif self.combine == "diff":
            x = vals[self.refs[0]] - vals[self.refs[1]]
        if self.rng_op == "const":
            x = self.rng or 0
        elif self.rng_op == "more":
            x = (self.rng or 0) + x
        elif self.rng_op == "times":
            x = (self.rng or 0) * x
        return x % MOD


@dataclass(slots=True)
class Evaluation:
    """True values and true parent sets of every parameter under one reading of the category names.

    `parents` holds every definable parameter: the instance parameters and every abstract (a, K) with
    layer(a) < layer(K) ≤ d−1. RNG is never a parent.
    """

    chain: int
    offset: int
    layer_of: dict[str, int]
    values: dict[Param, int]
    parents: dict[Param, frozenset[Param]]

    def ancestors_or_self(self, p: Param) -> set[Param]:
        seen = {p}
        stack = [p]
        while stack:
            for q in self.parents.get(stack.pop(), ()):
                if q not in seen:
                    seen.add(q)
                    stack.append(q)
        return seen


@dataclass(slots=True)
class ParsedProblem:
    text: str
    order: str  # "pq" | "qp"
    sentences: list[str]  # the problem sentences, in text order, without the final "."
    rules: dict[Param, Rule]  # instance parameters in text order
    items: set[str]
    children: dict[str, list[str]]  # structure graph item -> child items
    depth: dict[str, int]  # layer of each item (0 = roots)
    layers: list[list[str]]
    query: Param
    categories: set[str]  # category names used by the problem text and the question
    abstract_refs: set[Param]  # abstract parameters the problem text and the question mention
    candidates: list[tuple[int, int]]  # (chain, offset) readings of the category names consistent with it all
    _evals: dict[tuple[int, int], Evaluation] = field(default_factory=dict, repr=False)

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    def is_abstract(self, p: Param) -> bool:
        return p[1] not in self.items

    def resolve_name(self, name: str) -> Param | None:
        """The parameter a solution's "Define <name>" refers to, or None if no reading names one.

        An abstract reading only needs a known item and a category name; whether it is definable depends on
        the category reading (`Evaluation.parents`)."""
        name = _norm(name)
        sp = _splits(name)
        for p in reversed(sp):
            if p in self.rules:
                return p
        for a, b in reversed(sp):
            if a in self.items and b not in self.items and b in CATEGORY_POS:
                return (a, b)
        return None

    def consistent(self, cand: tuple[int, int], abstracts: Iterable[Param]) -> bool:
        chain, offset = cand
        d = self.n_layers
        for a, k in abstracts:
            pos = CATEGORY_POS.get(k)
            if pos is None or pos[0] != chain or a not in self.depth:
                return False
            layer = pos[1] - offset
            if not (self.depth[a] < layer <= d - 1):
                return False
        return True

    def evaluate(self, cand: tuple[int, int] | None = None) -> Evaluation:
        """True values (mod 23) and parent sets of every parameter under reading `cand` (default: the first)."""
        if cand is None:
            if not self.candidates:
                raise ProblemParseError("no categorization layer fits the category names")
            cand = self.candidates[0]
        ev = self._evals.get(cand)
        if ev is None:
            ev = self._evaluate(cand)
            self._evals[cand] = ev
        return ev

    def _evaluate(self, cand: tuple[int, int]) -> Evaluation:
        chain, offset = cand
        d = self.n_layers
        layer_of = {k: li - offset for li, k in enumerate(CHAINS[chain]) if 0 <= li - offset < d}
        parents: dict[Param, frozenset[Param]] = {p: frozenset(r.refs) for p, r in self.rules.items()}
        for a in self.items:
            kids = self.children.get(a, [])
            for k, layer in layer_of.items():
                if layer <= self.depth[a] or k in self.items:
                    continue
                ps = {(a, c) for c in kids}
                if layer > self.depth[a] + 1:
                    ps |= {(c, k) for c in kids}
                parents[(a, k)] = frozenset(ps)
        for p, ps in parents.items():
            for q in ps:
                if q not in parents:
                    raise ProblemParseError(f"{param_name(p)!r} depends on unknown parameter {param_name(q)!r}")
        values: dict[Param, int] = {}
        state: dict[Param, int] = {}  # 1 = on the stack, 2 = done

        def value(p: Param) -> int:
            # iterative post-order DFS (no recursion limit trouble, detects cycles)
            stack = [(p, False)]
            while stack:
                q, expanded = stack.pop()
                if state.get(q) == 2:
                    continue
                if expanded:
                    if q in self.rules:
                        values[q] = self.rules[q].value(values)
                    else:
                        a, k = q
                        kids = self.children.get(a, [])
                        if layer_of[k] == self.depth[a] + 1:
                            values[q] = sum(values[(a, c)] for c in kids) % MOD
                        else:
                            values[q] = sum(values[(a, c)] * values[(c, k)] for c in kids) % MOD
                    state[q] = 2
                    continue
                if state.get(q) == 1:
                    raise ProblemParseError(f"cyclic dependency through {param_name(q)!r}")
                state[q] = 1
                stack.append((q, True))
                for r in parents[q]:
                    if state.get(r) != 2:
                        if state.get(r) == 1:
                            raise ProblemParseError(f"cyclic dependency through {param_name(r)!r}")
                        stack.append((r, False))
            return values[p]

        for p in parents:
            value(p)
        return Evaluation(chain, offset, layer_of, values, parents)


def _find_questions(text: str) -> list[tuple[int, int, str, str]]:
    """Every question "How many <B> does <A> have?" in `text` as (start, end, B, A): the matches, in order,
    of `re.finditer(r"How many (.+?) does (.+?) have\\?", text)` for text without newlines (normalised
    text), found in linear time. That pattern takes quadratic time on "How many " + "a does " * N: each
    lazy choice of <B> scans the rest of the text for " have?".

    Why this is the same: a match starting at i exists iff there is a " does " at some k >= i + 10 (B is
    not empty) and a " have?" at some h >= k + 7 (A is not empty); the lazy groups take the first such k,
    then the first such h. If there is none for the first "How many " left, there is none for any later
    one either (its k and h could only lie further right), so the scan stops."""
    out = []
    pos = 0
    while True:
        i = text.find("How many ", pos)
        if i < 0:
            break
        k = text.find(" does ", i + 10)
        if k < 0:
            break
        h = text.find(" have?", k + 7)
        if h < 0:
            break
        out.append((i, h + 6, text[i + 9 : k], text[k + 6 : h]))
        pos = h + 6
    return out


_SENT_SPLIT_RE = re.compile(r"(?:^|\.\s+)The number of ")
_INT_RE = re.compile(r"^\d{1,9}$")
_MORE_RE = re.compile(r"^(\d{1,9}) more than (.+)$")
_TIMES_RE = re.compile(r"^(\d{1,9}) times as much as (.+)$")
# on normalised text (single spaces): the same as r"(?:,\s+and\s+|,\s+|\s+and\s+)(?=each )", which is
# quadratic in a run of spaces
_LIST_SEP_RE = re.compile(r"(?:, and |, | and )(?=each )")


def _parse_refs(s: str, where: str) -> list[str]:
    s = _norm(s)
    if not s.startswith("each "):
        raise ProblemParseError(f"{where}: expected 'each <A>'s <B>', got {s[:60]!r}")
    parts = _LIST_SEP_RE.split(s)
    out = []
    for part in parts:
        if not part.startswith("each ") or len(part) <= 5:
            raise ProblemParseError(f"{where}: cannot read parameter {part[:60]!r}")
        out.append(_norm(part[5:]))
    return out


def _parse_rhs(rhs: str, where: str) -> tuple[str | None, int | None, str | None, list[str]]:
    rhs = rhs.strip()
    if _INT_RE.match(rhs):
        return "const", int(rhs), None, []
    rng_op: str | None = None
    rng: int | None = None
    m = _MORE_RE.match(rhs) or _TIMES_RE.match(rhs)
    if m:
        rng_op = "more" if m.re is _MORE_RE else "times"
        rng = int(m.group(1))
        rhs = m.group(2).strip()
    if rhs.startswith("the sum of "):
        refs = _parse_refs(rhs[len("the sum of ") :], where)
        if len(refs) < 2:
            raise ProblemParseError(f"{where}: a sum needs at least two parameters")
        return rng_op, rng, "sum", refs
    if rhs.startswith("the difference of "):
        refs = _parse_refs(rhs[len("the difference of ") :], where)
        if len(refs) != 2:
            raise ProblemParseError(f"{where}: a difference needs exactly two parameters")
        return rng_op, rng, "diff", refs
    refs = _parse_refs(rhs, where)
    if len(refs) != 1:
        raise ProblemParseError(f"{where}: several parameters without 'the sum of'")
    return rng_op, rng, "ref", refs


def parse_problem(problem_text: str) -> ParsedProblem:
    """Parse an iGSM problem (sentences + question, pq or qp). Raises ProblemParseError."""
    if not isinstance(problem_text, str):
        raise ProblemParseError(f"problem is not text ({type(problem_text).__name__})", "problem not text")
    if len(problem_text) > MAX_PROBLEM_CHARS:
        raise ProblemParseError(too_long("problem", len(problem_text), MAX_PROBLEM_CHARS), "problem too long")
    text = _norm(problem_text)
    qs = _find_questions(text)
    if len(qs) != 1:
        raise ProblemParseError("expected exactly one question 'How many <B> does <A> have?'" if not qs
                                else "more than one question")
    q_start, q_end, q_b, q_a = qs[0]
    before, after = text[:q_start].strip(), text[q_end:].strip()
    if before and after:
        raise ProblemParseError("the question is neither before nor after the problem")
    order = "qp" if after or not before else "pq"
    body = before or after
    chunks = _SENT_SPLIT_RE.split(body)
    if chunks and chunks[0].strip():
        raise ProblemParseError(f"unexpected text {chunks[0][:60]!r}")
    chunks = chunks[1:]
    if not chunks:
        raise ProblemParseError("no problem sentences")
    if chunks[-1].endswith("."):
        chunks[-1] = chunks[-1][:-1]
    else:
        raise ProblemParseError("the last problem sentence does not end with '.'")

    raw: list[tuple[str, str, str]] = []  # (lhs name, rhs text, sentence)
    for k, ch in enumerate(chunks, 1):
        sent = "The number of " + ch
        if ch.startswith("each "):
            ch = ch[5:]
        i = ch.find(" equals ")
        if i < 0:
            raise ProblemParseError(f"problem sentence {k}: no 'equals'")
        raw.append((_norm(ch[:i]), ch[i + 8 :], sent))

    # Split "A's B" names of instance parameters. With one "'s " there is no choice; otherwise prefer the
    # reading whose parts are known item names or occur as parts of other names in the text.
    parsed_rhs = [_parse_rhs(rhs, f"problem sentence {k}") for k, (_, rhs, _) in enumerate(raw, 1)]
    qb, qa = _norm(q_b), _norm(q_a)
    all_names = [lhs for lhs, _, _ in raw] + [n for r in parsed_rhs for n in r[3]]
    occurs: dict[str, set[str]] = {}  # part -> the full names it is a part of
    for n in all_names:
        for a, b in _splits(n):
            occurs.setdefault(a, set()).add(n)
            occurs.setdefault(b, set()).add(n)
    known: set[str] = set(_item_category()) | {qa, qb}
    for lhs, _, _ in raw:
        sp = _splits(lhs)
        if len(sp) == 1:
            known.update(sp[0])

    def score(part: str, whole: str) -> int:
        # the text's own evidence (how many other names of this problem the part is a part of) outweighs
        # our name lists, which may hold a foreign name's fragment ("Wholesale Club" in "BJ's Wholesale Club")
        # (len(occurs[part] - {whole}) without copying the set: linear, not quadratic, in the sentences)
        names = occurs.get(part, ())
        return (part in known) + 2 * (len(names) - (whole in names))

    rules_raw: list[tuple[Param, str, str]] = []
    for k, (lhs, rhs, sent) in enumerate(raw, 1):
        sp = _splits(lhs)
        if not sp:
            raise ProblemParseError(f"problem sentence {k}: cannot read parameter {lhs[:60]!r}")
        best = max(range(len(sp)), key=lambda j: (score(sp[j][0], lhs) + score(sp[j][1], lhs), j))
        rules_raw.append((sp[best], rhs, sent))

    items: set[str] = set()
    children: dict[str, list[str]] = {}
    has_parent: set[str] = set()
    seen: set[Param] = set()
    for p, _, _ in rules_raw:
        if p in seen:
            raise ProblemParseError(f"parameter {param_name(p)!r} stated twice")
        seen.add(p)
        a, b = p
        if a == b:
            raise ProblemParseError(f"parameter {param_name(p)!r} is a self-loop")
        items.update(p)
        children.setdefault(a, []).append(b)
        has_parent.add(b)

    # Layers: depth from the roots; edges must join adjacent layers.
    depth: dict[str, int] = {}
    frontier = sorted(i for i in items if i not in has_parent)
    for r in frontier:
        depth[r] = 0
    while frontier:
        nxt = []
        for a in frontier:
            for c in children.get(a, []):
                if c not in depth:
                    depth[c] = depth[a] + 1
                    nxt.append(c)
        frontier = nxt
    if len(depth) != len(items):
        raise ProblemParseError("the structure graph has a cycle")
    for a, kids in children.items():
        for c in kids:
            if depth[c] != depth[a] + 1:
                raise ProblemParseError(f"edge {a!r} -> {c!r} skips a layer")
    d = max(depth.values()) + 1
    if d > 4:
        raise ProblemParseError(f"{d} layers (at most 4)")
    layers = [sorted(i for i in items if depth[i] == k) for k in range(d)]

    instance = {p for p, _, _ in rules_raw}
    abstract_refs: set[Param] = set()

    def resolve_ref(name: str, where: str) -> Param:
        sp = _splits(name)
        for p in reversed(sp):
            if p in instance:
                return p
        for a, b in reversed(sp):
            if a in items and b not in items:
                if b not in CATEGORY_POS:
                    raise ProblemParseError(f"{where}: unknown parameter {name!r} ({b!r} is no item or category)")
                abstract_refs.add((a, b))
                return (a, b)
        for a, b in reversed(sp):
            if b in CATEGORY_POS and b not in items and a not in items:
                # An item named only as the owner of an abstract parameter has no children (else some
                # instance parameter would name it) and no parent (every item below the top layer has one):
                # a childless top-layer item, whose abstract parameters are 0 with no parents.
                items.add(a)
                depth[a] = 0
                layers[0].append(a)
                abstract_refs.add((a, b))
                return (a, b)
        raise ProblemParseError(f"{where}: unknown parameter {name!r}")

    rules: dict[Param, Rule] = {}
    sentences = []
    for k, ((p, rhs, sent), parsed) in enumerate(zip(rules_raw, parsed_rhs), 1):
        where = f"problem sentence {k}"
        rng_op, rng, combine, ref_names = parsed
        if rng is not None and rng > MAX_NUMBER:
            raise ProblemParseError(f"{where}: constant {rng} is out of range 0..{MAX_NUMBER}")
        refs = tuple(resolve_ref(n, where) for n in ref_names)
        if p in refs:
            raise ProblemParseError(f"{where}: {param_name(p)!r} depends on itself")
        rules[p] = Rule(rng_op, rng, combine, refs, rhs)
        sentences.append(sent)

    query = (qa, qb)
    if query not in rules:
        if qb not in items and qb in CATEGORY_POS:
            query = resolve_ref(param_name(query), "the question")
        else:
            raise ProblemParseError(f"the question asks for unknown parameter {param_name(query)!r}")
    for lay in layers:
        lay.sort()

    pp = ParsedProblem(
        text=problem_text,
        order=order,
        sentences=sentences,
        rules=rules,
        items=items,
        children=children,
        depth=depth,
        layers=layers,
        query=query,
        categories={k for _, k in abstract_refs},
        abstract_refs=abstract_refs,
        candidates=[],
    )
    cands = [(c, o) for c in range(len(CHAINS)) for o in range(0, 4 - d + 1)]
    cands = [c for c in cands if pp.consistent(c, abstract_refs)]
    if not cands:
        raise ProblemParseError(
            f"category names {sorted(pp.categories)} fit no window of one categorization chain")
    # Pin the window with the names module when it knows the items (ignored if it contradicts the text).
    ic = _item_category()
    pins = set()
    for it in items:
        pos = ic.get(it)
        if isinstance(pos, tuple) and len(pos) == 2:
            pins.add((pos[0], pos[1] - depth[it]))
    if len(pins) == 1:
        pinned = [c for c in cands if c in pins]
        if pinned:
            cands = pinned
    # A reading under which the dependencies are cyclic is no reading; none left is a problem error.
    ok, first_err = [], None
    for c in cands:
        try:
            pp._evals[c] = pp._evaluate(c)
            ok.append(c)
        except ProblemParseError as e:
            first_err = first_err or e
    if not ok:
        raise first_err or ProblemParseError("no reading of the category names")
    pp.candidates = ok
    return pp


# --------------------------------------------------------------------------------------------- solution
@dataclass(frozen=True, slots=True)
class SolStep:
    """One ";"-separated step. kind: "const" (v = 17), "copy" (x = u = 0), "binop" (X = a + b = 1 + 2 = 3).

    operands: variable letters (str) or RNG constants (int); stated: the numbers written for them;
    result: the stated result (binop) or the constant (const); None for a copy."""

    target: str
    is_so: bool
    kind: str
    operands: tuple[str | int, ...]
    op: str | None
    stated: tuple[int, ...]
    result: int | None
    text: str


@dataclass(slots=True)
class SolSentence:
    index: int  # 1-based position among all sentences of the solution (retracted ones included)
    text: str
    name: str | None = None
    var: str | None = None
    steps: list[SolStep] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None  # the cause of `error`, without its specifics ("unreadable step", ...)


@dataclass(slots=True)
class ParsedSolution:
    sentences: list[SolSentence]  # kept (non-retracted) Define sentences
    n_back: int
    n_segments: int
    answer: int | None = None
    answer_text: str | None = None
    answer_index: int | None = None
    answer_error: str | None = None
    answer_error_kind: str | None = None
    #: the whole solution was not parsed (too long, not text); sentences is then empty
    error: str | None = None
    error_kind: str | None = None


_SOL_SPLIT_RE = re.compile(r"\.\s+(?=(?:Define|Answer)\b)")
_BACK_RE = re.compile(r"\bBACK\b")
# r"^Define\s+(.+?)\s+as\s+([A-Za-z])\s*;(.*)$" made linear: that name group may end inside a run of
# spaces, and each such end rescans the run (quadratic in it); here the name ends on a non-space and every
# run of spaces is taken whole. The same matches, except that a blank name no longer matches at all.
_DEFINE_RE = re.compile(r"^Define\s++(.*?\S)\s++as\s++([A-Za-z])\s*+;(.*)$", re.S)
_VAR_RE = re.compile(r"^[A-Za-z]$")
_NUM_RE = re.compile(r"^\d{1,9}$")
_ANSWER_HEAD_RE = re.compile(r"Answer\s*:\s*")
_OPS = "+-*"


def _short(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


class _StepError(ValueError):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _last_space(s: str) -> int:
    for i in range(len(s) - 1, -1, -1):
        if s[i].isspace():
            return i
    return -1


def _bin_split(s: str) -> tuple[str, str, str] | None:
    """`re.match(r"^(\\S+?)\\s*([+\\-*])\\s*(\\S+)$", s).groups()` (None for no match) for `s` without a trailing
    newline, in linear time: that pattern takes quadratic time on "+-" * N + " x" (each lazy choice of the
    left operand rescans the right one)."""
    n = len(s)
    last_space = _last_space(s)
    for i in range(1, n):
        if s[i - 1].isspace():  # the left operand has no spaces
            return None
        j = i
        while j < n and s[j].isspace():
            j += 1
        if j < n and s[j] in _OPS:
            k = j + 1
            while k < n and s[k].isspace():
                k += 1
            if k < n and k > last_space:  # the right operand: one or more non-spaces to the end
                return s[:i], s[j], s[k:]
    return None


def _num(tok: str, what: str) -> int:
    if not _NUM_RE.match(tok):
        raise _StepError("not a number", f"expected a number for {what}, got {_short(tok, 20)!r}")
    v = int(tok)
    if v > MAX_NUMBER:
        raise _StepError("number out of range", f"number {v} is out of range 0..{MAX_NUMBER}")
    return v


def _operand(tok: str) -> str | int:
    if _VAR_RE.match(tok):
        return tok
    return _num(tok, "an operand")


def _parse_step(text: str, is_last: bool) -> SolStep:
    parts = [p.strip() for p in text.split("=")]
    lhs = parts[0]
    is_so = lhs.startswith("so ")
    if is_so:
        lhs = lhs[3:].strip()
    if is_last and not is_so:
        raise _StepError("misplaced 'so'", f"the last step must start with 'so': {_short(text)!r}")
    if not is_last and is_so:
        raise _StepError("misplaced 'so'", f"only the last step may start with 'so': {_short(text)!r}")
    if not _VAR_RE.match(lhs):
        raise _StepError("not a variable", f"{_short(lhs, 20)!r} is not a one-letter variable")
    if len(parts) == 2:
        if _VAR_RE.match(parts[1]):
            raise _StepError("copy without its value",
                             f"copy '{lhs} = {parts[1]}' does not state the value of {parts[1]!r}")
        return SolStep(lhs, is_so, "const", (), None, (), _num(parts[1], lhs), text)
    if len(parts) == 3:
        if not _VAR_RE.match(parts[1]):
            raise _StepError("unreadable step", f"cannot read step {_short(text)!r}")
        return SolStep(lhs, is_so, "copy", (parts[1],), None, (_num(parts[2], parts[1]),), None, text)
    if len(parts) == 4:
        mn, mv = _bin_split(parts[1]), _bin_split(parts[2])
        if not mn or not mv:
            raise _StepError("unreadable step", f"expected '<a> op <b> = <n> op <m> = <r>' in {_short(text)!r}")
        if mn[1] != mv[1]:
            raise _StepError("operator mismatch", f"operator {mn[1]!r} written as {mv[1]!r} in {_short(text)!r}")
        ops = (_operand(mn[0]), _operand(mn[2]))
        stated = (_num(mv[0], str(mn[0])), _num(mv[2], str(mn[2])))
        return SolStep(lhs, is_so, "binop", ops, mn[1], stated, _num(parts[3], "the result"), text)
    raise _StepError("unreadable step", f"cannot read step {_short(text)!r}")


def _parse_sentence(index: int, text: str) -> SolSentence:
    s = SolSentence(index, text)

    def err(kind: str, msg: str) -> SolSentence:
        s.error, s.error_kind = msg, kind
        return s

    m = _DEFINE_RE.match(text)
    if not m:
        return err("unreadable sentence", f"cannot parse {_short(text)!r} (expected 'Define <parameter> as <v>; ...')")
    s.name, s.var = _norm(m.group(1)), m.group(2)
    raw = [t.strip() for t in m.group(3).split(";")]
    if not raw or any(not t for t in raw):
        return err("empty step", "empty step")
    try:
        s.steps = [_parse_step(t, k == len(raw) - 1) for k, t in enumerate(raw)]
    except _StepError as e:
        return err(e.kind, str(e))
    for st in s.steps[:-1]:
        if st.target == s.var:
            return err("wrong variable", f"variable {s.var!r} is defined before the final step")
    if s.steps[-1].target != s.var:
        return err("wrong variable",
                   f"the final step defines {s.steps[-1].target!r}, not the parameter's variable {s.var!r}")
    return s


def _answer_value(rest: str) -> str:
    """The group of r"(.*?)\\s*\\.?$" (re.S) matched on `rest`, in linear time (that pattern rescans every run
    of spaces from each of its characters): `rest` less the longest tail of spaces, an optional ".", and an
    optional final newline."""
    cands = [rest.rstrip()]
    if rest.endswith("."):
        cands.append(rest[:-1].rstrip())
    if rest.endswith(".\n"):
        cands.append(rest[:-2].rstrip())
    return min(cands, key=len)


def parse_solution(solution_text: str) -> ParsedSolution:
    """Split a solution into sentences, drop retractions, parse each step. Never raises."""
    if isinstance(solution_text, str) and len(solution_text) > MAX_SOLUTION_CHARS:
        return ParsedSolution([], 0, 0, error=too_long("solution", len(solution_text), MAX_SOLUTION_CHARS),
                              error_kind="solution too long")
    text = solution_text.strip() if isinstance(solution_text, str) else ""
    pieces = [p.strip() for p in _SOL_SPLIT_RE.split(text)] if text else []
    if pieces and pieces[-1].endswith("."):
        pieces[-1] = pieces[-1][:-1].rstrip()
    sol = ParsedSolution([], 0, len(pieces))

    def answer_error(kind: str, msg: str) -> None:
        sol.answer_error, sol.answer_error_kind = msg, kind

    for k, piece in enumerate(pieces, 1):
        if _BACK_RE.search(piece):
            sol.n_back += 1
            continue
        m = _ANSWER_HEAD_RE.match(piece)
        if m:
            value = _answer_value(piece[m.end() :])
            if sol.answer_error is not None:
                pass
            elif sol.answer_index is not None:
                answer_error("second answer", f"sentence {k}: a second answer")
            elif k != len(pieces):
                answer_error("answer not at the end", f"sentence {k}: the answer is not at the end")
            sol.answer_index = sol.answer_index or k
            sol.answer_text = value
            if sol.answer_error is None:
                sol.answer = int(value) if _NUM_RE.match(value) else None
                if sol.answer is None:
                    answer_error("answer not a number", f"sentence {k}: answer {_short(value, 20)!r} is not a number")
            continue
        sol.sentences.append(_parse_sentence(k, piece))
    return sol
