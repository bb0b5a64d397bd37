"""Figures the reliability and security tests report (SECURITY.md quotes the last run's table).

Each test adds its counts to artifacts/security-figures.json; scripts/security_figures.py prints it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FIGURES = Path(__file__).resolve().parent.parent / "artifacts" / "security-figures.json"


def add(name: str, amount: int) -> None:
    """Add `amount` to the figure `name` (several tests and database backends add to one figure)."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    lock = FIGURES.with_suffix(".lock")
    with open(lock, "w") as held:
        import fcntl

        fcntl.flock(held, fcntl.LOCK_EX)  # two pytest workers may report at once
        figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        figures[name] = figures.get(name, 0) + amount
        tmp = FIGURES.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(figures, indent=1, sort_keys=True))
        tmp.replace(FIGURES)
