"""iGSM graphs: structure graph, dependency graph with exact op, values mod 23 (Part 2.1 App. D).

Parameters are small ints. Instance parameters (structure edges "A's B") come first, 0..n_inst-1; abstract
parameters (a, K) follow: one for every item a and every lower layer K of the window (the spec's
definition, and the verifier's): K = layer(a)+1 sums the instance parameters a→c over all children c;
K > layer(a)+1 sums inst(a→c) × abstract(c, K) over all children c. An item without children has abstract
parameters with no parents and value 0 ("so x = 0").

The dependency graph is built backwards from the query so every solution step is necessary, and the
requested op is hit exactly, by construction (no rejection on op):

1. nece1: add random abstract parameters (the wider-spanning of two random picks) with their structural
   closure while op ≤ n (instance parameters counted at op 1).
2. nece2: add random unused instance parameters while op < m.
3. nece3: place parameters backwards from the query (a sink): the next one is drawn uniformly from those
   that already feed a placed one and have no unplaced dependent. A placed instance parameter adopts one
   new parent from the unplaced ones with probability p0 ~ U(0,1) (weights exp((1[abstract] + 1[feeds
   placed])·|g|), g ~ N(0,1)), and always when otherwise an unplaced parameter could be stranded.
4. nece: raise the in-degree of necessary instance parameters (extra parents from earlier parameters, RNG
   with probability 1/2 where there is room, at most 4 in total) so that Σ max(1, indeg−1) is exactly s.
   The few constructions with too little room (or a stuck step 3) are regenerated from scratch.
5. Every other structure edge becomes a distractor (1 parent, +1 with prob. 1/2 up to 4, RNG with prob.
   1/2; parents either from earlier "clean" distractors — depending on nothing necessary — or from any
   parameter already defined, abstract parameters computable by then included).
"""

from __future__ import annotations

import math
import random

MOD = 23

# rng_mode: how the RNG parent enters an instance parameter
R_NONE, R_CONST, R_MORE, R_TIMES = 0, 1, 2, 3
# comb: how the non-RNG parents combine
C_NONE, C_ONE, C_SUM, C_DIFF, C_ABS1, C_ABS2 = 0, 1, 2, 3, 4, 5

_SOFT_C = (0.2, 0.5, 0.8)


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
        self.parents: list[list[int]] = []  # non-RNG parents (abstract: structural, inst/abs per child)
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


