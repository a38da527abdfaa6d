"""Scoring solutions written by any model or tool from the problem text alone (`harness score`).

Input is JSON Lines: one JSON object per line with `problem` and `solution` (strings) and optionally
`answer` (an integer or a string) and `id` (a string, a number, true/false or null). The file is read as
bytes and split on "\\n" only (str.splitlines() would also cut valid JSON at U+2028 / U+0085); blank lines
are skipped and a UTF-8 byte-order mark at the start is allowed.

Three outcomes per line:

* **scored**: the task's verifier judged it, right or wrong (`{"line", "correct", "reason", "kind",
  "details", "id"}`); these make n.
* **bad line**: the line is not a record to score (not UTF-8, not JSON, not an object, a missing field, a
  field of the wrong type, JSON nested too deeply, an integer with too many digits): written as
  `{"line": k, "bad_line": "why"}` (no "correct" field: it is no answer, right or wrong), counted apart
  and not in n.
* a verifier that raises on an item fails that item, with the exception as its reason.

Whole-file problems raise `ScoreInputError` (one line of text) and write nothing: a file that cannot be
read (missing, a directory), that is not UTF-8 text (UTF-16/32 by its byte-order mark, or NUL bytes in its
first 8 KiB: binary), that holds no records, or in which no line is a record (all lines bad).

Wrong answers are counted by **kind**: the verifier's own `details["kind"]` when it gives one (a short,
stable name of the cause, e.g. igsm's "wrong value"), else the reason with its specifics normalised away
(quoted text becomes '…', every number N), so "sentence 3: ... 7" and "sentence 5: ... 9" count as one.

The verdicts go to a path the caller chooses (`resolve_out`: by default `<input stem>.verdicts.jsonl` in
the working directory, never beside the input), written to a temporary file in the same folder and moved
into place with os.replace, so an existing symlink there is replaced, never followed.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.interfaces import Task, Verdict

#: how much of the file's start is looked at for NUL bytes (binary, UTF-16/32 without a byte-order mark)
SNIFF_BYTES = 8192
_BOMS = (  # longest first: UTF-32's LE mark starts with UTF-16's
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_UTF8_BOM = b"\xef\xbb\xbf"
#: the most a kind (a reason's group) is long
KIND_CHARS = 80


class ScoreInputError(Exception):
    """A whole-file problem with the input or the output path: one line of text, nothing written."""


@dataclass
class ScoreSummary:
    n: int = 0
    n_correct: int = 0
    #: wrong answers counted by kind (see `reason_kind`)
    reasons: Counter = field(default_factory=Counter)
    #: the first wrong answer of each kind: (line, reason)
    examples: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: lines that are no record to score: (line, why), in file order
    bad_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.n_correct / max(1, self.n)

    @property
    def n_bad(self) -> int:
        return len(self.bad_lines)


# ------------------------------------------------------------------------------------------ kinds
_QUOTED_RE = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_NUMBER_RE = re.compile(r"[-+]?\d+(?:\.\d+)?")
_SPACES_RE = re.compile(r"\s+")


def normalise_reason(reason: str) -> str:
    """A reason with its specifics taken out: quoted text becomes '…', every number N, runs of spaces
    one space; cut to KIND_CHARS characters."""
    s = str(reason)[: 4 * KIND_CHARS]
    s = _QUOTED_RE.sub("'…'", s)
    s = _NUMBER_RE.sub("N", s)
    s = _SPACES_RE.sub(" ", s).strip()
    return s[:KIND_CHARS] or "(no reason given)"


def reason_kind(verdict: Verdict) -> str:
    """What a wrong verdict is counted under: the verifier's `details["kind"]` when it is a non-empty
    string, else its normalised reason."""
    details = verdict.details if isinstance(verdict.details, dict) else {}
    kind = details.get("kind")
    if isinstance(kind, str) and kind.strip():
        return _SPACES_RE.sub(" ", kind).strip()[:KIND_CHARS]
    return normalise_reason(verdict.reason)


# ------------------------------------------------------------------------------------------ input
def read_input(src: Path) -> list[bytes]:
    """The lines of `src` (split on b"\\n" only). Raises ScoreInputError for a file that cannot be read or
    is not UTF-8 text."""
    src = Path(src)
    try:
        data = src.read_bytes()
    except IsADirectoryError:
        raise ScoreInputError(f"{src} is a directory, not a JSON Lines file") from None
    except FileNotFoundError:
        raise ScoreInputError(f"{src} does not exist") from None
    except OSError as exc:
        raise ScoreInputError(f"cannot read {src}: {exc.strerror or exc}") from None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            raise ScoreInputError(
                f"{src} is {enc} text (it starts with a {enc} byte-order mark); `harness score` reads UTF-8 "
                f"JSON Lines: convert it first, e.g. iconv -f {enc} -t UTF-8 {src} > {src.stem}.utf8.jsonl")
    if b"\x00" in data[:SNIFF_BYTES]:
        raise ScoreInputError(
            f"{src} holds NUL bytes: a binary file, or UTF-16/32 text without a byte-order mark, not UTF-8 "
            "JSON Lines")
    return data.removeprefix(_UTF8_BOM).split(b"\n")


class _BadLine(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _BadLine(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise _BadLine(f"the number {text[:20]} is too large for a float")
    return v


def _type_name(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", int: "an integer",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def parse_line(raw: bytes) -> dict[str, Any]:
    """The record on one line: a JSON object with `problem` and `solution` (strings), `answer` (absent,
    null, an integer or a string) and `id` (absent or a JSON scalar). Raises _BadLine with the reason."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadLine(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        item = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise _BadLine(f"not JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise _BadLine("JSON nested too deeply to read") from None
    except ValueError as exc:  # int() refuses more than sys.get_int_max_str_digits() digits
        if "digits" in str(exc):
            raise _BadLine(f"an integer with more than {sys.get_int_max_str_digits():,} digits") from None
        raise _BadLine(f"not JSON that can be read ({exc})") from None
    if not isinstance(item, dict):
        raise _BadLine(f"not a JSON object (it is {_type_name(item)})")
    missing = [k for k in ("problem", "solution") if k not in item]
    if missing:
        raise _BadLine("missing field" + ("s " if len(missing) > 1 else " ") + " and ".join(map(repr, missing)))
    for k in ("problem", "solution"):
        if not isinstance(item[k], str):
            raise _BadLine(f"field {k!r} must be a string, not {_type_name(item[k])}")
    ans = item.get("answer")
    if ans is not None and (isinstance(ans, bool) or not isinstance(ans, (int, str))):
        raise _BadLine(f"field 'answer' must be an integer or a string, not {_type_name(ans)}")
    if "id" in item and isinstance(item["id"], (dict, list)):
        raise _BadLine(f"field 'id' must be a string, a number, true/false or null, not {_type_name(item['id'])}")
    return item


