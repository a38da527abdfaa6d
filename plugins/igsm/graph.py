"""iGSM graphs: structure graph, dependency graph with exact op, values mod 23 (Part 2.1 App. D).

This reimplements the *randomness law* of the official generator (facebookresearch/iGSM: `IdGen` "light"
knobs, `Graph.init / choose_param / reasonable_sort / design / fill_all / design_unused`), step by step, in
our own pure-Python representation (no networkx). `plugins/igsm/fidelity.py` compares the two side by side.

Parameters are small ints. Instance parameters (structure edges "A's B") come first, 0..n_inst-1; abstract
parameters (a, K) follow: one for every item a and every lower layer K of the window, childless items
included (value 0, no parents, "so x = 0"): K = layer(a)+1 sums the instance parameters a→c over the children
c; K > layer(a)+1 sums inst(a→c) × abstract(c, K).

Per problem, at a fixed op s:

0. Knobs (redrawn after a rejection): n = max of two U{1..s}, m ~ U{n..s}; d, and two draws whose min/max
   are w0/w1, from {2,3,4} by softmax of −(rel − c)², c ∈ {0.2, 0.5, 0.8}, rel = (s−1)/(ip_max−1);
   p ~ U(0,1); e = min of two U{(d−1)·w0 .. ip_max}, clipped to [(d−1)·w0, (d−1)·w1²].
   Up to TRY_NUM structures are built with the same knobs until step 3 succeeds; a construction whose op
   cannot be made exactly s (step 4) redraws the knobs, as the official rejection loop does.
1. Structure: every layer starts at w0 items; a layer (< w1 items) is grown while the layers hold fewer
   than e item pairs (forced), then, while fewer than e items sit below the top layer, one more with
   probability p per step. Names: one categorization, a window of d layers, one sub-category per layer.
   Every lower item gets one random parent, then random extra pairs up to e edges.
2. nece1 + nece2 (`choose_param`): rounds over the spans 1..d−1 of abstract parameters: each round draws one
   unchosen abstract parameter per span (childless ones included) and keeps the widest affordable one
   before the first unaffordable span (cost = the op of it and its structural closure); the narrowest
   unaffordable ends the rounds, and the unspent budget plus m − n goes to random unused instance
   parameters. The chosen set's op is m unless the structure runs out of edges.
3. nece3 (`reasonable_sort`): place the chosen parameters backwards from a uniformly drawn sink (the
   query); the next one is uniform among those that feed a placed one and have no unplaced dependent. A
   placed instance parameter adopts one parent with probability p0 ~ U(0,1) from all unplaced parameters,
   and always (from the stranded ones) when nothing else would be placeable; weights
   exp(|g|·(1[abstract] + 1[feeds nothing placed yet])), g ~ N(0,1). Stuck: a new structure (same knobs).
4. nece (`design`): extra operations are dealt one at a time to a uniformly drawn instance position with
   room (position i holds at most min(i+1, 4) parents, RNG counted) until op = s exactly. An instance
   parameter with no extra has 1 or 2 parents (prob. 1/2 each), its adopted one included; with extra x it
   has x+2. The adopted parent is written first; RNG is a parent with prob. 1/2 (and may also be drawn
   with the other earlier parameters); a position whose room equals its parent count takes all of them.
5. Distractors (`fill_all`, `design_unused`): the abstract parameters whose structure is complete join the
   chosen pool (the official fill rules, quirks included); every remaining structure edge, in random
   order, gets 1 parent (+1 while a coin says so, up to 4), RNG with prob. 1/2, the parents drawn from the
   earlier "independent" distractors (prob. 1/2) or from everything chosen so far.
"""

from __future__ import annotations

import math
import random

MOD = 23
TRY_NUM = 1000  # structures per knob draw (the official try_num)

# rng_mode: how the RNG parent enters an instance parameter
R_NONE, R_CONST, R_MORE, R_TIMES = 0, 1, 2, 3
# comb: how the non-RNG parents combine
C_NONE, C_ONE, C_SUM, C_DIFF, C_ABS1, C_ABS2 = 0, 1, 2, 3, 4, 5

_SOFT_C = (0.2, 0.5, 0.8)
_RNG = -1  # the RNG vertex in parent pools


class GenerationError(RuntimeError):
    """The generator could not build a graph for the requested op (settings too tight)."""