# --------------------------------------------------------------------------------------- structure
def _structure(rng: random.Random, s: int, ip_max: int, names) -> Graph:
    """Knobs (IdGen "light" style) + structure graph + abstract parameters (no dependency graph yet)."""
    rel = (s - 1) / (ip_max - 1) if ip_max > 1 else 1.0
    d = _soft(rng, rel)
    a = _soft(rng, rel)
    b = _soft(rng, rel)
    w0, w1 = (a, b) if a <= b else (b, a)
    while (d - 1) * w0 > ip_max:  # keep the minimum edge count (every lower item has a parent) ≤ ip_max
        if w0 > 2:
            w0 -= 1
        elif d > 2:
            d -= 1
        else:
            break
    lo = (d - 1) * w0
    e = min(rng.randint(lo, ip_max), rng.randint(lo, ip_max)) if lo <= ip_max else lo
    sizes = [w0] * d
    below = lo  # Σ sizes[1:], the minimum number of edges

    def grow_one() -> bool:
        """Grow one random growable layer; False if none can grow."""
        nonlocal below
        grow = [i for i in range(d) if sizes[i] < w1 and (i == 0 or below < e)]
        if not grow:
            return False
        i = grow[rng.randrange(len(grow))]
        sizes[i] += 1
        if i:
            below += 1
        return True

    p = rng.random()
    while rng.random() < p and grow_one():  # random growth: one layer per step, continue w.p. p
        pass
    pairs = sum(sizes[i] * sizes[i + 1] for i in range(d - 1))
    while pairs < e:  # forced growth: room for e edges
        if not grow_one():
            e = pairs
            break
        pairs = sum(sizes[i] * sizes[i + 1] for i in range(d - 1))

    chains, subcats = names
    g = Graph()
    g.chain = ci = rng.randrange(len(chains))
    g.offset = off = rng.randrange(4 - d + 1)
    g.d = d
    g.cats = list(chains[ci][off : off + d])
    items: list[str] = []
    layer: list[int] = []
    starts = []
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
    children: list[list[int]] = [[] for _ in range(n_items)]  # child items in item order
    edge_of: dict[tuple[int, int], int] = {}
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
    # abstract parameters (a, K), K from layer(a)+1 to d-1, ids in order of span so deps come first
    abs_id: dict[tuple[int, int], int] = {}
    for span in range(1, d):
        for x in range(n_items):
            K = layer[x] + span
            if K < d:
                abs_id[(x, K)] = len(owner)
                owner.append(x)
                target.append(K)
                if span == 1:
                    parents.append([edge_of[(x, c)] for c in children[x]])
                    comb.append(C_ABS1)
                else:
                    ps = []
                    for c in children[x]:
                        ps.append(edge_of[(x, c)])
                        ps.append(abs_id[(c, K)])
                    parents.append(ps)
                    comb.append(C_ABS2)
    g.n_inst = n_inst
    g.n_param = len(owner)
    g.owner = owner
    g.target = target
    g.parents = parents
    g.comb = comb
    return g


# ------------------------------------------------------------------------------ dependency graph
def _abs_op(nps: int) -> int:
    """op of an abstract parameter with nps structural parents (0 parents: "so x = 0", op 1)."""
    return nps - 1 if nps > 2 else 1


