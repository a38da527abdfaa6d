"""iGSM problem and solution text, written directly as token ids (Part 2.1 §1.4–1.5 formats).

Problem sentence per instance parameter (all of them, fully shuffled), then the question (pq) or the
question first (qp):
    The number of each A's B equals 17.
    The number of each A's B equals each C's D.
    The number of each A's B equals the sum|difference of each P and each Q.
    The number of each A's B equals the sum of each P, each Q, each R and each S.
    The number of each A's B equals 12 more than <X> / 5 times as much as <X>.
    How many <child item | Category> does <item> have?
Solution sentence per necessary parameter, in the solution order, left-folded binary steps, a fresh random
letter (a–z, A–Z, without replacement in a problem) for every defined variable:
    Define <param> as v; [R = x + y = 1 + 2 = 3; ...] so v = <names> = <numbers> = <result>.
followed by "Answer: n.".
"""

from __future__ import annotations

import random

from .graph import (
    C_ABS1,
    C_DIFF,
    R_CONST,
    R_MORE,
    R_NONE,
    R_TIMES,
    MOD,
    Graph,
)
from .tokens import (
    APOS,
    COMMA,
    DOT,
    EQ,
    LET0,
    MINUS,
    NUM0,
    PLUS,
    QMARK,
    SEMI,
    STAR,
    TOKEN_ID,
    W_AND,
    W_AS,
    W_DEFINE,
    W_DIFF,
    W_DOES,
    W_EACH,
    W_EQUALS,
    W_HAVE,
    W_HOW,
    W_MANY,
    W_MORE,
    W_MUCH,
    W_NUMBER,
    W_OF,
    W_SO,
    W_SUM,
    W_THAN,
    W_THE,
    W_TIMES,
    W_the,
    detokenize,
)

_HEAD = (W_THE, W_NUMBER, W_OF, W_EACH)


def token_tables(g: Graph) -> tuple[list[int], list[int]]:
    return [TOKEN_ID[n] for n in g.items], [TOKEN_ID[c] for c in g.cats]


def param_names_ids(g: Graph, item_tok: list[int], cat_tok: list[int]) -> list[list[int]]:
    n_inst = g.n_inst
    owner, target = g.owner, g.target
    return [
        [item_tok[owner[x]], APOS, cat_tok[target[x]] if x >= n_inst else item_tok[target[x]]]
        for x in range(g.n_param)
    ]


def problem_sentence(g: Graph, x: int, nm: list[list[int]]) -> list[int]:
    """Token ids of the problem sentence of instance parameter x (with its final ".")."""
    ids = [W_THE, W_NUMBER, W_OF, W_EACH, *nm[x], W_EQUALS]
    r = g.rng_mode[x]
    if r == R_CONST:
        ids.append(NUM0 + g.const[x])
        ids.append(DOT)
        return ids
    if r == R_MORE:
        ids += (NUM0 + g.const[x], W_MORE, W_THAN)
    elif r == R_TIMES:
        ids += (NUM0 + g.const[x], W_TIMES, W_AS, W_MUCH, W_AS)
    ps = g.parents[x]
    k = len(ps)
    if k == 1:
        ids.append(W_EACH)
        ids += nm[ps[0]]
    elif k == 2:
        ids += (W_the, W_DIFF if g.comb[x] == C_DIFF else W_SUM, W_OF, W_EACH)
        ids += nm[ps[0]]
        ids += (W_AND, W_EACH)
        ids += nm[ps[1]]
    else:
        ids += (W_the, W_SUM, W_OF)
        last = k - 1
        for j, p in enumerate(ps):
            if j:
                ids.append(W_AND if j == last else COMMA)
            ids.append(W_EACH)
            ids += nm[p]
    ids.append(DOT)
    return ids


def question_ids(g: Graph, q: int, item_tok: list[int], cat_tok: list[int]) -> list[int]:
    t = cat_tok[g.target[q]] if q >= g.n_inst else item_tok[g.target[q]]
    return [W_HOW, W_MANY, t, W_DOES, item_tok[g.owner[q]], W_HAVE, QMARK]


