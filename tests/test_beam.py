"""Beam search: k = 1 is greedy decoding; on a model with a hand-set distribution the k best
sequences and their scores are exactly the brute-force ones; batched beams equal one prompt at a
time; the sampled variant is reproducible from its seed; the `beam` decoder runs through the CLI."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from harness import component, generate
from harness.beam import beam_search

END = 2


@dataclass
class TokenCache:
    seq: torch.Tensor  # [B, max_len] tokens written
    pad: torch.Tensor | None = None

    @property
    def max_len(self) -> int:
        return self.seq.shape[1]

    def reorder(self, rows):
        self.seq = self.seq.index_select(0, rows)
        if self.pad is not None:
            self.pad = self.pad.index_select(0, rows)


class TableModel(torch.nn.Module):
    """logits of the next token = table[position after the prompt, last token]: a hand-set distribution."""

    def __init__(self, table: np.ndarray, prompt_len: int):
        super().__init__()
        self.table = torch.tensor(np.log(table), dtype=torch.float32)  # [T, V(last), V(next)]
        self.prompt_len = prompt_len
        self.block_size = 64

    def new_cache(self, batch, max_len, device=None, dtype=None):
        return TokenCache(torch.zeros((batch, max_len), dtype=torch.long))

    def forward(self, idx, cache=None, start=0, pad=None):
        B, T = idx.shape
        if cache is not None:
            cache.seq[:, start : start + T] = idx
            if cache.pad is None:
                cache.pad = pad
            pad = cache.pad
        out = torch.zeros((B, T, self.table.shape[2]))
        for t in range(T):
            gen_pos = (start + t + 1) - (pad if pad is not None else 0) - self.prompt_len  # tokens generated so far
            for b in range(B):
                g = int(gen_pos[b]) if torch.is_tensor(gen_pos) else gen_pos
                out[b, t] = self.table[min(max(g, 0), self.table.shape[0] - 1), idx[b, t]]
        return out


def _table(seed: int, V: int = 3, T: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.dirichlet(np.ones(V), size=(T, V))
    return t


def _brute(table: np.ndarray, last: int, cap: int, lp: float) -> list[tuple[float, tuple[int, ...]]]:
    """Every sequence the table can produce within the cap (ended or cut at the cap), by score."""
    V = table.shape[2]
    out = []
    for n in range(1, cap + 1):
        for toks in itertools.product(range(V), repeat=n):
            if END in toks[:-1] or (n < cap and toks[-1] != END):
                continue
            prev, lpsum = last, 0.0
            for g, t in enumerate(toks):
                lpsum += math.log(table[g, prev, t])
                prev = t
            out.append((lpsum / n**lp, toks))
    return sorted(out, reverse=True)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("lp", [0.0, 1.0])
def test_beam_search_finds_the_exact_k_best_on_a_hand_set_distribution(seed, lp):
    table = _table(seed)
    cap = 3
    model = TableModel(table.astype(np.float32), prompt_len=2)
    want = _brute(table, last=1, cap=cap, lp=lp)
    k = 12  # enough beams that no prefix is ever dropped: the result must be exact
    hyps = beam_search(model, [[0, 1]], end_token=END, max_new_tokens=cap, k=k, length_penalty=lp)[0]
    assert [tuple(h.tokens) for h in hyps] == [t for _, t in want[:k]]
    assert [h.score for h in hyps] == pytest.approx([s for s, _ in want[:k]], abs=1e-5)


def _tiny():
    fam = component("model", "gpt-1L", budget="tiny")
    torch.manual_seed(3)
    return fam.build(vocab_size=12, block_size=40)


def test_k1_is_greedy_decoding():
    model = _tiny()
    rng = np.random.default_rng(0)
    prompts = [rng.integers(0, 12, size=int(n)) for n in rng.integers(2, 9, size=12)]
    greedy = generate(model, prompts, end_token=5, max_new_tokens=15, temperature=0.0)
    beams = beam_search(model, prompts, end_token=5, max_new_tokens=15, k=1)
    assert [h[0].tokens for h in beams] == greedy


def test_batched_beams_equal_one_prompt_at_a_time():
    model = _tiny()
    rng = np.random.default_rng(1)
    prompts = [rng.integers(0, 12, size=int(n)) for n in rng.integers(2, 9, size=8)]
    together = beam_search(model, prompts, end_token=5, max_new_tokens=12, k=4, batch_size=32)
    alone = [beam_search(model, [p], end_token=5, max_new_tokens=12, k=4)[0] for p in prompts]
    assert [[h.tokens for h in hs] for hs in together] == [[h.tokens for h in hs] for hs in alone]
    for hs_a, hs_b in zip(together, alone):
        assert [h.score for h in hs_a] == pytest.approx([h.score for h in hs_b], abs=1e-4)
        assert all(a.score >= b.score for a, b in zip(hs_a, hs_a[1:]))  # best first


def test_beam_sample_is_reproducible_and_varies_with_the_seed():
    model = _tiny()
    prompts = [[1, 2, 3], [4, 5, 6, 7]] * 4
    a = beam_search(model, prompts, end_token=5, max_new_tokens=12, k=4, sample=True, seed=0)
    b = beam_search(model, prompts, end_token=5, max_new_tokens=12, k=4, sample=True, seed=0)
    c = beam_search(model, prompts, end_token=5, max_new_tokens=12, k=4, sample=True, seed=1)
    tok = lambda r: [[h.tokens for h in hs] for hs in r]  # noqa: E731
    assert tok(a) == tok(b) and tok(a) != tok(c)


def test_the_beam_decoder_is_registered_with_validated_options():
    from harness import PlanError

    d = component("decoder", "beam", k=4, sample=True)
    assert d.config.k == 4 and d.config.sample
    with pytest.raises(PlanError, match="k"):
        component("decoder", "beam", k=0)
