#!/usr/bin/env bash
# Build a THROWAWAY venv for running the official iGSM generator (facebookresearch/iGSM) side by side with
# ours (plugins/igsm/fidelity.py). The official code is never a project dependency and is never copied into
# the project: you pass the path of an extracted copy to the fidelity script, which runs it in a temporary
# directory with this interpreter. Its generator needs only networkx and numpy; the imports it does not need
# for text and graph facts (torch, transformers' GPT-2 tokenizer, pandas, matplotlib) are stubbed by the
# fidelity runner, so nothing is downloaded at run time.
# Usage: scripts/igsm_official_venv.sh [DEST]   (default /tmp/igsm-official-venv); prints the python path.
set -euo pipefail
DEST=${1:-/tmp/igsm-official-venv}
PY=${PYTHON:-python3}
if [ ! -x "$DEST/bin/python" ]; then
  "$PY" -m venv "$DEST"
fi
if ! "$DEST/bin/python" -c "import networkx, numpy" >/dev/null 2>&1; then
  "$DEST/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  "$DEST/bin/python" -m pip install -q "networkx>=3,<4" "numpy>=1.24"
fi
"$DEST/bin/python" -c "import networkx, numpy" >/dev/null
echo "$DEST/bin/python"
