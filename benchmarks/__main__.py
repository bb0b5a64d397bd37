"""Run every benchmark and print their tables: ``.venv/bin/python -m benchmarks`` (or scripts/bench.sh).

Takes about five minutes on the 2-core development machine (the first run also builds the
50,000-note profile, about a minute more).
"""

from __future__ import annotations

import sys

from benchmarks import agency_load, field_store, plain_baseline, review_queue, server_ingest, sync_push, unlock, web_start

for module in (unlock, field_store, sync_push, plain_baseline, server_ingest, agency_load, web_start, review_queue):
    sys.argv = [module.__name__]
    module.main()
