"""The phone build's configuration ([tool.flet] in pyproject.toml), checked for what matters for
safety: backups off, no permission the app does not need, the entry module present and importable
without the server and web extras, the binary packages pinned to what Flet's mobile index has.
`flet build` itself cannot run here (it downloads Flutter, a JDK and the Android SDK)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.mobile_env import MOBILE_INDEX_PINS
from tests.test_device_imports import DEVICE_PACKAGES, SERVER_PACKAGES, imports_of

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FLET: dict[str, Any] = PYPROJECT["tool"]["flet"]
# Flet's cross-platform permission bundles (flet_cli build_base: location, camera, microphone,
# photo_library...) and the Android permissions a field app for health records must not ask for.
UNNEEDED_ANDROID = ("LOCATION", "CAMERA", "RECORD_AUDIO", "CONTACTS", "STORAGE", "MEDIA", "CALENDAR", "SMS", "CALL_PHONE", "PHONE_STATE", "BLUETOOTH", "BODY_SENSORS")


def test_android_backups_are_off() -> None:
    application = FLET["android"]["manifest_application"]
    assert application["allowBackup"] == "false"  # no Auto Backup to the cloud, no adb backup
    assert application["fullBackupContent"] == "false"


def test_only_network_permissions() -> None:
    assert FLET.get("permissions", []) == []  # no location, camera, microphone, photos bundle
    assert "permissions" not in FLET.get("ios", {}) and "permissions" not in FLET["android"]
    android = FLET["android"]["permission"]
    asked = {name for name, on in android.items() if on}
    assert asked == {"android.permission.INTERNET", "android.permission.ACCESS_NETWORK_STATE"}
    assert not any(word in name for name in asked for word in UNNEEDED_ANDROID)
    assert "info" not in FLET.get("ios", {})  # no usage descriptions: the app asks iOS for nothing


def test_names_ids_version_and_minimum_android() -> None:
    assert FLET["product"] == "FieldPeer"
    assert FLET["org"] == "org.fieldpeer" and FLET["bundle_id"].startswith("org.fieldpeer.")
    assert "version" not in FLET and "build_number" not in FLET  # the build reads [project] version
    assert PYPROJECT["project"]["version"]
    assert FLET["android"]["min_sdk_version"] >= 23  # flet-secure-storage's Keystore AES needs API 23+


def test_icon_and_splash_are_pngs_in_assets() -> None:
    for name in ("icon.png", "splash.png"):
        data = (ROOT / "assets" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width == height >= 512, (name, width, height)
    assert FLET["splash"]["color"].startswith("#")


def test_entry_module_exists_and_only_the_device_side_is_packaged() -> None:
    app = FLET["app"]
    entry = ROOT / app["path"] / f"{app['module']}.py"
    assert entry.exists()
    assert {"tests", "benchmarks", "scripts", "fieldpeer/agency"} <= set(app["exclude"])
    for path in (entry, ROOT / "fieldpeer" / "phone.py"):
        for module, _ in imports_of(path):
            top = module.split(".")[0]
            assert top in sys.stdlib_module_names or top in DEVICE_PACKAGES or top.startswith("flet_"), f"{path.name} imports {module}"


IMPORT_AS_A_PHONE = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError("not on a phone: " + name)
        return None
sys.meta_path.insert(0, Block())
import main
assert callable(main.main)
from fieldpeer.phone import open_profile
class Page:  # what Flet reports for an installed Android app
    platform, web, loop = "android", False, None
try:
    open_profile(Page(), {{"FLET_APP_STORAGE_DATA": sys.argv[1]}})
except ModuleNotFoundError as exc:  # flet-secure-storage comes with the phone build only
    assert exc.name == "flet_secure_storage", exc
print("entry ok")
"""


def test_entry_module_imports_without_the_server_and_web_extras(tmp_path: Path) -> None:
    """main.py and fieldpeer.phone import with every server and web package blocked, and importing
    main.py starts nothing (the app starts only when Flet's runtime runs it)."""
    code = IMPORT_AS_A_PHONE.format(blocked={*SERVER_PACKAGES, "flet_web", "jinja2", "fhir"})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLET_PLATFORM", None)
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "entry ok" in result.stdout


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_mobile_index_pins_are_the_ones_tested(platform: str) -> None:
    """What the build installs for the binary packages is what tests/test_mobile_deps.py runs."""
    pins = FLET[platform]["dependencies"]
    assert [p for p in pins if not p.startswith(("flet-secure-storage", "tzdata"))] == MOBILE_INDEX_PINS
    assert "flet-secure-storage==1.0.5" in pins  # the keystore adapter's Flutter side
    assert not any(p.split("==")[0].lower().replace("_", "-") in ("fastapi", "uvicorn", "psycopg", "flet-web", "jinja2") for p in pins)
    assert not any(extra in str(PYPROJECT["project"]["dependencies"]) for extra in ("fastapi", "uvicorn", "psycopg", "flet-web"))


def test_profile_lives_in_the_apps_private_storage_on_a_phone(tmp_path: Path) -> None:
    from fieldpeer.store.profile import device_profile_dir

    assert device_profile_dir(tmp_path / "here", {"FLET_APP_STORAGE_DATA": "/data/user/0/org.fieldpeer.field/files"}) == Path("/data/user/0/org.fieldpeer.field/files/profile")
    assert device_profile_dir(tmp_path / "here", {}) == tmp_path / "here"


def test_build_script_says_it_needs_a_networked_machine() -> None:
    script = (ROOT / "scripts" / "build-android.sh").read_text()
    assert "flet build apk" in script and "flet build aab" in script
    assert "flet-cli==" in script  # the CLI matching flet 1.0.5, not the newest
    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / "build-android.sh")]).returncode == 0
