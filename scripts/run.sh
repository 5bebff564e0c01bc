#!/usr/bin/env bash
# Set up (if needed) and run Continuum on this machine: http://127.0.0.1:8000/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m scripts.stack run "$@"
