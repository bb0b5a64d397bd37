"""A virtualenv holding what a phone build ships, to run the device code and its tests in.

`flet build apk|aab|ipa` bundles its own CPython (3.12 by default; 3.13 and 3.14 on request) and
installs binary packages from Flet's mobile package index (mobile-forge recipes), which lag
PyPI. The versions below are the ones that index builds for Android and iOS (architecture.md,
"On phones", as gathered by the lead in Aug 2026); the pure-Python ones come from PyPI, as in
a build. Sources:

- cryptography 43.0.1, cffi 2.0.0, pydantic-core 2.47.0, SQLAlchemy 2.0.50: Flet's mobile index.
- pydantic 2.14.0a1: the PyPI release whose metadata pins ``pydantic-core==2.47.0`` (read from
  PyPI with ``pip download --no-deps``: 2.13.5 pins 2.46.5, 2.14.0a1 pins 2.47.0, 2.14.0b1
  2.48.0, 2.14.0b2 2.49.0, 2.14.0 2.50.0). A build must pin it: pip takes no pre-release unasked.
- flet, sqlmodel, httpx: pure Python, the versions this project installs; flet-secure-storage 1.0.5
  (PyPI, the release matching flet 1.0.5), which only phone builds install.

The same pins are in pyproject.toml ([tool.flet.android] / [tool.flet.ios] dependencies).
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOBILE_INDEX_PINS = ["cryptography==43.0.1", "cffi==2.0.0", "pydantic==2.14.0a1", "pydantic-core==2.47.0", "SQLAlchemy==2.0.50"]
# flet-secure-storage: the keystore's Python side, installed on phones only ([tool.flet.android] dependencies).
PURE_PINS = [f"flet=={metadata.version('flet')}", "flet-secure-storage==1.0.5", "tzdata==2026.6", f"sqlmodel=={metadata.version('sqlmodel')}", f"httpx=={metadata.version('httpx')}"]
TEST_TOOLS = [f"pytest=={metadata.version('pytest')}", f"hypothesis=={metadata.version('hypothesis')}"]
PHONE_PYTHONS = ("3.12", "3.13")  # what Flet's phone builds bundle (no 3.11-only behaviour allowed)


def find_python(version: str) -> str | None:
    """A working interpreter of that version on this machine (pyenv's versions, then PATH), or None."""
    candidates = [str(p) for p in sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"), reverse=True)]
    candidates += [found] if (found := shutil.which(f"python{version}")) else []
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == version:  # a pyenv shim for a version not set up fails here
            return candidate
    return None


def mobile_venv(python: str, with_tests: bool = True) -> Path:
    """The virtualenv's python for that interpreter with the phone's versions, built once and
    cached under .cache/ (rebuilt when the pins change). No server or web extra is installed."""
    version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, check=True).stdout.strip()
    venv = ROOT / ".cache" / f"mobile-venv-{version}"
    pins = MOBILE_INDEX_PINS + PURE_PINS + (TEST_TOOLS if with_tests else [])
    stamp = venv / ("ready-" + "-".join(pins).replace("=", "").replace("/", ""))[:240]
    venv_python = venv / "bin" / "python"
    if not stamp.exists():
        subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
        # An exact pin admits the pydantic alpha; nothing else may be a pre-release.
        subprocess.run([str(venv_python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--prefer-binary", *pins], check=True, timeout=900)
        stamp.touch()
    return venv_python


def installed(venv_python: Path, *names: str) -> dict[str, str]:
    """Versions as the venv itself reports them."""
    code = "import sys, importlib.metadata as m; print('\\n'.join(n + '=' + m.version(n) for n in sys.argv[1:]))"
    out = subprocess.run([str(venv_python), "-c", code, *names], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.split())
