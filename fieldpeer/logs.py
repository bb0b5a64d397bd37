"""Logging setup, and owner-only files and folders for everything a device or server keeps.

Device and server logs hold action codes and record ids only, never content. Still, the
database, its side files and the logs are created 0600 in 0700 folders: another app or user
on the machine learns nothing, not even which ids or how many records there are.
(These helpers live here because logs depend on nothing and the store may import them.)
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create the folder and any missing parents owner-only (whatever the umask); tighten it if it exists."""
    for folder in reversed([path, *path.parents]):
        if not folder.exists():
            folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
            os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create the file empty if missing, before anything writes to it, and make it owner-only either way."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE))
    os.chmod(path, PRIVATE_FILE)
    return path


class PrivateRotatingFileHandler(RotatingFileHandler):
    """Rotates at `maxBytes`, keeping `backupCount` old files; each new file is owner-only too."""

    def _open(self) -> Any:
        private_file(Path(self.baseFilename))  # created 0600 before the handler appends to it
        return super()._open()


def configure_logging(log_dir: Path, max_bytes: int = 1024 * 1024, keep: int = 3) -> None:
    handler = PrivateRotatingFileHandler(private_dir(log_dir) / "fieldpeer.log", maxBytes=max_bytes, backupCount=keep)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("fieldpeer")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