class Graph:
    """One iGSM instance: structure graph, dependency graph, values, solution order."""

    __slots__ = (
        "chain", "offset", "d", "cats", "items", "layer", "n_inst", "n_param", "owner", "target",
        "parents", "comb", "rng_mode", "const", "value", "order", "query", "op", "distractors",
        "in_graph", "op_of",
    )

    def __init__(self) -> None:
        self.chain = 0  # categorization index
        self.offset = 0  # window start in the categorization
        self.d = 0
        self.cats: list[str] = []  # category name of each window layer
        self.items: list[str] = []  # item names, layer by layer
        self.layer: list[int] = []  # window layer of each item
        self.n_inst = 0
        self.n_param = 0
        self.owner: list[int] = []  # item owning each parameter
        self.target: list[int] = []  # instance: child item; abstract: layer K
        self.parents: list[list[int]] = []  # non-RNG parents in text order (abstract: structural, per child)
        self.comb: list[int] = []
        self.rng_mode: list[int] = []
        self.const: list[int] = []
        self.value: list[int] = []
        self.order: list[int] = []  # necessary parameters in solution order; the query is last
        self.query = -1
        self.op = 0
        self.distractors: list[int] = []  # other parameters in the dependency graph, definition order
        self.in_graph: list[bool] = []
        self.op_of: list[int] = []

    def is_abstract(self, x: int) -> bool:
        return x >= self.n_inst

    def name(self, x: int) -> str:
        """Solution-form name: "Film Studio's School Daypack" / "Central High's Backpack"."""
        o = self.items[self.owner[x]]
        t = self.cats[self.target[x]] if x >= self.n_inst else self.items[self.target[x]]
        return f"{o}'s {t}"

    def ancestors(self, x: int) -> set[int]:
        seen = {x}
        stack = [x]
        par = self.parents
        while stack:
            for p in par[stack.pop()]:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen


def param_op(g: Graph, x: int) -> int:
    """op(x) = max(1, in-degree − 1), RNG counted in the in-degree."""
    t = len(g.parents[x]) + (1 if g.rng_mode[x] != R_NONE else 0)
    return t - 1 if t > 2 else 1


def _soft(rng: random.Random, rel: float) -> int:
    w0, w1, w2 = (math.exp(-((rel - c) ** 2)) for c in _SOFT_C)
    r = rng.random() * (w0 + w1 + w2)
    return 2 if r < w0 else (3 if r < w0 + w1 else 4)


def train_op(rng: random.Random, max_op: int) -> int:
    """The paper's training op: min of two uniform draws from 1..max_op."""
    a = rng.randint(1, max_op)
    b = rng.randint(1, max_op)
    return a if a < b else b


# ------------------------------------------------------------------------------------------- knobs
class Knobs:
    """The per-attempt hyper-parameters of the official IdGen "light" style at a fixed op s."""

    __slots__ = ("s", "n", "m", "d", "w0", "w1", "p", "e")

    def __init__(self, s: int, n: int, m: int, d: int, w0: int, w1: int, p: float, e: int) -> None:
        self.s, self.n, self.m, self.d, self.w0, self.w1, self.p, self.e = s, n, m, d, w0, w1, p, e


def draw_knobs(rng: random.Random, s: int, ip_max: int) -> Knobs:
    n = max(rng.randint(1, s), rng.randint(1, s))
    m = rng.randint(n, s)
    rel = (s - 1) / (ip_max - 1) if ip_max > 1 else 1.0
    d = _soft(rng, rel)
    a = _soft(rng, rel)
    b = _soft(rng, rel)
    w0, w1 = (a, b) if a <= b else (b, a)
    p = rng.random()
    # (deviation, ip_max < 12 only: the official draw needs (d−1)·w0 ≤ ip_max, else it raises)
    while (d - 1) * w0 > ip_max:
        if w0 > 2:
            w0 -= 1
        elif d > 2:
            d -= 1
        else:
            break
    lo = (d - 1) * w0
    e = min(rng.randint(lo, ip_max), rng.randint(lo, ip_max)) if lo <= ip_max else lo
    if e > (d - 1) * w1 * w1:
        e = (d - 1) * w1 * w1
    elif e < lo:
        e = lo
    return Knobs(s, n, m, d, w0, w1, p, e)


