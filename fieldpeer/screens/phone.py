"""Telephone contact quick log: from the caseload in three taps (duration defaults to 10 min)."""

from __future__ import annotations

from typing import Any

import flet as ft

from fieldpeer.screens.forms import QUICK_MINUTES, PhoneForm, counted, follow_up_in
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import notes, people

NO_FOLLOW_UP = "none"


def build(ui: Ui, person_id: str) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    person = people.get_person(session.store, person_id)
    form = PhoneForm(person_id=person_id)
    message = ui.error("", "phone-error")
    minutes_field = ui.field("Minutes", form.minutes, lambda v: setattr(form, "minutes", v), number=True)

    def pick_minutes(value: str) -> None:
        form.minutes = minutes_field.value = value
        shell.page.update()

    def save(_: Any = None) -> None:
        minutes, summary, follow_up, errors = form.parse()
        if errors:
            ui.show_error(message, " ".join(errors.values()))
            return
        note = notes.log_phone_contact(session.store, person_id, minutes, summary, ended_at=session.now(), follow_up_on=follow_up)
        shell.toast(f"Phone call logged: {note.minutes} min, {counted(note.units, 'unit')}.")
        shell.go("/caseload")

    today = session.today()
    return ui.view(
        f"/person/{person_id}/phone",
        f"Phone call · {person.preferred_name}",
        [
            ui.heading("How long?"),
            ui.choices([(str(m), f"{m} min") for m in QUICK_MINUTES], form.minutes, pick_minutes, "minutes"),
            minutes_field,
            ui.field("Short note", "", lambda v: setattr(form, "summary", v), multiline=True, hint="What you talked about, what's next", autofocus=True),
            ui.heading("Follow up"),
            ui.choices([(NO_FOLLOW_UP, "No follow-up"), (follow_up_in(1, today), "Tomorrow"), (follow_up_in(7, today), "In a week")], NO_FOLLOW_UP, lambda v: setattr(form, "follow_up", "" if v == NO_FOLLOW_UP else v), "follow-up"),
            message,
            ui.button("Save phone call", save, "save-phone", icon=ft.Icons.CHECK),
        ],
        back="/caseload",
    )
