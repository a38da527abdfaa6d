"""Generic batched generation over any model that follows the decode protocol (see ModelFamily).

`generate` sorts prompts by length, left-pads each batch (the model's `pad` argument gives each row's
real tokens positions 0.. and masks the padding out of attention), runs the prompt once into a static
KV cache and then feeds one token per step. `naive_generate` is the reference: one sequence at a time,
recomputing the whole prefix every step. `teacher_forced_logprobs` scores single next tokens.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

__all__ = ["generate", "naive_generate", "teacher_forced_logprobs"]


def _as_lists(prompts: Sequence[np.ndarray | Sequence[int]]) -> list[list[int]]:
    return [np.asarray(p, dtype=np.int64).reshape(-1).tolist() for p in prompts]


def _caps(model: torch.nn.Module, prompts: list[list[int]], max_new_tokens: int | Sequence[int]) -> list[int]:
    """Per-prompt generation caps, clipped so that prompt_len + cap ≤ model.block_size."""
    n = len(prompts)
    if isinstance(max_new_tokens, (int, np.integer)):
        want = [int(max_new_tokens)] * n
    else:
        want = [int(m) for m in max_new_tokens]
        if len(want) != n:
            raise ValueError(f"max_new_tokens has {len(want)} entries for {n} prompts")
    block = int(model.block_size)
    caps = []
    for i, (p, m) in enumerate(zip(prompts, want)):
        if len(p) == 0:
            raise ValueError(f"prompt {i} is empty")
        if len(p) > block:
            raise ValueError(f"prompt {i} has {len(p)} tokens, more than the model's block_size={block}")
        caps.append(max(0, min(m, block - len(p))))
    return caps


def _prepare(model: torch.nn.Module, prompts: Sequence[np.ndarray | Sequence[int]], max_new_tokens: int | Sequence[int],
             device: torch.device | str, seed: int):
    """What every batched decoder starts from: the device, the prompts as lists, their caps, a seeded
    generator, and the prompt indices by length (so a batch pads little)."""
    device = torch.device(device)
    model.eval()
    plist = _as_lists(prompts)
    caps = _caps(model, plist, max_new_tokens)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    order = sorted(range(len(plist)), key=lambda i: len(plist[i]))
    return device, plist, caps, gen, order


def _left_pad(rows: list[list[int]], device: torch.device) -> tuple[torch.Tensor, torch.Tensor, int]:
    """rows left-padded to one width: (idx [B, width], pad [B] = padding per row, width)."""
    lens = [len(r) for r in rows]
    width = max(lens)
    idx = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        idx[r, width - lens[r] :] = torch.tensor(row, dtype=torch.long)
    pad = torch.tensor([width - n for n in lens], dtype=torch.long, device=device)
    return idx.to(device), pad, width


def _pick(logits: torch.Tensor, temperature: float, gen: torch.Generator | None) -> torch.Tensor:
    """Next token per row from logits [B, V]: argmax at temperature 0, else a seeded sample."""
    if temperature <= 0.0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=gen).squeeze(-1)


def _cut(row: list[int], end_token: int, cap: int) -> list[int]:
    row = row[:cap]
    try:
        return row[: row.index(end_token) + 1]
    except ValueError:
        return row


@torch.inference_mode()
def generate(
    model: torch.nn.Module,
    prompts: Sequence[np.ndarray | Sequence[int]],
    *,
    end_token: int,
    max_new_tokens: int | Sequence[int],
    temperature: float = 0.0,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    seed: int = 0,
    check_every: int = 8,
    compact_at: float = 0.25,
    stats: dict[str, int] | None = None,
) -> list[list[int]]:
    """Generated ids per prompt (the end token included when produced), in the prompts' order.

    max_new_tokens is clipped per prompt to block_size − prompt_len; a prompt longer than the model's
    block_size is an error. Greedy at temperature 0, else sampling from softmax(logits / temperature).

    Rows that ended stop costing compute: every `check_every` steps (the only host sync of the loop)
    the rows that produced the end token or reached their cap are counted, the batch stops when all
    have, and once at least `compact_at` of the running rows are finished they are dropped from the
    batch and the KV cache (with `cache.reorder`; a cache without it keeps every row). Greedy outputs do not depend on either setting; sampled ones do (the
    generator draws for fewer rows). `check_every=1, compact_at=inf` is the loop without compaction.
    `stats`, if given, receives the token slots computed: "prefill" (prompt positions) and "decode"
    (rows × steps fed one token at a time), and "generated" (tokens kept).
    """
    if check_every < 1:
        raise ValueError(f"check_every must be at least 1, got {check_every}")
    device, plist, caps, gen, order = _prepare(model, prompts, max_new_tokens, device, seed)
    out: list[list[int]] = [[] for _ in plist]
    counts = {"prefill": 0, "decode": 0, "generated": 0}
    for b0 in range(0, len(order), batch_size):
        rows = order[b0 : b0 + batch_size]
        max_cap = max(caps[i] for i in rows)
        if max_cap == 0:
            continue
        B = len(rows)
        idx, pad, width = _left_pad([plist[i] for i in rows], device)
        cap = torch.tensor([caps[i] for i in rows], dtype=torch.long, device=device)
        cache = model.new_cache(B, width + max_cap, device, None)
        result = torch.full((B, max_cap), end_token, dtype=torch.long, device=device)
        live = torch.arange(B, device=device)  # the batch rows still computed, by their place in `result`
        can_compact = callable(getattr(cache, "reorder", None))  # the protocol's beam-search hook; optional
        done = cap == 0
        logits = model(idx, cache=cache, start=0, pad=pad)[:, -1]
        counts["prefill"] += B * width
        for s in range(max_cap):
            tok = _pick(logits, temperature, gen)
            result[live, s] = tok
            done = done | (tok == end_token) | (cap <= s + 1)
            if s + 1 == max_cap:
                break
            if (s + 1) % check_every == 0:
                n_done = int(done.sum())  # the sync point
                if n_done == len(live):
                    break
                if n_done and n_done >= compact_at * len(live) and can_compact:
                    keep = (~done).nonzero().squeeze(1)
                    cache.reorder(keep)
                    live, pad, cap, done, tok = live[keep], pad[keep], cap[keep], done[keep], tok[keep]
            logits = model(tok[:, None], cache=cache, start=width + s, pad=pad)[:, -1]
            counts["decode"] += len(live)
        res = result.cpu().tolist()
        for r, i in enumerate(rows):
            out[i] = _cut(res[r], end_token, caps[i])
            counts["generated"] += len(out[i])
    if stats is not None:
        stats.update(counts)
    return out


@torch.inference_mode()
def naive_generate(
    model: torch.nn.Module,
    prompts: Sequence[np.ndarray | Sequence[int]],
    *,
    end_token: int,
    max_new_tokens: int | Sequence[int],
    temperature: float = 0.0,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    seed: int = 0,
) -> list[list[int]]:
    """The baseline: one prompt at a time, the whole prefix recomputed every step, no cache.

    Same signature and results as `generate` at temperature 0 (batch_size is ignored)."""
    device, plist, caps, gen, _ = _prepare(model, prompts, max_new_tokens, device, seed)
    out = []
    for p, cap in zip(plist, caps):
        seq = torch.tensor([p], dtype=torch.long, device=device)
        new: list[int] = []
        for _ in range(cap):
            logits = model(seq)[:, -1]
            tok = _pick(logits, temperature, gen)
            t = int(tok.item())
            new.append(t)
            if t == end_token:
                break
            seq = torch.cat([seq, tok[:, None]], dim=1)
        out.append(new)
    return out


@torch.inference_mode()
def teacher_forced_logprobs(
    model: torch.nn.Module,
    seqs: Sequence[np.ndarray | Sequence[int]],
    positions: Sequence[int],
    targets: Sequence[int],
    batch_size: int = 256,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """log P(targets[k] | seqs[k][:positions[k]]) for each k, as float64 [K].

    Contexts are right-padded into batches (harmless for a causal model) after sorting by length."""
    device = torch.device(device)
    model.eval()
    K = len(seqs)
    if not (len(positions) == len(targets) == K):
        raise ValueError("seqs, positions and targets must have the same length")
    ctx = []
    block = int(model.block_size)
    for k in range(K):
        p = int(positions[k])
        s = np.asarray(seqs[k], dtype=np.int64).reshape(-1)
        if not 1 <= p <= len(s):
            raise ValueError(f"position {p} of item {k} outside 1..{len(s)}")
        if p > block:
            raise ValueError(f"item {k}: context of {p} tokens exceeds the model's block_size={block}")
        ctx.append(s[:p])
    out = np.empty(K, dtype=np.float64)
    order = sorted(range(K), key=lambda k: len(ctx[k]))
    for b0 in range(0, K, batch_size):
        rows = order[b0 : b0 + batch_size]
        width = max(len(ctx[k]) for k in rows)
        idx = np.zeros((len(rows), width), dtype=np.int64)
        for r, k in enumerate(rows):
            idx[r, : len(ctx[k])] = ctx[k]
        logits = model(torch.from_numpy(idx).to(device))
        last = torch.tensor([len(ctx[k]) - 1 for k in rows], device=device)
        sel = logits[torch.arange(len(rows), device=device), last].float()
        logp = torch.log_softmax(sel, dim=-1)
        tgt = torch.tensor([int(targets[k]) for k in rows], device=device)
        vals = logp.gather(1, tgt[:, None]).squeeze(1).double().cpu().numpy()
        out[rows] = vals
    return out
