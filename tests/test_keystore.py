"""The device secret in the OS keystore (flet-secure-storage), against a fake of its async API.

The fake behaves as the service does on a phone: async ``get``/``set``/``remove`` of text on the
page's event loop (here a loop in its own thread), while the vault calls from a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldpeer.records import Person
from fieldpeer.store import people
from fieldpeer.store.keystore import SECRET_KEY, KeystoreSecretStore, choose_secret_store, is_phone_app
from fieldpeer.store.profile import Profile
from fieldpeer.store.secrets import DeviceSecretDamaged, KeyFileSecretStore, KeystoreUnavailable
from fieldpeer.store.vault import MAX_FAILED_ATTEMPTS, DeviceKeyLost, VaultError, VaultWiped, WrongPin, lockout_delay
from tests.conftest import PIN, TEST_COST, FakeClock, make_peer


class FakeSecureStorage:
    """flet_secure_storage.SecureStorage's get/set/remove: async, text values, None when absent."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.calls: list[str] = []
        self.hang = False
        self.fail = False

    async def _answer(self, name: str) -> None:
        self.calls.append(name)
        if self.fail:
            raise RuntimeError("PlatformException(Exception, javax.crypto.AEADBadTagException)")
        if self.hang:
            await asyncio.sleep(3600)

    async def get(self, key: str) -> str | None:
        await self._answer("get")
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        await self._answer("set")
        if self.fail or value is None:
            raise ValueError("value can't be None")
        self.values[key] = value

    async def remove(self, key: str) -> None:
        await self._answer("remove")
        self.values.pop(key, None)


@pytest.fixture
def page_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The page's event loop, running in its own thread as Flet's is."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def storage() -> FakeSecureStorage:
    return FakeSecureStorage()


@pytest.fixture
def phone(tmp_path: Path, storage: FakeSecureStorage, page_loop: asyncio.AbstractEventLoop, clock: FakeClock) -> Profile:
    secrets = choose_secret_store(tmp_path / "profile", platform="android", web=False, keystore=storage, loop=page_loop)
    return Profile(tmp_path / "profile", secrets=secrets, cost=TEST_COST, clock=clock)


def test_secret_is_saved_in_the_keystore_and_opens_the_same_data(phone: Profile, storage: FakeSecureStorage) -> None:
    store = phone.set_up(PIN, make_peer())
    person = people.save_person(store, Person(preferred_name="Jamie"))
    store.close()
    assert len(base64.b64decode(storage.values[SECRET_KEY])) == 32
    assert not (phone.root / "device.key").exists()  # nothing on disk beside the database
    phone.vault.lock()
    reopened = phone.unlock(PIN)
    assert people.get_person(reopened, person.id).preferred_name == "Jamie"
    reopened.close()
    assert "get" in storage.calls


def test_cleared_keystore_entry_erases_like_a_wipe_and_asks_to_enrol(phone: Profile, storage: FakeSecureStorage) -> None:
    phone.set_up(PIN, make_peer()).close()
    storage.values.clear()  # the OS dropped it: app data reset, lock screen removed, restored on another phone
    with pytest.raises(VaultWiped) as caught:
        phone.unlock(PIN)
    assert isinstance(caught.value, DeviceKeyLost)
    assert "Enrol again" in str(caught.value)
    assert not phone.is_set_up and not phone.database_path.exists()  # back to first run: enrol again
    phone.set_up(PIN, make_peer()).close()  # and a new enrolment works on the same phone
    assert SECRET_KEY in storage.values


@pytest.mark.parametrize("stored", ["not base64 at all!", base64.b64encode(b"short").decode(), ""])
def test_damaged_keystore_entry_erases_like_a_wipe(phone: Profile, storage: FakeSecureStorage, stored: str) -> None:
    phone.set_up(PIN, make_peer()).close()
    storage.values[SECRET_KEY] = stored
    with pytest.raises(DeviceKeyLost):
        phone.unlock(PIN)
    assert not phone.is_set_up
    assert SECRET_KEY not in storage.values  # the damaged entry went with the wipe


def test_damaged_entry_is_reported_as_damaged(storage: FakeSecureStorage, page_loop: asyncio.AbstractEventLoop) -> None:
    store = KeystoreSecretStore(storage, page_loop)
    assert store.load() is None
    storage.values[SECRET_KEY] = "%%%"
    with pytest.raises(DeviceSecretDamaged):
        store.load()


def test_ten_wrong_pins_destroy_the_keystore_entry(phone: Profile, storage: FakeSecureStorage, clock: FakeClock) -> None:
    phone.set_up(PIN, make_peer()).close()
    for attempt in range(1, MAX_FAILED_ATTEMPTS):
        with pytest.raises(WrongPin):
            phone.unlock("999999")
        clock.advance(lockout_delay(attempt))
    with pytest.raises(VaultWiped):
        phone.unlock("999999")
    assert storage.values == {}
    assert not phone.database_path.exists()


def test_sign_out_and_wipe_destroys_the_keystore_entry(phone: Profile, storage: FakeSecureStorage) -> None:
    phone.set_up(PIN, make_peer()).close()
    phone.wipe()
    assert storage.values == {} and storage.calls[-1] == "remove"


def test_keystore_that_does_not_answer_loses_nothing(phone: Profile, storage: FakeSecureStorage) -> None:
    phone.set_up(PIN, make_peer()).close()
    phone.vault.secrets.timeout = 0.2  # type: ignore[attr-defined]
    kept = dict(storage.values)
    for trouble in ("hang", "fail"):
        setattr(storage, trouble, True)
        with pytest.raises(VaultError, match="did not answer") as caught:
            phone.unlock(PIN)
        assert not isinstance(caught.value, VaultWiped)
        setattr(storage, trouble, False)
    assert storage.values == kept and phone.is_set_up
    phone.unlock(PIN).close()  # once it answers again, the same PIN opens the same data


