#!/usr/bin/env bash
# Idempotent set-up: a venv in .venv with PyTorch first, its CPU build from PyTorch's CPU wheel index
# when there is no CUDA GPU (so pip never pulls CUDA wheels onto a CPU machine; $HARNESS_TORCH_CPU_INDEX
# overrides the index), its CUDA build on a GPU machine, then the project (editable) with its test extras and the cluster executors' extras (ray,
# submitit), whose tests need them; the core never does. Re-running it is a no-op when nothing changed.
# The third-party plugin fixture (tests/fixtures/harness-toy) is installed by the test suite itself.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.harness-setup
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "setting up .venv (first run or changed pyproject; ~2-5 minutes; full log in .venv/setup.log)" >&2
log=.venv/setup.log
: >"$log"
step() { echo "  [$1] $2" >&2; }
fail() { tail -n 40 "$log" >&2; echo "set-up failed at: $1; full log in $log" >&2; exit 1; }
TORCH="torch==2.13.0"
# PyTorch first, the build chosen for this machine: a requirement that it then satisfies installs
# nothing more, so the project's `torch>=2.3` never pulls CUDA wheels onto a CPU machine.
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  step 1/3 "PyTorch, CUDA build (a GPU is present): $TORCH from the package index"
  .venv/bin/python -m pip install "$TORCH" >>"$log" 2>&1 || fail "installing PyTorch"
else
  cpu_index=${HARNESS_TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
  step 1/3 "PyTorch, CPU build (no CUDA GPU here): $TORCH from $cpu_index"
  if ! .venv/bin/python -m pip install --retries 1 --timeout 30 --index-url "$cpu_index" "$TORCH" >>"$log" 2>&1; then
    step 1/3 "the CPU wheel index was unreachable; falling back to what pip resolves (on Linux that may be a CUDA build)"
    .venv/bin/python -m pip install "$TORCH" >>"$log" 2>&1 || fail "installing PyTorch"
  fi
fi
got=$(.venv/bin/python -W ignore -c 'import torch; print(torch.__version__, "(CUDA " + torch.version.cuda + ")" if torch.version.cuda else "(CPU build)")') || fail "importing torch"
step 1/3 "got torch $got"
step 2/3 "the project (editable) with its test, cluster and logger extras"
.venv/bin/python -m pip install -e ".[test,ray,slurm,wandb,tensorboard]" >>"$log" 2>&1 || fail "installing the project"
step 3/3 "checking the installation"
.venv/bin/python -c "import harness, harness_mazes, harness_igsm, harness_models, harness_cluster, harness_loggers" >>"$log" 2>&1 || fail "importing harness"
echo "$want" > "$stamp"
echo "set-up done: torch $got" >&2
