"""`harness score TASK FILE.jsonl`: scores text written by anyone, from the problem text alone."""

from __future__ import annotations

import json
import random

from harness_mazes import MazesConfig, MazesTask
from tests.plugin_dirs import run_cli


def test_score_mazes_jsonl(tmp_path):
    task = MazesTask(MazesConfig())
    problems = task.sample_batch(random.Random(7), 20)
    src = tmp_path / "sols.jsonl"
    with open(src, "w") as f:
        for i, p in enumerate(problems):
            sol = "".join(s.text for s in task.oracle(p))
            if i % 4 == 0:
                sol = sol + "N"  # overshoot: wall, grid edge or a wrong final tile
            f.write(json.dumps({"id": i, "problem": task.prompt_text(p), "solution": sol}) + "\n")
        f.write("not json\n")
    r = run_cli("score", "mazes", str(src))
    assert r.returncode == 0, r.stdout + r.stderr
    verdicts = [json.loads(line) for line in (tmp_path / "sols.verdicts.jsonl").read_text().splitlines()]
    assert len(verdicts) == 21
    by_id = {v["id"]: v for v in verdicts if "id" in v}
    for i in range(20):
        assert by_id[i]["correct"] == (i % 4 != 0), by_id[i]
    assert not verdicts[-1]["correct"] and "bad record" in verdicts[-1]["reason"]
    assert "15/21 correct" in " ".join(r.stdout.split())


def test_score_unknown_task_suggests(tmp_path):
    src = tmp_path / "x.jsonl"
    src.write_text("")
    r = run_cli("score", "maze", str(src))
    assert r.returncode == 2 and "mazes" in r.stdout


def test_score_reads_any_bytes_and_splits_on_newlines_only(tmp_path):
    task = MazesTask(MazesConfig())
    problems = task.sample_batch(random.Random(3), 3)
    src = tmp_path / "odd.jsonl"
    with open(src, "wb") as f:
        for i, p in enumerate(problems):
            sol = "".join(s.text for s in task.oracle(p))
            # U+2028 / U+0085 inside a JSON string are valid JSON; str.splitlines() would cut there
            rec = {"id": f"a\u2028b\u0085{i}", "problem": task.prompt_text(p), "solution": sol}
            f.write(json.dumps(rec, ensure_ascii=False).encode() + b"\r\n")
        f.write(b'{"problem": "\xff\xfe", "solution": "N"}\n')  # not UTF-8
    r = run_cli("score", "mazes", str(src))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    verdicts = [json.loads(line) for line in (tmp_path / "odd.verdicts.jsonl").read_text().split("\n") if line]
    assert len(verdicts) == 4
    assert [v["correct"] for v in verdicts] == [True, True, True, False]
    assert [v.get("id") for v in verdicts[:3]] == [f"a\u2028b\u0085{i}" for i in range(3)]
    assert "not UTF-8" in verdicts[-1]["reason"] and verdicts[-1]["line"] == 4
    assert "3/4 correct" in " ".join(r.stdout.split())