# --------------------------------------------------------------------------------------- structure
class _Build:
    """Working state of one construction (structure lookups, chosen set, adopted parents)."""

    __slots__ = ("g", "starts", "children", "edge_of", "abs_of", "span_ids", "aop", "taken", "chosen",
                 "remain", "adopted", "edone")

    def __init__(self) -> None:
        self.g = Graph()
        self.starts: list[int] = []  # first item of each layer (+ sentinel)
        self.children: list[list[int]] = []  # child items in index order
        self.edge_of: dict[tuple[int, int], int] = {}
        self.abs_of: dict[tuple[int, int], int] = {}  # (item, K) -> abstract id
        self.span_ids: list[list[int]] = []  # abstract ids by span K − layer (index 1..d−1)
        self.aop: list[int] = []  # op of each parameter once chosen (instance: 1)
        self.taken: list[bool] = []  # chosen (record['chosen']) flags
        self.chosen: list[int] = []  # the chosen pool, in the official append order
        self.remain: list[int] = []  # structure edges not chosen yet
        self.adopted: dict[int, int] = {}
        self.edone: list[bool] = []  # instance parameters defined so far (the official 'chosen' edges)

    def take(self, x: int) -> None:
        self.taken[x] = True
        self.chosen.append(x)


def _structure(rng: random.Random, k: Knobs, names) -> _Build:
    """Layer sizes, names, structure edges, parameters (no dependency graph yet)."""
    d, w0, w1, e, p = k.d, k.w0, k.w1, k.e, k.p
    sizes = [w0] * d

    def add_vertex() -> bool:
        grow = [i for i in range(d) if sizes[i] < w1]
        if not grow:
            return False
        sizes[grow[rng.randrange(len(grow))]] += 1
        return True

    while True:
        max_v = sum(sizes[i] * sizes[i + 1] for i in range(d - 1))
        if max_v < e:  # forced growth: room for e edges
            if not add_vertex():  # pragma: no cover - e is clipped to (d−1)·w1²
                e = max_v
                break
            continue
        if sum(sizes[1:]) == e:  # the tree edges alone are e
            break
        if rng.random() < p:
            if not add_vertex():
                break
        else:
            break

    chains, subcats = names
    b = _Build()
    g = b.g
    g.chain = ci = rng.randrange(len(chains))
    g.offset = off = rng.randrange(4 - d + 1)
    g.d = d
    g.cats = list(chains[ci][off : off + d])
    items: list[str] = []
    layer: list[int] = []
    starts = b.starts
    for j in range(d):
        subs = subcats[ci][off + j]
        pool = subs[rng.randrange(len(subs))]
        starts.append(len(items))
        items.extend(rng.sample(pool, sizes[j]))
        layer.extend([j] * sizes[j])
    starts.append(len(items))
    g.items = items
    g.layer = layer
    n_items = len(items)

    # edges: one random parent for every lower item, then random extra pairs up to e
    has = [[False] * n_items for _ in range(n_items)]
    n_e = 0
    for j in range(1, d):
        a0, a1 = starts[j - 1], starts[j]
        for c in range(starts[j], starts[j + 1]):
            has[a0 + rng.randrange(a1 - a0)][c] = True
            n_e += 1
    if e > n_e:
        free = [
            (x, c)
            for j in range(1, d)
            for x in range(starts[j - 1], starts[j])
            for c in range(starts[j], starts[j + 1])
            if not has[x][c]
        ]
        for x, c in rng.sample(free, e - n_e):
            has[x][c] = True
    owner: list[int] = []
    target: list[int] = []
    children = b.children = [[] for _ in range(n_items)]
    edge_of = b.edge_of
    for x in range(starts[d - 1] if d > 1 else 0):
        row = has[x]
        for c in range(starts[layer[x] + 1], starts[layer[x] + 2]):
            if row[c]:
                edge_of[(x, c)] = len(owner)
                owner.append(x)
                target.append(c)
                children[x].append(c)
    n_inst = len(owner)
    parents: list[list[int]] = [[] for _ in range(n_inst)]
    comb = [C_NONE] * n_inst
    aop = [1] * n_inst
    # abstract parameters (a, K) for every item above the last layer, ids in span order (deps first)
    abs_of = b.abs_of
    b.span_ids = [[] for _ in range(d)]
    for span in range(1, d):
        for x in range(n_items):
            K = layer[x] + span
            if K < d:
                abs_of[(x, K)] = len(owner)
                b.span_ids[span].append(len(owner))
                owner.append(x)
                target.append(K)
                kids = children[x]
                if span == 1:
                    parents.append([edge_of[(x, c)] for c in kids])
                    comb.append(C_ABS1)
                    aop.append(len(kids) - 1 if len(kids) > 1 else 1)
                else:
                    ps = []
                    for c in kids:
                        ps.append(edge_of[(x, c)])
                        ps.append(abs_of[(c, K)])
                    parents.append(ps)
                    comb.append(C_ABS2)
                    aop.append(max(2 * len(kids) - 1, 1))
    g.n_inst = n_inst
    g.n_param = n_param = len(owner)
    g.owner = owner
    g.target = target
    g.parents = parents
    g.comb = comb
    b.aop = aop
    b.taken = [False] * n_param
    b.edone = [False] * n_inst
    return b


