"""First run (enrol with the agency's one-time code, or start the offline demo; choose a PIN) and unlock.

Key derivation and the network run in a worker thread (`Ui.offload`): the screen shows a
progress ring and disables its buttons meanwhile, and other sessions are never stalled.
"""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from fieldpeer.screens.dates import pin_line
from fieldpeer.screens.status_words import Status, words
from fieldpeer.screens.sync_view import summary_text
from fieldpeer.screens.widgets import Ui, inner
from fieldpeer.store.vault import TryLater, VaultError, VaultWiped, WrongPin
from fieldpeer.sync.client import SyncError


def working(label: str) -> ft.Control:
    return ft.Row([ft.ProgressRing(width=20, height=20, semantics_label=label), ft.Text(label)], visible=False)


def build(ui: Ui) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    vault = session.profile.vault
    state = {"pin": ""}
    message = ui.error("", "unlock-error")
    spinner = working("Opening…")
    buttons: list[ft.Control] = []

    def show_pin_status() -> float:
        """One line from the vault's counter: "Wrong PIN. 2 tries left before FieldPeer erases its data on this phone.", or
        "Try again in 0:27" with Unlock off. Returns the seconds still to wait."""
        status = vault.pin_status()
        ui.show_error(message, pin_line(status.attempts_left, status.wait_seconds))
        ui.busy(buttons, status.locked)
        return status.wait_seconds

    async def count_down() -> None:
        while show_pin_status() > 0 and shell.page.views and shell.page.views[-1] is view:
            await asyncio.sleep(1)

    async def unlock(_: Any = None) -> None:
        spinner.visible = True
        ui.busy(buttons, True)
        try:
            await ui.offload(session.unlock, state["pin"], shell)
        except VaultWiped as exc:
            shell.toast(str(exc))
            shell.go("/caseload")
            return
        except (WrongPin, TryLater):
            spinner.visible = False
            shell.page.run_task(count_down)
            return
        except VaultError as exc:
            spinner.visible = False
            ui.busy(buttons, False)
            ui.show_error(message, str(exc))
            return
        shell.unlocked()

    pin = ui.field("PIN", "", lambda v: state.__setitem__("pin", v), password=True, number=True, on_submit=unlock, autofocus=True)
    buttons.append(ui.button("Unlock", unlock, "unlock", icon=ft.Icons.LOCK_OPEN))
    reason = shell.lock_reason
    why = words(reason, minutes=session.settings.auto_lock_minutes).line
    shift = [ui.text(summary_text(session.last_summary), 14, identifier="shift-summary")] if reason is Status.SHIFT_ENDED and session.last_summary else []
    status = vault.pin_status()  # wrong PINs before this screen opened (another tab, a reload)
    message.visible = bool(line := pin_line(status.attempts_left, status.wait_seconds))
    inner(message, ft.Text).value = line
    view = ui.view("/unlock", "FieldPeer is locked", [ui.text(why, 16, identifier="lock-reason"), *shift, pin, message, *buttons, spinner])
    if status.locked:
        for button in buttons:
            inner(button, ft.Control).disabled = True
        shell.page.run_task(count_down)
    return view


def build_enrol(ui: Ui) -> ft.View:
    session = ui.shell.session
    form = {"server": "https://", "code": "", "pin": "", "pin_again": ""}
    message = ui.error("", "enrol-error")
    spinner = working("Setting up…")
    buttons: list[ft.Control] = []

    async def run(work: Any, *args: Any) -> None:
        spinner.visible = True
        ui.busy(buttons, True)
        try:
            await ui.offload(work, *args)
        except (VaultError, SyncError, ValueError) as exc:
            spinner.visible = False
            ui.busy(buttons, False)
            ui.show_error(message, str(exc))
            return
        ui.shell.unlocked()

    async def enrol(_: Any = None) -> None:
        await run(session.enrol, form["server"].strip(), form["code"].strip(), form["pin"], form["pin_again"], ui.shell)

    async def offline_demo(_: Any = None) -> None:
        await run(session.start_offline_demo, form["pin"], form["pin_again"], ui.shell)

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
