"""The caseload: who needs contact, whose plan is due, open safety alerts; search; sync badge."""

from __future__ import annotations

import flet as ft

from fieldpeer.screens.forms import counted
from fieldpeer.screens.status_words import Status, sync_status, sync_words
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import people


def flag_labels(entry: people.CaseloadEntry) -> list[tuple[str, str]]:
    """(text, colour) for each flag, most urgent first."""
    flags = []
    if entry.open_safety_alert:
        flags.append(("Safety alert", ft.Colors.RED_700))
    if entry.no_recent_contact:
        flags.append(("No contact in 30 days", ft.Colors.ORANGE_800))
    if entry.returned_notes:
        flags.append((counted(entry.returned_notes, "note") + " returned by supervisor", ft.Colors.PURPLE_700))
    if entry.plan_review_due:
        flags.append(("Plan review due", ft.Colors.BLUE_800))
    return flags


def person_rows(ui: Ui, entries: list[people.CaseloadEntry], search: str) -> list[ft.Control]:
    shell = ui.shell
    rows: list[ft.Control] = []
    for entry in entries:
        last = entry.last_contact.isoformat() if entry.last_contact else "never"
        flags = [ui.text(text, 13, color=colour) for text, colour in flag_labels(entry)]
        details = ft.Column([ui.text(entry.preferred_name, 16, bold=True), ui.text(f"Last contact: {last}", 13), ft.Row(flags, wrap=True, spacing=8)], spacing=2, expand=True)
        open_person = ft.Semantics(
            identifier=f"person-{entry.person_id}", button=True, expand=True,  # read as its text: name, last contact, flags
            content=ft.Container(details, on_click=ui.act(lambda e, pid=entry.person_id: shell.go(f"/person/{pid}")), expand=True, padding=ft.Padding.symmetric(vertical=6)),
        )
        call = ui.icon_button(ft.Icons.PHONE, f"Log a phone call with {entry.preferred_name}", lambda e, pid=entry.person_id: shell.go(f"/person/{pid}/phone"), f"phone-{entry.person_id}")
        divider = ft.Border.only(bottom=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT))
        rows.append(ft.Container(ft.Row([open_person, call], vertical_alignment=ft.CrossAxisAlignment.CENTER), border=divider))  # the 48 px call button sets the row height
    if not rows:
        empty = "Nobody matches that name." if search else "Nobody on your caseload yet. Sync to receive your assignments."
        rows = [ui.text(empty, 15, identifier="caseload-empty"), ui.button("Sync now", lambda e: shell.go("/sync"), "empty-sync", primary=False)]
    return rows


def build(ui: Ui) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    data = people.list_caseload(session.store, session.today())
    listing = ft.Column(person_rows(ui, data.entries, ""), spacing=0)

    def search(text: str) -> None:
        listing.controls = person_rows(ui, people.list_caseload(session.store, session.today(), search=text).entries, text)
        shell.page.update()

    facts = session.sync_facts()
    pending = facts.pending if sync_status(facts) in (Status.WAITING, Status.NOT_REACHED) else 0  # a number only where records wait to go
    sync_label = sync_words(facts).badge
    actions = [
        ui.icon_button(ft.Icons.MANAGE_SEARCH, "Search notes", lambda e: shell.go("/search"), "search-notes"),
        ui.icon_button(ft.Icons.SYNC, sync_label, lambda e: shell.go("/sync"), "sync-badge", badge=str(pending) if pending else None),
        ui.icon_button(ft.Icons.SETTINGS, "Settings", lambda e: shell.go("/settings"), "settings"),
        ui.icon_button(ft.Icons.LOCK, "Lock now", lambda e: shell.lock(), "lock-now"),
    ]
    return ui.view("/caseload", "Caseload", [ui.field("Search by name", "", search, hint="Type part of a name"), listing], actions=actions)
