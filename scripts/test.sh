#!/usr/bin/env bash
# Set everything up and run the whole test suite (browser and PostgreSQL tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
    echo "pytest selected no tests (exit 5): a run that tests nothing is a failure." >&2
    exit 1
fi
exit "$status"
