"""A nanoGPT-style GPT in one file: config, attention, MLP, block, model, static KV cache.

Pre-LN transformer blocks (LayerNorm → causal self-attention → residual, LayerNorm → 4x GELU MLP →
residual), a weight-tied LM head, ``F.scaled_dot_product_attention`` and nanoGPT's initialisation
(N(0, 0.02) everywhere, residual output projections scaled by 1/sqrt(2·n_layer)).

The decode protocol the core's generic decoder relies on:

* ``model(idx[B,T]) -> logits[B,T,V]`` — a plain causal forward (training, teacher forcing);
* ``model.new_cache(batch, max_len, device, dtype) -> KVCache`` — a preallocated static cache;
* ``model(idx[B,t], cache=cache, start=s) -> logits[B,t,V]`` — writes keys/values for absolute
  indices s..s+t-1 into the cache and attends to cache[:s+t];
* ``pad: LongTensor[B]`` (optional, with or without a cache): row b is left-padded with ``pad[b]``
  tokens. Its real tokens get positions 0, 1, ... (position = absolute index − pad[b]) and padded key
  indices are masked out of attention. A cache remembers the ``pad`` it was first given, so later
  incremental calls may omit it.
* ``model.block_size`` — the longest sequence (in positions) the model takes.
* ``cache.reorder(rows)`` — row b becomes old row rows[b] (for beam search).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from harness_models.config import GPTConfig


# ---------------------------------------------------------------------------------------- KV cache
@dataclass
class KVCache:
    """Static preallocated keys and values: k, v are [n_layer, B, n_head, max_len, head_dim]."""

    k: torch.Tensor
    v: torch.Tensor
    pad: torch.Tensor | None = None  # [B] left-pad counts, remembered from the first call

    @property
    def max_len(self) -> int:
        return self.k.shape[3]

    def reorder(self, rows: torch.Tensor) -> None:
        """Row b of the cache becomes old row rows[b] (beam search keeps the beams it extends)."""
        self.k = self.k.index_select(1, rows)
        self.v = self.v.index_select(1, rows)
        if self.pad is not None:
            self.pad = self.pad.index_select(0, rows)


# ---------------------------------------------------------------------------------------- RoPE
def rope_tables(pos: torch.Tensor, inv_freq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin of shape [B or 1, 1, T, head_dim/2] for integer positions pos [B or 1, T]."""
    ang = pos.to(inv_freq.dtype)[..., None] * inv_freq  # [b, T, hd/2]
    return ang.cos()[:, None], ang.sin()[:, None]


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (first half, second half) of the head dimension of x [B, H, T, hd]."""
    x1, x2 = x.chunk(2, dim=-1)
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


# ------------------------------------------------------------------------------------------- LoRA
class LoRA(nn.Module):
    """A rank-r update B·A of a weight [out, in] (Hu et al.): A random, B zero, so it starts at 0.
    `scale` = alpha / r with alpha = r (the update is used as learned)."""

    def __init__(self, out_features: int, in_features: int, r: int):
        super().__init__()
        self.A = nn.Parameter(torch.randn(r, in_features) / math.sqrt(in_features))
        self.B = nn.Parameter(torch.zeros(out_features, r))

    def delta(self) -> torch.Tensor:
        return self.B @ self.A

    def apply(self, x: torch.Tensor) -> torch.Tensor:  # x @ (B·A)^T without forming B·A
        return (x @ self.A.t().to(x.dtype)) @ self.B.t().to(x.dtype)


# ------------------------------------------------------------------------------------------ layers
class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig, layer: int):
        super().__init__()
        self.layer = layer
        self.n_head = cfg.n_head
        self.head_dim = cfg.d_model // cfg.n_head
        self.c_attn = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.d_model, cfg.d_model, bias=cfg.bias)
        self.c_proj.residual_scaled = True  # nanoGPT's scaled init for residual projections
        self.dropout = cfg.dropout
        self.resid_drop = nn.Dropout(cfg.dropout)
        self.lora_q: LoRA | None = None  # set by GPT.add_lora (Physics of LMs: LoRA on query and value)
        self.lora_v: LoRA | None = None

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor] | None,
        mask: torch.Tensor | None,
        is_causal: bool,
        cache: KVCache | None,
        start: int,
    ) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        if self.lora_q is not None:
            q = q + self.lora_q.apply(x)
            v = v + self.lora_v.apply(x)
        q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # [B, H, T, hd]
        k = k.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        if cache is not None:
            cache.k[self.layer, :, :, start : start + T] = k
            cache.v[self.layer, :, :, start : start + T] = v
            k = cache.k[self.layer, :, :, : start + T]
            v = cache.v[self.layer, :, :, : start + T]
            q = q.to(k.dtype)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=is_causal,
        )
        y = y.to(x.dtype).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_drop(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(cfg.d_model, 4 * cfg.d_model, bias=cfg.bias)
        self.c_proj = nn.Linear(4 * cfg.d_model, cfg.d_model, bias=cfg.bias)
        self.c_proj.residual_scaled = True
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LN: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, cfg: GPTConfig, layer: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg, layer)
        self.ln_2 = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x, rope, mask, is_causal, cache, start):
        x = x + self.attn(self.ln_1(x), rope, mask, is_causal, cache, start)
        return x + self.mlp(self.ln_2(x))


# ------------------------------------------------------------------------------------------- model
class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig, vocab_size: int, block_size: int):
        super().__init__()
        self.config = cfg
        self.vocab_size = vocab_size
        self.block_size = cfg.block_size or block_size
        self.n_layer = cfg.n_layer
        self.wte = nn.Embedding(vocab_size, cfg.d_model)
        self.wpe = nn.Embedding(self.block_size, cfg.d_model) if cfg.pos == "learned" else None
        if cfg.pos == "rope":
            hd = cfg.d_model // cfg.n_head
            inv_freq = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
            self.register_buffer("inv_freq", inv_freq, persistent=False)
        else:
            self.inv_freq = None
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg, i) for i in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.lm_head = nn.Linear(cfg.d_model, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying
        self.lora_emb: LoRA | None = None  # set by add_lora

        self.apply(self._init_weights)
        for m in self.modules():
            if getattr(m, "residual_scaled", False):
                nn.init.normal_(m.weight, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameter count; non_embedding drops the token and position embeddings (the head is tied)."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.wte.weight.numel()
            if self.wpe is not None:
                n -= self.wpe.weight.numel()
        return n

    def residual_stream(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """The residual stream at every layer, named as TransformerLens names its hook points:
        ``blocks.{L}.hook_resid_pre`` (the input of block L) and ``blocks.{L}.hook_resid_post``
        (its output), each [B, T, d_model] (for probes; gradients flow, so a V-probe can train an
        embedding update through the frozen model; wrap in no_grad to only read)."""
        _, hidden = self.forward(idx, return_hidden=True, head=False)
        out = {}
        for layer in range(self.n_layer):
            out[f"blocks.{layer}.hook_resid_pre"] = hidden[layer]
            out[f"blocks.{layer}.hook_resid_post"] = hidden[layer + 1]
        return out

    # -- LoRA ----------------------------------------------------------------------------------------
    def add_lora(self, r: int, emb_r: int) -> int:
        """Freeze every weight and add rank-r adapters on each block's query and value projections
        and a rank-emb_r adapter on the (tied) token embedding, which input and output head share
        (so merging stays exact); returns the number of adapter parameters."""
        for p in self.parameters():
            p.requires_grad_(False)
        C, dev = self.config.d_model, self.wte.weight.device
        for block in self.blocks:
            block.attn.lora_q, block.attn.lora_v = LoRA(C, C, r).to(dev), LoRA(C, C, r).to(dev)
        self.lora_emb = LoRA(self.vocab_size, C, emb_r).to(dev) if emb_r > 0 else None
        return sum(p.numel() for n, p in self.named_parameters() if ".lora" in n or n.startswith("lora"))

    def merge_lora(self) -> None:
        """Fold the adapters into the weights and drop them (the model is a plain GPT again)."""
        C = self.config.d_model
        with torch.no_grad():
            for block in self.blocks:
                a = block.attn
                if a.lora_q is not None:
                    a.c_attn.weight[:C] += a.lora_q.delta()
                    a.c_attn.weight[2 * C :] += a.lora_v.delta()
                    a.lora_q = a.lora_v = None
            if getattr(self, "lora_emb", None) is not None:
                self.wte.weight += self.lora_emb.delta()
        self.lora_emb = None
        for p in self.parameters():
            p.requires_grad_(True)

    def _token_weight(self) -> torch.Tensor:
        lora = getattr(self, "lora_emb", None)
        return self.wte.weight if lora is None else self.wte.weight + lora.delta()

    def get_input_embeddings(self) -> nn.Embedding:
        """The input token embedding (named as in Hugging Face; the V-probe adds a low-rank update to
        its output; the tied output head reads the weight directly and is unaffected)."""
        return self.wte

    def new_cache(
        self,
        batch: int,
        max_len: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> KVCache:
        """A static KV cache for `batch` rows of up to `max_len` absolute indices, in `dtype`; by
        default what the attention computes: the autocast dtype when made under autocast (bf16 keys
        and values: half the bytes each decode step reads), else the weights' dtype."""
        p = self.wte.weight
        shape = (self.n_layer, batch, self.config.n_head, max_len, self.config.d_model // self.config.n_head)
        device = p.device if device is None else device
        if dtype is None:
            kind = torch.device(device).type
            dtype = torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else p.dtype
        return KVCache(
            torch.zeros(shape, device=device, dtype=dtype), torch.zeros(shape, device=device, dtype=dtype)
        )

    def forward(
        self,
        idx: torch.Tensor,
        cache: KVCache | None = None,
        start: int = 0,
        pad: torch.Tensor | None = None,
        return_hidden: bool = False,
        head: bool = True,
    ):
        B, T = idx.shape
        dev = idx.device
        if cache is not None:
            if start + T > cache.max_len:
                raise ValueError(f"cache holds {cache.max_len} positions; asked to write {start}..{start + T - 1}")
            if pad is None:
                pad = cache.pad
            elif cache.pad is None or start == 0:
                cache.pad = pad
        q_abs = torch.arange(start, start + T, device=dev)  # absolute indices of the queries
        if pad is not None:
            pad = pad.to(dev)
            pos = (q_abs[None, :] - pad[:, None]).clamp_(min=0)  # [B, T]
        else:
            pos = q_abs[None, :]  # [1, T]
        if cache is not None:
            # Rows of a batched decode that already finished may run past block_size; their output
            # is discarded, so clamping only keeps the embedding lookup in range.
            pos = pos.clamp(max=self.block_size - 1)
        elif pad is None and start + T > self.block_size:
            raise ValueError(f"sequence of {start + T} positions exceeds block_size={self.block_size}")

        # Attention mask. Fast path: plain causal attention over exactly the current tokens.
        mask, is_causal = None, False
        k_start = 0 if cache is not None else start  # absolute index of the first key
        if pad is None and k_start == start:
            is_causal = T > 1
        elif pad is None and T == 1:
            pass  # a single new query attends to the whole cache
        else:
            k_abs = torch.arange(k_start, start + T, device=dev)  # [L]
            mask = k_abs[None, :] <= q_abs[:, None]  # [T, L] causal
            if pad is not None:
                real = k_abs[None, None, :] >= pad[:, None, None]  # [B, 1, L]
                # a padded query attends to itself only (its output is never used; avoids NaN rows)
                mask = mask[None] & (real | (k_abs[None, None, :] == q_abs[None, :, None]))
                mask = mask[:, None]  # [B, 1, T, L]

        lora_emb = getattr(self, "lora_emb", None)
        x = self.wte(idx) if lora_emb is None else F.embedding(idx, self._token_weight())
        rope = None
        if self.wpe is not None:
            x = x + self.wpe(pos)
        else:
            rope = rope_tables(pos, self.inv_freq)
        x = self.drop(x)
        hidden = [] if return_hidden else None
        for block in self.blocks:
            if hidden is not None:
                hidden.append(x)
            x = block(x, rope, mask, is_causal, cache, start)
        if hidden is not None:
            hidden.append(x)
        if not head:  # only the residual stream is wanted
            logits = None
        elif lora_emb is None:
            logits = self.lm_head(self.ln_f(x))
        else:  # the tied head reads the updated embedding too
            logits = F.linear(self.ln_f(x), self._token_weight())
        return (logits, hidden) if return_hidden else logits

