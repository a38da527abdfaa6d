"""The `igsm` task: Physics of LMs Part 2.1/2.2 grade-school math (iGSM), word-level tokens, the retry seam.

Problems are generated on the fly with an exact op (graph.py, the official generator's law), written in the
paper's exact text format (text.py) and tokenized one token per item name / category / number / letter /
word (tokens.py). The train/eval split is the official one: the SHA-256 bin (mod 23) of the solution
sketch (template.py), test bins 16..22, applied within each op (strata), so the training op law survives it.
"""

from __future__ import annotations

import random
from typing import Any, Literal, Sequence

import numpy as np
from pydantic import Field, model_validator

from harness import Budget
from harness import Metric
from harness import Encoded, PlanError, Problem, Step, Tag, Task, TaskConfig, Verdict

from .graph import Graph, generate, reask, train_op
from .names import CATEGORIZATIONS, NAMES
from .template import TEST_BINS, bin_position, template_bin, template_of
from .text import param_names_ids, problem_ids, solution_sentences, token_tables
from .tokens import (
    A_ID,
    BACK_ID,
    COLON,
    DOT,
    EOS_ID,
    NUM0,
    Q_ID,
    S_ID,
    VOCAB,
    W_ANSWER,
    W_AS,
    W_DEFINE,
    decode_completion,
    detokenize,
    tokenize,
)
from .verify import verify_solution

PRESETS: dict[str, dict[str, Any]] = {
    # the code's easy preset (IdGen(max_op=10, max_edge=15)); proposed here for small models
    "mini": {"max_op": 10, "ip_max": 15, "eval_ops": [12, 13, 14, 15], "max_new_tokens": 600},
    "med": {"max_op": 15, "ip_max": 20, "eval_ops": [20, 21, 22, 23], "max_new_tokens": 1000},
    "hard": {"max_op": 21, "ip_max": 28, "eval_ops": [28, 29, 30, 31, 32], "max_new_tokens": 1400},
}
_INF = 1 << 30

# (categorization chains, sub-category name lists per chain and layer) for the generator
_NAME_TABLE = (
    [tuple(c) for c in CATEGORIZATIONS],
    [[list(NAMES[cat].values()) for cat in chain] for chain in CATEGORIZATIONS],
)


