"""Sync / End shift: what is waiting, progress while it goes, and what happened."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from fieldpeer.screens.forms import counted
from fieldpeer.screens.status_words import Status, shift_line, sync_words, unsigned_words, words
from fieldpeer.screens.widgets import Ui, inner
from fieldpeer.store import outbox, shift
from fieldpeer.sync.client import SyncSummary

REASONS = {  # the agency's refusal codes (agency/invariants.py, SECURITY.md), in a peer's words
    "not_your_caseload": "this person is not on your caseload at the agency (reassigned?)",
    "stale_version": "someone changed this record at the agency first",
    "version_conflict": "the agency already holds this version with different content",
    "unknown_note": "the note it belongs to did not reach the agency",
    "note_not_signed": "the note it belongs to is not signed",
    "invalid": "the record is incomplete or malformed",
    "peer_mismatch": "it was written under another peer",
    "signed_note_is_final": "the note was already signed: add an addendum instead",
    "not_your_record": "the agency holds this record from someone else",
    "written_by_another_device": "it was first written on another phone",
    "already_written": "the agency already holds it, and it cannot change",
    "person_changed": "it was moved to another person",
    "foreign_reference": "it points at a record of another person or peer",
    "not_pushable": "phones cannot send this kind of record",
    "not_deletable": "this record cannot be deleted",
}


def readable(reason: str) -> str:
    code = reason.split(":", 1)[0]
    return REASONS.get(code, reason)


def summary_text(summary: SyncSummary) -> str:
    """What one sync did, in words, leaving out what did not happen. "Sent" means the agency's
    receipt came back; whether anything still waits is the status line's job (status_words)."""
    parts = [
        f"{counted(summary.sent, 'record')} sent" if summary.sent else "",
        f"{summary.already_on_server} already at the agency" if summary.already_on_server else "",
        f"{summary.quarantined} set aside (see Sync)" if summary.quarantined else "",
        f"{counted(summary.pulled, 'update')} received" if summary.pulled else "",
    ]
    text = ", ".join(filter(None, parts)) or "Nothing new"
    text = "Last sync: " + text[0].lower() + text[1:] + "."
    return f"{text} It stopped early: {summary.error}" if summary.error else text


def build(ui: Ui) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    facts = session.sync_facts()
    progress = ft.ProgressBar(value=0, visible=False, semantics_label="Sync progress", height=8)
    status = ui.text(sync_words(facts).line, 16, bold=True, identifier="sync-status")
    last = ui.text(summary_text(session.last_summary) if session.last_summary else "", 14, identifier="sync-summary")
    buttons: list[ft.Control] = []
    today = shift.shift_summary(session.store, session.today())
    drafts_said: list[ft.Control] = []
    if today.unsigned:  # draft notes do go to the agency, as drafts: not contacts, nothing billed
        sent = " They reach the agency as drafts: not contacts, nothing billed, until signed." if facts.can_sync else ""
        drafts_said.append(ui.text(f"{unsigned_words(today.unsigned)} (Continue draft on the person's page).{sent}", 14, identifier="drafts-unsigned"))
    if today.unsaved_forms:
        whose = ", ".join(dict.fromkeys(today.unsaved_forms))
        them = "it" if len(today.unsaved_forms) == 1 else "them"
        drafts_said.append(ui.text(f"{counted(len(today.unsaved_forms), 'unsaved form')} ({whose}): kept on this phone only, never sent, until you save {them}.", 14, identifier="drafts-stay"))

    def say(line: str) -> None:
        inner(status, ft.Text).value = line
        shell.page.update()

    def show_progress(done: int, total: int) -> None:
        progress.value = done / total if total else 1
        say(f"Sending {done} of {total}…")

    async def run(end_of_shift: bool) -> None:
        if not session.can_sync:
            shell.toast(words(Status.PRACTICE).line)
            return
        progress.visible, progress.value = True, None  # indeterminate until the first batch
        say(sync_words(session.sync_facts(syncing=True)).line)
        ui.busy(buttons, True)
        loop = asyncio.get_running_loop()

        def on_progress(done: int, total: int) -> None:  # called on the sync thread
            loop.call_soon_threadsafe(show_progress, done, total)

        await ui.offload(session.end_shift if end_of_shift else session.sync, on_progress)
        if not session.is_unlocked:  # end of shift with everything confirmed (locked), or revoked (wiped)
            shell.lock_reason = session.lock_reason
            shell.go("/caseload")
            return
        after = session.sync_facts()
        if end_of_shift:  # still open: something has not reached the agency
            shell.toast(words(Status.SHIFT_NOT_ENDED, pending=after.pending).line if after.pending else sync_words(after).line)
        else:
            shell.toast(sync_words(after).line)
        shell.render()  # fresh counts, summary and quarantine list

    async def sync_now(_: Any) -> None:
        await run(end_of_shift=False)

    async def end_shift(_: Any) -> None:
        await run(end_of_shift=True)

    def confirm_end_shift(_: Any) -> None:
        """End shift locks FieldPeer: say what the shift holds first, and let the peer go back."""
        if not session.can_sync:
            shell.toast(words(Status.PRACTICE).line)
            return

        async def confirmed(event: Any) -> None:
            shell.page.pop_dialog()
            await end_shift(event)

        line = shift_line(today.contacts, today.units, today.unsigned, session.sync_facts().pending, len(today.unsaved_forms))
        shell.page.show_dialog(ft.AlertDialog(
            title=ft.Text("End shift?"),
            content=ui.text(f"{line} FieldPeer sends everything and locks once the agency has confirmed every record.", 15, identifier="end-shift-summary"),
            actions=[ui.button("Keep working", lambda e: shell.page.pop_dialog(), "end-shift-cancel", primary=False), ui.button("End shift", confirmed, "end-shift-confirm")],
        ))

    buttons = [
        ui.button("Sync now", sync_now, "sync-now", primary=False, icon=ft.Icons.SYNC, expand=True),
        ui.button("End shift", confirm_end_shift, "end-shift", icon=ft.Icons.LOGOUT, expand=True),
    ]
    quarantined = [ui.text(f"{q.record_type.replace('_', ' ')}: {readable(q.reason)}", 14) for q in outbox.quarantined(session.store)]
    return ui.view(
        "/sync",
        "Sync / End shift",
        [
            status,
            *([  # the practice profile sends nothing: no counts of what "waits"
                ui.text(f"Waiting to send: {facts.pending}", 15, identifier="pending-count"),
                ui.text(f"Last successful sync: {session.last_sync_at()}", 14, identifier="last-sync"),
                *([last] if session.last_summary else []),
            ] if facts.can_sync else []),
            ui.text("End shift sends everything and locks FieldPeer once the agency has confirmed every record.", 14),
            *drafts_said,
            ft.ResponsiveRow([ft.Container(b, col={"xs": 12, "sm": 6}) for b in buttons], spacing=8, run_spacing=8),
            progress,
            ui.heading("Set aside by the agency"),
            *(quarantined or [ui.text("Nothing set aside.", 14, identifier="quarantine-empty")]),
        ],
        back="/caseload",
    )