def _necessary(rng: random.Random, g: Graph, s: int) -> bool:
    """Steps 1–4: choose the necessary set, the query, the solution order and parents; op == s exactly."""
    n_inst, n_param = g.n_inst, g.n_param
    parents = g.parents
    layer, owner, target = g.layer, g.owner, g.target
    n = max(rng.randint(1, s), rng.randint(1, s))
    m = rng.randint(n, s)
    inN = [False] * n_param
    N: list[int] = []
    opN = 0
    # op of each abstract parameter is fixed by the structure
    aop = [0] * n_param
    for x in range(n_inst, n_param):
        aop[x] = _abs_op(len(parents[x]))
    # nece1: abstract parameters with their closure, op ≤ n
    abs_list = [x for x in range(n_inst, n_param) if parents[x]]
    if abs_list:
        fails = 0
        while fails < 3 and opN < n:
            x = abs_list[rng.randrange(len(abs_list))]
            y = abs_list[rng.randrange(len(abs_list))]
            if target[y] - layer[owner[y]] > target[x] - layer[owner[x]]:
                x = y
            if inN[x]:
                fails += 1
                continue
            add = [x]
            seen = {x}
            k = 0
            cost = 0
            while k < len(add):
                z = add[k]
                k += 1
                cost += aop[z] if z >= n_inst else 1
                for q in parents[z]:
                    if q not in seen and not inN[q]:
                        seen.add(q)
                        add.append(q)
            if opN + cost <= n:
                for z in add:
                    inN[z] = True
                N.extend(add)
                opN += cost
            else:
                fails += 1
    # nece2: extra instance parameters up to m
    if opN < m:
        free = [x for x in range(n_inst) if not inN[x]]
        rng.shuffle(free)
        for x in free[: m - opN]:
            inN[x] = True
            N.append(x)
            opN += 1
    if not N:
        return False
    # dependents inside N (structural only: abstract parameters depending on x)
    succ_left = [0] * n_param
    for x in N:
        if x >= n_inst:
            for q in parents[x]:
                succ_left[q] += 1
    sinks = [x for x in N if succ_left[x] == 0]
    q = sinks[rng.randrange(len(sinks))]

    # nece3: backwards placement
    p0 = rng.random()
    unplaced = set(N)
    next1 = [False] * n_param
    elig: list[int] = []  # feeds a placed parameter, no unplaced dependent
    stranded: set[int] = set(x for x in N if succ_left[x] == 0)  # no dependent at all yet
    stranded.discard(q)
    n_elig_inst = 0
    req: dict[int, int] = {}  # instance parameter -> its adopted parent
    placed: list[int] = []
    y = q
    unplaced.discard(q)
    while True:
        placed.append(y)
        if y >= n_inst:
            for z in parents[y]:
                succ_left[z] -= 1
                if not next1[z]:
                    next1[z] = True
                if succ_left[z] == 0:
                    elig.append(z)
                    if z < n_inst:
                        n_elig_inst += 1
        elif unplaced:
            forced = bool(stranded) and n_elig_inst == 0
            if forced or rng.random() < p0:
                pool = list(stranded) if forced else list(unplaced)
                if len(pool) == 1:
                    z = pool[0]
                else:
                    pool.sort()
                    gg = abs(rng.gauss(0.0, 1.0))
                    ws = [math.exp(((z >= n_inst) + next1[z]) * gg) for z in pool]
                    z = rng.choices(pool, ws)[0]
                req[y] = z
                if not next1[z]:
                    next1[z] = True
                    if succ_left[z] == 0:
                        stranded.discard(z)
                        elig.append(z)
                        if z < n_inst:
                            n_elig_inst += 1
        if not unplaced:
            break
        if not elig:
            return False  # stuck: regenerate
        k = rng.randrange(len(elig))
        y = elig[k]
        elig[k] = elig[-1]
        elig.pop()
        if y < n_inst:
            n_elig_inst -= 1
        unplaced.discard(y)
        stranded.discard(y)
    order = placed[::-1]

    # nece: exact op
    base = 0
    caps: list[int] = []
    for pos, x in enumerate(order):
        if x >= n_inst:
            base += aop[x]
        else:
            base += 1
            tmax = 4 if pos >= 3 else pos + 1  # pos earlier parameters + RNG
            c = (tmax - 1 if tmax > 2 else 1) - 1
            caps.extend([pos] * c)
    extra = s - base
    if extra < 0 or extra > len(caps):
        return False
    bump = [0] * len(order)
    if extra:
        for pos in rng.sample(caps, extra):
            bump[pos] += 1
    rng_mode = g.rng_mode = [R_NONE] * n_param
    const = g.const = [0] * n_param
    for pos, x in enumerate(order):
        if x >= n_inst:
            continue
        o = 1 + bump[pos]
        r = req.get(x)
        t = o + 1 if o >= 2 else (1 if rng.random() < 0.5 and r is None else 2)
        if t > pos + 1:
            t = pos + 1  # pos == 0: RNG only
        nr = 0 if r is None else 1
        # RNG: required when there are too few earlier parameters, impossible when t == adopted count
        if t > pos:
            use_rng = True
        elif t == nr:
            use_rng = False
        else:
            use_rng = rng.random() < 0.5
        k = t - use_rng
        ps = [] if r is None else [r]
        if k > nr:
            earlier = order[:pos]
            if r is not None:
                earlier = [z for z in earlier if z != r]
            ps.extend(rng.sample(earlier, k - nr))
            if len(ps) > 1:
                rng.shuffle(ps)
        parents[x] = ps
        _set_rule(rng, g, x, len(ps), use_rng)
    g.order = order
    g.query = q
    g.op = s
    return True


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


