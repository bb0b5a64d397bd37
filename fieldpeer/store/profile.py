"""A device profile: one folder holding the vault, the database and the logs.

    vault.json      wrapped data key, scrypt parameters, wrong-PIN counter
    device.key      device secret (0600) where no OS keystore is available
    fieldpeer.db    the SQLite store (sensitive fields encrypted)
    logs/           codes and ids only
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from sqlmodel import select

from fieldpeer.logs import PRIVATE_DIR, PRIVATE_FILE, private_dir
from fieldpeer.records import PeerProfile, utc_now
from fieldpeer.store.database import database_files, open_engine
from fieldpeer.store.migrations import migrate
from fieldpeer.store.secrets import DeviceSecretStore, KeyFileSecretStore
from fieldpeer.store.tables import PeerProfileRow
from fieldpeer.store.unit_of_work import FieldStore, Unit
from fieldpeer.store.vault import DEFAULT_COST, ScryptCost, Vault

log = logging.getLogger("fieldpeer.store")


class Profile:
    def __init__(
        self,
        root: Path,
        *,
        secrets: DeviceSecretStore | None = None,
        cost: ScryptCost = DEFAULT_COST,
        clock: Callable[[], float] = time.time,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.root = root
        self.now = now
        self.vault = Vault(root / "vault.json", secrets or KeyFileSecretStore(root / "device.key"), cost=cost, clock=clock, on_wipe=self._remove_data)

    @property
    def database_path(self) -> Path:
        return self.root / "fieldpeer.db"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def is_set_up(self) -> bool:
        return self.vault.exists()

    def set_up(self, pin: str, peer: PeerProfile) -> FieldStore:
        """First run: new vault and database for this peer."""
        private_dir(self.root)  # 0700, and so are any parents it creates
        cipher = self.vault.create(pin)
        engine = open_engine(self.database_path)
        migrate(engine, cipher=cipher)
        store = FieldStore(engine, cipher, peer.id, clock=self.now)
        save_peer_profile(store, peer)
        return store

    def unlock(self, pin: str) -> FieldStore:
        """Open the store with the PIN (raises WrongPin, TryLater or VaultWiped)."""
        self._make_private()
        cipher = self.vault.unlock(pin)
        engine = open_engine(self.database_path)
        migrate(engine, cipher=cipher)  # an app update upgrades the schema (and re-encrypts) on first unlock
        with engine.connect() as conn:
            peer_id = conn.execute(select(PeerProfileRow.id)).scalar_one()
        return FieldStore(engine, cipher, peer_id, clock=self.now)

    def wipe(self) -> None:
        """Sign out and erase: keys first (crypto-shredding), then the files."""
        self.vault.wipe()

    def _make_private(self) -> None:
        """Everything in the profile owner-only, as set_up creates it (fixes older profiles)."""
        if self.root.exists():
            private_dir(self.root)
            for path in self.root.rglob("*"):
                if not path.is_symlink():
                    path.chmod(PRIVATE_DIR if path.is_dir() else PRIVATE_FILE)

    def _remove_data(self) -> None:
        for path in database_files(self.database_path):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.log_dir, ignore_errors=True)


def save_peer_profile(store: FieldStore, peer: PeerProfile) -> None:
    with store.unit() as unit:
        _save(unit, peer)
        unit.audit("profile", "peer", peer.id)


def _save(unit: Unit, peer: PeerProfile) -> None:
    unit.session.merge(
        PeerProfileRow(
            id=peer.id,
            role=peer.role.value,
            name_enc=unit.cipher.encrypt("peer_profile", peer.id, "name", peer.name),
            credentials_enc=unit.cipher.encrypt("peer_profile", peer.id, "credentials", peer.credentials),
            agency_name_enc=unit.cipher.encrypt("peer_profile", peer.id, "agency_name", peer.agency_name),
            updated_at=unit.now,
        )
    )


def receive_peer_profile(unit: Unit, peer: PeerProfile) -> None:
    """Apply the peer's name, role and credentials as an administrator edited them (pulled): what
    the phone shows and signs with from now on. Another peer's profile is ignored; the agency's
    name is kept when the agency sends none."""
    row = unit.session.get(PeerProfileRow, peer.id)
    if row is None:
        log.warning("pull: ignored a profile of another peer")
        return
    if not peer.agency_name:
        peer = peer.model_copy(update={"agency_name": unit.cipher.decrypt("peer_profile", row.id, "agency_name", row.agency_name_enc)})
    _save(unit, peer)
    unit.audit("profile_received", "peer", peer.id)


def get_peer_profile(store: FieldStore) -> PeerProfile:
    with store.unit() as unit:
        row = unit.session.exec(select(PeerProfileRow)).one()
        return PeerProfile(
            id=row.id,
            role=row.role,
            name=unit.cipher.decrypt("peer_profile", row.id, "name", row.name_enc),
            credentials=unit.cipher.decrypt("peer_profile", row.id, "credentials", row.credentials_enc),
            agency_name=unit.cipher.decrypt("peer_profile", row.id, "agency_name", row.agency_name_enc),
        )


def device_profile_dir(fallback: Path, env: Mapping[str, str] = os.environ) -> Path:
    """Where the profile lives: on a phone, inside the app's private storage (FLET_APP_STORAGE_DATA,
    set by Flet's app runtime; Android backups are off, see pyproject.toml); elsewhere `fallback`."""
    data = env.get("FLET_APP_STORAGE_DATA")
    return Path(data) / "profile" if data else fallback
