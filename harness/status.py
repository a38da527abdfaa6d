"""Where a run directory stands, cell by cell: done, running (claimed: by whom, since when), failed,
pending — read from the directory alone, so it works while workers on other machines run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from harness.claims import list_claims
from harness.results import _cell_order, _plan_labels
from harness.store import read_result

STATES = ("done", "running", "stalled", "failed", "pending")


def run_status(out_dir: Path) -> list[dict[str, Any]]:
    """One dict per cell of the manifest (plan.json) and any other cell in the directory: its
    `state` (one of STATES; "stalled" = claimed by a worker that stopped, to be taken over), with
    `worker` and `since`/`heartbeat_age_s` for a claimed cell and `error` for a failed one."""
    out_dir = Path(out_dir)
    if not (out_dir / "plan.json").exists() and not (out_dir / "cells").is_dir():
        raise FileNotFoundError(f"{out_dir} is not a run directory (no plan.json, no cells/)")
    labels = _plan_labels(out_dir)
    seeds = {}
    try:
        seeds = {c["cell_id"]: c.get("seed") for c in json.loads((out_dir / "plan.json").read_text())["cells"]}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    claims = {c["cell_id"]: c for c in list_claims(out_dir)}
    now = time.time()
    rows = []
    for cid in _cell_order(out_dir):
        res = read_result(out_dir, cid) or {}
        claim = claims.get(cid)
        row: dict[str, Any] = {"cell_id": cid, "condition": labels.get(cid, {}).get("condition", res.get("condition")),
                               "seed": seeds.get(cid, res.get("seed"))}
        if res.get("status") == "ok":
            row.update(state="done", worker=res.get("worker"), seconds=res.get("seconds"))
        elif claim is not None:
            row.update(state="stalled" if claim["stale"] else "running", worker=claim.get("owner"),
                       since=claim.get("claimed_at"), heartbeat_age_s=round(now - claim["heartbeat"], 1))
        elif res.get("status") == "failed":
            row.update(state="failed", worker=res.get("worker"), error=res.get("error"))
        else:
            row.update(state="pending")
        rows.append(row)
    return rows


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {s: sum(r["state"] == s for r in rows) for s in STATES}