def _distractors(rng: random.Random, g: Graph) -> None:
    """Step 5 + values of every parameter."""
    n_inst, n_param = g.n_inst, g.n_param
    parents = g.parents
    val = g.value = [0] * n_param
    in_graph = g.in_graph = [False] * n_param
    defined = [False] * n_param
    for x in g.order:
        in_graph[x] = True
        defined[x] = True
        val[x] = _eval(g, x, val)
    # abstract parameters outside the graph become usable once every instance parameter of their
    # closure is defined: count the undefined ones
    closure_inst: list[list[int]] = [[]] * n_param
    users: list[list[int]] = [[] for _ in range(n_inst)]
    undef = [0] * n_param
    ready: list[int] = []
    for x in range(n_inst, n_param):  # ids in span order: sub-abstracts first
        ci: list[int] = []
        for z in parents[x]:
            if z < n_inst:
                ci.append(z)
            else:
                ci.extend(closure_inst[z])
        if len(ci) > 1:
            ci = list(dict.fromkeys(ci))
        closure_inst[x] = ci
        if defined[x]:
            continue
        u = 0
        for z in ci:
            if not defined[z]:
                u += 1
                users[z].append(x)
        undef[x] = u
        if u == 0:
            ready.append(x)
    clean = [False] * n_param  # a distractor that depends on nothing necessary
    avail: list[int] = list(g.order)
    avail_clean: list[int] = []
    deforder: list[int] = []
    for x in ready:
        defined[x] = True
        val[x] = _eval(g, x, val)
        avail.append(x)
        deforder.append(x)
    ready.clear()
    rest = [x for x in range(n_inst) if not defined[x]]
    rng.shuffle(rest)
    for x in rest:
        t = 1
        while t < 4 and rng.random() < 0.5:
            t += 1
        use_rng = rng.random() < 0.5
        k = t - use_rng
        pool = avail_clean if rng.random() < 0.5 else avail
        if k > len(pool):
            k = len(pool)
        ps = rng.sample(pool, k) if k else []
        parents[x] = ps
        _set_rule(rng, g, x, k, use_rng or k == 0)
        defined[x] = True
        in_graph[x] = True
        deforder.append(x)
        for z in ps:
            if z >= n_inst and not in_graph[z]:
                _mark(g, z, in_graph)
        val[x] = _eval(g, x, val)
        if all([clean[z] for z in ps]):
            clean[x] = True
            avail_clean.append(x)
        avail.append(x)
        for a in users[x]:
            undef[a] -= 1
            if undef[a] == 0:
                ready.append(a)
        if ready:
            ready.sort()
            for a in ready:
                defined[a] = True
                val[a] = _eval(g, a, val)
                avail.append(a)
                deforder.append(a)
            ready.clear()
    g.distractors = [x for x in deforder if in_graph[x]]


def _mark(g: Graph, z: int, in_graph: list[bool]) -> None:
    """Put an abstract parameter and its abstract ancestors into the dependency graph."""
    stack = [z]
    in_graph[z] = True
    n_inst = g.n_inst
    while stack:
        for q in g.parents[stack.pop()]:
            if q >= n_inst and not in_graph[q]:
                in_graph[q] = True
                stack.append(q)


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


def generate(rng: random.Random, s: int, ip_max: int, names, tries: int = 10_000) -> Graph:
    """One iGSM graph with op exactly s and at most ip_max instance parameters."""
    for _ in range(tries):
        g = _structure(rng, s, ip_max, names)
        if _necessary(rng, g, s):
            _distractors(rng, g)
            g.op_of = [param_op(g, x) for x in range(g.n_param)]
            return g
    raise GenerationError(
        f"could not build an iGSM graph with op={s} and ip_max={ip_max} in {tries} attempts "
        "(raise ip_max or lower the op)"
    )


def reask(rng: random.Random, g: Graph, max_letters: int = 52) -> bool:
    """§1.7 reask: a new query drawn uniformly from the dependency graph's other parameters; the
    necessary set is its ancestors, in a fresh random topological order. False if none fits."""
    cands = [x for x in range(g.n_param) if g.in_graph[x] and x != g.query]
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
