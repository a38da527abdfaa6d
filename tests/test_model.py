"""The GPT model: parameter count, KV cache and left padding equal the full forward, config errors."""

import pytest
import torch
from pydantic import ValidationError

from harness.budgets import get_budget
from harness_models.family import GPTFamily
from harness_models.model import GPT, GPTConfig


def tiny(pos="learned", vocab=17, block=48, n_layer=2):
    torch.manual_seed(0)
    return GPT(GPTConfig(n_layer=n_layer, d_model=32, n_head=4, dropout=0.0, pos=pos), vocab, block).eval()


def test_param_count_gpt6l_matches_mazegpt():
    m = GPT(GPTConfig(n_layer=6), vocab_size=16, block_size=512)
    target = 12 * 384**2 * 6
    assert abs(m.num_params() - target) / target < 0.02
    assert m.num_params(non_embedding=False) > m.num_params()
    assert m.lm_head.weight is m.wte.weight
    assert m.block_size == 512


def test_family_build_and_defaults():
    fam = GPTFamily(GPTFamily.Config(n_layer=3, **GPTFamily.budget_defaults(get_budget("smoke"))))
    m = fam.build(vocab_size=11, block_size=40)
    assert m.block_size == 40 and m.config.d_model == 64
    assert GPTFamily.budget_defaults(get_budget("default")) == {}
    m2 = GPTFamily(GPTConfig(n_layer=1, d_model=32, n_head=4, block_size=24)).build(11, 40)
    assert m2.block_size == 24


@pytest.mark.parametrize("pos", ["learned", "rope"])
def test_kv_cache_matches_full_forward(pos):
    m = tiny(pos)
    x = torch.randint(0, 17, (3, 30))
    with torch.no_grad():
        full = m(x)
        cache = m.new_cache(3, 30)
        parts = [m(x[:, :9], cache=cache, start=0)]
        parts.append(m(x[:, 9:12], cache=cache, start=9))  # a multi-token chunk mid-cache
        for t in range(12, 30):
            parts.append(m(x[:, t : t + 1], cache=cache, start=t))
    torch.testing.assert_close(torch.cat(parts, 1), full, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("pos", ["learned", "rope"])
def test_left_padding_matches_single_rows(pos):
    m = tiny(pos)
    lens = [20, 13, 1, 7]
    width = max(lens)
    rows = [torch.randint(0, 17, (n,)) for n in lens]
    idx = torch.full((len(lens), width), 5, dtype=torch.long)
    for b, r in enumerate(rows):
        idx[b, width - len(r) :] = r
    pad = torch.tensor([width - n for n in lens])
    with torch.no_grad():
        padded = m(idx, pad=pad)
        cache = m.new_cache(len(lens), width + 3)
        cached = m(idx, cache=cache, start=0, pad=pad)
        nxt = torch.randint(0, 17, (len(lens), 3))
        steps = [m(nxt[:, i : i + 1], cache=cache, start=width + i) for i in range(3)]  # pad remembered
        for b, r in enumerate(rows):
            single = m(torch.cat([r, nxt[b]])[None])[0]
            torch.testing.assert_close(padded[b, width - len(r) :], single[: len(r)], atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(cached[b, width - len(r) :], single[: len(r)], atol=1e-5, rtol=1e-4)
            got = torch.cat([s[b] for s in steps])
            torch.testing.assert_close(got, single[len(r) :], atol=1e-5, rtol=1e-4)
        assert torch.isfinite(padded).all()


def test_return_hidden():
    m = tiny(n_layer=3)
    logits, hidden = m(torch.randint(0, 17, (2, 10)), return_hidden=True)
    assert logits.shape == (2, 10, 17)
    assert len(hidden) == 4 and all(h.shape == (2, 10, 32) for h in hidden)


def test_too_long_sequence_is_an_error():
    m = tiny(block=16)
    with pytest.raises(ValueError, match="block_size"):
        m(torch.zeros(1, 17, dtype=torch.long))


def test_invalid_config_names_the_field():
    with pytest.raises(ValidationError, match="n_head"):
        GPTConfig(n_layer=2, d_model=384, n_head=5)
    with pytest.raises(ValidationError, match="d_model"):
        GPTConfig(n_layer=2, d_model=100, n_head=3)
    with pytest.raises(ValidationError, match="dropout"):
        GPTConfig(n_layer=2, dropout=1.5)
    with pytest.raises(ValidationError, match="n_embd"):
        GPTConfig(n_layer=2, n_embd=384)  # extra fields are forbidden
