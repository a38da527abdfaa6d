#!/usr/bin/env bash
# Idempotent set-up: a venv in .venv with CPU torch first (so pip never pulls CUDA wheels on a CPU
# machine), then the project (editable) with its test extras and the cluster executors' extras (ray,
# submitit), whose tests need them; the core never does. Re-running it is a no-op when nothing changed.
# The third-party plugin fixture (tests/fixtures/harness-toy) is installed by the test suite itself.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.harness-setup
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "setting up .venv (first run or changed pyproject; log in .venv/setup.log) ..." >&2
log=.venv/setup.log
if ! {
  # torch first: a requirement that 2.13.0 satisfies then installs nothing more (no CUDA wheels).
  .venv/bin/python -m pip install -q "torch==2.13.0" &&
  .venv/bin/python -m pip install -q -e ".[test,ray,slurm]"
} >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "set-up failed; full log in $log" >&2
  exit 1
fi
echo "$want" > "$stamp"