def test_errors_never_quote_the_secret(storage: FakeSecureStorage, page_loop: asyncio.AbstractEventLoop) -> None:
    store = KeystoreSecretStore(storage, page_loop, timeout=0.2)
    secret = bytes(range(32))
    storage.hang = True
    with pytest.raises(KeystoreUnavailable) as caught:
        store.save(secret)
    text = str(caught.value) + repr(caught.value.__cause__) + repr(caught.value.__context__ if not caught.value.__suppress_context__ else "")
    assert base64.b64encode(secret).decode() not in text


def test_never_called_on_the_ui_loop(storage: FakeSecureStorage, page_loop: asyncio.AbstractEventLoop) -> None:
    """From the loop it would wait for itself forever: refused at once instead."""
    store = KeystoreSecretStore(storage, page_loop)

    async def on_the_loop() -> str:
        try:
            store.load()
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    assert "worker thread" in asyncio.run_coroutine_threadsafe(on_the_loop(), page_loop).result(5)
    assert storage.calls == []


def test_sign_out_and_wipe_from_the_ui_loop_removes_the_entry(phone: Profile, storage: FakeSecureStorage, page_loop: asyncio.AbstractEventLoop) -> None:
    """Settings' "Sign out and wipe" runs on the UI loop (a plain Flet handler): the wipe completes
    there and the keystore entry goes right after, with nothing left readable."""
    phone.set_up(PIN, make_peer()).close()

    async def wipe_on_the_loop() -> None:
        phone.wipe()
        assert not phone.is_set_up and not phone.database_path.exists()  # done before the handler returns

    asyncio.run_coroutine_threadsafe(wipe_on_the_loop(), page_loop).result(5)
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), page_loop).result(5)
    assert storage.values == {}


@pytest.mark.parametrize(
    ("platform", "web", "keystore"),
    [("android", False, True), ("ios", False, True), ("Android", False, True), ("android", True, False), ("ios", True, False)]
    + [(desktop, False, False) for desktop in ("linux", "macos", "windows", None)],
)
def test_platform_choice(tmp_path: Path, storage: FakeSecureStorage, page_loop: asyncio.AbstractEventLoop, platform: str | None, web: bool, keystore: bool) -> None:
    """The keystore on an Android / iOS app; the key file on desktops and in web mode (a phone's browser included)."""
    chosen = choose_secret_store(tmp_path, platform=platform, web=web, keystore=storage, loop=page_loop)
    assert is_phone_app(platform, web) is keystore
    assert isinstance(chosen, KeystoreSecretStore if keystore else KeyFileSecretStore)
    if not keystore:
        assert chosen.path == tmp_path / "device.key"  # type: ignore[union-attr]


def test_phone_app_without_a_keystore_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        choose_secret_store(tmp_path, platform="ios", web=False)


def test_a_new_vault_never_reuses_a_leftover_secret(phone: Profile, storage: FakeSecureStorage) -> None:
    """The iOS Keychain outlives an uninstall: a fresh enrolment starts with a fresh secret."""
    storage.values[SECRET_KEY] = base64.b64encode(b"\x01" * 32).decode()
    phone.set_up(PIN, make_peer()).close()
    assert base64.b64decode(storage.values[SECRET_KEY]) != b"\x01" * 32


def test_unlock_screen_after_the_secret_is_lost_says_so_and_offers_enrolment(tmp_path: Path, clock: FakeClock) -> None:
    """What the peer sees: one line saying why, then the first-run screen; no crash, no stuck PIN screen."""
    from fieldpeer import app
    from fieldpeer.screens.session import FieldSession
    from tests.flet_harness import ScreenHarness

    profile = Profile(tmp_path / "device", cost=TEST_COST, clock=clock)
    profile.set_up(PIN, make_peer()).close()
    profile.vault.lock()
    (profile.root / "device.key").unlink()  # as a cleared keystore entry
    session = FieldSession(profile, clock=clock, auto_sync_seconds=None)
    screen = ScreenHarness(app.make_main(session))
    try:
        screen.type("PIN", PIN)
        screen.tap("unlock")
        screen.wait_for(lambda: any("Enrol again" in t for t in screen.toasts()), what="the toast")
        screen.wait_for(lambda: screen.route == "/enrol" or not session.is_set_up, what="first run")
        assert "One-time code" in screen.text() or screen.field("One-time code")
    finally:
        screen.close()
        session.lock()


def test_the_real_flet_secure_storage_has_the_api_the_adapter_uses() -> None:
    """Runs where flet-secure-storage is installed (the phone-versions venv of tests/test_mobile_deps.py)."""
    fss = pytest.importorskip("flet_secure_storage")
    import inspect

    from fieldpeer.store.keystore import secure_storage_service

    for name, params in (("get", ["self", "key"]), ("set", ["self", "key", "value"]), ("remove", ["self", "key"])):
        method = getattr(fss.SecureStorage, name)
        assert inspect.iscoroutinefunction(method)
        assert list(inspect.signature(method).parameters)[: len(params)] == params
    service = secure_storage_service()
    assert service.ios_options.accessibility == fss.KeychainAccessibility.FIRST_UNLOCK_THIS_DEVICE  # never migrates to another device
    assert service.ios_options.synchronizable is False  # not in iCloud Keychain
