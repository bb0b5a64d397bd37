"""The installed app: `flet build apk|aab|ipa` runs this (through main.py), one peer, one window.

Web mode (app.web_app) serves many browser tabs from a server; here the Python runs on the
peer's own phone. The differences are all chosen here: the profile sits in the app's private
storage, the device secret in the OS keystore, the app locks when put away and syncs when the
network comes back.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import flet as ft

from fieldpeer.app import Shell
from fieldpeer.logs import configure_logging
from fieldpeer.screens.connectivity import attach_connectivity
from fieldpeer.screens.lifecycle import attach_lifecycle
from fieldpeer.screens.session import FieldSession
from fieldpeer.store.keystore import choose_secret_store, is_phone_app, secure_storage_service
from fieldpeer.store.profile import Profile, device_profile_dir

DESKTOP_PROFILE = Path.home() / ".fieldpeer" / "profile"  # `flet run` on a laptop without FLET_APP_STORAGE_DATA


def platform_name(page: Any) -> str | None:
    platform = getattr(page, "platform", None)
    return str(getattr(platform, "value", platform)) if platform is not None else None


def open_profile(page: Any, env: dict[str, str] | None = None) -> Profile:
    """The profile in the app's private storage, its secret where this platform keeps secrets best."""
    env = dict(os.environ) if env is None else env
    root = device_profile_dir(Path(env.get("FIELDPEER_PROFILE", DESKTOP_PROFILE)), env)
    platform, web = platform_name(page), bool(getattr(page, "web", False))
    keystore = secure_storage_service() if is_phone_app(platform, web) else None
    return Profile(root, secrets=choose_secret_store(root, platform=platform, web=web, keystore=keystore, loop=page.loop))


def main(page: ft.Page) -> None:
    profile = open_profile(page)
    configure_logging(profile.log_dir)
    shell = Shell(page, FieldSession(profile))
    shell.start()
    attach_lifecycle(page, shell)
    attach_connectivity(page, shell)
