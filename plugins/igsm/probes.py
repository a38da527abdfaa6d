"""The `can_next` probe target (Physics of LMs 2.1 / 2.2 §3): can parameter A be computed next,
i.e. are all of A's parents already computed? Read right after the model has read "Define <A> as".

Held-out sequences: an oracle solution prefix (the first k sentences) with "Define <A> as" appended,
for parameters A not yet computed (A need not be necessary, as in the paper: "A ranges over all
possible parameters"); the label is can_next(A) under that prefix. Already-computed parameters are
not queried (defining one twice is a different error).

The model's own text (`own_steps`): its generated solution is read sentence by sentence; every
"Define <A> as" of a known parameter is a step labelled can_next(A) under the parameters the model
itself has computed so far (a "[BACK]" retraction computes nothing). The first step whose A is not
computable yet is the model's first wrong sentence, where a detector should say can_next = false
(the paper: only ≈ 60% of the time). Reading stops there, or at the first sentence that is not a
definition of a known parameter (the answer, or text no parameter name matches).
"""

from __future__ import annotations

import random
from typing import ClassVar, Sequence

import numpy as np
from pydantic import Field

from harness import Config, OwnSteps, ProbeExample, ProbeTarget

from .tokens import A_ID, BACK_ID, DOT, W_AS, W_DEFINE


class CanNextConfig(Config):
    prefixes: int = Field(default=3, ge=1, description="solution prefixes (sentence boundaries) per problem")
    queries: int = Field(default=4, ge=1, description="parameters queried per prefix (\"Define <A> as\" appended), "
                                                      "drawn among those not yet computed")


def can_next(parents: Sequence[int], done: set[int]) -> bool:
    return all(p in done for p in parents)


def last_sentence_ok(payload, ids: Sequence[int]) -> bool:
    """The ground truth on a completion's last sentence (Physics of LMs' versionP detector): a
    definition of a known parameter, not defined before, whose parents are all computed by the
    earlier sentences; a "[BACK]" retraction and the answer sentence are fine. A sentence written
    only up to "Define <A> as" is judged by its A."""
    ids = list(ids)
    bounds = [i for i, t in enumerate(ids) if t == DOT]
    if ids and ids[-1] != DOT and W_AS in ids[(bounds[-1] + 1 if bounds else 0):]:
        bounds.append(len(ids) - 1)  # a sentence written up to "Define <A> as ...": judge A already
    if not bounds:
        return True
    end = bounds[-1]
    start = bounds[-2] + 1 if len(bounds) > 1 else 0
    sent = ids[start : end + 1]
    if BACK_ID in sent:
        return True
    if sent[0] != W_DEFINE:
        return sent[0] == A_ID  # the answer sentence is fine; other text is no step at all
    g = payload.graph
    by_name = {tuple(n): x for x, n in enumerate(payload.names_ids)}
    done: set[int] = set()
    a = 0
    for b in bounds[:-1]:  # what the earlier sentences computed (a retraction computes nothing)
        s_ids = ids[a : b + 1]
        if s_ids and s_ids[0] == W_DEFINE and W_AS in s_ids and BACK_ID not in s_ids:
            x = by_name.get(tuple(s_ids[1 : s_ids.index(W_AS)]))
            if x is not None:
                done.add(x)
        a = b + 1
    if W_AS not in sent:
        return False
    x = by_name.get(tuple(sent[1 : sent.index(W_AS)]))
    return x is not None and x not in done and can_next(g.parents[x], done)


class CanNext(ProbeTarget):
    """can parameter A be computed next? (all of its parents computed), read after "Define <A> as"."""

    name: ClassVar[str] = "can_next"
    description: ClassVar[str] = ("can A be computed next (all parents computed)? read right after \"Define <A> as\" "
                                  "(Physics of LMs 2.2 §3); with the regret rate on the model's own first wrong sentence")
    Config: ClassVar[type[CanNextConfig]] = CanNextConfig
    tasks: ClassVar[frozenset[str]] = frozenset({"igsm"})
    corruptor: ClassVar[str] = "oracle"
    flag_class: ClassVar[int | None] = 0  # can_next = false flags a wrong sentence

    def examples(self, task, problem, trace, enc, rng: random.Random) -> list[ProbeExample]:
        pl = problem.payload
        g = pl.graph
        n_sent = len(pl.sentences)
        out = []
        for k in sorted(rng.sample(range(n_sent), min(self.config.prefixes, n_sent))):
            done = set(g.order[:k])
            base = list(pl.prompt)
            for sent in pl.sentences[:k]:
                base += sent
            pending = [x for x in range(g.n_param) if x not in done]
            for x in rng.sample(pending, min(self.config.queries, len(pending))):
                toks = np.array(base + [W_DEFINE, *pl.names_ids[x], W_AS], dtype=np.int64)
                out.append(ProbeExample(toks, np.array([len(toks) - 1]), np.array([int(can_next(g.parents[x], done))])))
        return out

    def check_tokens(self, task) -> frozenset[int]:
        return frozenset({W_AS})  # read right after "Define <A> as"

    def own_steps(self, task, problem, completion: Sequence[int]) -> OwnSteps | None:
        pl = problem.payload
        g = pl.graph
        by_name = {tuple(ids): x for x, ids in enumerate(pl.names_ids)}
        plen = len(pl.prompt)
        ids = list(completion)
        done: set[int] = set()
        positions, labels, first_wrong = [], [], None
        a = 0
        while a < len(ids) and ids[a] == W_DEFINE:
            try:
                as_at = ids.index(W_AS, a)
            except ValueError:
                break
            x = by_name.get(tuple(ids[a + 1 : as_at]))
            if x is None or x in done:
                break
            end = ids.index(DOT, as_at) if DOT in ids[as_at:] else len(ids)
            ok = can_next(g.parents[x], done)
            positions.append(plen + as_at)
            labels.append(int(ok))
            if not ok:
                first_wrong = len(labels) - 1
                break
            if BACK_ID not in ids[as_at:end]:
                done.add(x)
            a = end + 1
        if not positions:
            return None
        return OwnSteps(np.array(list(pl.prompt) + ids, dtype=np.int64), np.array(positions, dtype=np.int64),
                        np.array(labels, dtype=np.int64), first_wrong)