class IGSMConfig(TaskConfig):
    """iGSM distribution. `preset` fills max_op, ip_max, eval_ops and max_new_tokens that are not given."""

    eval_fraction: float = Field(
        default=7 / 23, gt=0.0, lt=1.0,
        description="share of the 23 template bins reserved for eval, from first_eval_bin on (default 7/23: "
                    "the official test bins 16..22; the paper's text says 17..22, i.e. 6/23 with first_eval_bin=17)",
    )
    first_eval_bin: int = Field(
        default=TEST_BINS[0], ge=0, le=22,
        description="first eval bin of the official SHA-256 template bins (mod 23); eval bins follow it cyclically",
    )
    preset: Literal["mini", "med", "hard"] = Field(
        default="med", description="mini (op ≤ 10, ip ≤ 15), med (op ≤ 15, ip ≤ 20) or hard (op ≤ 21, ip ≤ 28)"
    )
    max_op: int = Field(default=15, ge=1, le=52, description="largest training op (op ~ min of two uniforms)")
    ip_max: int = Field(default=20, ge=2, description="most instance parameters (structure edges) per problem")
    eval_ops: list[int] = Field(
        default_factory=lambda: [20, 21, 22, 23], description="out-of-distribution eval ops (exact)"
    )
    id_eval_op: int = Field(default=15, ge=1, description="in-distribution eval op (default: max_op)")
    attempt_op: Literal["fixed", "redrawn"] = Field(
        default="fixed",
        description="training problems: every generation attempt aims at the problem's op (fixed: the official "
                    "IdGen(op=...) as its dataset scripts call it), or redraws its own target op from the training "
                    "law and is kept only if it lands on the problem's op (redrawn: the official README's "
                    "IdGen(op=None); ~15x slower, slightly different conditional law, see the README)",
    )
    format: Literal["pq", "qp"] = Field(default="pq", description="problem then question, or question first")
    reask: bool = Field(default=False, description="add the §1.7 reask variant (at eval_ops[0]) to the eval mix")
    max_new_tokens: int = Field(default=1000, ge=1, description="generation cap at evaluation")

    @model_validator(mode="before")
    @classmethod
    def _fill_preset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            preset = data.get("preset", "med")
            for k, v in PRESETS.get(preset, {}).items():
                if data.get(k) is None:
                    data[k] = list(v) if isinstance(v, list) else v
            if data.get("id_eval_op") is None and data.get("max_op") is not None:
                data["id_eval_op"] = data["max_op"]
        return data

    @model_validator(mode="after")
    def _check(self) -> "IGSMConfig":
        if not self.eval_ops:
            raise ValueError("eval_ops must list at least one op")
        cap = min(52, 2 * self.ip_max)
        for name, ops in (("max_op", [self.max_op]), ("id_eval_op", [self.id_eval_op]), ("eval_ops", self.eval_ops)):
            for op in ops:
                if not 1 <= op <= cap:
                    raise ValueError(
                        f"{name}: op {op} is out of range 1..{cap} (at most 52 variable letters and "
                        f"2·ip_max = {2 * self.ip_max} for ip_max={self.ip_max})"
                    )
        if self.id_eval_op > self.max_op:
            raise ValueError(
                f"id_eval_op ({self.id_eval_op}) must not exceed max_op ({self.max_op}): it is the "
                "in-distribution eval op"
            )
        return self


class IGSMPayload:
    """Everything about one problem: the graph, token ids, and per-problem caches.

    graph.order: the necessary parameters in solution order (query last); graph.parents/value/op_of per
    parameter; instance parameters 0..graph.n_inst-1 all appear in the problem text; abstract parameters
    graph.n_inst.. are every (item, lower layer) pair of the window.
    """

    __slots__ = ("graph", "names_ids", "prompt", "sentences", "answer", "letters", "_names", "_oracle",
                 "_cand", "_template", "_pos")

    def __init__(self, graph: Graph, names_ids: list[list[int]], prompt: list[int],
                 sentences: list[list[int]], letters: list[int]):
        self.graph = graph
        self.names_ids = names_ids  # token ids of each parameter's solution name
        self.prompt = prompt  # <Q> problem/question <S>
        self.sentences = sentences  # solution sentence ids, each ending with "."
        self.answer = graph.value[graph.query]
        self.letters = letters  # letter index (0..51) of each solution parameter
        self._names: list[str] | None = None
        self._oracle: list[Step] | None = None
        self._cand: dict[str, Any] | None = None
        self._template: str | None = None
        self._pos: dict[str, int] | None = None

    @property
    def names(self) -> list[str]:
        """Solution-form name of every parameter ("Film Studio's School Daypack")."""
        if self._names is None:
            g = self.graph
            self._names = [g.name(x) for x in range(g.n_param)]
        return self._names

    @property
    def order(self) -> list[int]:
        return self.graph.order

    @property
    def in_problem(self) -> range:
        return range(self.graph.n_inst)

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__ if not k.startswith("_")}

    def __setstate__(self, state):
        for k in self.__slots__:
            setattr(self, k, state.get(k))


