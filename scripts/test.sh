#!/usr/bin/env bash
# Set everything up, check lint and types, and run the whole test suite (browser and PostgreSQL tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
# The gate (CONTRIBUTING.md): zero lint findings and zero type errors in fieldpeer/ before any test runs.
.venv/bin/ruff check fieldpeer || { echo "ruff found problems in fieldpeer/ (see above)." >&2; exit 1; }
.venv/bin/mypy || { echo "mypy found type errors in fieldpeer/ (see above)." >&2; exit 1; }
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
    echo "pytest selected no tests (exit 5): a run that tests nothing is a failure." >&2
    exit 1
fi
exit "$status"
