"""Sealed, signed payloads: only the recipient can read them, only the sender could have sent them.

    seal = MAGIC | eph X25519 public (32) | nonce (12) | signature (64) | AES-GCM ciphertext

The content key is HKDF-SHA256 over X25519(ephemeral, recipient), salted with both public keys
and bound to a context string (e.g. ``push|<device id>``), so a sealed push cannot be replayed
as anything else. The sender signs header + ciphertext with Ed25519. The plaintext is gzip'd
first: notes compress 3-4x, which is what keeps a batch small on a bad data plan.
Uses only cryptography 43 APIs (no HPKE on the phone).
"""

from __future__ import annotations

import base64
import gzip
import os
import zlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"FPS1"
_HEADER = len(MAGIC) + 32 + 12
_SIGNATURE = 64
MAX_PLAINTEXT = 64 * 1024 * 1024  # refuse gzip bombs: no batch inflates past this


class SealError(Exception):
    """The payload is not a valid seal for us: tampered, mis-signed, or not meant for this context."""


class PlaintextTooLarge(SealError):
    """A valid seal whose content inflates past the receiver's limit."""


def raw_public(key: X25519PublicKey | Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def raw_private(key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@dataclass(frozen=True)
class KeyPair:
    """A party's two keys: X25519 to receive sealed payloads, Ed25519 to sign what it sends."""

    box: X25519PrivateKey
    sign: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(X25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    @classmethod
    def from_raw(cls, box: bytes, sign: bytes) -> KeyPair:
        return cls(X25519PrivateKey.from_private_bytes(box), Ed25519PrivateKey.from_private_bytes(sign))

    @property
    def public(self) -> PublicKeys:
        return PublicKeys(raw_public(self.box.public_key()), raw_public(self.sign.public_key()))


@dataclass(frozen=True)
class PublicKeys:
    box: bytes
    sign: bytes


def _content_key(shared: bytes, eph_pub: bytes, recipient_pub: bytes, context: str) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=eph_pub + recipient_pub, info=b"fieldpeer seal v1|" + context.encode()).derive(shared)


def seal(plaintext: bytes, *, recipient_box: bytes, sender: KeyPair, context: str) -> bytes:
    eph = X25519PrivateKey.generate()
    eph_pub = raw_public(eph.public_key())
    key = _content_key(eph.exchange(X25519PublicKey.from_public_bytes(recipient_box)), eph_pub, recipient_box, context)
    header = MAGIC + eph_pub + os.urandom(12)
    ciphertext = AESGCM(key).encrypt(header[-12:], gzip.compress(plaintext, compresslevel=6), header + context.encode())
    signature = sender.sign.sign(header + ciphertext + context.encode())
    return header + signature + ciphertext


def open_seal(blob: bytes, *, recipient: KeyPair, sender_sign: bytes, context: str, max_plaintext: int | None = None) -> bytes:
    if len(blob) < _HEADER + _SIGNATURE + 16 or not blob.startswith(MAGIC):
        raise SealError("not a sealed FieldPeer payload")
    header, signature, ciphertext = blob[:_HEADER], blob[_HEADER : _HEADER + _SIGNATURE], blob[_HEADER + _SIGNATURE :]
    try:
        Ed25519PublicKey.from_public_bytes(sender_sign).verify(signature, header + ciphertext + context.encode())
    except InvalidSignature as exc:
        raise SealError("bad signature") from exc
    eph_pub = header[len(MAGIC) : len(MAGIC) + 32]
    my_pub = raw_public(recipient.box.public_key())
    key = _content_key(recipient.box.exchange(X25519PublicKey.from_public_bytes(eph_pub)), eph_pub, my_pub, context)
    try:
        compressed = AESGCM(key).decrypt(header[-12:], ciphertext, header + context.encode())
    except InvalidTag as exc:
        raise SealError("cannot decrypt") from exc
    return _gunzip(compressed, max_plaintext)


def _gunzip(data: bytes, limit: int | None = None) -> bytes:
    """Inflate at most `limit` bytes, MAX_PLAINTEXT by default (a gzip bomb stops there, without a big buffer)."""
    limit = MAX_PLAINTEXT if limit is None else limit  # read at call time: the limit is configurable
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise SealError("corrupt compressed payload") from exc
    if len(out) > limit:
        raise PlaintextTooLarge("payload too large once decompressed")
    if not inflater.eof:
        raise SealError("truncated compressed payload")
    return out
