"""The device code runs with what a phone build ships: the versions of Flet's mobile package
index (tests/mobile_env.py names them and their sources), on the Pythons phone builds bundle
(3.12 and 3.13), without the server or web extras. Each venv is built once under .cache/."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.mobile_env import MOBILE_INDEX_PINS, PHONE_PYTHONS, ROOT, find_python, installed, mobile_venv
from tests.test_device_imports import SERVER_PACKAGES, run_smoke

# The device side's own tests (store, domain, vault, keystore, lifecycle, connectivity): none
# needs the agency server. Slow ones (real agency, SIGKILLs) stay in the main suite.
DEVICE_TESTS = [
    "tests/test_domain.py",
    "tests/test_crypto.py",
    "tests/test_vault.py",
    "tests/test_keystore.py",
    "tests/test_search.py",
    "tests/test_services.py",
    "tests/test_shift_store.py",
    "tests/test_migrations.py",
    "tests/test_no_plaintext.py",
    "tests/test_lifecycle_lock.py",
]
NOT_ON_A_PHONE = [*SERVER_PACKAGES, "flet_web", "jinja2", "fhir"]
DEVICE_IMPORTS = (
    "import importlib, pkgutil, fieldpeer.screens, fieldpeer.phone, main\n"
    "for i in pkgutil.walk_packages(fieldpeer.screens.__path__, 'fieldpeer.screens.'): importlib.import_module(i.name)\n"
    "print('imported')"
)


def phone_venv(version: str) -> Path:
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine (pyenv or PATH): the phone builds' interpreter cannot be checked here")
    return mobile_venv(python)


@pytest.mark.slow
@pytest.mark.parametrize("version", PHONE_PYTHONS)
def test_device_suite_passes_with_the_mobile_index_versions(version: str) -> None:
    venv_python = phone_venv(version)
    versions = installed(venv_python, "cryptography", "cffi", "pydantic", "pydantic-core", "SQLAlchemy")
    assert [f"{name}=={v}" for name, v in versions.items()] == MOBILE_INDEX_PINS
    absent = subprocess.run([str(venv_python), "-c", f"import importlib.util, sys; sys.exit(any(importlib.util.find_spec(n) for n in {NOT_ON_A_PHONE!r}))"])
    assert absent.returncode == 0, "a server or web package is in the phone's venv: the run would prove nothing"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLET_PLATFORM", None)
    suite = subprocess.run(
        [str(venv_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", "-x", *DEVICE_TESTS], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600
    )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    assert " passed" in suite.stdout and " failed" not in suite.stdout


@pytest.mark.slow
@pytest.mark.parametrize("version", PHONE_PYTHONS)
def test_app_and_store_run_on_the_phones_python(version: str) -> None:
    """Every device module byte-compiles and imports (screens and the app entry included), and the
    encrypted store round-trips, on the interpreter the phone build bundles."""
    venv_python = phone_venv(version)
    compiled = subprocess.run([str(venv_python), "-m", "compileall", "-q", "-x", "agency", "fieldpeer", "main.py"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert compiled.returncode == 0, compiled.stdout[-3000:]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLET_PLATFORM", None)
    imported = subprocess.run([str(venv_python), "-c", DEVICE_IMPORTS], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert imported.returncode == 0 and "imported" in imported.stdout, imported.stderr[-3000:]
    assert "device ok with cryptography 43.0.1" in run_smoke(str(venv_python))
