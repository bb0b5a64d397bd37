"""First run (enrol with the agency's one-time code, or start the offline demo; choose a PIN) and unlock.

Key derivation and the network run in a worker thread (`Ui.offload`): the screen shows a
progress ring and disables its buttons meanwhile, and other sessions are never stalled.
"""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from fieldpeer.screens.status_words import Status, words, wrong_pin_line
from fieldpeer.screens.sync_view import summary_text
from fieldpeer.screens.widgets import Ui
from fieldpeer.store.vault import MAX_FAILED_ATTEMPTS, TryLater, VaultError, VaultWiped, WrongPin
from fieldpeer.sync.client import SyncError


def working(label: str) -> ft.Control:
    return ft.Row([ft.ProgressRing(width=20, height=20, semantics_label=label), ft.Text(label)], visible=False)


def build(ui: Ui) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    state: dict[str, Any] = {"pin": "", "tries_left": session.profile.vault.attempts_left(), "until": 0.0}
    message = ui.error("", "unlock-error")
    spinner = working("Opening…")
    buttons: list[ft.Control] = []

    async def count_down() -> None:
        """One line, updated each second: "… Try again in 0:27"; Unlock stays off meanwhile."""
        while (left := state["until"] - session.clock()) > 0 and shell.page.views and shell.page.views[-1] is view:
            ui.show_error(message, wrong_pin_line(state["tries_left"], left))
            await asyncio.sleep(min(1.0, left))
        ui.busy(buttons, False)
        ui.show_error(message, wrong_pin_line(state["tries_left"], 0))

    def refused(tries_left: int, wait: float) -> None:
        state["tries_left"], state["until"] = tries_left, session.clock() + wait
        spinner.visible = False
        if wait > 0:
            ui.busy(buttons, True)
            shell.page.run_task(count_down)
        else:
            ui.busy(buttons, False)
            ui.show_error(message, wrong_pin_line(tries_left, 0))

    async def unlock(_: Any = None) -> None:
        if state["until"] > session.clock():
            return
        spinner.visible = True
        ui.busy(buttons, True)
        try:
            await ui.offload(session.unlock, state["pin"], shell)
        except VaultWiped as exc:
            shell.toast(str(exc))
            shell.go("/caseload")
            return
        except WrongPin as exc:
            refused(exc.attempts_left, exc.retry_after_seconds)
            return
        except TryLater as exc:
            refused(state["tries_left"], exc.seconds)
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
    if reason is Status.SHIFT_ENDED and session.last_summary is not None:
        why = f"{why} {summary_text(session.last_summary)}"
    if state["tries_left"] < MAX_FAILED_ATTEMPTS:  # wrong PINs before this screen opened
        message.visible = True
        message.content.value = wrong_pin_line(state["tries_left"], 0)  # type: ignore[union-attr]
    view = ui.view(
        "/unlock",
        "FieldPeer is locked",
        [
            ui.text(why, 16, identifier="lock-reason"),
            pin,
            message,
            *buttons,
            spinner,
        ],
    )
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
