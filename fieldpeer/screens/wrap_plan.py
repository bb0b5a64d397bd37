"""The person's WRAP, section by section. Saving makes a new version; old ones are kept."""

from __future__ import annotations

from typing import Any

import flet as ft

from fieldpeer.domain import WrapSection
from fieldpeer.screens.forms import WrapForm
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import people, wrap


def build(ui: Ui, person_id: str) -> ft.View:
    shell, store = ui.shell, ui.shell.session.store
    person = people.get_person(store, person_id)
    plan = wrap.get_wrap_plan(store, person_id)
    form = WrapForm.from_plan(person_id, plan)

    def save(_: Any) -> None:
        saved = wrap.save_wrap_plan(store, form.to_plan(plan), based_on_version=form.based_on_version)
        shell.toast(f"WRAP saved as version {saved.version}.")
        shell.go(f"/person/{person_id}")

    sections: list[ft.Control] = []
    for section in WrapSection:
        if section is WrapSection.CRISIS_PLAN:
            sections += [
                ui.heading(section.label),
                ui.field("Supporters: name, phone, relationship (one per line)", form.supporters, lambda v: setattr(form, "supporters", v), multiline=True),
            ]
            continue
        sections += [
            ui.heading(section.label),
            # Each label names its section: a screen reader meets the fields one by one.
            ui.field(f"{section.short}: what I notice", form.items.get(section, ""), lambda v, s=section: form.items.__setitem__(s, v), multiline=True, hint="One per line"),
            ui.field(f"{section.short}: what I will do", form.actions.get(section, ""), lambda v, s=section: form.actions.__setitem__(s, v), multiline=True, hint="One per line"),
        ]
    version = f"Version {plan.version}, saved {plan.saved_at.astimezone():%Y-%m-%d}" if plan else "No plan yet: write it together, in their words."
    return ui.view(
        f"/person/{person_id}/wrap",
        f"WRAP · {person.preferred_name}",
        [ui.text(version, 14, identifier="wrap-version"), *sections, ui.button("Save new version", save, "save-wrap", icon=ft.Icons.SAVE)],
        back=f"/person/{person_id}",
    )