def solution_sentences(
    g: Graph, rng: random.Random, nm: list[list[int]]
) -> tuple[list[list[int]], list[int]]:
    """Token ids of each solution sentence (each ends with "."), and the letter index of each parameter
    in the solution order."""
    letters = rng.sample(range(52), g.op) if g.op <= 52 else None
    if letters is None:
        raise ValueError(f"op {g.op} needs more than 52 variable letters")
    nxt = 0
    val = g.value
    let: dict[int, int] = {}  # parameter -> letter token id
    out: list[list[int]] = []
    n_inst = g.n_inst
    parents, comb, rng_mode, const = g.parents, g.comb, g.rng_mode, g.const
    N = NUM0
    for x in g.order:
        v = LET0 + letters[nxt]
        nxt += 1
        let[x] = v
        ids = [W_DEFINE, *nm[x], W_AS, v]
        ps = parents[x]
        c = comb[x]
        vx = val[x]
        if x < n_inst:
            r = rng_mode[x]
            if r == R_CONST:
                ids += (SEMI, W_SO, v, EQ, N + const[x], DOT)
                out.append(ids)
                continue
            if len(ps) == 1 and r == R_NONE:
                ids += (SEMI, W_SO, v, EQ, let[ps[0]], EQ, N + vx, DOT)
                out.append(ids)
                continue
            op = MINUS if c == C_DIFF else PLUS
            a_tok = let[ps[0]]
            a_val = val[ps[0]]
            last = len(ps) - 1
            for j in range(1, len(ps)):
                b = ps[j]
                b_val = val[b]
                res = (a_val - b_val) % MOD if op == MINUS else (a_val + b_val) % MOD
                if j == last and r == R_NONE:
                    ids += (SEMI, W_SO, v, EQ, a_tok, op, let[b], EQ, N + a_val, op, N + b_val, EQ, N + res)
                else:
                    t = LET0 + letters[nxt]
                    nxt += 1
                    ids += (SEMI, t, EQ, a_tok, op, let[b], EQ, N + a_val, op, N + b_val, EQ, N + res)
                    a_tok = t
                a_val = res
            if r != R_NONE:
                cst = const[x]
                op = PLUS if r == R_MORE else STAR
                ids += (SEMI, W_SO, v, EQ, N + cst, op, a_tok, EQ, N + cst, op, N + a_val, EQ, N + vx)
            ids.append(DOT)
            out.append(ids)
            continue
        # abstract parameters
        if not ps:
            ids += (SEMI, W_SO, v, EQ, N + 0, DOT)
            out.append(ids)
            continue
        if c == C_ABS1:
            terms = [(let[p], val[p]) for p in ps]
            if len(terms) == 1:
                ids += (SEMI, W_SO, v, EQ, terms[0][0], EQ, N + vx, DOT)
                out.append(ids)
                continue
        else:
            # products inst·abstract per child; their sum is left-folded in post-order (t1, t2, t1+t2, t3,
            # ...), as the official binarization writes it
            kk = len(ps) // 2
            acc: tuple[int, int] | None = None
            for j in range(0, len(ps), 2):
                a, b = ps[j], ps[j + 1]
                av, bv = val[a], val[b]
                res = (av * bv) % MOD
                if kk == 1:
                    ids += (SEMI, W_SO, v, EQ, let[a], STAR, let[b], EQ, N + av, STAR, N + bv, EQ, N + res, DOT)
                    break
                t = LET0 + letters[nxt]
                nxt += 1
                ids += (SEMI, t, EQ, let[a], STAR, let[b], EQ, N + av, STAR, N + bv, EQ, N + res)
                if acc is None:
                    acc = (t, res)
                    continue
                s_val = (acc[1] + res) % MOD
                if j == len(ps) - 2:
                    ids += (SEMI, W_SO, v, EQ, acc[0], PLUS, t, EQ, N + acc[1], PLUS, N + res, EQ, N + s_val, DOT)
                else:
                    u = LET0 + letters[nxt]
                    nxt += 1
                    ids += (SEMI, u, EQ, acc[0], PLUS, t, EQ, N + acc[1], PLUS, N + res, EQ, N + s_val)
                    acc = (u, s_val)
            out.append(ids)
            continue
        a_tok, a_val = terms[0]
        last = len(terms) - 1
        for j in range(1, len(terms)):
            b_tok, b_val = terms[j]
            res = (a_val + b_val) % MOD
            if j == last:
                ids += (SEMI, W_SO, v, EQ, a_tok, PLUS, b_tok, EQ, N + a_val, PLUS, N + b_val, EQ, N + res)
            else:
                t = LET0 + letters[nxt]
                nxt += 1
                ids += (SEMI, t, EQ, a_tok, PLUS, b_tok, EQ, N + a_val, PLUS, N + b_val, EQ, N + res)
                a_tok = t
            a_val = res
        ids.append(DOT)
        out.append(ids)
    return out, [let[x] - LET0 for x in g.order]


def problem_ids(
    g: Graph, rng: random.Random, nm: list[list[int]], item_tok: list[int], cat_tok: list[int], fmt: str
) -> list[int]:
    """The problem statement ids (fully shuffled sentences) with the question before or after."""
    sents = [problem_sentence(g, x, nm) for x in range(g.n_inst)]
    rng.shuffle(sents)
    q = question_ids(g, g.query, item_tok, cat_tok)
    ids: list[int] = []
    if fmt == "qp":
        ids += q
    for s in sents:
        ids += s
    if fmt != "qp":
        ids += q
    return ids


def text_of(ids: list[int]) -> str:
    return detokenize(ids)
