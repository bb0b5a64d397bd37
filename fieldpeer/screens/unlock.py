"""First run (enrol with the agency's one-time code, or start the offline demo; choose a PIN) and unlock.

Key derivation and the network run in a worker thread (`Ui.offload`): the screen shows a
progress ring and disables its buttons meanwhile, and other sessions are never stalled.
"""

from __future__ import annotations

from typing import Any

import flet as ft

from fieldpeer.screens.sync_view import summary_text
from fieldpeer.screens.widgets import Ui
from fieldpeer.store.vault import VaultError, VaultWiped
from fieldpeer.sync.client import SyncError


def working(label: str) -> ft.Control:
    return ft.Row([ft.ProgressRing(width=20, height=20, semantics_label=label), ft.Text(label)], visible=False)


def build(ui: Ui) -> ft.View:
    session = ui.shell.session
    state = {"pin": ""}
    message = ui.error("", "unlock-error")
    spinner = working("Opening…")
    buttons: list[ft.Control] = []

    async def unlock(_: Any = None) -> None:
        spinner.visible = True
        ui.busy(buttons, True)
        try:
            await ui.offload(session.unlock, state["pin"])
        except VaultWiped as exc:
            ui.shell.toast(str(exc))
            ui.shell.go("/caseload")
            return
        except VaultError as exc:
            spinner.visible = False
            ui.busy(buttons, False)
            ui.show_error(message, str(exc))
            return
        ui.shell.go("/caseload")

    pin = ui.field("PIN", "", lambda v: state.__setitem__("pin", v), password=True, number=True, on_submit=unlock, autofocus=True)
    buttons.append(ui.button("Unlock", unlock, "unlock", icon=ft.Icons.LOCK_OPEN))
    last_shift = session.last_summary
    return ui.view(
        "/unlock",
        "FieldPeer is locked",
        [
            *([ui.text("Shift ended. " + summary_text(last_shift), 14, identifier="shift-summary")] if last_shift else []),
            ui.text("Enter your PIN to open your caseload.", 16),
            pin,
            message,
            *buttons,
            spinner,
            ui.text(f"{session.profile.vault.attempts_left()} attempts before this device erases its data.", 13),
        ],
    )


def build_enrol(ui: Ui) -> ft.View:
    session = ui.shell.session
    form = {"server": "https://", "code": "", "pin": "", "pin_again": ""}
    message = ui.error("", "enrol-error")
    spinner = working("Setting up…")
    buttons: list[ft.Control] = []

    async def run(work: Any, *args: str) -> None:
        spinner.visible = True
        ui.busy(buttons, True)
        try:
            await ui.offload(work, *args)
        except (VaultError, SyncError, ValueError) as exc:
            spinner.visible = False
            ui.busy(buttons, False)
            ui.show_error(message, str(exc))
            return
        ui.shell.go("/caseload")

    async def enrol(_: Any = None) -> None:
        await run(session.enrol, form["server"].strip(), form["code"].strip(), form["pin"], form["pin_again"])

    async def offline_demo(_: Any = None) -> None:
        await run(session.start_offline_demo, form["pin"], form["pin_again"])

    def setter(key: str) -> Any:
        return lambda value: form.__setitem__(key, value)

    buttons += [
        ui.button("Enrol this device", enrol, "enrol", icon=ft.Icons.VERIFIED_USER),
        ui.button("Start the offline demo", offline_demo, "offline-demo", primary=False, icon=ft.Icons.SCHOOL),
    ]
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
            buttons[0],
            spinner,
            ft.Divider(),
            ui.text("Just looking? Practise with a fictional caseload that never leaves this phone (uses the PIN above).", 14),
            buttons[1],
        ],
    )
