"""`harness score TASK FILE.jsonl`: scores text written by anyone, from the problem text alone.

Bad lines are counted apart from wrong answers; wrong answers are counted by kind; whole-file problems
get one error line and exit 2; the verdicts go to --out or the working directory, written atomically."""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.interfaces import Verdict
from harness.scoring import (
    ScoreInputError,
    normalise_reason,
    reason_kind,
    resolve_out,
    score_file,
    score_record,
)
from harness_igsm import IGSMConfig, IGSMTask
from harness_mazes import MazesConfig, MazesTask
from tests.plugin_dirs import run_cli

MAZES = MazesTask(MazesConfig())


def _maze_records(n: int, seed: int = 7, wrong_every: int = 4) -> list[dict]:
    out = []
    for i, p in enumerate(MAZES.sample_batch(random.Random(seed), n)):
        sol = "".join(s.text for s in MAZES.oracle(p))
        if wrong_every and i % wrong_every == 0:
            sol = sol + "N"  # overshoot: wall, grid edge or a wrong final tile
        out.append({"id": i, "problem": MAZES.prompt_text(p), "solution": sol})
    return out


GOOD = json.dumps(_maze_records(1, seed=1, wrong_every=0)[0]).encode()


def _write(path: Path, lines: list[bytes | str | dict]) -> Path:
    with open(path, "wb") as f:
        for x in lines:
            if isinstance(x, dict):
                x = json.dumps(x)
            f.write((x.encode() if isinstance(x, str) else x) + b"\n")
    return path


def _verdicts(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().split("\n") if line]


def _score(capsys, *argv: str) -> tuple[int, str]:
    rc = main(["score", *argv])
    cap = capsys.readouterr()
    return rc, " ".join((cap.out + cap.err).split())


