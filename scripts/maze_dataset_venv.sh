#!/usr/bin/env bash
# Build a THROWAWAY venv with maze-dataset 1.4.2 for the speed baseline in harness/bench/mazes.py.
# maze-dataset is LGPL-3.0 and its declared deps pull ~111 packages (jupyter...), so it is never a project
# dependency: install it --no-deps plus the six packages its import actually needs, with the pins that
# work (muutils 0.9.x breaks the import, maze-dataset issue #82).
# Usage: scripts/maze_dataset_venv.sh [DEST]   (default /tmp/maze-dataset-venv); prints the python path.
set -euo pipefail
DEST=${1:-/tmp/maze-dataset-venv}
PY=${PYTHON:-python3}
if [ ! -x "$DEST/bin/python" ]; then
  "$PY" -m venv "$DEST"
fi
if ! "$DEST/bin/python" -c "import maze_dataset" >/dev/null 2>&1; then
  "$DEST/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  "$DEST/bin/python" -m pip install -q --no-deps "maze-dataset==1.4.2"
  "$DEST/bin/python" -m pip install -q "muutils==0.8.12" "zanj==0.5.2" jaxtyping wadler_lindig tqdm \
    typing_extensions numpy
fi
"$DEST/bin/python" -c "import maze_dataset" >/dev/null
echo "$DEST/bin/python"
