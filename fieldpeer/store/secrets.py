"""Where the device secret lives: outside the database, so a copied database file is not enough.

On phones this is the OS keystore (flet-secure-storage, see keystore.py); elsewhere a 0600 key
file. The vault only needs ``load``/``save``/``destroy``, so a new platform adds one small class.

``load`` answers None when there is no secret, raises DeviceSecretDamaged when there is one but
it is unusable (both mean the data it protected can never be opened again: the vault wipes and
the peer enrols again), and KeystoreUnavailable when the keystore did not answer (try again).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

SECRET_BYTES = 32


class DeviceSecretDamaged(ValueError):
    """A secret is stored but is not a usable device secret (wrong length, not base64)."""


class KeystoreUnavailable(ValueError):
    """The OS keystore did not answer; nothing is known to be lost. Messages never quote a value.
    A ValueError, so screens that show a refused action's message show this one ("try again")."""


class DeviceSecretStore(Protocol):
    def load(self) -> bytes | None: ...
    def save(self, secret: bytes) -> None: ...
    def destroy(self) -> None: ...


def write_private_file(path: Path, data: bytes) -> None:
    """Write atomically (temp file, fsync, rename) with owner-only permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def shred_file(path: Path) -> None:
    """Overwrite then unlink. Flash storage may keep old blocks; the keys are what must go."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with open(path, "r+b") as handle:
        handle.write(os.urandom(max(size, 1)))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


class KeyFileSecretStore:
    """A 0600 file beside (not inside) the database, for desktops, web mode and tests."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> bytes | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if len(data) != SECRET_BYTES:
            raise DeviceSecretDamaged("The device key file is damaged.")
        return data

    def save(self, secret: bytes) -> None:
        write_private_file(self.path, secret)

    def destroy(self) -> None:
        shred_file(self.path)