# ------------------------------------------------------------------------------ bad lines apart from wrong answers
def test_score_mazes_jsonl_counts_a_bad_line_apart(tmp_path):
    # the case: 20 records and a line that is not JSON read 15/21 (the bad line a wrong answer)
    src = _write(tmp_path / "sols.jsonl", [*_maze_records(20), "not json"])
    r = run_cli("score", "mazes", str(src), cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr  # scored, but not every line was a record
    flat = " ".join(r.stdout.split())
    assert "15/20 correct" in flat and "Traceback" not in r.stdout + r.stderr
    assert "1 bad line (not records: not scored, not in n): line 21: not JSON (Expecting value at column 1)" in flat
    verdicts = _verdicts(tmp_path / "sols.verdicts.jsonl")
    assert len(verdicts) == 21
    by_id = {v["id"]: v for v in verdicts if "id" in v}
    for i in range(20):
        assert by_id[i]["correct"] == (i % 4 != 0), by_id[i]
    assert verdicts[-1] == {"line": 21, "bad_line": "not JSON (Expecting value at column 1)"}


BAD_LINES = [
    (b"not json", "not JSON (Expecting value at column 1)"),
    (b'{"problem": "x", "solution": "N"', "not JSON"),
    (b"[1, 2]", "not a JSON object (it is an array)"),
    (b'"a string"', "not a JSON object (it is a string)"),
    (b"17", "not a JSON object (it is an integer)"),
    (b"null", "not a JSON object (it is null)"),
    (b'{"solution": "N"}', "missing field 'problem'"),
    (b'{"id": 3}', "missing fields 'problem' and 'solution'"),
    (b'{"problem": 3, "solution": "N"}', "field 'problem' must be a string, not an integer"),
    (b'{"problem": "x", "solution": null}', "field 'solution' must be a string, not null"),
    (b'{"problem": "x", "solution": ["N"]}', "field 'solution' must be a string, not an array"),
    (b'{"problem": "x", "solution": "N", "answer": 1.5}', "field 'answer' must be an integer or a string"),
    (b'{"problem": "x", "solution": "N", "answer": true}', "field 'answer' must be an integer or a string"),
    (b'{"problem": "x", "solution": "N", "answer": {}}', "field 'answer' must be an integer or a string"),
    (b'{"problem": "x", "solution": "N", "id": {"a": 1}}', "field 'id' must be a string, a number"),
    (b'{"problem": "x", "solution": "N", "answer": NaN}', "NaN is not a JSON value"),
    (b'{"problem": "x", "solution": "N", "id": -Infinity}', "-Infinity is not a JSON value"),
    (b'{"problem": "x", "solution": "N", "id": 1e999}', "the number 1e999 is too large for a float"),
    (b"[" * 100_000, "JSON nested too deeply to read"),  # RecursionError in json
    (b'{"a": ' * 100_000, "JSON nested too deeply to read"),
    (b'{"problem": "x", "solution": "N", "answer": ' + b"7" * 5000 + b"}",  # int() refuses > 4,300 digits
     "an integer with more than 4,300 digits"),
    (b'{"problem": "\xff\xfe", "solution": "N"}', "not UTF-8 text (invalid start byte at byte 13)"),
]


@pytest.mark.parametrize("raw, why", BAD_LINES, ids=[w[:30] for _, w in BAD_LINES])
def test_bad_lines_are_not_wrong_answers(tmp_path, raw, why):
    src = _write(tmp_path / "in.jsonl", [GOOD, raw, GOOD])
    s = score_file(MAZES, src, tmp_path / "out.jsonl")
    assert (s.n, s.n_correct, s.n_bad) == (2, 2, 1) and not s.reasons
    assert s.bad_lines[0][0] == 2 and s.bad_lines[0][1].startswith(why), s.bad_lines
    recs = _verdicts(tmp_path / "out.jsonl")
    assert [r["line"] for r in recs] == [1, 2, 3]
    assert "correct" not in recs[1] and recs[1]["bad_line"] == s.bad_lines[0][1]


def test_bad_lines_through_the_cli_list_each_with_its_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    bad = [raw for raw, _ in BAD_LINES[:12]]
    _write(tmp_path / "in.jsonl", [GOOD, *bad, b"", b"  ", GOOD])
    rc, out = _score(capsys, "mazes", "in.jsonl")
    assert rc == 1 and "2/2 correct" in out
    assert "12 bad lines (not records: not scored, not in n):" in out
    assert "line 2: not JSON (Expecting value at column 1)" in out and "line 10: field 'problem'" in out
    assert "line 11: field 'solution' must be a string, not null" in out
    assert "line 12:" not in out and "… and 2 more (each is in in.verdicts.jsonl with \"bad_line\")" in out
    assert len(_verdicts(tmp_path / "in.verdicts.jsonl")) == 2 + 12  # blank lines are skipped


def test_reads_any_bytes_and_splits_on_newlines_only(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    recs = _maze_records(3, seed=3, wrong_every=0)
    with open(tmp_path / "odd.jsonl", "wb") as f:
        f.write(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark is allowed
        for i, rec in enumerate(recs):
            # U+2028 / U+0085 inside a JSON string are valid JSON; str.splitlines() would cut there
            rec["id"] = f"a\u2028b\u0085{i}"
            f.write(json.dumps(rec, ensure_ascii=False).encode() + b"\r\n")
        f.write(b'{"problem": "\xff\xfe", "solution": "N"}\n')  # not UTF-8
    rc, out = _score(capsys, "mazes", "odd.jsonl")
    assert rc == 1 and "3/3 correct" in out and "line 4: not UTF-8 text" in out
    verdicts = _verdicts(tmp_path / "odd.verdicts.jsonl")
    assert [v.get("correct") for v in verdicts] == [True, True, True, None]
    assert [v.get("id") for v in verdicts[:3]] == [f"a\u2028b\u0085{i}" for i in range(3)]
    assert "not UTF-8" in verdicts[-1]["bad_line"] and verdicts[-1]["line"] == 4


# a JSON value of any shape, for the property below
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_JSON, st.fixed_dictionaries(
    {}, optional={"problem": _JSON, "solution": _JSON, "answer": _JSON, "id": _JSON, "x": _JSON})))
def test_every_json_line_is_scored_or_a_bad_line_by_its_shape(value):
    raw = json.dumps(value).encode()
    rec = score_record(MAZES, 5, raw)
    ok = (isinstance(value, dict) and isinstance(value.get("problem"), str) and isinstance(value.get("solution"), str)
          and (value.get("answer") is None or (isinstance(value["answer"], (int, str)) and
                                               not isinstance(value["answer"], bool)))
          and not isinstance(value.get("id"), (dict, list)))
    assert rec["line"] == 5
    if ok:
        assert isinstance(rec["correct"], bool) and rec["reason"] and "bad_line" not in rec
        assert rec.get("id") == value.get("id")
    else:
        assert isinstance(rec["bad_line"], str) and rec["bad_line"] and "correct" not in rec


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_any_bytes_are_a_record_or_a_bad_line_never_an_exception(raw):
    rec = score_record(MAZES, 1, raw.replace(b"\n", b""))
    assert rec is None or ("bad_line" in rec) != ("correct" in rec)


# ------------------------------------------------------------------------------ failure kinds
def test_failures_are_grouped_by_kind_not_by_the_text_before_a_colon(tmp_path, monkeypatch, capsys):
    # the reasons "sentence 3: ... wrong value" and "sentence 5: ... wrong value" were two groups
    # ("sentence 3", "sentence 5"), and "sentence 3" mixed every cause found in sentence 3
    task = IGSMTask(IGSMConfig(preset="mini"))
    recs = []
    for i, p in enumerate(task.sample_batch(random.Random(11), 12)):
        sol = task.trace_text(p, task.oracle(p))
        head, _, ans = sol.rpartition("Answer: ")
        if i % 3 == 0:  # a wrong answer, a different number each time
            sol = head + "Answer: " + str((int(ans.rstrip(".")) + 1 + i) % 23) + "."
        elif i % 3 == 1:  # a wrong number in sentence k (a different k each time): out of range
            parts = head.split(". ")
            k = i % len(parts)
            parts[k] = parts[k].replace(" = ", f" = {30 + i} + ", 1) if " = " in parts[k] else parts[k]
            sol = ". ".join(parts) + "Answer: " + ans
        recs.append({"id": i, "problem": task.problem_text(p), "solution": sol})
    _write(tmp_path / "g.jsonl", recs)
    s = score_file(task, tmp_path / "g.jsonl", tmp_path / "g.out.jsonl")
    wrong = [v for v in _verdicts(tmp_path / "g.out.jsonl") if not v["correct"]]
    assert len(wrong) >= 6 and sum(s.reasons.values()) == len(wrong) == s.n - s.n_correct
    assert s.reasons["wrong answer"] == 4
    assert {v["kind"] for v in wrong} == set(s.reasons)
    for kind in s.reasons:  # one kind is one cause, whatever sentence or number it names
        assert not any(ch.isdigit() for ch in kind), kind
    assert len({v["reason"].split(":")[0] for v in wrong}) > len(s.reasons) - 1  # old grouping: more groups
    line, reason = s.examples["wrong answer"]
    assert line == 1 and "wrong answer" in reason
    monkeypatch.chdir(tmp_path)
    rc, out = _score(capsys, "igsm", "g.jsonl")
    assert rc == 0 and "most common failure kinds" in out and "│ wrong answer │ 4 │ 1: sentence" in out


def test_reason_kind_without_a_kind_normalises_the_specifics():
    # a verifier that gives no details["kind"] (mazes, a third-party task): names and numbers go
    a = Verdict(False, "wall at move 2", {"index": 1})
    b = Verdict(False, "wall at move 17", {})
    assert reason_kind(a) == reason_kind(b) == "wall at move N"
    assert reason_kind(Verdict(False, "bad char 'x' at 3")) == reason_kind(Verdict(False, "bad char '\\n' at 0"))
    assert normalise_reason("ends at (3,4) not the end") == "ends at (N,N) not the end"
    assert normalise_reason('unknown "Film Studio\'s Backpack" in   sentence 12') == "unknown '…' in sentence N"
    assert normalise_reason("") == "(no reason given)" and len(normalise_reason("x" * 1000)) == 80
    assert reason_kind(Verdict(False, "sentence 3: 4 is wrong", {"kind": "wrong value"})) == "wrong value"
    assert reason_kind(Verdict(False, "x 1", {"kind": ""})) == "x N"  # an empty kind is no kind


def test_mazes_wrong_answers_of_one_cause_count_together(tmp_path):
    s = score_file(MAZES, _write(tmp_path / "m.jsonl", _maze_records(40)), tmp_path / "m.out.jsonl")
    assert s.n == 40 and s.n_correct == 30 and sum(s.reasons.values()) == 10
    assert set(s.reasons) <= {"wall at move N", "left the grid at move N", "ends at (N,N) not the end"}


class _RaisingTask:
    name = "raising"

    def verify_text(self, problem, solution, answer=None):
        if solution == "boom":
            raise ZeroDivisionError("division by zero at step 3")
        if solution == "none":
            return None
        return Verdict(solution == "ok", "fine" if solution == "ok" else "nope", {"weird": {1, 2}, "nan": float("nan")})


def test_a_verifier_that_raises_or_returns_garbage_fails_that_item_only(tmp_path):
    lines = [{"problem": "p", "solution": x} for x in ("ok", "boom", "none", "no")]
    s = score_file(_RaisingTask(), _write(tmp_path / "r.jsonl", lines), tmp_path / "r.out.jsonl")
    assert (s.n, s.n_correct, s.n_bad) == (4, 1, 0)
    assert s.reasons == {"verifier raised ZeroDivisionError": 1, "verifier raised TypeError": 1, "nope": 1}
    recs = _verdicts(tmp_path / "r.out.jsonl")  # details that are not JSON are written as a note
    assert recs[1]["reason"] == "verifier raised ZeroDivisionError: division by zero at step 3"
    assert recs[0]["details"]["unserialisable"].startswith("ValueError")


# ------------------------------------------------------------------------------ whole-file problems: one line, exit 2
def _utf16(le: bool) -> bytes:
    return (b"\xff\xfe" if le else b"\xfe\xff") + (GOOD + b"\n").decode().encode("utf-16-le" if le else "utf-16-be")


WHOLE_FILE = [
    ("missing", None, "missing.jsonl does not exist"),
    ("dir", "dir", "dir is a directory, not a JSON Lines file"),
    ("utf16le", _utf16(True), "is UTF-16 text (it starts with a UTF-16 byte-order mark); `harness score` reads "
                              "UTF-8 JSON Lines: convert it first, e.g. iconv -f UTF-16 -t UTF-8"),
    ("utf16be", _utf16(False), "is UTF-16 text"),
    ("utf32", b"\xff\xfe\x00\x00" + (GOOD + b"\n").decode().encode("utf-32-le"), "is UTF-32 text"),
    ("utf16-no-bom", (GOOD + b"\n").decode().encode("utf-16-le"), "holds NUL bytes: a binary file, or UTF-16/32"),
    ("binary", bytes(range(256)) * 4, "holds NUL bytes"),
    ("empty", b"", "holds no records (it is empty or blank)"),
    ("blank", b"\n  \n\r\n", "holds no records"),
    ("all-bad", b"x\n[1]\n", "no line of all-bad.jsonl is a record to score: 2 bad lines, the first line 1: not JSON"),
    ("deep", b"[" * 100_000 + b"\n", "no line of deep.jsonl is a record to score: 1 bad line, the first line 1: "
                                     "JSON nested too deeply to read"),
    ("bigint", b'{"problem": "x", "solution": "N", "id": ' + b"9" * 5000 + b"}\n",
     "1 bad line, the first line 1: an integer with more than 4,300 digits"),
]


@pytest.mark.parametrize("name, content, msg", WHOLE_FILE, ids=[w[0] for w in WHOLE_FILE])
def test_whole_file_problems_are_one_error_line_and_exit_2(tmp_path, monkeypatch, capsys, name, content, msg):
    monkeypatch.chdir(tmp_path)
    arg = name if name == "dir" else f"{name}.jsonl"
    if content == "dir":
        (tmp_path / arg).mkdir()
    elif content is not None:
        (tmp_path / arg).write_bytes(content)
    before = sorted(os.listdir(tmp_path))
    rc = main(["score", "mazes", arg])
    cap = capsys.readouterr()
    lines = [x for x in cap.out.splitlines() if x.strip()]
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: "), cap.out
    assert msg in lines[0] and "Traceback" not in cap.out + cap.err
    assert sorted(os.listdir(tmp_path)) == before  # nothing written, no temporary left


def test_a_whole_file_error_leaves_an_existing_verdicts_file_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_bytes(b"nope\n")
    (tmp_path / "in.verdicts.jsonl").write_text("old\n")
    assert main(["score", "mazes", "in.jsonl"]) == 2
    assert (tmp_path / "in.verdicts.jsonl").read_text() == "old\n"


def test_unknown_task_suggests(tmp_path):
    src = tmp_path / "x.jsonl"
    src.write_text("")
    r = run_cli("score", "maze", str(src), cwd=tmp_path)
    assert r.returncode == 2 and "mazes" in r.stdout


# ------------------------------------------------------------------------------ where the verdicts go
def test_default_out_is_the_working_directory_not_beside_the_input(tmp_path, monkeypatch, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "work").mkdir()
    _write(tmp_path / "data" / "run.v1.jsonl", [GOOD])
    monkeypatch.chdir(tmp_path / "work")
    rc, out = _score(capsys, "mazes", str(tmp_path / "data" / "run.v1.jsonl"))
    assert rc == 0 and "verdicts with reasons: run.v1.verdicts.jsonl" in out
    assert os.listdir(tmp_path / "data") == ["run.v1.jsonl"]
    assert _verdicts(tmp_path / "work" / "run.v1.verdicts.jsonl")[0]["correct"] is True


@pytest.fixture
def nothing_into_dev(monkeypatch):
    """Refuse (AssertionError) any temporary file, rename or replace in /dev, so that a scorer that would
    write there (the bug: FILE.verdicts.jsonl beside /dev/null; os.replace onto /dev/null) fails the test
    instead of changing the machine's /dev."""
    if not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        pytest.skip(f"{os.devnull} is not a character device here")
    import tempfile

    def in_dev(p) -> bool:
        return os.path.abspath(os.fspath(p)).startswith("/dev/")

    real_mkstemp, real_replace, real_rename = tempfile.mkstemp, os.replace, os.rename

    def mkstemp(*a, dir=None, **k):
        assert dir is None or not in_dev(os.path.join(os.fspath(dir), "x")), f"a temporary file in {dir}"
        return real_mkstemp(*a, dir=dir, **k)

    def replace(src, dst, *a, **k):
        assert not in_dev(dst), f"os.replace onto {dst}"
        return real_replace(src, dst, *a, **k)

    def rename(src, dst, *a, **k):
        assert not in_dev(dst), f"os.rename onto {dst}"
        return real_rename(src, dst, *a, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    yield
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_dev_null_input_writes_nothing_into_dev(tmp_path, monkeypatch, capsys, nothing_into_dev):
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir("/dev"))
    rc, out = _score(capsys, "mazes", os.devnull)
    assert rc == 2 and "error: /dev/null holds no records" in out
    assert set(os.listdir("/dev")) <= before and os.listdir(tmp_path) == []
    assert resolve_out(Path(os.devnull), None) == Path("null.verdicts.jsonl")


def test_out_path_is_checked_before_scoring(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "in.jsonl", [GOOD])
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "link").symlink_to(tmp_path / "d")
    os.mkfifo(tmp_path / "fifo")
    cases = {
        "d": "error: --out d is a directory; give a file path, e.g. d/in.verdicts.jsonl",
        "d/": "error: --out d/ names a folder; give a file path",
        "d/link": "error: --out d/link is a symlink to something that is not a regular file",
        "nowhere/v.jsonl": "error: --out nowhere/v.jsonl: the folder nowhere does not exist",
        "in.jsonl/v.jsonl": "error: --out in.jsonl/v.jsonl: in.jsonl is not a folder",
        "in.jsonl": "error: --out in.jsonl is the input file itself",
        "fifo": "error: --out fifo is not a regular file (a device, pipe or socket)",
    }
    for out, msg in cases.items():
        rc, text = _score(capsys, "mazes", "in.jsonl", "--out", out)
        assert rc == 2 and text.startswith(msg), (out, text)
    assert sorted(os.listdir(tmp_path)) == ["d", "fifo", "in.jsonl"] and os.listdir(tmp_path / "d") == ["link"]
    with pytest.raises(ScoreInputError):
        resolve_out(Path("in.jsonl"), "d")


