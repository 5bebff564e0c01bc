#!/usr/bin/env bash
# Set up (if needed) and run Continuum on this machine: http://127.0.0.1:8000/
#   scripts/run.sh                   embedded defaults (the evidence index is a local SQLite file)
#   scripts/run.sh --elasticsearch   the same with a local Elasticsearch node for evidence retrieval
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " == *" --elasticsearch "* ]]; then
  scripts/setup.sh --elasticsearch
else
  scripts/setup.sh
fi
exec .venv/bin/python -m scripts.stack run "$@"
