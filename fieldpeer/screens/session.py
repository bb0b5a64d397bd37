"""The app's session, as plain Python: unlock, lock, idle auto-lock, settings, sync.

Screens read and change the app only through this object and the store services; it
holds no Flet, so the lock rules are tested without a UI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import httpx

from fieldpeer import demo_data
from fieldpeer.config import agency_zone
from fieldpeer.screens import dates
from fieldpeer.screens.dates import wall_clock
from fieldpeer.screens.status_words import Status, SyncFacts
from fieldpeer.store import outbox, sync_state
from fieldpeer.store.profile import Profile
from fieldpeer.store.secrets import write_private_file
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.store.vault import Vault, VaultError, VaultWiped, pin_problem
from fieldpeer.sync.client import AutoSync, SyncClient, SyncSummary, enrol_device

AUTO_LOCK_CHOICES = (1, 2, 5, 10, 15)
TEXT_SCALES = {"normal": 1.0, "large": 1.2, "larger": 1.4, "largest": 1.7}


@dataclass
class Settings:
    """Device preferences: not sensitive, kept in clear beside the vault."""

    auto_lock_minutes: int = 5
    text_size: str = "normal"


class Locked(Exception):
    pass


class FieldSession:
    def __init__(
        self,
        profile: Profile,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: wall_clock(datetime.now(agency_zone()), agency_zone()).replace(second=0, microsecond=0),
        http: httpx.Client | None = None,
        auto_sync_seconds: float | None = 30.0,
    ) -> None:
        self.profile = profile
        self.clock = clock
        self.now = now
        self.http = http
        self._store: FieldStore | None = None
        self._client: SyncClient | None = None
        self._auto_sync: AutoSync | None = None
        self.auto_sync_seconds = auto_sync_seconds
        self.last_activity = clock()
        self.settings = self._load_settings()
        self.last_summary: SyncSummary | None = None
        self.lock_reason = Status.FIRST_OPEN
        # Who has opened the store with the PIN: one per browser tab / app window. In web mode
        # every browser session unlocks on its own; the store closes when the last one locks.
        self._holders: set[object] = set()

    # --- settings ------------------------------------------------------------------

    @property
    def _settings_path(self) -> Path:
        return self.profile.root / "settings.json"

    def _load_settings(self) -> Settings:
        try:
            return Settings(**json.loads(self._settings_path.read_text()))
        except (FileNotFoundError, TypeError, ValueError):
            return Settings()

    def save_settings(self, settings: Settings) -> None:
        if settings.auto_lock_minutes not in AUTO_LOCK_CHOICES or settings.text_size not in TEXT_SCALES:
            raise ValueError("Unknown setting.")
        self.settings = settings
        write_private_file(self._settings_path, json.dumps(asdict(settings)).encode())

    @property
    def text_scale(self) -> float:
        return TEXT_SCALES[self.settings.text_size]

    # --- lock ----------------------------------------------------------------------

    @property
    def is_set_up(self) -> bool:
        return self.profile.is_set_up

    @property
    def is_unlocked(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> FieldStore:
        if self._store is None:
            raise Locked("FieldPeer is locked.")
        return self._store

    def holds(self, holder: object) -> bool:
        """Has `holder` (a tab) opened the store with the PIN, and is it still open?"""
        return self.is_unlocked and holder in self._holders

    def unlock(self, pin: str, holder: object = None) -> None:
        """Raises VaultError subclasses with messages meant for the person holding the phone.

        Another tab may have the store open already: the PIN is checked all the same (a wrong
        one counts), and that tab's store and key are left as they are."""
        if self.is_unlocked:
            self._check_pin(pin)
            self._holders.add(holder)
            self.touch()
            return
        self._opened(self.profile.unlock(pin), holder)

    def _check_pin(self, pin: str) -> None:
        """Check a PIN on a second handle of the same vault: the wrong-PIN counter on disk is
        shared, while the open store's key (held by the first handle) is not touched."""
        vault = self.profile.vault
        probe = Vault(vault.path, vault.secrets, cost=vault.cost, clock=vault.clock, on_wipe=vault.on_wipe)
        try:
            probe.unlock(pin)
        except VaultWiped:
            self.lock()  # the data is gone: no tab keeps a store open on it
            raise
        finally:
            probe.lock()  # forget the key it derived

    def enrol(self, server_url: str, code: str, pin: str, pin_again: str, holder: object = None) -> None:
        """First run with the agency: exchange the one-time code, create the vault, fetch the caseload."""
        _check_new_pin(pin, pin_again)
        self._opened(enrol_device(self.profile, server_url, code, pin, device_name="FieldPeer app", http=self.http), holder)
        self.sync()  # the caseload, straight away; offline is fine (it comes with the next sync)

    def start_offline_demo(self, pin: str, pin_again: str, holder: object = None) -> None:
        """A practice profile with a fictional caseload and no agency: nothing ever leaves the phone."""
        _check_new_pin(pin, pin_again)
        store = self.profile.set_up(pin, demo_data.demo_peer())
        demo_data.seed_history(store, self.today(), add_people=True)
        self._opened(store, holder)

    def _opened(self, store: FieldStore, holder: object = None) -> None:
        self._store = store
        self._holders.add(holder)
        self.touch()
        self._start_auto_sync()

    def _start_auto_sync(self) -> None:
        if self.auto_sync_seconds and self.can_sync:
            # Sends what is waiting whenever the agency is reachable, without the peer asking.
            self._auto_sync = AutoSync(self.sync_client(), interval=self.auto_sync_seconds, on_summary=self._remember)
            self._auto_sync.start()

    def _remember(self, summary: SyncSummary) -> None:
        self.last_summary = summary

    def wake_sync(self) -> None:
        """The network came back: the background sync tries now, not at the end of its offline back-off."""
        if self._auto_sync is not None:
            self._auto_sync.wake()

    def lock(self, reason: Status = Status.LOCKED) -> None:
        """Close the store for every tab (End shift, wipe, revoked); a tab's own Lock is `release`."""
        for holder in list(self._holders):  # a tab in the middle of a form keeps it as a draft first
            keep = getattr(holder, "keep_draft", None)
            if keep is not None and self._store is not None:
                keep(announce=False)  # maybe off the tab's event loop: no toast
        if self._auto_sync is not None:
            self._auto_sync.stop()  # waits for a sync in flight: it must not write to a closed store
        if self._store is not None:
            self._store.close()
        self._store, self._client, self._auto_sync = None, None, None
        self._holders.clear()
        self.profile.vault.lock()
        self.lock_reason = reason

    def release(self, holder: object, reason: Status = Status.LOCKED) -> None:
        """One tab locks (Lock now, idle): the store closes when no other tab holds it open."""
        self._holders.discard(holder)
        if not self._holders:
            self.lock(reason)

    def touch(self) -> None:
        self.last_activity = self.clock()

    def idle_expired(self, last_activity: float | None = None) -> bool:
        """`last_activity`: a tab's own (each tab locks after its idle time); else the session's."""
        since = self.last_activity if last_activity is None else last_activity
        return self.is_unlocked and self.clock() - since >= self.settings.auto_lock_minutes * 60

    def change_pin(self, old: str, new: str, new_again: str) -> None:
        _check_new_pin(new, new_again)
        self.profile.vault.change_pin(old, new)

    def sign_out_and_wipe(self) -> None:
        self.lock()
        self.profile.wipe()

    # --- sync -----------------------------------------------------------------------

    @property
    def can_sync(self) -> bool:
        return bool(sync_state.get_value(self.store, "device_id"))

    def sync_client(self) -> SyncClient:
        if self._client is None:
            self._client = SyncClient(self.store, http=self.http, on_revoked=self.sign_out_and_wipe, max_attempts=3)
        return self._client

    def sync(self, progress: Callable[[int, int], None] | None = None) -> SyncSummary:
        self.last_summary = self.sync_client().sync(progress)
        return self.last_summary

    def end_shift(self, progress: Callable[[int, int], None] | None = None) -> SyncSummary:
        """Send everything; when all of it reached the agency, lock the phone for the night."""
        summary = self.sync_client().end_shift(progress)
        self.last_summary = summary
        if summary.ok and not self.pending().pending and self.is_unlocked:  # counted afresh: the agency confirmed all
            self.lock(Status.SHIFT_ENDED)
        return summary

    def pending(self) -> outbox.OutboxCounts:
        return outbox.counts(self.store)

    def sync_facts(self, syncing: bool = False) -> SyncFacts:
        """What the status words are chosen from (status_words.py)."""
        counts = self.pending()
        error = self.last_summary.error if self.last_summary is not None else ""
        return SyncFacts(pending=counts.pending, quarantined=counts.quarantined, can_sync=self.can_sync, syncing=syncing, error=error)

    def last_sync_at(self) -> str:
        value = sync_state.get_value(self.store, "last_sync_at")
        if not value:
            return "not yet"
        return dates.when(datetime.fromisoformat(value), self.now(), agency_zone())

    def today(self) -> date:
        """The agency's date (`now` is the agency's wall clock)."""
        return self.now().date()


def _check_new_pin(pin: str, pin_again: str) -> None:
    if pin != pin_again:
        raise VaultError("The two PINs are not the same.")
    if problem := pin_problem(pin):
        raise VaultError(problem)
