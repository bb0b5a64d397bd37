"""Sealed payloads: only the agency reads a push, only the enrolled device could have sent it."""

from __future__ import annotations

import gzip

import pytest

from fieldpeer.sync import sealing
from fieldpeer.sync.sealing import KeyPair, SealError, open_seal, seal


@pytest.fixture
def parties() -> tuple[KeyPair, KeyPair]:
    return KeyPair.generate(), KeyPair.generate()  # device, agency


def test_round_trip_and_compression(parties: tuple[KeyPair, KeyPair]) -> None:
    device, agency = parties
    note = b'{"narrative": "' + b"Met at the library and talked about the job fair. " * 40 + b'"}'
    blob = seal(note, recipient_box=agency.public.box, sender=device, context="push|d1")
    assert b"library" not in blob and len(blob) < len(note) / 4
    assert open_seal(blob, recipient=agency, sender_sign=device.public.sign, context="push|d1") == note


def test_any_flipped_byte_is_refused(parties: tuple[KeyPair, KeyPair]) -> None:
    device, agency = parties
    blob = seal(b"hello", recipient_box=agency.public.box, sender=device, context="push|d1")
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(SealError):
            open_seal(bytes(tampered), recipient=agency, sender_sign=device.public.sign, context="push|d1")


def test_wrong_context_sender_or_recipient_is_refused(parties: tuple[KeyPair, KeyPair]) -> None:
    device, agency = parties
    blob = seal(b"hello", recipient_box=agency.public.box, sender=device, context="push|d1")
    with pytest.raises(SealError):  # replayed as another device's push
        open_seal(blob, recipient=agency, sender_sign=device.public.sign, context="push|d2")
    with pytest.raises(SealError):  # claimed to come from another device
        open_seal(blob, recipient=agency, sender_sign=KeyPair.generate().public.sign, context="push|d1")
    with pytest.raises(SealError):  # someone else cannot read it
        open_seal(blob, recipient=KeyPair.generate(), sender_sign=device.public.sign, context="push|d1")
    with pytest.raises(SealError):
        open_seal(b"not a seal", recipient=agency, sender_sign=device.public.sign, context="push|d1")


def test_gzip_bomb_and_truncated_payloads_are_refused(parties: tuple[KeyPair, KeyPair], monkeypatch: pytest.MonkeyPatch) -> None:
    device, agency = parties
    monkeypatch.setattr(sealing, "MAX_PLAINTEXT", 1024)
    blob = seal(b"\\0" * 10_000, recipient_box=agency.public.box, sender=device, context="c")
    with pytest.raises(SealError, match="too large"):
        open_seal(blob, recipient=agency, sender_sign=device.public.sign, context="c")
    with pytest.raises(SealError, match="truncated"):
        sealing._gunzip(gzip.compress(b"x" * 100)[:-12])
