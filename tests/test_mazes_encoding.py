"""Tokens, tags and spans of encoded maze samples."""

from __future__ import annotations

import random

import numpy as np
from rich.console import Console
from rich.text import Text

from harness.corruptors.fallible import Fallible
from harness.data import LossPolicy, pack
from harness.interfaces import (
    Step,
    Tag,
)

from tests.mazes_helpers import problems, task



def check_encoding(t, p, trace, mask_walls=False):
    enc = t.encode(p, trace)
    P = enc.prompt_len
    assert enc.tokens.dtype == np.int64 and enc.tags.dtype == np.int8
    assert len(enc.tokens) == len(enc.tags)
    vocab = t.vocab
    assert "".join(vocab[i] for i in enc.tokens[:P]) == p.key + ";"
    assert enc.tokens[P - 1] == t.end_token
    assert np.array_equal(t.encode_prompt(p), enc.tokens[:P])
    assert t.prompt_text(p) == p.key + ";"
    text = "".join(s.text for s in trace)
    assert t.decode(enc.tokens[P:].tolist()) == text
    assert t.decode(enc.tokens[P:]) == text
    assert t.trace_text(p, trace) == text
    assert "".join(vocab[i] for i in enc.tokens[P:]) == text + ";\n"
    assert list(enc.tags[-2:]) == [Tag.ORACLE, Tag.ORACLE]
    assert len(enc.step_spans) == len(trace)
    for (a, b), s in zip(enc.step_spans, trace):
        assert list(enc.tokens[a:b]) == t.step_token_ids(s)
        assert set(enc.tags[a:b].tolist()) == {int(s.tag)}
    if trace:
        assert enc.step_spans[0][0] == P and enc.step_spans[-1][1] == len(enc.tokens) - 2
    prompt_tags = enc.tags[:P]
    if mask_walls:
        for tok, tag in zip(enc.tokens[:P].tolist(), prompt_tags.tolist()):
            assert tag == (Tag.PROMPT_NOLOSS if vocab[tok] in (" ", "#", ".") else Tag.PROMPT)
    else:
        assert (prompt_tags == Tag.PROMPT).all()
    return enc


def test_encode_roundtrip_with_mistakes():
    for mask in (False, True):
        t = task(mask_walls=mask)
        f = Fallible(Fallible.Config(p=0.8))
        rng = random.Random(2)
        for p in problems(3, 1500):
            check_encoding(t, p, f.corrupt(t, p, t.oracle(p), rng), mask)
            check_encoding(t, p, t.oracle(p), mask)


def test_multi_token_steps_use_general_path():
    """A retry-style trace with [BACK] steps still encodes consistently."""
    t = task()
    assert t.back_token == 13 and t.vocab[13] == "[BACK]" and len(t.vocab) == 14
    p = next(p for p in problems(4, 200) if p.payload.wrong)
    i = min(p.payload.wrong)
    oracle = t.oracle(p)
    bad = p.payload.wrong[i][0]
    trace = oracle[:i] + [bad.as_(Tag.MISTAKE, True), Step("[BACK]", None, Tag.CORRECTION)] + oracle[i:]
    enc = check_encoding(t, p, trace)
    assert t.decode(enc.tokens[enc.prompt_len :]) == "".join(s.text for s in trace)
    assert enc.tokens[enc.step_spans[i + 1][0]] == 13


def test_vocab_order_and_decode():
    t = task()
    assert list(t.vocab[:13]) == [" ", "#", "s", "e", ".", ";", "S", "N", "E", "W", "\n", "c", "m"]
    assert t.end_token == 5
    assert t.decode([7, 8, 99, -1, 6, 5, 7]) == "NE??S"
    assert t.step_token_ids(Step("W")) == [9]


def test_pack_with_mask_walls():
    t = task(mask_walls=True)
    rng = random.Random(0)
    encs = [t.encode(p, t.oracle(p)) for p in t.sample_batch(rng, 50)]
    data = pack(encs, len(t.vocab), LossPolicy())
    tags = np.concatenate([e.tags for e in encs])
    toks = data.tokens
    assert not data.loss[np.isin(toks, [0, 1]) & (tags == Tag.PROMPT_NOLOSS)].any()
    assert data.loss[tags == Tag.ORACLE].all()


def test_render():
    t = task()
    f = Fallible(Fallible.Config(p=1.0))
    rng = random.Random(0)
    p = next(p for p in problems(5, 200) if p.payload.wrong)
    out = t.render(p, f.corrupt(t, p, t.oracle(p), rng))
    assert isinstance(out, Text)
    console = Console(width=120, record=True, color_system=None)
    console.print(out)
    s = console.export_text()
    assert "s" in s and "e" in s and "mistake" in s
