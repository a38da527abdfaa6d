"""The `mazes` task: MazeGPT's tile mazes, character tokens, oracle path, junction mistakes, verifier."""

from __future__ import annotations

import random
from typing import Any, Sequence

import numpy as np
from pydantic import Field, model_validator

from harness import Budget
from harness import Encoded, GoalGrid, PlanError, Problem, Step, Tag, Task, TaskConfig, Verdict

from .generator import generate_batch, generate_reference, sample_mazes
from .render import render_maze
from .steps import MAX_SIZE, MAX_TILES, UNDO_TABLE
from .text import (
    BACK_ID,
    BYTE_LUT,
    DIR_CODE,
    END_ID,
    NOLOSS_TAG_LUT,
    TOKEN_ID,
    VOCAB,
)
from .verify import verify_walk

_EMPTY: tuple = ()
_N_VOCAB = len(VOCAB)


class MazesConfig(TaskConfig):
    """MazeGPT's maze distribution and benchmark settings."""

    min_size: int = Field(default=4, description="smallest grid side in tiles (the original: 4; the blog: 3)")
    max_size: int = Field(default=9, description="largest grid side in tiles (the original: 9)")
    max_new_tokens: int = Field(default=120, ge=1, description="generation cap at evaluation (original: 120)")
    mask_walls: bool = Field(
        default=False,
        description="tag prompt space/#/. tokens as prompt_noloss (MazeGPT's post-blog 'final' recipe)",
    )

    @model_validator(mode="after")
    def _check_sizes(self) -> "MazesConfig":
        if not 3 <= self.min_size <= MAX_SIZE:
            raise ValueError(f"min_size must be between 3 and {MAX_SIZE} tiles, got {self.min_size}")
        if not 3 <= self.max_size <= MAX_SIZE:
            raise ValueError(f"max_size must be between 3 and {MAX_SIZE} tiles, got {self.max_size}")
        if self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) must not exceed max_size ({self.max_size})")
        return self


