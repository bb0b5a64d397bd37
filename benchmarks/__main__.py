"""Run every benchmark and print their tables: ``.venv/bin/python -m benchmarks`` (or scripts/bench.sh)."""

from __future__ import annotations

import sys

from benchmarks import sync_push, unlock

for module in (unlock, sync_push):
    sys.argv = [module.__name__]
    module.main()
