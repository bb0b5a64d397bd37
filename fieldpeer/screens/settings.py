"""Settings: change PIN, auto-lock, text size, lock now, sign out and erase."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import flet as ft

from fieldpeer.screens.session import AUTO_LOCK_CHOICES, TEXT_SCALES
from fieldpeer.screens.widgets import Ui
from fieldpeer.store.vault import VaultError


def build(ui: Ui) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    pins = {"old": "", "new": "", "again": ""}
    message = ui.error("", "settings-error")

    def set_auto_lock(value: str) -> None:
        session.save_settings(replace(session.settings, auto_lock_minutes=int(value)))
        shell.toast(f"FieldPeer locks after {value} minutes without use.")

    def set_text(value: str) -> None:
        session.save_settings(replace(session.settings, text_size=value))
        shell.page.run_task(redraw)

    async def redraw() -> None:
        await asyncio.sleep(0.4)  # after the sheet has closed: a screen rebuilt under it keeps it open
        shell.render()

    async def change_pin(_: Any) -> None:
        try:
            await ui.offload(session.change_pin, pins["old"], pins["new"], pins["again"])  # two key derivations
        except VaultError as exc:
            ui.show_error(message, str(exc))
            return
        shell.toast("PIN changed.")
        shell.render()

    def confirm_wipe(_: Any) -> None:
        def wipe(_: Any) -> None:
            shell.page.pop_dialog()
            session.sign_out_and_wipe()
            shell.go("/caseload")

        shell.page.show_dialog(
            ft.AlertDialog(
                title=ft.Text("Erase FieldPeer from this phone?"),
                content=ft.Text(f"{session.pending().pending} records have not reached the agency yet and would be lost. Sync first if you can."),
                actions=[ui.button("Cancel", lambda e: shell.page.pop_dialog(), "wipe-cancel", primary=False), ui.button("Erase", wipe, "wipe-confirm")],
            )
        )

    return ui.view(
        "/settings",
        "Settings",
        [
            ui.picker("Lock after (minutes without use)", [(str(m), f"{m} minutes") for m in AUTO_LOCK_CHOICES], str(session.settings.auto_lock_minutes), set_auto_lock, "auto-lock"),
            ui.picker("Text size", [(k, k.capitalize()) for k in TEXT_SCALES], session.settings.text_size, set_text, "text-size"),
            ui.heading("Change PIN"),
            ui.field("Current PIN", "", lambda v: pins.__setitem__("old", v), password=True, number=True),
            ui.field("New PIN", "", lambda v: pins.__setitem__("new", v), password=True, number=True),
            ui.field("New PIN again", "", lambda v: pins.__setitem__("again", v), password=True, number=True),
            message,
            ui.button("Change PIN", change_pin, "change-pin", primary=False),
            ui.button("Lock now", lambda e: shell.lock(), "settings-lock", icon=ft.Icons.LOCK),
            ui.button("Sign out and erase this phone", confirm_wipe, "wipe", primary=False, icon=ft.Icons.DELETE_FOREVER),
        ],
        back="/caseload",
    )
