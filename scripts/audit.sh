#!/usr/bin/env bash
# Known vulnerabilities in the locked dependencies (requirements.lock), via pip-audit and
# PyPI's advisory data. Needs the network: the test suite does not run it. --strict fails when a
# package could not be checked, so "no known vulnerabilities" is never claimed for unchecked ones.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
exec .venv/bin/pip-audit -r requirements.lock --no-deps --disable-pip --strict --progress-spinner off "$@"
