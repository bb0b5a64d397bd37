"""Where the encrypted note text lives: the (table, field) labels bound into each ciphertext.

One definition, so notes, the timeline and search cannot drift apart (a wrong label does not
decrypt at all)."""

from __future__ import annotations

from typing import Any

from fieldpeer.store.crypto import FieldCipher

NOTE_TABLE = "contact_note"
NARRATIVE = "narrative"


def seal_narrative(cipher: FieldCipher, note_id: str, narrative: dict[str, Any]) -> bytes:
    """A note's Goal / Intervention / Response / Plan, encrypted for its row."""
    return cipher.encrypt_json(NOTE_TABLE, note_id, NARRATIVE, narrative)


def open_narrative(cipher: FieldCipher, note_id: str, blob: bytes) -> dict[str, Any]:
    """The narrative of one note row, as the dict it was saved from."""
    narrative: dict[str, Any] = cipher.decrypt_json(NOTE_TABLE, note_id, NARRATIVE, blob)
    return narrative