# ------------------------------------------------------------------------------ dependency graph
def _closure(b: _Build, x: int) -> tuple[list[int], int]:
    """The official try_inter: abstract x with the unchosen part of its structural closure, in the
    official append order, and its op cost (instance parameters 1 each)."""
    g = b.g
    taken, children, edge_of, abs_of, layer = b.taken, b.children, b.edge_of, b.abs_of, g.layer
    add: list[int] = []
    seen: set[int] = set()

    def rec(a: int) -> int:
        add.append(a)
        seen.add(a)
        it, K = g.owner[a], g.target[a]
        kids = children[it]
        count = 0
        if K == layer[it] + 1:
            for c in kids:
                z = edge_of[(it, c)]
                if not taken[z]:
                    count += 1
                    add.append(z)
            return count + (len(kids) - 1 if len(kids) > 1 else 1)
        for c in kids:
            sub = abs_of[(c, K)]
            if not taken[sub] and sub not in seen:
                count += rec(sub)
            z = edge_of[(it, c)]
            if not taken[z]:
                count += 1
                add.append(z)
        return count + max(2 * len(kids) - 1, 1)

    cost = rec(x)
    return add, cost


def _choose(rng: random.Random, b: _Build, n: int, m: int) -> int:
    """nece1 + nece2 (the official choose_param); returns the op of the chosen set."""
    g = b.g
    d, layer, children = g.d, g.layer, b.children
    total = g.n_inst
    for x in range(b.starts[d - 1]):
        c = len(children[x])
        total += max(2 * c - 1, 0) * (d - layer[x] - 2) + (c - 1 if c > 1 else c)
    if n > total:
        n = total
    n_fix = m - n
    taken = b.taken
    remain = b.remain = list(range(g.n_inst))
    spent = 0
    budget = n
    lowest, highest = 1, d - 1
    stopped = False

    def commit(add: list[int]) -> None:
        for z in add:
            b.take(z)
            if z < g.n_inst:
                remain.remove(z)

    while budget > 0:
        prev: tuple[list[int], int] | None = None
        found = False
        for diff in range(1, d):
            pool = [x for x in b.span_ids[diff] if not taken[x]]
            if not pool:
                if diff == lowest:
                    lowest += 1
                elif diff == highest:
                    highest -= 1
                continue
            found = True
            add, cost = _closure(b, pool[rng.randrange(len(pool))])
            if diff == lowest and cost > budget:
                stopped = True
                break
            if cost <= budget:
                if diff < highest:
                    prev = (add, cost)
                    continue
                commit(add)
                budget -= cost
                spent += cost
                break
            if prev is None:  # pragma: no cover - the first drawn span of a round is the lowest
                stopped = True
                break
            commit(prev[0])
            budget -= prev[1]
            spent += prev[1]
            break
        if stopped or not found:
            break
    k = min((budget + n_fix) if stopped else n_fix, len(remain))
    if k > 0:
        for z in rng.sample(remain, k):
            b.take(z)
            remain.remove(z)
    return spent + max(k, 0)