def test_out_dev_null_discards_the_verdicts(tmp_path, monkeypatch, capsys, nothing_into_dev):
    # not replaced by a file (os.replace onto /dev/null, as root, makes /dev/null a regular file)
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "in.jsonl", [GOOD])
    rc, out = _score(capsys, "mazes", "in.jsonl", "--out", os.devnull)
    assert rc == 0 and "1/1 correct" in out and os.listdir(tmp_path) == ["in.jsonl"]


def test_out_symlink_is_replaced_not_followed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "in.jsonl", [GOOD])
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (tmp_path / "v.jsonl").symlink_to(victim)
    (tmp_path / "dangling.jsonl").symlink_to(tmp_path / "gone")
    for out in ("v.jsonl", "dangling.jsonl"):
        rc, _ = _score(capsys, "mazes", "in.jsonl", "--out", out)
        assert rc == 0 and not (tmp_path / out).is_symlink()
        assert _verdicts(tmp_path / out)[0]["correct"] is True
    assert victim.read_text() == "keep me\n" and not (tmp_path / "gone").exists()
    assert sorted(os.listdir(tmp_path)) == ["dangling.jsonl", "in.jsonl", "v.jsonl", "victim.txt"]  # no temporaries


def test_the_verdicts_file_gets_the_umask_mode_not_0600(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "in.jsonl", [GOOD])
    old = os.umask(0o022)
    try:
        assert main(["score", "mazes", "in.jsonl"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "in.verdicts.jsonl").st_mode) == 0o644


def test_text_from_the_input_is_printed_escaped(tmp_path):
    # a reason quoting the input's own text: control characters (a terminal escape) and a lone surrogate
    task = IGSMTask(IGSMConfig(preset="mini"))
    p = task.sample_batch(random.Random(2), 1)[0]
    rec = {"problem": task.problem_text(p), "solution": "Define \x1b[31mX\ud800's Y as a; so a = 1. Answer: 1."}
    src = tmp_path / "esc.jsonl"
    src.write_text(json.dumps(rec) + "\n")
    r = run_cli("score", "igsm", str(src), "--out", str(tmp_path / "o.jsonl"), cwd=tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert "\x1b[31m" not in r.stdout and "\\x1b[31mX\\ud800" in r.stdout
    assert "unknown parameter" in r.stdout
