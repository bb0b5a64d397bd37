"""Device files are owner-only: the database, its -wal/-shm side files, the vault, the device key
and the logs are 0600, their folders 0700, whatever the process umask, and a profile an older
version left readable to others is tightened when it is next opened."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from fieldpeer.logs import configure_logging
from fieldpeer.records import Person
from fieldpeer.store import notes, people
from fieldpeer.store.profile import Profile
from tests.conftest import PIN, TEST_COST, make_peer


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@contextmanager
def logging_to(log_dir: Path) -> Iterator[None]:
    logger = logging.getLogger("fieldpeer")
    before = list(logger.handlers)
    configure_logging(log_dir)
    try:
        yield
    finally:
        for handler in logger.handlers[len(before) :]:
            handler.close()
            logger.removeHandler(handler)


def modes(root: Path) -> dict[str, str]:
    """Every file and folder under root (root included) with its permission bits, e.g. 'logs': '0o700'."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.stat().st_mode))
    return found


def not_private(root: Path) -> dict[str, str]:
    return {name: mode for name, mode in modes(root).items() if mode != ("0o700" if (root / name).is_dir() else "0o600")}


def save_something(profile: Profile, store_opener: str = "set_up") -> None:
    store = profile.set_up(PIN, make_peer()) if store_opener == "set_up" else profile.unlock(PIN)
    try:
        person = people.save_person(store, Person(preferred_name="Alex"))
        notes.log_phone_contact(store, person.id, 10, "A call", ended_at=datetime(2026, 11, 25, 9))
        logging.getLogger("fieldpeer.store").info("saved %s", person.id)
        files = modes(profile.root)
        assert {"fieldpeer.db-wal", "fieldpeer.db-shm", "vault.json", "device.key", "logs/fieldpeer.log"} <= set(files), files
        assert not_private(profile.root) == {}, "while the store is open"
    finally:
        store.close()


def test_everything_a_profile_writes_is_owner_only_even_with_an_open_umask(tmp_path: Path) -> None:
    profile = Profile(tmp_path / "phones" / "profile", cost=TEST_COST)
    with umask(0o000), logging_to(profile.log_dir):  # the laxest umask: files would be 0666
        save_something(profile)
    assert not_private(profile.root) == {}
    assert oct(stat.S_IMODE((tmp_path / "phones").stat().st_mode)) == "0o700"  # a folder it created on the way
    assert "saved" in (profile.log_dir / "fieldpeer.log").read_text()


def test_a_profile_left_readable_by_an_older_version_is_tightened_on_unlock(tmp_path: Path) -> None:
    profile = Profile(tmp_path / "profile", cost=TEST_COST)
    with logging_to(profile.log_dir):
        save_something(profile)
    for name in modes(profile.root):  # as an older version under umask 022 would have left it
        (profile.root / name).chmod(0o755 if (profile.root / name).is_dir() else 0o644)
    assert not_private(profile.root)
    with umask(0o022), logging_to(profile.log_dir):
        save_something(profile, store_opener="unlock")
    assert not_private(profile.root) == {}
