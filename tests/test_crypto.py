"""Field encryption: values only decrypt where they were written, and tampering is caught."""

from __future__ import annotations

import os

import pytest

from fieldpeer.store.crypto import NONCE_BYTES, DecryptionError, FieldCipher


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(os.urandom(32))


def test_round_trip_including_unicode(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("contact_note", "n1", "narrative", "Café talk — 😊")
    assert cipher.decrypt("contact_note", "n1", "narrative", blob) == "Café talk — 😊"
    assert b"Caf" not in blob


def test_value_moved_to_another_row_fails(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("person", "row-a", "preferred_name", "Alex")
    with pytest.raises(DecryptionError):
        cipher.decrypt("person", "row-b", "preferred_name", blob)


def test_value_moved_to_another_field_or_table_fails(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("person", "row-a", "preferred_name", "Alex")
    with pytest.raises(DecryptionError):
        cipher.decrypt("person", "row-a", "details", blob)
    with pytest.raises(DecryptionError):
        cipher.decrypt("peer_profile", "row-a", "preferred_name", blob)


def test_every_flipped_bit_fails(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("addendum", "a1", "text", "correction")
    for byte in range(len(blob)):
        for bit in (0, 7):
            tampered = bytearray(blob)
            tampered[byte] ^= 1 << bit
            with pytest.raises(DecryptionError):
                cipher.decrypt("addendum", "a1", "text", bytes(tampered))


def test_truncated_value_fails_cleanly(cipher: FieldCipher) -> None:
    with pytest.raises(DecryptionError):
        cipher.decrypt("addendum", "a1", "text", b"\x01")


def test_another_key_cannot_read(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("addendum", "a1", "text", "secret")
    with pytest.raises(DecryptionError):
        FieldCipher(os.urandom(32)).decrypt("addendum", "a1", "text", blob)


def test_errors_never_contain_the_value(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("addendum", "a1", "text", "MARKER-SECRET")
    with pytest.raises(DecryptionError) as caught:
        cipher.decrypt("addendum", "other", "text", blob)
    assert "MARKER" not in str(caught.value) and "MARKER" not in repr(caught.value.__cause__)


def test_no_nonce_reuse_over_100k_encryptions(cipher: FieldCipher) -> None:
    start = 3  # format byte + two key-version bytes
    nonces = {cipher.encrypt("t", "r", "f", "x")[start : start + NONCE_BYTES] for _ in range(100_000)}
    assert len(nonces) == 100_000


def test_forgotten_key_refuses_work(cipher: FieldCipher) -> None:
    cipher.forget()
    with pytest.raises(PermissionError):
        cipher.encrypt("t", "r", "f", "x")
