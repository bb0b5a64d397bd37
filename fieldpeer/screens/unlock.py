"""First run (enrol with the agency's one-time code and choose a PIN) and unlock."""

from __future__ import annotations

from typing import Any

import flet as ft

from fieldpeer.screens.widgets import Ui
from fieldpeer.store.vault import VaultError, VaultWiped
from fieldpeer.sync.client import SyncError


def build(ui: Ui) -> ft.View:
    session = ui.shell.session
    state = {"pin": ""}
    message = ui.error("", "unlock-error")

    def unlock(_: Any = None) -> None:
        try:
            session.unlock(state["pin"])
        except VaultWiped as exc:
            ui.shell.toast(str(exc))
            ui.shell.go("/caseload")
            return
        except VaultError as exc:
            ui.show_error(message, str(exc))
            return
        ui.shell.go("/caseload")

    pin = ui.field("PIN", "", lambda v: state.__setitem__("pin", v), password=True, number=True, on_submit=unlock, autofocus=True)
    return ui.view(
        "/unlock",
        "FieldPeer is locked",
        [
            ui.text("Enter your PIN to open your caseload.", 16),
            pin,
            message,
            ui.button("Unlock", unlock, "unlock", icon=ft.Icons.LOCK_OPEN),
            ui.text(f"{session.profile.vault.attempts_left()} attempts before this device erases its data.", 13),
        ],
    )


def build_enrol(ui: Ui) -> ft.View:
    session = ui.shell.session
    form = {"server": "https://", "code": "", "pin": "", "pin_again": ""}
    message = ui.error("", "enrol-error")

    def enrol(_: Any = None) -> None:
        try:
            session.enrol(form["server"].strip(), form["code"].strip(), form["pin"], form["pin_again"])
        except (VaultError, SyncError, ValueError) as exc:
            ui.show_error(message, str(exc))
            return
        session.sync()  # fetch the caseload straight away when the network allows
        ui.shell.go("/caseload")

    def setter(key: str) -> Any:
        return lambda value: form.__setitem__(key, value)

    return ui.view(
        "/enrol",
        "Set up FieldPeer",
        [
            ui.text("Your supervisor gives you the agency address and a one-time code.", 15),
            ui.field("Agency address", form["server"], setter("server"), hint="https://agency.example.org"),
            ui.field("One-time code", "", setter("code"), hint="ABCD-EFGH-JKMN"),
            ui.field("Choose a PIN (6 or more)", "", setter("pin"), password=True, number=True),
            ui.field("PIN again", "", setter("pin_again"), password=True, number=True, on_submit=enrol),
            message,
            ui.button("Enrol this device", enrol, "enrol"),
        ],
    )
