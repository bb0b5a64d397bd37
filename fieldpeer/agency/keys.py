"""The agency's key pair for sealing, kept outside the database (a 0600 file in a key folder)."""

from __future__ import annotations

import os
from pathlib import Path

from fieldpeer.sync.sealing import KeyPair, raw_private

KEY_FILE = "agency.key"  # X25519 private (32) + Ed25519 private (32)


def load_or_create_agency_keys(key_dir: Path) -> KeyPair:
    """Created on first start. Several processes may start at once: the first link wins."""
    path = key_dir / KEY_FILE
    if not path.exists():
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys = KeyPair.generate()
        tmp = key_dir / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, raw_private(keys.box) + raw_private(keys.sign))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic and exclusive: fails if another process got there first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    data = path.read_bytes()
    if len(data) != 64:
        raise RuntimeError(f"The agency key file {path} is damaged.")
    return KeyPair.from_raw(data[:32], data[32:])
