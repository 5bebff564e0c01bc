#!/usr/bin/env bash
# Set up and run every test: lint, then pytest against a private PostgreSQL and
# Redis (started and stopped here), then the SQLite pass of the database tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/python -m scripts.with_test_services -- .venv/bin/python -m pytest "$@"
# The embedded default (SQLite) for the tests that touch the database directly (no Elasticsearch needed:
# the evidence tests run in the first pass).
CONTINUUM_TEST_ELASTICSEARCH=0 env -u DATABASE_URL .venv/bin/python -m scripts.with_test_services -- \
  env -u DATABASE_URL .venv/bin/python -m pytest -m sqlite_pass "$@"
