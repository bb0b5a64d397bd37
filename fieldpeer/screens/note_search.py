"""Search the notes on this phone for words (through the blind index, store/search.py)."""

from __future__ import annotations

import flet as ft

from fieldpeer.config import agency_zone
from fieldpeer.screens import dates
from fieldpeer.screens.forms import counted
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import people, search

HINT = "Type words from a note: a place, a plan, a name. Whole words; every word must be in the note."


def build(ui: Ui) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    now, zone = session.now(), agency_zone()
    names = {e.person_id: e.preferred_name for e in people.list_caseload(session.store, session.today()).entries}
    results = ft.Column([ui.text(HINT, 14, identifier="search-hint")], spacing=0)

    def find(text: str) -> None:
        if not search.words(text):
            results.controls = [ui.text(HINT, 14, identifier="search-hint")]
        else:
            found = search.search_notes(session.store, text)
            shown = f", the newest {len(found.hits)} shown" if found.total > len(found.hits) else ""
            results.controls = [ui.text(f"{counted(found.total, 'note')} found{shown}." if found.total else f"No note holds “{text.strip()}”.", 14, identifier="search-count")]
            for hit in found.hits:
                who = names.get(hit.person_id or "", "Group or community")
                tile = ft.ListTile(
                    title=ft.Text(f"{who} · {dates.when(hit.starts_at, now, zone)}", size=ui.size(15)), subtitle=ft.Text(hit.snippet, size=ui.size(13)),
                    is_three_line=True, on_click=ui.act(lambda e, note_id=hit.note_id: shell.go(f"/note/{note_id}")),
                )
                results.controls.append(ft.Semantics(identifier=f"hit-{hit.note_id}", content=tile))
        shell.page.update()

    return ui.view("/search", "Search notes", [ui.field("Words to find", "", find, hint="e.g. landlord", autofocus=True), results], back="/caseload")