class MazesTask(Task):
    """MazeGPT mazes: n×n tile grids (step-2 DFS), N/E/S/W moves, mistakes at junctions."""

    name = "mazes"
    version = "1"
    description = "MazeGPT mazes: n×n tile grids (step-2 DFS), N/E/S/W move strings, mistakes at junctions"
    Config = MazesConfig
    vocab = tuple(VOCAB)
    end_token = END_ID
    end_token_in_prompt = True  # MazeGPT's format: ';' ends the maze and the path alike
    back_token = BACK_ID
    candidate_kinds = frozenset({"wrong"})
    has_natural_undo = True

    config: MazesConfig

    def __init__(self, config: MazesConfig | None = None):
        super().__init__(config if config is not None else MazesConfig())
        self._mask = bool(self.config.mask_walls)
        # step_spans of an all-single-token trace, per prompt length: sliced per sample
        self._spans: dict[int, list[tuple[int, int]]] = {}

    # -- data ---------------------------------------------------------------------------------------
    def sample(self, rng: random.Random) -> Problem:
        n = rng.randint(self.config.min_size, self.config.max_size)
        return generate_reference(rng, n)

    def sample_batch(self, rng: random.Random, n: int) -> list[Problem]:
        return sample_mazes(rng, n, self.config.min_size, self.config.max_size)

    def draw_strata(self, rng: random.Random, n: int, side: str) -> list[int]:
        """Grid sizes, uniform on both sides: the core splits train/eval within each size, so the
        eval set keeps the training mix of sizes (the hash split alone holds 7-9% of the small
        sizes' probability mass and ~10% of the large ones')."""
        lo, hi = self.config.min_size, self.config.max_size
        return [rng.randint(lo, hi) for _ in range(n)]

    def sample_stratum(self, rng: random.Random, stratum: int, n: int) -> list[Problem]:
        g = np.random.Generator(np.random.PCG64(rng.getrandbits(64)))
        return generate_batch(g, int(stratum), n)

    def max_new_tokens(self, problem: Problem) -> int:
        return self.config.max_new_tokens

    def oracle(self, problem: Problem) -> list[Step]:
        return problem.payload.steps[:]

    # -- corruptor seam -----------------------------------------------------------------------------
    def candidates(self, problem: Problem, trace: Sequence[Step], i: int, kind: str) -> Sequence[Step]:
        if kind != "wrong":
            raise PlanError(f"task 'mazes' provides only 'wrong' candidates, not {kind!r}")
        return problem.payload.wrong.get(i, _EMPTY)

    def undo(self, problem: Problem, step: Step) -> Step:
        d = DIR_CODE.get(step.text)
        if d is None or not isinstance(step.key, int):
            raise PlanError(f"mazes: cannot undo step {step!r}")
        n = problem.payload.n
        back = (d + 2) % 4  # the opposite move, from the side tile back to the junction
        junction = step.key + (n, -1, -n, 1)[d]
        return UNDO_TABLE[back * MAX_TILES + junction]

    # -- tokens -------------------------------------------------------------------------------------
    def _prompt_tags(self, tokens: np.ndarray, plen: int) -> Any:
        return NOLOSS_TAG_LUT[tokens[:plen]] if self._mask else Tag.PROMPT

    def encode(self, problem: Problem, trace: Sequence[Step]) -> Encoded:
        key = problem.key
        plen = len(key) + 1
        L = len(trace)
        text = "".join([s.text for s in trace])
        if len(text) == L and not text.strip("NESW"):
            # fast path: one token per step (every step a move)
            tokens = BYTE_LUT[np.frombuffer((key + ";" + text + ";\n").encode("ascii"), dtype=np.uint8)]
            tags = np.empty(plen + L + 2, dtype=np.int8)
            tags[:plen] = self._prompt_tags(tokens, plen)
            step_tags = [s.tag for s in trace]
            if step_tags.count(Tag.ORACLE) == L:
                tags[plen:] = Tag.ORACLE
            else:
                tags[plen : plen + L] = np.frombuffer(bytes(step_tags), dtype=np.int8)  # 3× faster than a list of enums
                tags[plen + L :] = Tag.ORACLE
            spans = self._spans.get(plen)
            if spans is None or len(spans) < L:
                spans = self._spans[plen] = [(plen + j, plen + j + 1) for j in range(max(L, 256))]
            return Encoded(tokens, tags, plen, spans[:L])
        # general path: steps of several tokens (e.g. a retry family's [BACK])
        ids = BYTE_LUT[np.frombuffer((key + ";").encode("ascii"), dtype=np.uint8)].tolist()
        tag_list = [Tag.PROMPT] * plen
        step_spans = []
        for s in trace:
            sid = self.step_token_ids(s)
            a = len(ids)
            ids.extend(sid)
            tag_list.extend([s.tag] * len(sid))
            step_spans.append((a, len(ids)))
        ids += [END_ID, TOKEN_ID["\n"]]
        tag_list += [Tag.ORACLE, Tag.ORACLE]
        tokens = np.asarray(ids, dtype=np.int64)
        tags = np.frombuffer(bytearray(tag_list), dtype=np.int8)  # writable; fast for a list of Tag
        if self._mask:
            tags[:plen] = NOLOSS_TAG_LUT[tokens[:plen]]
        return Encoded(tokens, tags, plen, step_spans)

    def encode_prompt(self, problem: Problem) -> np.ndarray:
        return BYTE_LUT[np.frombuffer((problem.key + ";").encode("ascii"), dtype=np.uint8)]

    def decode(self, ids: Sequence[int]) -> str:
        out = []
        for i in ids:
            i = int(i)
            if i == END_ID:
                break
            out.append(VOCAB[i] if 0 <= i < _N_VOCAB else "?")
        return "".join(out)

    def step_token_ids(self, step: Step) -> list[int]:
        tid = TOKEN_ID.get(step.text)
        if tid is not None:
            return [tid]
        try:
            return [TOKEN_ID[ch] for ch in step.text]
        except KeyError:
            raise ValueError(f"mazes: step text {step.text!r} is not made of maze tokens") from None

    # -- evaluation ---------------------------------------------------------------------------------
    def verify(self, problem: Problem, completion: str) -> Verdict:
        st = problem.payload
        return verify_walk(problem.key, st.n, st.start, st.end, completion)

    def verify_text(self, problem_text: str, completion: str, answer: Any = None) -> Verdict:
        """Score a completion from the maze text alone (rows of `#`, space, `s`, `e`; a trailing `;`
        is allowed), for `harness score mazes FILE.jsonl`."""
        if not isinstance(problem_text, str):
            return Verdict(False, "problem is not text")
        text = problem_text[:-1] if problem_text.endswith(";") else problem_text
        rows = text.split("\n")
        n = len(rows)
        if n < 2 or any(len(r) != n for r in rows) or set(text) - set(" #se\n"):
            return Verdict(False, "problem is not an n×n maze of '#', ' ', 's', 'e'")
        flat = "".join(rows)
        if flat.count("s") != 1 or flat.count("e") != 1:
            return Verdict(False, "problem needs exactly one 's' and one 'e'")
        return verify_walk(text, n, flat.index("s"), flat.index("e"), completion)

    step_end_tokens = frozenset(TOKEN_ID[d] for d in "NESW")  # every move is a step

    def step_ok(self, problem: Problem, completion: Sequence[int]) -> bool:
        """Does the last move go to the next tile of the shortest path from where the walk stands
        (not into a wall, a dead end or past the end)? Earlier moves into walls leave the walk in place."""
        from .solve import bfs_path, open_neighbours, parse_maze

        grid, start, end = parse_maze(problem.key)
        moves = [VOCAB[t] for t in completion if VOCAB[t] in DIR_CODE] if completion else []
        if not moves:
            return True
        here = start
        for m in moves[:-1]:
            nb = dict(open_neighbours(grid, here))
            here = nb.get(DIR_CODE[m], here)
        if here == end:
            return False
        nxt = dict(open_neighbours(grid, here)).get(DIR_CODE[moves[-1]])
        path = bfs_path(grid, here, end)
        return nxt is not None and path is not None and nxt == path[1]

    def goal_variants(self, problem: Problem) -> GoalGrid:
        """The maze with its end moved to every other open tile (MazeGPT's probe heatmap)."""
        from .solve import make_problem, parse_maze

        grid, start, end = parse_maze(problem.key)
        n = grid.shape[0]
        cells = [(divmod(t, n), make_problem(grid, start, t)) for t in range(n * n) if grid.flat[t] and t != start]
        return GoalGrid((n, n), cells, {"s": divmod(start, n), "e": divmod(end, n)})

    def render(self, problem: Problem, trace: Sequence[Step]) -> Any:
        return render_maze(problem, trace)

    def trace_text(self, problem: Problem, trace: Sequence[Step]) -> str:
        return "".join(s.text for s in trace)

    @classmethod
    def budget_defaults(cls, budget: Budget) -> dict[str, Any]:
        if budget.profile == "cpu":  # small mazes and MazeGPT's final recipe (no loss on the walls) learn on a CPU
            return {"min_size": 5, "max_size": 6, "mask_walls": True}
        return {}