def _sort(rng: random.Random, b: _Build) -> list[int] | None:
    """nece3 (the official reasonable_sort): the solution order of the chosen set, query last; None if
    stuck. Records the adopted parent of instance parameters in b.adopted."""
    g = b.g
    n_inst, parents = g.n_inst, g.parents
    N = list(b.chosen)
    if not N:  # pragma: no cover - m ≥ 1 always chooses something
        return None
    n_param = g.n_param
    outdeg = [0] * n_param
    for y in N:
        if y >= n_inst:
            for z in parents[y]:
                outdeg[z] += 1
    p0 = rng.random()
    gg = abs(rng.gauss(0.0, 1.0))
    wt = (1.0, math.exp(gg), math.exp(2 * gg))
    placed = [False] * n_param
    in_stack = [False] * n_param
    elig: list[int] = []  # unplaced, in the stack, no unplaced dependent
    stranded: set[int] = {y for y in N if outdeg[y] == 0}  # unplaced, no unplaced dependent, not in stack
    sinks = sorted(stranded)
    unplaced = len(N)
    order: list[int] = []
    adopted = b.adopted

    def push(z: int) -> None:
        in_stack[z] = True
        if outdeg[z] == 0 and z in stranded:
            stranded.discard(z)
            elig.append(z)

    y = sinks[rng.randrange(len(sinks))]
    stranded.discard(y)
    while True:
        placed[y] = True
        unplaced -= 1
        order.append(y)
        if y >= n_inst:
            for z in parents[y]:
                outdeg[z] -= 1
                if outdeg[z] == 0:
                    if in_stack[z]:
                        elig.append(z)
                    else:
                        stranded.add(z)
        in_stack[y] = False
        if y < n_inst:
            need = not elig
            if (rng.random() < p0 or need) and unplaced:
                if need:
                    pool = sorted(stranded)
                    ws = [wt[1 + (z >= n_inst)] for z in pool]
                else:
                    pool = [z for z in N if not placed[z]]
                    ws = [wt[(z >= n_inst) + (not in_stack[z])] for z in pool]
                z = pool[0] if len(pool) == 1 else rng.choices(pool, ws)[0]
                adopted[y] = z
                if not in_stack[z]:
                    push(z)
        else:
            for z in parents[y]:
                if not in_stack[z]:
                    push(z)
        if not unplaced:
            break
        if not elig:
            return None
        k = rng.randrange(len(elig))
        y = elig[k]
        elig[k] = elig[-1]
        elig.pop()
    order.reverse()
    return order


def _design(rng: random.Random, b: _Build, order: list[int], base: int, s: int, want: int) -> int | None:
    """nece (the official design): parents of the necessary instance parameters, aiming at op s (the
    official clipping: at most the order's room); returns the op, or None (nothing built) when it would
    not be `want` — the official generator then rejects and redraws the knobs."""
    g = b.g
    n_inst, parents = g.n_inst, g.parents
    L = len(order)
    caps = [0] * L
    for i, x in enumerate(order):
        if x < n_inst:
            caps[i] = max(min(i + 1, 4) - 2, 0)
    n_fix = max(s - base, 0)
    room = sum(caps)
    if n_fix > room:
        n_fix = room
    if base + n_fix != want:
        return None
    extra = [0] * L
    addable = [i for i in range(L) if caps[i] > 0]
    while n_fix > 0:
        k = rng.randrange(len(addable))
        i = addable[k]
        extra[i] += 1
        n_fix -= 1
        if extra[i] == caps[i]:
            addable.pop(k)
    g.rng_mode = [R_NONE] * g.n_param
    g.const = [0] * g.n_param
    adopted = b.adopted
    for i, x in enumerate(order):
        if x >= n_inst:
            continue
        a = adopted.get(x)
        ns = (1 if rng.random() < 0.5 else 2) if extra[i] == 0 else extra[i] + 2
        if ns > i + 1:
            ns = i + 1
        if ns > 4:
            ns = 4
        ps = [] if a is None else [a]
        if ns == i + 1:  # the pool (RNG + every earlier parameter) is taken whole
            ps.extend(z for z in order[:i] if z != a)
            use_rng = True
        else:
            pool = [_RNG]
            pool.extend(z for z in order[:i] if z != a)
            k = ns - len(ps)
            use_rng = False
            if rng.random() < 0.5 and k > 0:
                k -= 1
                use_rng = True
                pool.pop(0)
            for z in rng.sample(pool, k) if k > 0 else ():
                if z == _RNG:
                    use_rng = True
                else:
                    ps.append(z)
        parents[x] = ps
        _set_rule(rng, g, x, len(ps), use_rng)
        b.edone[x] = True
    return want


def _set_rule(rng: random.Random, g: Graph, x: int, k: int, use_rng: bool) -> None:
    if k == 0:
        g.comb[x] = C_NONE
        g.rng_mode[x] = R_CONST
        g.const[x] = rng.randrange(MOD)
        return
    if k == 1:
        g.comb[x] = C_ONE
    elif k == 2:
        g.comb[x] = C_SUM if rng.random() < 0.5 else C_DIFF
    else:
        g.comb[x] = C_SUM
    if use_rng:
        if rng.random() < 0.5:
            g.rng_mode[x] = R_MORE
            g.const[x] = rng.randrange(MOD)
        else:
            g.rng_mode[x] = R_TIMES
            g.const[x] = rng.randrange(1, MOD)