class IGSMTask(Task):
    """iGSM: synthetic grade-school math with exact op, the paper's text format, word-level tokens."""

    name = "igsm"
    version = "2"
    description = "iGSM grade-school math (Physics of LMs 2.1/2.2): exact-op generator, paper text, retry seam"
    Config = IGSMConfig
    vocab = tuple(VOCAB)
    end_token = EOS_ID
    back_token = BACK_ID
    candidate_kinds = frozenset({"wrong", "later", "unused"})
    has_natural_undo = False
    metrics = (
        Metric("acc_id", "accuracy ID", "accuracy on the in-distribution eval problems (op ≤ max_op)",
               format="percent", headline=True),
        Metric("acc_ood", "accuracy OOD", "accuracy on the out-of-distribution eval problems (the eval_ops)",
               format="percent", headline=True),
        Metric("retries_per_correct", "[BACK]s / correct", "[BACK] retractions written per correct solution",
               higher_is_better=None),
        Metric("retries_per_wrong", "[BACK]s / wrong", "[BACK] retractions written per wrong solution",
               higher_is_better=None),
        Metric("unnecessary_per_correct", "unnecessary / correct",
               "parameters computed that the answer does not need, per correct solution", higher_is_better=False),
    )

    config: IGSMConfig

    def __init__(self, config: IGSMConfig | None = None):
        super().__init__(config if config is not None else IGSMConfig())
        self._back = Step("[BACK].", None, Tag.CORRECTION)

    # -- data ---------------------------------------------------------------------------------------
    def make(self, rng: random.Random, op: int, split: str = "train", variant: str = "plain") -> Problem:
        """One problem with exact op `op` (reask: the op of the re-asked query)."""
        cfg = self.config
        redraw = cfg.max_op if split == "train" and cfg.attempt_op == "redrawn" else None
        for _ in range(100):
            g = generate(rng, op, cfg.ip_max, _NAME_TABLE, attempt_max_op=redraw)
            if variant == "reask" and not reask(rng, g):
                continue
            break
        else:  # pragma: no cover
            raise RuntimeError(f"igsm: no reask query fits for op={op}")
        item_tok, cat_tok = token_tables(g)
        nm = param_names_ids(g, item_tok, cat_tok)
        body = problem_ids(g, rng, nm, item_tok, cat_tok, cfg.format)
        sents, letters = solution_sentences(g, rng, nm)
        prompt = [Q_ID]
        prompt += body
        prompt.append(S_ID)
        pl = IGSMPayload(g, nm, prompt, sents, letters)
        meta = {"op": g.op, "ip": g.n_inst, "split": split, "variant": variant}
        return Problem(detokenize(body), pl, meta)

    def sample(self, rng: random.Random) -> Problem:
        return self.make(rng, train_op(rng, self.config.max_op))

    # -- kept on disk (harness.problem_cache): reading a problem back is ~5x faster than generating it
    def problem_record(self, problem: Problem) -> Any:
        pl: IGSMPayload = problem.payload
        g = pl.graph
        return {"g": [getattr(g, k) for k in Graph.__slots__], "n": pl.names_ids, "p": pl.prompt,
                "s": pl.sentences, "l": pl.letters}

    def problem_from_record(self, key: str, meta: dict[str, Any], record: Any) -> Problem:
        g = Graph.__new__(Graph)  # every slot is set below
        values = record["g"]
        if len(values) != len(Graph.__slots__):
            raise ValueError(f"a graph record has {len(values)} fields, not {len(Graph.__slots__)}")
        for k, v in zip(Graph.__slots__, values):
            setattr(g, k, v)
        return Problem(key, IGSMPayload(g, record["n"], record["p"], record["s"], record["l"]), meta)

    def sample_batch(self, rng: random.Random, n: int) -> list[Problem]:
        """Training problems without the split filter (the core splits within strata, `draw_strata`)."""
        make = self.make
        max_op = self.config.max_op
        return [make(rng, train_op(rng, max_op)) for _ in range(n)]

    def eval_kinds(self) -> list[tuple[str, int, str]]:
        """(split, op, variant) of each eval sub-set, mixed in equal parts by `sample_eval`."""
        cfg = self.config
        kinds = [("id", cfg.id_eval_op, "plain")] + [("ood", op, "plain") for op in cfg.eval_ops]
        if cfg.reask:
            kinds.append(("ood", cfg.eval_ops[0], "reask"))
        return kinds

    def _eval_strata(self, rng: random.Random, n: int) -> list[tuple[str, int, str]]:
        kinds = self.eval_kinds()
        off = rng.randrange(len(kinds))
        return [kinds[(off + j) % len(kinds)] for j in range(n)]

    def sample_eval(self, rng: random.Random, n: int) -> list[Problem]:
        return [self.make(rng, op, split, variant) for split, op, variant in self._eval_strata(rng, n)]

    def draw_strata(self, rng: random.Random, n: int, side: str) -> list:
        """Train: the op of each problem (min of two uniforms); eval: its (split, op, variant) kind.

        The core then keeps, within each stratum, the problems on the requested side of the template
        split, which is the official rejection "on the template bin at a fixed op": the training op law
        is exactly min-of-two-uniforms after the split (op = 1 included), and each eval kind keeps its
        share."""
        if side == "train":
            max_op = self.config.max_op
            return [train_op(rng, max_op) for _ in range(n)]
        return self._eval_strata(rng, n)

    def sample_stratum(self, rng: random.Random, stratum, n: int) -> list[Problem]:
        if isinstance(stratum, int):
            return [self.make(rng, stratum) for _ in range(n)]
        split, op, variant = stratum
        return [self.make(rng, op, split, variant) for _ in range(n)]

    def split_key(self, problem: Problem) -> str | None:
        """The solution template (names → Inst/Inter, numbers → 0, letters in order of appearance).

        None for OOD eval problems: their op exceeds every training op, so their template can never
        occur in training and they need no hash filtering (which would discard most of them)."""
        if problem.meta.get("split") == "ood" and problem.meta.get("op", 0) > self.config.max_op:
            return None
        pl = problem.payload
        t = pl._template
        if t is None:
            t = pl._template = template_of(pl.sentences)
        return t

    def template_bin(self, problem: Problem) -> int:
        """The official bin: int(sha256(sketch)) mod 23 of the solution (official train 0..15, test 16..22)."""
        pl = problem.payload
        t = pl._template
        if t is None:
            t = pl._template = template_of(pl.sentences)
        return template_bin(t)

    def split_position(self, problem: Problem) -> float | None:
        """The official split: the template's SHA-256 bin, placed so that the `eval_fraction` share of the
        bins from `first_eval_bin` on is the eval side (defaults: exactly the official test bins 16..22);
        None (never collides) for OOD eval problems."""
        if self.split_key(problem) is None:
            return None
        return bin_position(self.template_bin(problem), self.config.first_eval_bin)

    def max_new_tokens(self, problem: Problem) -> int:
        return self.config.max_new_tokens

    def problem_text(self, problem: Problem) -> str:
        """The problem and question in the paper's format (pq or qp)."""
        return problem.key

    def oracle(self, problem: Problem) -> list[Step]:
        pl = problem.payload
        steps = pl._oracle
        if steps is None:
            names = pl.names
            steps = pl._oracle = [
                Step(detokenize(ids), names[x]) for x, ids in zip(pl.graph.order, pl.sentences)
            ]
        return steps[:]

    # -- corruptor seam -----------------------------------------------------------------------------
    def _cands(self, pl: IGSMPayload) -> dict[str, Any]:
        c = pl._cand
        if c is not None:
            return c
        g = pl.graph
        names = pl.names
        order = g.order
        L = len(order)
        pos = [_INF] * g.n_param
        for j, x in enumerate(order):
            pos[x] = j
        # wrong: not computable before sentence i (some parent not among the first i) and not computed
        cf = []
        for x in range(g.n_param):
            m = 0
            for p in g.parents[x]:
                q = pos[p] + 1
                if q > m:
                    m = q
            if m:
                cf.append((m, x))
        cf.sort(key=lambda t: -t[0])
        wrong = [Step(names[x], names[x]) for _, x in cf]
        wrong_n = [0] * (L + 1)
        k = len(cf)
        for i in range(L + 1):
            while k and cf[k - 1][0] <= i:
                k -= 1
            wrong_n[i] = k
        # unused: instance parameters (all appear in the problem) not among the first i+1 solution params
        un = sorted(range(g.n_inst), key=lambda x: -pos[x])
        unused = [Step(names[x], names[x]) for x in un]
        unused_n = [0] * (L + 1)
        k = len(un)
        for i in range(L + 1):
            while k and pos[un[k - 1]] <= i:
                k -= 1
            unused_n[i] = k
        later = [Step(names[x], names[x]) for x in order]
        c = pl._cand = {"wrong": wrong, "wrong_n": wrong_n, "unused": unused, "unused_n": unused_n,
                        "later": later}
        return c

    def candidates(self, problem: Problem, trace: Sequence[Step], i: int, kind: str) -> Sequence[Step]:
        c = self._cands(problem.payload)
        L = len(c["later"])
        if not 0 <= i <= L:
            raise IndexError(f"igsm: position {i} outside 0..{L}")
        if kind == "wrong":
            return c["wrong"][: c["wrong_n"][i]]
        if kind == "later":
            return c["later"][i + 1 :]  # retry_weak(self_contain=true) adds the current step itself
        if kind == "unused":
            return c["unused"][: c["unused_n"][i]]
        raise PlanError(f"task 'igsm' provides 'wrong', 'later' and 'unused' candidates, not {kind!r}")

    def mistake(self, problem: Problem, step: Step) -> Step:
        return Step(f"Define {step.key} as", step.key, Tag.MISTAKE)

    def back(self, problem: Problem) -> Step:
        return Step("[BACK].", None, Tag.CORRECTION)

    # -- tokens -------------------------------------------------------------------------------------
    def _name_pos(self, pl: IGSMPayload) -> dict[str, int]:
        d = pl._pos
        if d is None:
            d = pl._pos = {n: x for x, n in enumerate(pl.names)}
        return d

    def _step_ids(self, pl: IGSMPayload, step: Step) -> list[int]:
        """Ids of a mistake or correction step (cached name ids where possible)."""
        if step.tag == Tag.MISTAKE and isinstance(step.key, str):
            x = self._name_pos(pl).get(step.key)
            if x is not None and step.text == f"Define {step.key} as":
                return [W_DEFINE, *pl.names_ids[x], W_AS]
        if step.text == "[BACK].":
            return [BACK_ID, DOT]
        return tokenize(step.text)

    def encode(self, problem: Problem, trace: Sequence[Step]) -> Encoded:
        pl: IGSMPayload = problem.payload
        ids = pl.prompt[:]
        plen = len(ids)
        spans: list[tuple[int, int]] = []
        marks: list[tuple[int, int, int]] = []
        oracle = pl._oracle
        sent = pl.sentences
        L = len(sent)
        # fast path: the oracle trace itself (identity of the cached steps)
        if oracle is not None and len(trace) == L and all(a is b for a, b in zip(trace, oracle)):
            for s in sent:
                a = len(ids)
                ids += s
                spans.append((a, len(ids)))
        else:
            if oracle is None:
                self.oracle(problem)
                oracle = pl._oracle
            # oracle steps in trace order are matched to the oracle sentence with the same key
            pos = None
            for s in trace:
                a = len(ids)
                tag = s.tag
                if tag == Tag.ORACLE:
                    if pos is None:
                        pos = {st.key: j for j, st in enumerate(oracle)}
                    j = pos.get(s.key)
                    if j is not None and (oracle[j].text is s.text or oracle[j].text == s.text):
                        ids += sent[j]
                    else:
                        ids += tokenize(s.text)
                else:
                    ids += self._step_ids(pl, s)
                    marks.append((a, len(ids), tag))
                spans.append((a, len(ids)))
        ids += (A_ID, W_ANSWER, COLON, NUM0 + pl.answer, DOT, EOS_ID)
        tokens = np.asarray(ids, dtype=np.int64)
        tags = np.full(len(ids), Tag.ORACLE, dtype=np.int8)
        tags[:plen] = Tag.PROMPT
        for a, b, code in marks:
            tags[a:b] = code
        return Encoded(tokens, tags, plen, spans)

    def encode_prompt(self, problem: Problem) -> np.ndarray:
        return np.asarray(problem.payload.prompt, dtype=np.int64)

    def decode(self, ids: Sequence[int]) -> str:
        return decode_completion(ids)

    def step_token_ids(self, step: Step) -> list[int]:
        if step.text == "[BACK].":
            return [BACK_ID, DOT]
        return tokenize(step.text)

    def prompt_text(self, problem: Problem) -> str:
        return problem.key

    # -- steps (for decoders that act at step ends) ----------------------------------------------
    step_end_tokens = frozenset({DOT})  # a solution sentence ends with "."

    def step_ok(self, problem: Problem, completion: Sequence[int]) -> bool:
        from .probes import last_sentence_ok

        return last_sentence_ok(problem.payload, completion)

    # -- evaluation ---------------------------------------------------------------------------------
    def verify(self, problem: Problem, completion: str) -> Verdict:
        # the verifier rebuilds everything from the problem text, exactly as `harness score` does
        return verify_solution(problem.key, completion)

    def verify_text(self, problem_text: str, completion: str, answer: Any = None) -> Verdict:
        """Score any tool's solution from the problem text alone (`harness score igsm FILE.jsonl`)."""
        if answer is not None:
            try:
                answer = int(answer)
            except (TypeError, ValueError):
                return Verdict(False, f"answer {answer!r} is not an integer")
        return verify_solution(problem_text, completion, answer)

    def render(self, problem: Problem, trace: Sequence[Step]) -> Any:
        from rich.text import Text

        out = Text()
        out.append("Problem: ", style="bold")
        out.append(problem.key + "\n")
        out.append("Solution: ", style="bold")
        for j, s in enumerate(trace):
            if j:
                out.append(" ")
            style = {Tag.MISTAKE: "red", Tag.CORRECTION: "yellow"}.get(s.tag, "")
            out.append(s.text, style=style)
        out.append(f" Answer: {problem.payload.answer}.", style="bold")
        m = problem.meta
        out.append(f"\n[op={m.get('op')} ip={m.get('ip')} split={m.get('split')} variant={m.get('variant')}]",
                   style="dim")
        return out

    @classmethod
    def budget_defaults(cls, budget: Budget) -> dict[str, Any]:
        if budget.profile == "gpu":
            return {"preset": "mini"}
        if budget.profile in ("pipeline", "cpu"):  # cpu: see the README, iGSM does not learn at CPU scale
            return {"preset": "mini", "max_op": 6, "ip_max": 10, "eval_ops": [7, 8], "max_new_tokens": 400}
        return {}

    def eval_metrics(self, problems: Sequence[Problem], verdicts: Sequence[Verdict]) -> dict[str, float]:
        out: dict[str, float] = {}
        right = [v for v in verdicts if v.correct]
        wrong = [v for v in verdicts if not v.correct]

        def mean(vs: list[Verdict], key: str) -> float | None:
            xs = [v.details.get(key) for v in vs]
            xs = [float(x) for x in xs if isinstance(x, (int, float))]
            return sum(xs) / len(xs) if xs else None

        for name, vs, key in (("retries_per_correct", right, "n_back"), ("retries_per_wrong", wrong, "n_back"),
                              ("unnecessary_per_correct", right, "n_unnecessary")):
            m = mean(vs, key)
            if m is not None:
                out[name] = m
        for split in ("id", "ood"):
            vs = [v for p, v in zip(problems, verdicts) if p.meta.get("split") == split]
            if vs:
                out[f"acc_{split}"] = sum(v.correct for v in vs) / len(vs)
        return out
