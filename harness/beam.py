"""Batched beam search over the KV cache, for any model that follows the decode protocol and whose
cache can reorder its rows (`cache.reorder(rows)`).

Each prompt keeps `k` alive beams (rows of one batch, `P × k`); at every step each beam's
continuations are scored by cumulative log-probability:
- deterministic (`sample=False`): the 2k best continuations over all beams are taken in order; an
  end token among the first k of them finishes a hypothesis, and the first k others stay alive
  (Hugging Face's rule, so k = 1 is greedy decoding);
- sampled (`sample=True`, Physics of LMs' "beam=4, do_sample=True", as Hugging Face's beam sample):
  the 2k continuations are drawn without replacement from softmax over all beams' (cumulative
  score + log-probability at `temperature`), then taken in order of score as above.
Finished hypotheses are ranked by score / length^length_penalty (length = generated tokens,
end included; Hugging Face's default penalty 1.0). A prompt is done when it holds k finished
hypotheses and its best alive beam cannot beat the worst of them (exact for length_penalty 0, the
Hugging Face heuristic otherwise), or at its cap, where alive beams finish unterminated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from harness.decode import _left_pad, _prepare
from harness.interfaces import PlanError


@dataclass
class Hypothesis:
    tokens: list[int]
    logprob: float  # cumulative log-probability of the generated tokens
    score: float  # logprob / len(tokens) ** length_penalty


def _norm(logprob: float, n: int, length_penalty: float) -> float:
    return logprob / (max(1, n) ** length_penalty)


@torch.inference_mode()
def beam_search(
    model: torch.nn.Module,
    prompts: Sequence[np.ndarray | Sequence[int]],
    *,
    end_token: int,
    max_new_tokens: int | Sequence[int],
    k: int,
    sample: bool = False,
    temperature: float = 1.0,
    length_penalty: float = 1.0,
    batch_size: int = 64,
    device: torch.device | str = "cpu",
    seed: int = 0,
) -> list[list[Hypothesis]]:
    """The finished hypotheses of each prompt, best first (at most k), in the prompts' order."""
    if k < 1:
        raise ValueError("beam width k must be at least 1")
    device, plist, caps, gen, order = _prepare(model, prompts, max_new_tokens, device, seed)
    out: list[list[Hypothesis]] = [[] for _ in plist]
    per = max(1, batch_size // k)
    for b0 in range(0, len(order), per):
        rows = order[b0 : b0 + per]
        for i, hyps in zip(rows, _batch(model, [plist[i] for i in rows], [caps[i] for i in rows], end_token, k, sample,
                                        temperature, length_penalty, device, gen)):
            out[i] = hyps
    return out


def _batch(model, prompts: list[list[int]], caps: list[int], end: int, k: int, sample: bool, temperature: float,
           lp: float, device: torch.device, gen: torch.Generator) -> list[list[Hypothesis]]:
    P = len(prompts)
    finished: list[list[Hypothesis]] = [[] for _ in range(P)]
    max_cap = max(caps)
    if max_cap == 0:
        return finished
    idx, pad, width = _left_pad(prompts, device)
    rep = torch.arange(P, device=device).repeat_interleave(k)  # k rows per prompt
    idx, pad = idx[rep], pad[rep]
    cache = model.new_cache(P * k, width + max_cap, device, None)
    if not callable(getattr(cache, "reorder", None)):
        raise PlanError(f"beam search needs a cache with reorder(rows); {type(cache).__name__} has none")
    logits = model(idx, cache=cache, start=0, pad=pad)[:, -1]
    scores = torch.full((P, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live beam per prompt at first, so the k first tokens are distinct
    seqs: list[list[int]] = [[] for _ in range(P * k)]
    done = [c == 0 for c in caps]
    for s in range(max_cap):
        logp = torch.log_softmax(logits.float() / (temperature if sample else 1.0), dim=-1)
        V = logp.shape[-1]
        cand = (scores.reshape(P * k, 1) + logp).reshape(P, k * V)
        src = torch.arange(P * k, device=device)  # rows of finished prompts keep themselves
        nxt = torch.full((P * k,), end, dtype=torch.long, device=device)
        new_scores = torch.full((P, k), float("-inf"), device=device)
        if sample:
            probs = torch.softmax(cand, dim=-1).nan_to_num(0.0)
            n_draw = min(2 * k, int((probs > 0).sum(-1).min()))
            picks = torch.multinomial(probs, max(1, n_draw), generator=gen)
            picks = picks.gather(1, cand.gather(1, picks).argsort(dim=1, descending=True))
        else:
            picks = cand.topk(min(2 * k, k * V), dim=1).indices
        cand_cpu, picks_cpu = cand.cpu(), picks.cpu().tolist()
        for p in range(P):
            if done[p]:
                continue
            hyps = finished[p]
            chosen = 0
            for rank, flat in enumerate(picks_cpu[p]):
                b, tok = divmod(flat, V)
                sc = float(cand_cpu[p, flat])
                if sc == float("-inf"):
                    continue
                if tok == end:
                    if rank < k:  # Hugging Face's rule: an end token finishes a hypothesis if ranked in the top k
                        hyps.append(Hypothesis(seqs[p * k + b] + [end], sc, _norm(sc, s + 1, lp)))
                    continue
                if chosen < k:
                    src[p * k + chosen] = p * k + b
                    nxt[p * k + chosen] = tok
                    new_scores[p, chosen] = sc
                    chosen += 1
            hyps.sort(key=lambda h: -h.score)
            del hyps[k:]
            best_alive = float(new_scores[p].max()) if chosen else float("-inf")
            if s + 1 >= caps[p] or chosen == 0:
                for j in range(chosen):  # at the cap, alive beams finish unterminated
                    sc = float(new_scores[p, j])
                    hyps.append(Hypothesis(seqs[int(src[p * k + j])] + [int(nxt[p * k + j])], sc,
                                           _norm(sc, s + 1, lp)))
                hyps.sort(key=lambda h: -h.score)
                del hyps[k:]
                done[p] = True
            elif len(hyps) >= k and _norm(best_alive, s + 1, lp) <= hyps[-1].score:
                done[p] = True
        if all(done):
            break
        src_list = src.tolist()
        seqs = [seqs[r] + [int(t)] for r, t in zip(src_list, nxt.tolist())]
        scores = new_scores
        cache.reorder(src)
        logits = model(nxt[:, None], cache=cache, start=width + s, pad=pad)[:, -1]
    return finished