# ------------------------------------------------------------------------------------------ scoring
def score_record(task: Task, lineno: int, raw: bytes) -> dict[str, Any] | None:
    """The verdict record of one input line (None for a blank line): a scored record with "correct", or
    a bad line with "bad_line" (why). Raises NotImplementedError if the task cannot score from text."""
    if not raw.strip():
        return None
    try:
        item = parse_line(raw)
    except _BadLine as exc:
        return {"line": lineno, "bad_line": str(exc)}
    rec: dict[str, Any] = {"line": lineno}
    if "id" in item:
        rec["id"] = item["id"]
    try:
        v = task.verify_text(item["problem"], item["solution"], item.get("answer"))
        if not isinstance(v, Verdict):
            raise TypeError(f"verify_text returned {type(v).__name__}, not a Verdict")
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - a verifier bug is reported per item
        rec.update(correct=False, reason=f"verifier raised {type(exc).__name__}: {exc}",
                   kind=f"verifier raised {type(exc).__name__}")
        return rec
    rec.update(correct=bool(v.correct), reason=str(v.reason))
    if not v.correct:
        rec["kind"] = reason_kind(v)
    rec["details"] = v.details
    return rec


def _dumps(rec: dict[str, Any]) -> str:
    try:
        return json.dumps(rec, default=str, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:  # details a verifier filled with anything
        rec = {**rec, "details": {"unserialisable": f"{type(exc).__name__}: {exc}"}}
        return json.dumps(rec, default=str)


def score_lines(task: Task, lines: list[bytes]) -> Iterator[dict[str, Any]]:
    for lineno, raw in enumerate(lines, 1):
        rec = score_record(task, lineno, raw)
        if rec is not None:
            yield rec


def score_file(task: Task, src: Path, out: Path) -> ScoreSummary:
    """Score every line of `src` and write one record per non-blank line to `out` (JSONL, atomically).

    Raises ScoreInputError for a whole-file problem (nothing is written then), NotImplementedError if the
    task cannot score from text, OSError if `out` cannot be written."""
    lines = read_input(src)
    summary = ScoreSummary()
    with _atomic_text(Path(out)) as f:
        for rec in score_lines(task, lines):
            if "bad_line" in rec:
                summary.bad_lines.append((rec["line"], rec["bad_line"]))
            else:
                summary.n += 1
                if rec["correct"]:
                    summary.n_correct += 1
                else:
                    kind = rec["kind"]
                    summary.reasons[kind] += 1
                    summary.examples.setdefault(kind, (rec["line"], rec["reason"]))
            f.write(_dumps(rec) + "\n")
        if summary.n == 0:
            if summary.bad_lines:
                line, why = summary.bad_lines[0]
                raise ScoreInputError(
                    f"no line of {src} is a record to score: {summary.n_bad} bad line"
                    f"{'s' if summary.n_bad != 1 else ''}, the first line {line}: {why}")
            raise ScoreInputError(f"{src} holds no records (it is empty or blank)")
    return summary


# ------------------------------------------------------------------------------------------ output
def default_out(src: Path) -> Path:
    """`<input stem>.verdicts.jsonl` in the working directory (never beside the input: it may be a
    folder we must not write to, /dev/null among them)."""
    stem = Path(src).stem or "scores"
    return Path(f"{stem}.verdicts.jsonl")


def resolve_out(src: Path, out: str | Path | None) -> Path:
    """The verdicts path: `out`, or `default_out(src)`. Raises ScoreInputError for a path that is a
    directory, that is not a regular file (a device, a pipe; a symlink to one) other than os.devnull (which
    discards the verdicts), whose folder does not exist, or that is the input itself."""
    given = out is not None and str(out) != ""
    path = Path(out) if given else default_out(src)
    what = f"--out {path}" if given else f"the verdicts file {path} (in the working directory; --out sets another)"
    if given and str(out).endswith(("/", os.sep)):
        raise ScoreInputError(f"--out {out} names a folder; give a file path, e.g. {path / default_out(src)}")
    if _is_devnull(path):
        return path
    parent = path.parent
    if not parent.is_dir():
        raise ScoreInputError(f"{what}: the folder {parent} does not exist"
                              if not parent.exists() else f"{what}: {parent} is not a folder")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise ScoreInputError(f"{what}: {exc.strerror or exc}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise ScoreInputError(f"{what} is a directory; give a file path, e.g. {path / default_out(src)}")
        if stat.S_ISLNK(st.st_mode):
            try:
                target = os.stat(path)
            except OSError:
                target = None  # a dangling link: replaced like any other
            if target is not None and not stat.S_ISREG(target.st_mode):
                raise ScoreInputError(f"{what} is a symlink to something that is not a regular file "
                                      "(it would be replaced by a file, not written through)")
        elif not stat.S_ISREG(st.st_mode):
            raise ScoreInputError(f"{what} is not a regular file (a device, pipe or socket)")
    try:
        if Path(src).exists() and path.exists() and os.path.samefile(src, path):
            raise ScoreInputError(f"{what} is the input file itself")
    except OSError:
        pass
    return path


def _is_devnull(path: Path) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode) and os.path.samefile(path, os.devnull)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _atomic_text:
    """Write text to a temporary file beside `path` and os.replace it onto `path` at the end (which
    replaces a symlink at `path` rather than following it); on an exception the temporary file is removed
    and `path` left as it was. The folder must exist (it is not created). os.devnull is written as is."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp: str | None = None

    def __enter__(self):
        if _is_devnull(self.path):
            self.f = open(os.devnull, "w", encoding="utf-8")
            return self.f
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent or ".", prefix=f".{self.path.name}.", suffix=".tmp")
        self.f = os.fdopen(fd, "w", encoding="utf-8")
        return self.f

    def __exit__(self, exc_type, exc, tb):
        try:
            self.f.close()
            if exc_type is None and self.tmp is not None:
                os.chmod(self.tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a plain file gets the umask's
                os.replace(self.tmp, self.path)
        finally:
            if self.tmp is not None and os.path.exists(self.tmp):
                os.unlink(self.tmp)
        return False
