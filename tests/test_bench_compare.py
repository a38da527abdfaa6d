"""scripts/bench_compare.py: two `harness bench --json` outputs compared ratio by ratio."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_compare", ROOT / "scripts" / "bench_compare.py")
bench_compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_compare)


def _row(what, ratio, lo=None, hi=None, ours=100.0, status="measured", basis="cpu"):
    return {"benchmark": "b", "what": what, "ratio": ratio, "ratio_min": lo, "ratio_max": hi, "rounds": 5,
            "ours": ours, "unit": "u/s", "basis": basis, "baseline_status": status}


def _run(tmp_path, name, rows, load_warnings=()):
    p = tmp_path / name
    p.write_text(json.dumps({"machine": {"summary": "AMD EPYC, 2 cores"}, "rows": rows,
                             "load_warnings": list(load_warnings), "load_average_end": 0.5}))
    return str(p)


def test_ratios_within_tolerance_pass(tmp_path, capsys):
    a = _run(tmp_path, "a.json", [_row("x", 20.0, 18.0, 22.0), _row("y", 1.0, 0.9, 1.1), _row("z", None, ours=50.0)])
    b = _run(tmp_path, "b.json", [_row("x", 22.0, 20.0, 23.0), _row("y", 0.9, 0.85, 1.0), _row("z", None, ours=40.0)])
    assert bench_compare.main([a, b]) == 0
    out = capsys.readouterr().out
    assert "| b | x | CPU time | 20.0× (18.0–22.0×) | 22.0× (20.0–23.0×) | 1.10 | yes |" in out
    assert "| b | y | CPU time | 1.00× (0.90–1.10×) | 0.90× (0.85–1.00×) | 0.90 | yes |" in out
    assert "z (u/s, no baseline)" in out and "(a rate, not judged)" in out
    assert "AMD EPYC, 2 cores" in out and "every ratio within ±15%: yes" in out


def test_a_ratio_that_moved_fails(tmp_path, capsys):
    a = _run(tmp_path, "a.json", [_row("x", 0.36, 0.3, 0.4, basis="wall")])
    b = _run(tmp_path, "b.json", [_row("x", 1.22, 1.1, 1.3, basis="wall")], load_warnings=["WARNING: loaded"])
    assert bench_compare.main([a, b]) == 1
    out = capsys.readouterr().out
    assert "| wall clock |" in out and "| 3.39 | **no** |" in out and "load warnings: 1" in out
    assert bench_compare.main([a, b, "--tolerance", "3"]) == 0
    assert bench_compare.main([a, str(tmp_path / "missing.json")]) == 2
