"""Word-level iGSM vocabulary: one token per item name, category name, number 0..22, letter, word,
operator and punctuation mark, plus [BACK] and the segment markers.

The vocabulary is fixed (built from names.py and the fixed words below), the same for every config, so
models trained under different presets are comparable. Text ↔ ids is exact for every text the generator
writes: tokens are joined by single spaces, except that ".", ";", ",", "?", ":" and "'s" attach to the
previous token and the segment markers print nothing.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from .names import CATEGORIZATIONS, NAMES

MARKERS = ["<Q>", "<S>", "<A>", "<EOS>"]
BACK = "[BACK]"
PUNCT = [".", ";", ",", "?", "'s", ":"]
OPS = ["+", "-", "*", "="]
WORDS = [
    "The", "number", "of", "each", "equals", "the", "sum", "difference", "and", "more", "than", "times",
    "as", "much", "How", "many", "does", "have", "Define", "so", "Answer",
]
NUMBERS = [str(i) for i in range(23)]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
CATEGORIES = [c for chain in CATEGORIZATIONS for c in chain]
ITEMS = [name for cat in CATEGORIES for sub in NAMES[cat].values() for name in sub]

VOCAB: list[str] = MARKERS + [BACK] + PUNCT + OPS + WORDS + NUMBERS + LETTERS + CATEGORIES + ITEMS
TOKEN_ID: dict[str, int] = {t: i for i, t in enumerate(VOCAB)}
if len(TOKEN_ID) != len(VOCAB):  # pragma: no cover - guards names.py
    dup = sorted({t for t in VOCAB if VOCAB.count(t) > 1})
    raise ImportError(f"iGSM vocabulary has duplicate tokens: {dup[:10]}")

Q_ID, S_ID, A_ID, EOS_ID = (TOKEN_ID[m] for m in MARKERS)
BACK_ID = TOKEN_ID[BACK]
DOT, SEMI, COMMA, QMARK, APOS, COLON = (TOKEN_ID[p] for p in PUNCT)
PLUS, MINUS, STAR, EQ = (TOKEN_ID[o] for o in OPS)
(W_THE, W_NUMBER, W_OF, W_EACH, W_EQUALS, W_the, W_SUM, W_DIFF, W_AND, W_MORE, W_THAN, W_TIMES, W_AS,
 W_MUCH, W_HOW, W_MANY, W_DOES, W_HAVE, W_DEFINE, W_SO, W_ANSWER) = (TOKEN_ID[w] for w in WORDS)
NUM0 = TOKEN_ID["0"]  # number n is NUM0 + n
LET0 = TOKEN_ID["a"]  # letter k of LETTERS is LET0 + k
CAT0 = TOKEN_ID[CATEGORIES[0]]
ITEM0 = TOKEN_ID[ITEMS[0]]
N_VOCAB = len(VOCAB)

_NOSPACE = set(PUNCT)
#: the surface of each token with the space that precedes it ("" for markers)
SURF_SP: list[str] = [
    "" if t in MARKERS else (t if t in _NOSPACE else " " + t) for t in VOCAB
]
_MULTI: dict[str, int] = {t: TOKEN_ID[t] for t in CATEGORIES + ITEMS if " " in t}
_MAX_WORDS = max(len(t.split(" ")) for t in VOCAB)
_SPLIT_RE = re.compile(r"'s|[.;,?:]|[^\s.;,?:']+|'")  # names contain no apostrophe (names.py)


def detokenize(ids: Iterable[int]) -> str:
    """Ids → text (unknown ids print as "?")."""
    sp = SURF_SP
    n = N_VOCAB
    text = "".join([sp[i] if 0 <= i < n else " ?" for i in ids])
    return text[1:] if text.startswith(" ") else text


def tokenize(text: str) -> list[int]:
    """Text → ids: greedy longest match of multi-word names, then single tokens. Raises ValueError on
    text outside the vocabulary."""
    pieces = _SPLIT_RE.findall(text)
    out: list[int] = []
    j = 0
    n = len(pieces)
    get = TOKEN_ID.get
    while j < n:
        hit = None
        for L in range(min(_MAX_WORDS, n - j), 1, -1):
            tid = _MULTI.get(" ".join(pieces[j : j + L]))
            if tid is not None:
                hit = tid
                j += L
                break
        if hit is None:
            hit = get(pieces[j])
            if hit is None:
                raise ValueError(f"iGSM: {pieces[j]!r} is not in the vocabulary")
            j += 1
        out.append(hit)
    return out


def decode_completion(ids: Sequence[int]) -> str:
    """Completion ids → text, cut at <EOS>."""
    out = []
    for i in ids:
        i = int(i)
        if i == EOS_ID:
            break
        out.append(i)
    return detokenize(out)
