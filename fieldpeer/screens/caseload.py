"""The caseload: who needs contact, whose plan is due, open safety alerts; search; sync badge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

import flet as ft

from fieldpeer import domain
from fieldpeer.screens import dates
from fieldpeer.screens.status_words import Status, sync_status, sync_words
from fieldpeer.screens.widgets import Ui

if TYPE_CHECKING:
    from fieldpeer.app import Shell
from fieldpeer.store import people

# Colour only repeats what the icon and the words say (never colour alone).
FLAG_COLOURS: dict[domain.FlagKind, str] = {
    domain.FlagKind.SAFETY_ALERT: ft.Colors.RED_800,
    domain.FlagKind.SUPERVISOR_FOLLOWING_UP: ft.Colors.DEEP_ORANGE_800,
    domain.FlagKind.NOTES_RETURNED: ft.Colors.PURPLE_700,
    domain.FlagKind.FOLLOW_UP_DUE: ft.Colors.BLUE_800,
    domain.FlagKind.NO_RECENT_CONTACT: ft.Colors.BROWN_700,
    domain.FlagKind.NO_CONTACT_YET: ft.Colors.BLUE_GREY_700,
    domain.FlagKind.PLAN_REVIEW_DUE: ft.Colors.TEAL_800,
}


def shown_flags(entry: people.CaseloadEntry, today: date) -> list[domain.Flag]:
    """The entry's flags with the dates a peer asks about next: "No contact for 51 days" (one line,
    so the row drops its "Last contact" line) and "Plan review due since 3 Oct"."""
    shown: list[domain.Flag] = []
    for flag in entry.flags:
        if flag.kind is domain.FlagKind.NO_RECENT_CONTACT and entry.last_contact is not None:
            flag = replace(flag, words=dates.no_contact_for(entry.last_contact, today))
        elif flag.kind is domain.FlagKind.PLAN_REVIEW_DUE:
            flag = replace(flag, words=dates.plan_review_words(entry.plan_review_due_on, today))
        shown.append(flag)
    return shown


def flag_chips(ui: Ui, flags: list[domain.Flag], size: float = 13) -> list[ft.Control]:
    """Each flag as an icon and its words, in the flag's colour, most pressing first."""
    return [marker(ui, f"flag-{flag.kind.value}", getattr(ft.Icons, flag.icon), flag.words, FLAG_COLOURS.get(flag.kind, ft.Colors.ON_SURFACE), size) for flag in flags]


def marker(ui: Ui, identifier: str, icon: Any, words: str, colour: str, size: float = 13) -> ft.Control:
    """An icon and its words in one colour (never colour alone); the words wrap, never under the call button."""
    text = ft.Text(words, size=ui.size(size), color=colour, weight=ft.FontWeight.W_600, expand=True)
    return ft.Semantics(identifier=identifier, content=ft.Row(
        [ft.Icon(icon, size=ui.size(size + 3), color=colour), text], spacing=4, vertical_alignment=ft.CrossAxisAlignment.START,
    ))


def row_notes(ui: Ui, entry: people.CaseloadEntry, today: date) -> list[ft.Control]:
    """What is on the phone but is not a contact: an unsigned draft note, the latest outreach attempt."""
    notes: list[ft.Control] = []
    if entry.draft_notes:
        words = "Unsigned draft" if entry.draft_notes == 1 else f"{entry.draft_notes} unsigned drafts"
        notes.append(marker(ui, f"draft-{entry.person_id}", ft.Icons.EDIT_NOTE, words, ft.Colors.INDIGO_700))
    if entry.last_attempt is not None:
        at, outcome = entry.last_attempt
        if entry.last_contact is None or at.date() >= entry.last_contact:  # a contact since then says more
            notes.append(ui.text(dates.tried_words(at, outcome.label, today), 13, identifier=f"tried-{entry.person_id}"))
    return notes


def going(shell: Shell, route: str) -> Callable[[Any], None]:
    """A handler that opens `route` (a loop's lambda would capture the last row's)."""
    return lambda _: shell.go(route)


def person_rows(ui: Ui, entries: list[people.CaseloadEntry], search: str) -> list[ft.Control]:
    shell = ui.shell
    today = shell.session.today()
    rows: list[ft.Control] = []
    for entry in entries:
        words = [ui.text(entry.preferred_name, 16, bold=True)]
        if entry.last_contact is not None and not entry.no_recent_contact:  # without one, a flag says it; when overdue, "No contact for N days" does
            words.append(ui.text(dates.last_contact_words(entry.last_contact, today), 13))
        details = ft.Column([*words, *row_notes(ui, entry, today), *flag_chips(ui, shown_flags(entry, today))], spacing=2, expand=True)
        open_person = ft.Semantics(
            identifier=f"person-{entry.person_id}", button=True, expand=True,  # read as its text: name, last contact, flags
            content=ft.Container(details, on_click=ui.act(going(shell, f"/person/{entry.person_id}")), expand=True, padding=ft.Padding.symmetric(vertical=6)),
        )
        # It records a call (it does not dial: the person page has Call): an add-call icon and a caption say so.
        call = ui.icon_button(ft.Icons.ADD_CALL, f"Log a call with {entry.preferred_name}", going(shell, f"/person/{entry.person_id}/phone"), f"phone-{entry.person_id}", caption="Log call")
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
    status = sync_status(facts)
    pending = facts.pending if status in (Status.WAITING, Status.NOT_REACHED) else 0  # a number only where records wait to go
    sync_label = sync_words(facts).badge
    # When sync needs the peer (agency not reached, records set aside), say it in words too, not
    # only on the icon's label.
    banner = [ui.button(sync_label, going(shell, "/sync"), "sync-banner", primary=False, icon=ft.Icons.SYNC_PROBLEM)] if status in (
        Status.NOT_REACHED, Status.SET_ASIDE) else []
    actions = [
        ui.icon_button(ft.Icons.MANAGE_SEARCH, "Search notes", lambda e: shell.go("/search"), "search-notes"),
        ui.icon_button(ft.Icons.SYNC, sync_label, lambda e: shell.go("/sync"), "sync-badge", badge=str(pending) if pending else None),
        ui.icon_button(ft.Icons.SETTINGS, "Settings", lambda e: shell.go("/settings"), "settings"),
        ui.icon_button(ft.Icons.LOCK, "Lock now", lambda e: shell.lock(), "lock-now"),
    ]
    return ui.view("/caseload", "Caseload", [*banner, ui.field("Search by name", "", search, hint="Type part of a name"), listing], actions=actions)
