"""Solution templates (Part 2.1 §2.4 / Remark D.7) and the official train/test bins.

The template is the solution with instance-parameter names → "Inst", abstract-parameter names → "Inter",
numbers → "0" and variables renamed a, b, …, z, A, …, Z in order of first appearance:

    Define Inst as a; so a = 0. Define Inst as b; so b = a + ... = 0 + 0 = 0. ...

Two problems share a template iff their solutions differ only in names, numbers and letters.

The official code (`tools.to_sketch` / `to_hash`) writes the same template with a leading space and every
";" turned into "." (" Define Inst as a. so a = 0. ..."), and bins it as int(sha256(sketch)) mod 23; its
constants train on bins 0..15 and test on bins 16..22 (the paper's text says < 17 / ≥ 17).
`official_sketch` reproduces that string exactly, so `template_bin` is the official bin of a solution.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

from .tokens import CAT0, ITEM0, LET0, LETTERS, N_VOCAB, NUM0, SURF_SP, W_DEFINE

N_BINS = 23
TRAIN_BINS = tuple(range(16))  # the official const/params.py
TEST_BINS = tuple(range(16, 23))


def template_of(sentences: Sequence[Sequence[int]]) -> str:
    """The template of solution sentences given as token ids (each "Define <name> as ...")."""
    canon: dict[int, str] = {}
    out: list[str] = []
    sp = SURF_SP
    for ids in sentences:
        j = 0
        n = len(ids)
        while j < n:
            t = ids[j]
            if t == W_DEFINE and j + 3 < n:
                out.append(" Define")
                out.append(" Inter" if CAT0 <= ids[j + 3] < ITEM0 else " Inst")
                j += 4
                continue
            if LET0 <= t < LET0 + 52:
                c = canon.get(t)
                if c is None:
                    c = canon[t] = " " + LETTERS[len(canon) % 52]
                out.append(c)
            elif NUM0 <= t < NUM0 + 23:
                out.append(" 0")
            elif 0 <= t < N_VOCAB:
                out.append(sp[t])
            j += 1
    return "".join(out)[1:]


def official_sketch(template: str) -> str:
    """The official to_sketch string of a solution, from its template (`template_of`)."""
    return " " + template.replace(";", ".")


def sketch_bin(sketch: str) -> int:
    """int(sha256(sketch)) mod 23, the official to_hash."""
    return int.from_bytes(hashlib.sha256(sketch.encode()).digest(), "big") % N_BINS


def template_bin(template: str) -> int:
    """The official bin of a solution, from its template."""
    return sketch_bin(official_sketch(template))


def bin_position(b: int, first_eval_bin: int = TEST_BINS[0]) -> float:
    """The place in [0, 1) of the split space for bin b: the bins first_eval_bin, first_eval_bin+1, …
    (mod 23) come first, each 1/23 wide (centre of its slot), so eval_fraction = 7/23 with the default
    first_eval_bin = 16 makes exactly the official test bins 16..22 the eval side."""
    return (((b - first_eval_bin) % N_BINS) + 0.5) / N_BINS


_DEFINE_RE = re.compile(r"Define (.+?) as ([A-Za-z])(?=;)")
_NUMBER_RE = re.compile(r"\b(?:1\d|2[0-2]|[1-9])\b")
_LETTER_SET = frozenset(LETTERS)


def sketch_of_text(solution: str, is_abstract_name) -> str:
    """The official sketch of any solution text ("Define <name> as v; ...", without "Answer"), given a
    predicate telling whether a parameter name is abstract: names → Inst/Inter, numbers 1..22 → 0,
    ";" → ".", then, in the sentences split on ". " and their words split on " ", every one-letter word
    renamed in order of first appearance (to compare with the official to_sketch)."""
    text = _DEFINE_RE.sub(lambda m: f"Define {'Inter' if is_abstract_name(m.group(1)) else 'Inst'} as "
                          f"{m.group(2)}", solution.strip())
    text = _NUMBER_RE.sub("0", " " + text).replace(";", ".")
    canon: dict[str, str] = {}
    sentences = []
    for sent in text.split(". "):
        words = sent.split(" ")
        for j, w in enumerate(words):
            if w in _LETTER_SET:
                c = canon.get(w)
                if c is None:
                    c = canon[w] = LETTERS[len(canon) % 52]
                words[j] = c
        sentences.append(" ".join(words))
    return ". ".join(sentences)