def _fill_all(b: _Build) -> None:
    """The official fill_all: abstract parameters computable from the necessary instance parameters join
    the chosen pool (childless items' included), with the official early stop per upper layer."""
    g = b.g
    d, starts, children, abs_of, edge_of, taken, edone = g.d, b.starts, b.children, b.abs_of, b.edge_of, \
        b.taken, b.edone
    for x in range(starts[d - 1]):
        if all(edone[edge_of[(x, c)]] for c in children[x]):
            a = abs_of[(x, g.layer[x] + 1)]
            if not taken[a]:
                b.take(a)
    for upper in range(d - 1):
        _fill_layer(b, upper, range(upper + 2, d))


def _fill_layer(b: _Build, upper: int, lowers: range) -> None:
    """One upper layer of the official fill loops: (y, lower) joins when y's own sum and all its children's
    (c, lower) are chosen; the first y whose children fall short stops this layer (the `stamp` flag is
    never reset)."""
    starts, children, abs_of, taken = b.starts, b.children, b.abs_of, b.taken
    stamp = False
    for lower in lowers:
        for y in range(starts[upper], starts[upper + 1]):
            if taken[abs_of[(y, upper + 1)]]:
                for c in children[y]:
                    if not taken[abs_of[(c, lower)]]:
                        stamp = True
                        break
                if stamp:
                    break
                a = abs_of[(y, lower)]
                if not taken[a]:
                    b.take(a)


def _fill_chosen(b: _Build, x: int) -> None:
    """The official fill_chosen after distractor edge x is defined."""
    g = b.g
    d, children, abs_of, edge_of, taken, edone = g.d, b.children, b.abs_of, b.edge_of, b.taken, b.edone
    edone[x] = True
    it = g.owner[x]
    L = g.layer[it]
    kids = children[it]
    if not all(edone[edge_of[(it, c)]] for c in kids):
        return
    a = abs_of[(it, L + 1)]
    if not taken[a]:
        b.take(a)
    for lower in range(L + 2, d):
        if any(not taken[abs_of[(c, lower)]] for c in kids):
            break
        a = abs_of[(it, lower)]
        if not taken[a]:
            b.take(a)
    for upper in range(L - 1, -1, -1):
        _fill_layer(b, upper, range(L + 1, d))


def _distractors(rng: random.Random, b: _Build) -> None:
    """Step 5 (the official design_unused) + values of every parameter."""
    g = b.g
    n_inst, parents = g.n_inst, g.parents
    in_graph = g.in_graph = [False] * g.n_param
    for x in g.order:
        in_graph[x] = True
    remain = b.remain
    independent: list[int] = []
    chosen = b.chosen
    deforder: list[int] = []
    while remain:
        x = remain.pop(rng.randrange(len(remain)))
        indep = rng.random() < 0.5
        pool = independent if indep else chosen
        ns = 1
        top = len(pool) + 1
        mx = top if top < 4 else 4
        while ns < mx:
            if rng.random() > 0.5:
                ns += 1
            else:
                break
        if ns == top:  # RNG and the whole pool
            ps = list(pool)
            use_rng = True
        else:
            use_rng = False
            if rng.random() < 0.5:
                use_rng = True
                ns -= 1
            ps = rng.sample(pool, ns) if ns else []
        parents[x] = ps
        _set_rule(rng, g, x, len(ps), use_rng)
        for z in ps:
            if z >= n_inst and not in_graph[z]:
                deforder.extend(_mark(g, z, in_graph))
        in_graph[x] = True
        deforder.append(x)
        b.take(x)
        _fill_chosen(b, x)
        if indep:
            independent.append(x)
    g.distractors = deforder
    g.value = _values(g)


def _mark(g: Graph, z: int, in_graph: list[bool]) -> list[int]:
    """Put an abstract parameter and its abstract ancestors into the dependency graph; returns the newly
    added ones, dependencies first."""
    stack = [z]
    in_graph[z] = True
    new = [z]
    n_inst = g.n_inst
    while stack:
        for q in g.parents[stack.pop()]:
            if q >= n_inst and not in_graph[q]:
                in_graph[q] = True
                new.append(q)
                stack.append(q)
    new.sort()  # abstract ids are in span order: sub-abstracts first
    return new


