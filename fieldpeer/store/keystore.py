"""The device secret in the phone's OS keystore (Android Keystore, iOS Keychain) through flet-secure-storage.

flet-secure-storage is an async Flet service living on the page's event loop, while the vault
is synchronous and runs off the UI thread (unlocking costs a scrypt). ``KeystoreSecretStore``
bridges the two: each call is scheduled on the page's loop and waited for, with a timeout.

Where the secret lives is chosen by platform (``choose_secret_store``): the keystore on an
Android or iOS app, the 0600 key file everywhere else (desktop, web mode, tests). In web mode
flet-secure-storage would keep its key beside the value in the browser's localStorage, which is
weaker than the key file on the server, so the browser never gets it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import importlib
import threading
from collections.abc import Awaitable, Coroutine
from pathlib import Path
from typing import Any, Protocol, TypeVar

from fieldpeer.store.secrets import SECRET_BYTES, DeviceSecretDamaged, DeviceSecretStore, KeyFileSecretStore, KeystoreUnavailable

SECRET_KEY = "fieldpeer.device_secret.v1"
KEYSTORE_TIMEOUT_SECONDS = 15.0
MOBILE_PLATFORMS = frozenset({"android", "ios"})
T = TypeVar("T")


class SecureStorageApi(Protocol):
    """The part of ``flet_secure_storage.SecureStorage`` this adapter uses (a test fake has the same)."""

    def get(self, key: str) -> Awaitable[str | None]: ...
    def set(self, key: str, value: str) -> Awaitable[None]: ...
    def remove(self, key: str) -> Awaitable[None]: ...


class KeystoreSecretStore:
    """``DeviceSecretStore`` over the OS keystore; the secret is stored base64-encoded (the API stores text)."""

    def __init__(self, storage: SecureStorageApi, loop: asyncio.AbstractEventLoop, *, key: str = SECRET_KEY, timeout: float = KEYSTORE_TIMEOUT_SECONDS) -> None:
        self.storage = storage
        self.loop = loop
        self.key = key
        self.timeout = timeout
        self._scheduled: set[asyncio.Task[Any]] = set()

    def load(self) -> bytes | None:
        text = self._call(self.storage.get(self.key))
        if text is None:
            return None
        try:
            secret = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise DeviceSecretDamaged("The device key in the phone's keystore is damaged.") from None
        if len(secret) != SECRET_BYTES:
            raise DeviceSecretDamaged("The device key in the phone's keystore is damaged.")
        return secret

    def save(self, secret: bytes) -> None:
        self._call(self.storage.set(self.key, base64.b64encode(secret).decode()))

    def destroy(self) -> None:
        """Removes the entry (a wipe). Sign out and wipe runs on the UI loop, which cannot wait for
        itself: there the removal is scheduled to run next. The vault shreds the wrapped key first,
        so the data is unreadable from that moment either way."""
        if _runs_on(self.loop):
            task = self.loop.create_task(_as_coroutine(self.storage.remove(self.key)))
            self._scheduled.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._scheduled.discard)
            return
        self._call(self.storage.remove(self.key))

    def _call(self, awaitable: Awaitable[T]) -> T:
        """Run one storage call on the page's loop from a worker thread; never on the loop itself
        (it would wait for itself). Errors are re-raised without their text: Flet's timeout message
        quotes the call's arguments, which for ``set`` is the secret."""
        if _runs_on(self.loop):
            _close(awaitable)
            raise RuntimeError("Unlocking and enrolling read the keystore from a worker thread, never from the UI loop.")
        try:
            future = asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), self.loop)
        except RuntimeError:  # the loop is closed: the app is going away
            _close(awaitable)
            raise KeystoreUnavailable("The phone's keystore did not answer. Try again in a moment.") from None
        try:
            return future.result(timeout=self.timeout)
        except Exception:  # noqa: BLE001 - the text may quote the secret: say only what happened
            future.cancel()
            raise KeystoreUnavailable("The phone's keystore did not answer. Try again in a moment.") from None


def is_phone_app(platform: str | None, web: bool) -> bool:
    """An installed Android or iOS app (not a phone's browser looking at web mode)."""
    return not web and (platform or "").lower() in MOBILE_PLATFORMS


def choose_secret_store(profile_root: Path, *, platform: str | None, web: bool, keystore: SecureStorageApi | None = None, loop: asyncio.AbstractEventLoop | None = None) -> DeviceSecretStore:
    """The OS keystore on an Android / iOS app, the 0600 key file elsewhere."""
    if is_phone_app(platform, web):
        if keystore is None or loop is None:
            raise ValueError("A phone app keeps its device secret in the OS keystore: pass the storage service and its loop.")
        return KeystoreSecretStore(keystore, loop)
    return KeyFileSecretStore(profile_root / "device.key")


def secure_storage_service() -> Any:
    """flet-secure-storage's service with the options that keep the secret on this phone only:
    Keychain items readable after the first unlock and never migrated to another device (not in
    iCloud or an encrypted iTunes backup restored elsewhere); Android Keystore-wrapped storage
    (hardware-backed where the phone has it), never in Auto Backup (allowBackup=false)."""
    fss = importlib.import_module("flet_secure_storage")  # phone builds only ([tool.flet.android] dependencies)

    apple = {"accessibility": fss.KeychainAccessibility.FIRST_UNLOCK_THIS_DEVICE, "synchronizable": False}
    return fss.SecureStorage(ios_options=fss.IOSOptions(**apple), macos_options=fss.MacOsOptions(**apple))


def _runs_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return getattr(loop, "_thread_id", None) == threading.get_ident()


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _as_coroutine(awaitable: Awaitable[T]) -> Coroutine[Any, Any, T]:
    return awaitable if asyncio.iscoroutine(awaitable) else _await(awaitable)


def _close(awaitable: Awaitable[Any]) -> None:
    if asyncio.iscoroutine(awaitable):
        awaitable.close()  # never awaited: no "coroutine was never awaited" warning
