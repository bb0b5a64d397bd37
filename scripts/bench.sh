#!/usr/bin/env bash
# Set everything up and run the benchmarks (prints tables; see benchmarks/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
exec .venv/bin/python -m benchmarks "$@"
