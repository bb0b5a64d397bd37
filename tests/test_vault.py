"""The vault: PIN unlock, escalating delays, wipe after 10 wrong PINs, re-wrap on PIN change."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from fieldpeer.store import people
from fieldpeer.store.profile import Profile
from fieldpeer.store.secrets import KeyFileSecretStore
from fieldpeer.store.vault import MAX_FAILED_ATTEMPTS, TryLater, Vault, VaultError, VaultWiped, WrongPin, lockout_delay, pin_problem
from fieldpeer.records import Person
from tests.conftest import PIN, TEST_COST, FakeClock, make_peer


def wrong_until_wiped(profile: Profile, clock: FakeClock) -> None:
    for attempt in range(1, MAX_FAILED_ATTEMPTS):
        with pytest.raises(WrongPin):
            profile.unlock("999999")
        clock.advance(lockout_delay(attempt))
    with pytest.raises(VaultWiped):
        profile.unlock("999999")


def test_right_pin_opens_the_same_data(profile: Profile) -> None:
    store = profile.set_up(PIN, make_peer())
    person = people.save_person(store, Person(preferred_name="Jamie"))
    store.close()
    reopened = profile.unlock(PIN)
    assert people.get_person(reopened, person.id).preferred_name == "Jamie"
    reopened.close()


def test_wrong_pin_is_refused_with_attempts_left(profile: Profile) -> None:
    profile.set_up(PIN, make_peer()).close()
    with pytest.raises(WrongPin) as caught:
        profile.unlock("000111")
    assert caught.value.attempts_left == MAX_FAILED_ATTEMPTS - 1
    assert "Wrong PIN. 9 tries left before FieldPeer erases its data on this phone." in str(caught.value)


def test_delays_escalate_and_are_enforced(profile: Profile, clock: FakeClock) -> None:
    profile.set_up(PIN, make_peer()).close()
    for _ in range(4):
        with pytest.raises(WrongPin):
            profile.unlock("000111")
    with pytest.raises(WrongPin) as caught:
        profile.unlock("000111")
    assert caught.value.retry_after_seconds == 30
    with pytest.raises(TryLater):
        profile.unlock(PIN)  # even the right PIN waits: no guessing during the delay
    clock.advance(31)
    profile.unlock(PIN).close()
    assert profile.vault.attempts_left() == MAX_FAILED_ATTEMPTS  # success resets the counter
    assert [lockout_delay(n) for n in range(1, 10)] == sorted(lockout_delay(n) for n in range(1, 10))


def test_counter_survives_a_restart(profile: Profile, clock: FakeClock, tmp_path: Path) -> None:
    profile.set_up(PIN, make_peer()).close()
    for _ in range(3):
        with pytest.raises(WrongPin):
            profile.unlock("000111")
    restarted = Profile(profile.root, cost=TEST_COST, clock=clock)
    assert restarted.vault.attempts_left() == MAX_FAILED_ATTEMPTS - 3


def test_attempt_is_counted_before_the_pin_is_checked(profile: Profile) -> None:
    """Killing the app during the (slow) key derivation must not grant a free guess."""
    profile.set_up(PIN, make_peer()).close()

    class Killed(Exception):
        pass

    def die(*_: object) -> None:
        raise Killed()

    profile.vault._try_pin = die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        profile.unlock("000111")
    assert Profile(profile.root, cost=TEST_COST).vault.attempts_left() == MAX_FAILED_ATTEMPTS - 1


def test_ten_wrong_pins_wipe_keys_and_data(profile: Profile, clock: FakeClock) -> None:
    profile.set_up(PIN, make_peer()).close()
    wrong_until_wiped(profile, clock)
    assert not (profile.root / "vault.json").exists()
    assert not (profile.root / "device.key").exists()
    assert not profile.database_path.exists()
    assert not profile.is_set_up
    with pytest.raises(VaultError):
        profile.unlock(PIN)


def test_change_pin_rewraps_only(profile: Profile) -> None:
    store = profile.set_up(PIN, make_peer())
    person = people.save_person(store, Person(preferred_name="Robin"))
    store.close()
    db_before = profile.database_path.read_bytes()
    profile.vault.change_pin(PIN, "731946")
    assert profile.database_path.read_bytes() == db_before  # no record was re-encrypted
    with pytest.raises(WrongPin):
        profile.unlock(PIN)
    store = profile.unlock("731946")
    assert people.get_person(store, person.id).preferred_name == "Robin"
    store.close()


def test_change_pin_needs_the_old_pin_and_a_good_new_one(profile: Profile) -> None:
    profile.set_up(PIN, make_peer()).close()
    with pytest.raises(WrongPin):
        profile.vault.change_pin("000111", "731946")
    with pytest.raises(VaultError, match="at least"):
        profile.vault.change_pin(PIN, "12")


def test_lock_drops_the_key(profile: Profile) -> None:
    store = profile.set_up(PIN, make_peer())
    cipher = profile.vault.cipher
    assert cipher is not None and profile.vault.is_unlocked
    profile.vault.lock()
    assert not profile.vault.is_unlocked
    assert profile.vault._data_key is None
    with pytest.raises(PermissionError):
        people.save_person(store, Person(preferred_name="Kim"))


def test_database_and_vault_without_the_device_secret_are_useless(profile: Profile, tmp_path: Path) -> None:
    """A copied backup (database + vault.json) without the keystore secret cannot be opened."""
    profile.set_up(PIN, make_peer()).close()
    (profile.root / "device.key").rename(tmp_path / "elsewhere.key")
    with pytest.raises(VaultError, match="device key is missing"):
        profile.unlock(PIN)


def test_secret_files_are_private(profile: Profile) -> None:
    profile.set_up(PIN, make_peer()).close()
    for name in ("vault.json", "device.key"):
        mode = stat.S_IMODE((profile.root / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert stat.S_IMODE(profile.root.stat().st_mode) == 0o700


def test_create_refuses_weak_pins_and_overwrites(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "vault.json", KeyFileSecretStore(tmp_path / "device.key"), cost=TEST_COST)
    for weak in ("123", "111111", "123456", "654321"):
        with pytest.raises(VaultError):
            vault.create(weak)
    vault.create("482913")
    with pytest.raises(VaultError, match="already"):
        vault.create("482913")


def test_pin_rules() -> None:
    assert pin_problem("482913") is None
    assert pin_problem("correct horse") is None
    assert pin_problem("12345") is not None
    assert pin_problem("000000") is not None
    assert pin_problem("345678") is not None


def test_the_unlock_screen_can_read_tries_left_and_the_wait_without_trying_a_pin(profile: Profile, clock: FakeClock) -> None:
    from fieldpeer.screens.dates import pin_line

    profile.set_up(PIN, make_peer()).close()
    assert profile.vault.pin_status().attempts_left == MAX_FAILED_ATTEMPTS and not profile.vault.pin_status().locked
    for _ in range(5):
        with pytest.raises(WrongPin):
            profile.unlock("000111")
    status = profile.vault.pin_status()
    assert (status.attempts_left, status.wait_seconds, status.locked) == (5, 30, True)
    clock.advance(3.5)
    ticking = profile.vault.pin_status()
    assert pin_line(ticking.attempts_left, ticking.wait_seconds) == "Try again in 0:27"  # it counts down
    for _ in range(20):
        profile.vault.pin_status()  # reading costs no attempt
    clock.advance(27)
    assert profile.vault.pin_status() == type(status)(5, 0.0)
    assert pin_line(5, 0) == "Wrong PIN. 5 tries left before FieldPeer erases its data on this phone."
    profile.unlock(PIN).close()
