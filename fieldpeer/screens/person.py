"""One person: what to do next, their plan's goals and strengths, consents, and the timeline."""

from __future__ import annotations

import flet as ft

from fieldpeer.screens.caseload import flag_labels
from fieldpeer.screens.forms import counted
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import consents, people


def build(ui: Ui, person_id: str) -> ft.View:
    shell, store = ui.shell, ui.shell.session.store
    person = people.get_person(store, person_id)
    entry = next((e for e in people.list_caseload(store, shell.session.today()).entries if e.person_id == person_id), None)
    flags = [ui.text(text, 14, color=colour) for text, colour in flag_labels(entry)] if entry else []
    actions = ft.Row(
        [
            ui.button("Contact note", lambda e: shell.go(f"/person/{person_id}/note/new"), "new-note", icon=ft.Icons.EDIT_NOTE),
            ui.button("Phone call", lambda e: shell.go(f"/person/{person_id}/phone"), "new-phone", icon=ft.Icons.PHONE, primary=False),
            ui.button("Check-in", lambda e: shell.go(f"/person/{person_id}/checkin"), "new-checkin", icon=ft.Icons.FAVORITE_BORDER, primary=False),
            ui.button("WRAP plan", lambda e: shell.go(f"/person/{person_id}/wrap"), "open-wrap", icon=ft.Icons.MAP_OUTLINED, primary=False),
            ui.button("Consent", lambda e: shell.go(f"/person/{person_id}/consent"), "new-consent", icon=ft.Icons.HANDSHAKE_OUTLINED, primary=False),
        ],
        wrap=True, spacing=8, run_spacing=8,
    )

    def bullet_list(title: str, items: list[str], empty: str) -> list[ft.Control]:
        return [ui.heading(title), *([ui.text(f"• {item}", 15) for item in items] or [ui.text(empty, 14)])]

    timeline: list[ft.Control] = []
    for item in people.person_timeline(store, person_id, limit=200):
        subtitle = " · ".join(filter(None, [item.at.strftime("%Y-%m-%d %H:%M"), item.status, counted(item.addenda, "addendum", "addenda") if item.addenda else ""]))
        tile = ft.ListTile(
            title=ft.Text(item.title, size=ui.size(15)), subtitle=ft.Text(f"{subtitle}\n{item.detail[:140]}", size=ui.size(13)),
            is_three_line=True, on_click=ui.act(lambda e, rid=item.record_id: shell.go(f"/note/{rid}")) if item.kind != "checkin" else None,
        )
        timeline.append(ft.Semantics(identifier=f"timeline-{item.record_id}", content=tile))
    consent_lines = [
        f"{c.kind.label}{' (42 CFR Part 2)' if c.part2 else ''}: {c.recipient or 'agency'}, signed {c.signed_on}"
        + (f", revoked {c.revoked_on}" if c.revoked_on else f", expires {c.expires_on}" if c.expires_on else "")
        for c in consents.list_consents(store, person_id)
    ]
    return ui.view(
        f"/person/{person_id}",
        person.preferred_name,
        [
            ui.text(person.recovery_stage.label, 14),
            ft.Row(flags, wrap=True, spacing=10),
            actions,
            *bullet_list("Goals", [g.text for g in person.goals], "No goals recorded yet."),
            *bullet_list("Strengths", person.strengths, "No strengths recorded yet."),
            *bullet_list("Natural supports", person.natural_supports, "None recorded yet."),
            *bullet_list("Consents", consent_lines, "No consents on this device."),
            ui.heading("Timeline"),
            *(timeline or [ui.text("No contacts yet. Start with a contact note or a phone call.", 14, identifier="timeline-empty")]),
        ],
        back="/caseload",
    )
