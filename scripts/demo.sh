#!/usr/bin/env bash
# Set everything up and run the demo (fictional agency, peer and caseload).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/fieldpeer demo "$@"