def _values(g: Graph) -> list[int]:
    """Every parameter's value (the dependency graph is a DAG; evaluated depth first)."""
    val = [0] * g.n_param
    done = [False] * g.n_param
    parents = g.parents
    for x0 in range(g.n_param):
        if done[x0]:
            continue
        stack = [x0]
        while stack:
            x = stack[-1]
            todo = [p for p in parents[x] if not done[p]]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            if not done[x]:
                val[x] = _eval(g, x, val)
                done[x] = True
    return val


def _eval(g: Graph, x: int, val: list[int]) -> int:
    ps = g.parents[x]
    c = g.comb[x]
    if c == C_ABS1:
        return sum(val[z] for z in ps) % MOD
    if c == C_ABS2:
        return sum(val[ps[j]] * val[ps[j + 1]] for j in range(0, len(ps), 2)) % MOD
    if c == C_ONE:
        v = val[ps[0]]
    elif c == C_SUM:
        v = sum(val[z] for z in ps)
    elif c == C_DIFF:
        v = val[ps[0]] - val[ps[1]]
    else:
        v = 0
    r = g.rng_mode[x]
    if r == R_CONST:
        v = g.const[x]
    elif r == R_MORE:
        v = g.const[x] + v
    elif r == R_TIMES:
        v = g.const[x] * v
    return v % MOD


def generate(rng: random.Random, s: int, ip_max: int, names, tries: int = 10_000,
             attempt_max_op: int | None = None) -> Graph:
    """One iGSM graph with op exactly s and at most ip_max instance parameters.

    Every attempt draws knobs, builds up to TRY_NUM structures until the backward placement succeeds,
    and is kept if its op is s (else the knobs are redrawn). attempt_max_op=None aims every attempt at s
    (the official IdGen with op given, as its dataset scripts use it); attempt_max_op=M draws each
    attempt's own target from min of two U{1..M} and keeps it only if its op comes out as s (the official
    README's IdGen(op=None), whose op_ is drawn once and whose attempts redraw s). tries bounds the
    attempts (the official loop is unbounded)."""
    for _ in range(tries if attempt_max_op is None else tries * 100):
        t = s if attempt_max_op is None else train_op(rng, attempt_max_op)
        k = draw_knobs(rng, t, ip_max)
        for _ in range(TRY_NUM):
            b = _structure(rng, k, names)
            base = _choose(rng, b, k.n, k.m)
            order = _sort(rng, b)
            if order is not None:
                break
        else:
            continue
        if _design(rng, b, order, base, t, s) is None:
            continue
        g = b.g
        g.order = order
        g.query = order[-1]
        g.op = s
        _fill_all(b)
        _distractors(rng, b)
        g.op_of = [param_op(g, x) for x in range(g.n_param)]
        return g
    raise GenerationError(
        f"could not build an iGSM graph with op={s} and ip_max={ip_max} in {tries} attempts "
        "(raise ip_max or lower the op)"
    )


def reask(rng: random.Random, g: Graph, max_letters: int = 52) -> bool:
    """§1.7 reask (official re_ask): a new query drawn uniformly over every parameter of the structure
    (the old query included); the necessary set is its ancestors in the whole graph, in a fresh random
    topological order. Queries needing more than max_letters letters are redrawn (the official code runs
    out of letters and writes "..."); False if none fits."""
    cands = list(range(g.n_param))
    rng.shuffle(cands)
    op_of = g.op_of
    for q in cands:
        anc = g.ancestors(q)
        op = sum(op_of[x] for x in anc)
        if op > max_letters:
            continue
        # random linear extension of the ancestor sub-DAG
        indeg = {x: 0 for x in anc}
        kids: dict[int, list[int]] = {x: [] for x in anc}
        for x in anc:
            for p in g.parents[x]:
                indeg[x] += 1
                kids[p].append(x)
        ready = sorted(x for x in anc if indeg[x] == 0)
        order: list[int] = []
        while ready:
            k = rng.randrange(len(ready))
            x = ready[k]
            ready[k] = ready[-1]
            ready.pop()
            order.append(x)
            for c in kids[x]:
                indeg[c] -= 1
                if indeg[c] == 0:
                    ready.append(c)
        # the query is a sink of its own ancestor set, so it comes last
        g.query = q
        g.order = order
        g.op = op
        return True
    return False
