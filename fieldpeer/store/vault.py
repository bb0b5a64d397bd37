"""The vault: a random data key, stored only wrapped under the PIN and the device secret.

    KEK = HKDF-SHA256(ikm = scrypt(PIN, salt, N, r, p), salt = device secret, info = "fieldpeer kek v1")
    wrapped DEK = AES-256-GCM(KEK, nonce, DEK, aad = "fieldpeer|dek|<key version>")

The wrapped key, scrypt parameters, salt and the wrong-PIN counter live in ``vault.json``;
the device secret lives elsewhere (see secrets.py). Changing the PIN re-wraps the DEK only.
Wrong PINs cost an escalating delay and the 10th in a row wipes the vault (crypto-shredding).
The counter is written *before* the PIN is tried, so killing the app mid-attempt does not
give a free guess.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from fieldpeer.store.crypto import FieldCipher
from fieldpeer.store.secrets import SECRET_BYTES, DeviceSecretDamaged, DeviceSecretStore, KeystoreUnavailable, shred_file, write_private_file

VAULT_FORMAT = 1
MAX_FAILED_ATTEMPTS = 10
MIN_PIN_LENGTH = 6


@dataclass(frozen=True)
class ScryptCost:
    """N=2**15, r=8, p=1: 32 MiB and ~80 ms on the 2-core dev machine (README, Security)."""

    n: int = 2**15
    r: int = 8
    p: int = 1


DEFAULT_COST = ScryptCost()


class VaultError(Exception):
    pass


class WrongPin(VaultError):
    def __init__(self, attempts_left: int, retry_after_seconds: float) -> None:
        self.attempts_left = attempts_left
        self.retry_after_seconds = retry_after_seconds
        wait = f" Try again in {round(retry_after_seconds)} seconds." if retry_after_seconds else ""
        super().__init__(f"{wrong_pin_words(attempts_left)}{wait}")  # the unlock screen's words


def wrong_pin_words(attempts_left: int) -> str:
    """The one wording of a wrong PIN (unlock screen, Change PIN): it says the PIN was wrong and that
    FieldPeer erases its own data, not the phone."""
    return f"Wrong PIN. {attempts_left} {'try' if attempts_left == 1 else 'tries'} left before FieldPeer erases its data on this phone."


class TryLater(VaultError):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"Too many wrong PINs. Try again in {max(1, round(seconds))} seconds.")


class VaultWiped(VaultError):
    def __init__(self) -> None:
        super().__init__("Too many wrong PINs: the data on this device has been erased. Enrol again to continue.")


class NoVault(VaultError):
    pass


class DeviceKeyLost(VaultWiped):
    """The device secret is gone or damaged (keystore cleared, data restored on another phone):
    the data can never be opened again, so it is erased like a wipe and the peer enrols again."""

    def __init__(self) -> None:
        VaultError.__init__(
            self, "The device key is missing (the phone cleared it, or this data came from another phone), so the data here could not be opened and was erased. Enrol again to continue."
        )


def lockout_delay(failed_attempts: int) -> float:
    """Seconds to wait after this many consecutive wrong PINs (pure, so it is testable)."""
    schedule = {5: 30.0, 6: 60.0, 7: 120.0, 8: 300.0, 9: 600.0}
    return schedule.get(failed_attempts, 0.0)


def pin_problem(pin: str) -> str | None:
    """Why a new PIN is not acceptable, or None."""
    if len(pin) < MIN_PIN_LENGTH:
        return f"Use at least {MIN_PIN_LENGTH} characters."
    if len(set(pin)) == 1:
        return "Do not repeat one character."
    if pin.isdigit() and (pin in "0123456789" or pin in "9876543210"):
        return "Do not use a run like 123456."
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)


@dataclass
class VaultState:
    key_version: int
    n: int
    r: int
    p: int
    salt: str
    nonce: str
    wrapped_key: str
    failed_attempts: int = 0
    retry_after: float = 0.0  # epoch seconds
    format: int = VAULT_FORMAT


def _derive_kek(pin: str, salt: bytes, cost: ScryptCost, device_secret: bytes) -> bytes:
    stretched = Scrypt(salt=salt, length=32, n=cost.n, r=cost.r, p=cost.p).derive(pin.encode())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=device_secret, info=b"fieldpeer kek v1").derive(stretched)


def _dek_aad(key_version: int) -> bytes:
    return f"fieldpeer|dek|{key_version}".encode()


@dataclass(frozen=True)
class PinStatus:
    """What the unlock screen says before a PIN is tried (reading it costs no attempt)."""

    attempts_left: int  # wrong PINs left before FieldPeer erases its data
    wait_seconds: float  # 0 when a PIN may be tried now

    @property
    def locked(self) -> bool:
        return self.wait_seconds > 0


class Vault:
    def __init__(
        self,
        path: Path,
        secrets: DeviceSecretStore,
        *,
        cost: ScryptCost = DEFAULT_COST,
        clock: Callable[[], float] = time.time,
        on_wipe: Callable[[], None] = lambda: None,
    ) -> None:
        self.path = path
        self.secrets = secrets
        self.cost = cost
        self.clock = clock
        self.on_wipe = on_wipe
        self._data_key: bytearray | None = None
        self.cipher: FieldCipher | None = None

    # --- state ---------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def _read(self) -> VaultState:
        try:
            return VaultState(**json.loads(self.path.read_text()))
        except FileNotFoundError as exc:
            raise NoVault("This device is not set up yet.") from exc

    def _write(self, state: VaultState) -> None:
        write_private_file(self.path, json.dumps(asdict(state)).encode())

    def _wrap(self, pin: str, data_key: bytes, key_version: int, failed: int = 0) -> VaultState:
        secret = self.secrets.load()
        if secret is None:
            secret = os.urandom(SECRET_BYTES)
            self.secrets.save(secret)
        salt, nonce = os.urandom(16), os.urandom(12)
        kek = _derive_kek(pin, salt, self.cost, secret)
        wrapped = AESGCM(kek).encrypt(nonce, data_key, _dek_aad(key_version))
        c = self.cost
        return VaultState(key_version, c.n, c.r, c.p, _b64(salt), _b64(nonce), _b64(wrapped), failed)

    # --- life cycle ----------------------------------------------------------

    def create(self, pin: str) -> FieldCipher:
        """Set up a new vault with a fresh data key; refuses to overwrite an existing one."""
        if problem := pin_problem(pin):
            raise VaultError(problem)
        if self.exists():
            raise VaultError("This device already has a vault.")
        data_key = os.urandom(32)
        self.secrets.destroy()  # a leftover secret (the iOS Keychain outlives the app) is never reused
        self._write(self._wrap(pin, data_key, key_version=1))
        return self._open(data_key, 1)

    def attempts_left(self) -> int:
        return MAX_FAILED_ATTEMPTS - self._read().failed_attempts

    def pin_status(self) -> PinStatus:
        """Tries left before erase and seconds until the next try, from the counter, without trying
        a PIN (so the unlock screen can count down "Try again in 0:27"). NoVault when not set up."""
        state = self._read()
        return PinStatus(MAX_FAILED_ATTEMPTS - state.failed_attempts, max(0.0, state.retry_after - self.clock()))

    def unlock(self, pin: str) -> FieldCipher:
        state = self._read()
        now = self.clock()
        if now < state.retry_after:
            raise TryLater(state.retry_after - now)
        # Count the attempt first: a kill during scrypt must not be a free guess.
        state.failed_attempts += 1
        self._write(state)
        data_key = self._try_pin(state, pin)
        if data_key is None:
            if state.failed_attempts >= MAX_FAILED_ATTEMPTS:
                self.wipe()
                raise VaultWiped()
            delay = lockout_delay(state.failed_attempts)
            state.retry_after = now + delay
            self._write(state)
            raise WrongPin(MAX_FAILED_ATTEMPTS - state.failed_attempts, delay)
        state.failed_attempts, state.retry_after = 0, 0.0
        self._write(state)
        return self._open(data_key, state.key_version)

    def _try_pin(self, state: VaultState, pin: str) -> bytes | None:
        secret = self._device_secret()
        cost = ScryptCost(state.n, state.r, state.p)
        kek = _derive_kek(pin, _unb64(state.salt), cost, secret)
        try:
            return AESGCM(kek).decrypt(_unb64(state.nonce), _unb64(state.wrapped_key), _dek_aad(state.key_version))
        except InvalidTag:
            return None

    def _device_secret(self) -> bytes:
        """Lost or damaged is final (wipe, DeviceKeyLost); a keystore that did not answer is not."""
        try:
            secret = self.secrets.load()
        except DeviceSecretDamaged:
            secret = None
        except KeystoreUnavailable as exc:
            raise VaultError(str(exc)) from None
        if secret is None:
            self.wipe()
            raise DeviceKeyLost()
        return secret

    def change_pin(self, old_pin: str, new_pin: str) -> None:
        """Re-wrap the same data key under the new PIN: no record is re-encrypted."""
        if problem := pin_problem(new_pin):
            raise VaultError(problem)
        self.unlock(old_pin)
        assert self._data_key is not None
        state = self._read()
        self._write(self._wrap(new_pin, bytes(self._data_key), state.key_version))

    def _open(self, data_key: bytes, key_version: int) -> FieldCipher:
        self.lock()
        self._data_key = bytearray(data_key)
        self.cipher = FieldCipher(data_key, key_version)
        return self.cipher

    @property
    def is_unlocked(self) -> bool:
        return self.cipher is not None

    def lock(self) -> None:
        if self._data_key is not None:
            for i in range(len(self._data_key)):
                self._data_key[i] = 0
        self._data_key = None
        if self.cipher is not None:
            self.cipher.forget()
        self.cipher = None

    def wipe(self) -> None:
        """Crypto-shred: without the wrapped key and the device secret the data is unreadable."""
        self.lock()
        shred_file(self.path)
        self.secrets.destroy()
        self.on_wipe()
