"""LoRA fine-tuning (Physics of LMs 2.2's recipe: rank r on query/value, 2r on the embedding): only
the adapters train (the base weights stay bit-identical), the adapter count is what r says, merging
gives the logits of the unmerged model, a LoRA fit leaves a plain checkpoint, and through the CLI a
LoRA fine-tune, a full fine-tune and a double-time cell run as one grid."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch

from harness import TrainData, component


def _gpt(L=2, vocab=20, block=32):
    fam = component("model", f"gpt-{L}L", budget="tiny")
    torch.manual_seed(0)
    return fam.build(vocab_size=vocab, block_size=block)


@pytest.mark.parametrize("r, emb_r", [(2, 4), (4, 8), (3, 0)])
def test_only_adapters_train_and_their_count_matches_r(r, emb_r):
    model = _gpt()
    base = {k: v.clone() for k, v in model.state_dict().items()}
    n = model.add_lora(r, emb_r)
    C, L, V = model.config.d_model, model.n_layer, model.vocab_size
    assert n == L * 4 * r * C + (emb_r * (V + C))
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert sum(p.numel() for p in trainable) == n
    opt = torch.optim.AdamW(trainable, lr=1e-2)
    x = torch.randint(0, V, (8, 16))
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[:, :-1]).reshape(-1, V), x[:, 1:].reshape(-1)).backward()
        opt.step()
    now = model.state_dict()
    assert all(torch.equal(base[k], now[k]) for k in base)  # bit-identical base weights
    assert any(float(b.abs().sum()) > 0 for k, b in now.items() if k.endswith(".B"))  # the adapters moved


def test_merging_gives_the_same_logits():
    model = _gpt()
    model.add_lora(4, 8)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".lora" in name or name.startswith("lora"):
                p.normal_(0, 0.05)  # a non-trivial adapter
    x = torch.randint(0, 20, (4, 12))
    before = model(x)
    model.merge_lora()
    after = model(x)
    assert torch.allclose(before, after, atol=1e-5)
    assert set(model.state_dict()) == set(_gpt().state_dict())  # a plain model again: the checkpoint loads
    assert model.lm_head.weight is model.wte.weight  # still tied


def test_a_lora_fit_merges_and_reports_its_trainable_parameters():
    trainer = component("trainer", "pretrain", budget="tiny", lora=2, lr=1e-2)
    model = _gpt(L=1, block=256)
    base = {k: v.clone() for k, v in model.state_dict().items()}
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 20, 2000)
    data = TrainData(tokens=tokens, loss=np.ones(len(tokens), bool), sample_starts=np.arange(0, 2000, 20),
                     n_problems=100, n_distinct=100, vocab_size=20)
    from harness import get_budget

    res = trainer.fit(model, data, get_budget("tiny"), torch.device("cpu"), seed=0)
    assert res.metrics["trainable_params"] == 1 * 4 * 2 * model.config.d_model + 4 * (20 + model.config.d_model)
    assert set(model.state_dict()) == set(base) and all(p.requires_grad for p in model.parameters())
    changed = [k for k in base if not torch.equal(base[k], model.state_dict()[k])]
    # merged adapters touch exactly the attention q/v weights and the tied embedding
    assert changed and all(k.endswith("attn.c_attn.weight") or k in ("wte.weight", "lm_head.weight") for k in changed)


@pytest.mark.slow
def test_lora_full_and_double_time_cells_run_as_one_grid(tmp_path):
    from tests.plugin_dirs import run_cli

    base = "mazes(min_size=6,max_size=6)"
    spec = (f'{base}×fallible×gpt-1L×pretrain(init_from="{base}×oracle×gpt-1L",lora=2),'
            f'pretrain(init_from="{base}×oracle×gpt-1L"),pretrain(token_scale=2)')
    out = tmp_path / "run"
    r = run_cli("run", spec, "--budget", "tiny", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    res = pl.read_parquet(out / "results.parquet")
    assert res.height == 4 and set(res["status"]) == {"ok"}  # the shared parent once, three children
    lora = res.filter(pl.col("condition").str.contains("lora=2"))
    assert lora["trainable_params"][0] > 0
    double = res.filter(pl.col("condition").str.contains("token_scale=2"))
    single = res.filter(pl.col("condition").str.contains("init_from") & ~pl.col("condition").str.contains("lora"))
    assert double["tokens_seen"][0] == 2 * single["tokens_seen"][0]
    assert lora["init_from"][0] == single["init_from"][0] is not None  # one parent shared by both fine-tunes
