"""Logging setup. Device and server logs hold action codes and record ids only, never content."""

from __future__ import annotations

import logging
from pathlib import Path


def configure_logging(log_dir: Path) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_dir / "fieldpeer.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("fieldpeer")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
