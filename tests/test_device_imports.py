"""The device side runs on a phone: no server packages, and only cryptography 43's API."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fieldpeer"
DEVICE_MODULES = [PACKAGE / "domain.py", PACKAGE / "records.py", PACKAGE / "config.py", PACKAGE / "demo_data.py", *(PACKAGE / "store").rglob("*.py"), *(PACKAGE / "sync").rglob("*.py"), *(PACKAGE / "screens").rglob("*.py")]
DEVICE_PACKAGES = {"flet", "sqlmodel", "sqlalchemy", "pydantic", "pydantic_core", "httpx", "cryptography", "fieldpeer"}  # pydantic_core: on the mobile index too
SERVER_PACKAGES = ("fastapi", "starlette", "uvicorn", "psycopg", "psycopg_binary")
# What Flet's mobile builds ship (cryptography 43); notably no argon2 and no hpke.
CRYPTO_43 = {
    "cryptography.exceptions": {"InvalidTag", "InvalidSignature"},
    "cryptography.hazmat.primitives": {"hashes", "hmac", "serialization"},
    "cryptography.hazmat.primitives.hmac": {"HMAC"},
    "cryptography.hazmat.primitives.hashes": {"SHA256", "SHA512"},
    "cryptography.hazmat.primitives.ciphers.aead": {"AESGCM", "ChaCha20Poly1305"},
    "cryptography.hazmat.primitives.kdf.hkdf": {"HKDF"},
    "cryptography.hazmat.primitives.kdf.scrypt": {"Scrypt"},
    "cryptography.hazmat.primitives.asymmetric.x25519": {"X25519PrivateKey", "X25519PublicKey"},
    "cryptography.hazmat.primitives.asymmetric.ed25519": {"Ed25519PrivateKey", "Ed25519PublicKey"},
    "cryptography.hazmat.primitives.serialization": {"Encoding", "PublicFormat", "PrivateFormat", "NoEncryption"},
}


def imports_of(path: Path) -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


def test_device_modules_import_only_phone_packages() -> None:
    assert len(DEVICE_MODULES) > 8
    for path in DEVICE_MODULES:
        for module, names in imports_of(path):
            top = module.split(".")[0]
            where = f"{path.relative_to(ROOT)} imports {module}"
            assert top in sys.stdlib_module_names or top in DEVICE_PACKAGES or top.startswith("flet_"), where
            assert not module.startswith("fieldpeer.agency"), where
            if top == "cryptography":
                assert module in CRYPTO_43 and names <= CRYPTO_43[module], f"{where} {names}: not in cryptography 43's API"


SMOKE = textwrap.dedent(
    """
    import importlib.abc, sys, tempfile
    from pathlib import Path

    class BlockServer(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ImportError("server-only package imported on the device: " + name)
            return None

    sys.meta_path.insert(0, BlockServer())
    import pkgutil, importlib, fieldpeer
    for sub in ("fieldpeer.domain", "fieldpeer.config", "fieldpeer.demo_data"):
        importlib.import_module(sub)
    for pkg in ("fieldpeer.store", "fieldpeer.sync"):
        for info in pkgutil.walk_packages(importlib.import_module(pkg).__path__, pkg + "."):
            importlib.import_module(info.name)
    from datetime import datetime
    from fieldpeer.store import notes, people
    from fieldpeer.store.profile import Profile
    from fieldpeer.store.vault import ScryptCost
    from fieldpeer.records import ContactNote, Narrative, PeerProfile, Person
    import cryptography
    profile = Profile(Path(tempfile.mkdtemp()) / "p", cost=ScryptCost(2**10, 8, 1))
    store = profile.set_up("482913", PeerProfile(name="P", role="recovery_coach"))
    pid = people.save_person(store, Person(preferred_name="Q")).id
    note = notes.log_phone_contact(store, pid, 10, "call", ended_at=datetime(2026, 1, 1, 10))
    store.close()
    store = profile.unlock("482913")
    assert notes.get_note(store, note.id).narrative.intervention == "call"
    print("device ok with cryptography", cryptography.__version__)
    """
).format(blocked=set(SERVER_PACKAGES))


def run_smoke(python: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([python, "-c", SMOKE], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_device_modules_run_with_server_packages_blocked() -> None:
    assert "device ok" in run_smoke(sys.executable)


@pytest.mark.slow
def test_device_modules_run_on_cryptography_43() -> None:
    """A separate virtualenv with exactly what a phone build ships (tests/mobile_env.py: Flet's
    mobile index versions, cryptography 43.0.1 among them), no server extra; tests/test_mobile_deps.py
    runs the device test suite in the same way on Python 3.12 and 3.13."""
    from tests.mobile_env import mobile_venv

    python = mobile_venv(sys.executable)
    assert "cryptography 43.0.1" in run_smoke(str(python))
