"""Sync / End shift: what is waiting, progress while it goes, and what happened."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from fieldpeer.screens.forms import counted
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import outbox
from fieldpeer.sync.client import SyncSummary

REASONS = {
    "not_your_caseload": "this person is not on your caseload at the agency",
    "stale_version": "someone changed this record at the agency first",
    "unknown_note": "the note it belongs to did not reach the agency",
    "invalid": "the record is incomplete or malformed",
    "peer_mismatch": "it was written under another peer",
}


def readable(reason: str) -> str:
    code = reason.split(":", 1)[0]
    return REASONS.get(code, reason)


def summary_text(summary: SyncSummary) -> str:
    """What a sync did, in words, leaving out what did not happen."""
    parts = [
        f"{counted(summary.sent, 'record')} sent" if summary.sent else "",
        f"{summary.already_on_server} already at the agency" if summary.already_on_server else "",
        f"{summary.quarantined} set aside (see Sync)" if summary.quarantined else "",
        f"{summary.pending} still waiting" if summary.pending else "",
        f"{counted(summary.pulled, 'update')} received" if summary.pulled else "",
    ]
    text = ", ".join(filter(None, parts)) or "Nothing new"
    text = text[0].upper() + text[1:] + "."
    return f"{text} Not finished: {summary.error} Your records are safe on this phone." if summary.error else f"{text} All done."


def build(ui: Ui) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    counts = session.pending()
    progress = ft.ProgressBar(value=0, visible=False, semantics_label="Sync progress", height=8)
    status = ui.text(summary_text(session.last_summary) if session.last_summary else "", 15, identifier="sync-summary")
    buttons: list[ft.Control] = []

    def show_progress(done: int, total: int) -> None:
        progress.value = done / total if total else 1
        status.content.value = f"Sent {done} of {total}…"  # type: ignore[attr-defined]
        shell.page.update()

    async def run(end_of_shift: bool) -> None:
        if not session.can_sync:
            shell.toast("This is an offline demo profile: there is no agency to sync with.")
            return
        progress.visible, progress.value = True, None  # indeterminate until the first batch
        status.content.value = "Syncing…"  # type: ignore[attr-defined]
        ui.busy(buttons, True)
        loop = asyncio.get_running_loop()

        def on_progress(done: int, total: int) -> None:  # called on the sync thread
            loop.call_soon_threadsafe(show_progress, done, total)

        summary = await ui.offload(session.end_shift if end_of_shift else session.sync, on_progress)
        if not session.is_unlocked:  # end of shift with everything sent (locked), or revoked (wiped)
            shell.go("/caseload")
            return
        shell.toast("Sync finished." if summary.ok else "Sync will try again when the network is back.")
        shell.render()  # fresh counts, summary and quarantine list

    async def sync_now(_: Any) -> None:
        await run(end_of_shift=False)

    async def end_shift(_: Any) -> None:
        await run(end_of_shift=True)

    buttons = [
        ui.button("Sync now", sync_now, "sync-now", primary=False, icon=ft.Icons.SYNC, expand=True),
        ui.button("End shift", end_shift, "end-shift", icon=ft.Icons.LOGOUT, expand=True),
    ]
    quarantined = [ui.text(f"{q.record_type.replace('_', ' ')}: {readable(q.reason)}", 14) for q in outbox.quarantined(session.store)]
    return ui.view(
        "/sync",
        "Sync / End shift",
        [
            ui.text(f"Waiting to send: {counts.pending}", 17, bold=True, identifier="pending-count"),
            ui.text(f"Last successful sync: {session.last_sync_at()}", 14, identifier="last-sync"),
            ui.text("End shift sends everything, then locks the phone.", 14),
            ft.Row(buttons),
            progress,
            status,
            ui.heading("Set aside by the agency"),
            *(quarantined or [ui.text("Nothing set aside.", 14, identifier="quarantine-empty")]),
        ],
        back="/caseload",
    )
