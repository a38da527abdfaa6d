"""Solution templates (Part 2.1 §2.4 / Remark D.7): the solution with instance-parameter names → "Inst",
abstract-parameter names → "Inter", numbers → "0" and variables renamed in order of first appearance.

    Define Inst as a; so a = 0. Define Inst as b; so b = a + ... = 0 + 0 = 0. ...

Two problems share a template iff their solutions differ only in names, numbers and letters. The bin is
int(sha256(template)) mod 23 (the paper trains on bins < 17 and tests on the rest; this harness splits on
a hash of the template instead, see task.py).
"""

from __future__ import annotations

import hashlib
from typing import Sequence

from .tokens import CAT0, ITEM0, LET0, LETTERS, N_VOCAB, NUM0, SURF_SP, W_DEFINE


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


def template_bin(template: str) -> int:
    return int.from_bytes(hashlib.sha256(template.encode()).digest(), "big") % 23
