"""Field-level encryption: AES-256-GCM with associated data that pins a value to its place.

A value encrypted for ``(table, record id, field, key version)`` only decrypts there, so a
ciphertext copied into another row or column is rejected instead of silently shown.
Uses only cryptography APIs present in version 43 (what Flet's mobile builds ship).
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = 1
NONCE_BYTES = 12  # 96-bit random nonce per value: fine for < 2**32 values under one key
TOKEN_BYTES = 8  # search tokens: 64 bits, so chance collisions are negligible on one phone
_HEADER = struct.Struct(">BH")  # format, key version


class DecryptionError(Exception):
    """A stored value failed authentication: tampered, moved, or under another key."""


def associated_data(table: str, record_id: str, field: str, key_version: int) -> bytes:
    return f"{table}|{record_id}|{field}|{key_version}".encode()


class FieldCipher:
    """Encrypts and decrypts single fields with the unlocked data key."""

    def __init__(self, data_key: bytes, key_version: int = 1) -> None:
        if len(data_key) != 32:
            raise ValueError("the data key must be 256 bits")
        self._aead: AESGCM | None = AESGCM(data_key)
        self.key_version = key_version
        # A separate key for search tokens, so a token reveals nothing about the data key.
        self._search_key: bytes | None = HKDF(hashes.SHA256(), 32, salt=None, info=b"fieldpeer note search v1").derive(data_key)

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            raise PermissionError("The vault is locked.")
        return self._aead

    def encrypt(self, table: str, record_id: str, field: str, plaintext: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        aad = associated_data(table, record_id, field, self.key_version)
        sealed = self._cipher().encrypt(nonce, plaintext.encode(), aad)
        return _HEADER.pack(FORMAT, self.key_version) + nonce + sealed

    def decrypt(self, table: str, record_id: str, field: str, blob: bytes) -> str:
        try:
            fmt, key_version = _HEADER.unpack_from(blob)
        except struct.error as exc:
            raise DecryptionError(f"{table}.{field} of {record_id}: value is truncated") from exc
        if fmt != FORMAT or key_version != self.key_version:
            raise DecryptionError(f"{table}.{field} of {record_id}: unknown format or key version")
        start = _HEADER.size
        nonce, sealed = blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :]
        aad = associated_data(table, record_id, field, key_version)
        try:
            return self._cipher().decrypt(nonce, sealed, aad).decode()
        except InvalidTag as exc:
            # Never echo the value: the message names only where it failed.
            raise DecryptionError(f"{table}.{field} of {record_id}: authentication failed") from exc

    def encrypt_json(self, table: str, record_id: str, field: str, value: Any) -> bytes:
        return self.encrypt(table, record_id, field, json.dumps(value, separators=(",", ":"), default=str))

    def decrypt_json(self, table: str, record_id: str, field: str, blob: bytes) -> Any:
        return json.loads(self.decrypt(table, record_id, field, blob))

    def search_token(self, word: str) -> bytes:
        """A keyed one-way token for a search word (HMAC-SHA256, truncated): equal words give
        equal tokens, and without the key a token cannot be turned back into a word."""
        if self._search_key is None:
            raise PermissionError("The vault is locked.")
        mac = hmac.HMAC(self._search_key, hashes.SHA256())
        mac.update(word.encode())
        return mac.finalize()[:TOKEN_BYTES]

    def forget(self) -> None:
        """Drop the key object. Python cannot scrub every copy; the vault zeroes its own buffer."""
        self._aead = None
        self._search_key = None
