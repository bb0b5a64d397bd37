"""The person's WRAP, section by section. Saving makes a new version; old ones are kept.
Edits not yet saved are kept as a draft (encrypted, on this phone) until saved or discarded."""

from __future__ import annotations

from typing import Any

import flet as ft

from fieldpeer.config import agency_zone
from fieldpeer.domain import DraftKind, WrapSection
from fieldpeer.screens import dates, form_store
from fieldpeer.screens.drafting import DraftGuard, guarded
from fieldpeer.screens.forms import WrapForm
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import drafts, people, wrap


def build(ui: Ui, person_id: str) -> ft.View:
    shell, store = ui.shell, ui.shell.session.store
    person = people.get_person(store, person_id)
    plan = wrap.get_wrap_plan(store, person_id)
    form = WrapForm.from_plan(person_id, plan)
    kept = form_store.form_draft(store, DraftKind.WRAP, person_id)
    if kept:
        form.restore(kept[1])
    opened_as = form.draft()

    def keep() -> bool:
        drafts.save_form_draft(store, DraftKind.WRAP, person_id, form.draft())
        return True

    guard = DraftGuard(ui, changed=lambda: form.draft() != opened_as, keep=keep, discard=lambda: drafts.discard_form_draft(store, DraftKind.WRAP, person_id))

    def save(_: Any) -> None:
        saved = wrap.save_wrap_plan(store, form.to_plan(plan), based_on_version=form.based_on_version)
        guard.done()
        shell.toast(f"WRAP saved as version {saved.version}.")
        shell.go(f"/person/{person_id}")

    def set_item(target: dict[WrapSection, str], section: WrapSection) -> Any:
        def change(value: str) -> None:
            target[section] = value
            guard.poke()

        return change

    def set_supporters(value: str) -> None:
        form.supporters = value
        guard.poke()

    sections: list[ft.Control] = []
    for section in WrapSection:
        if section is WrapSection.CRISIS_PLAN:
            sections += [
                ui.heading(section.label),
                ui.field("Supporters: name, phone, relationship (one per line)", form.supporters, set_supporters, multiline=True),
            ]
            continue
        sections += [
            ui.heading(section.label),
            # Each label names its section: a screen reader meets the fields one by one.
            ui.field(f"{section.short}: what I notice", form.items.get(section, ""), set_item(form.items, section), multiline=True, hint="One per line"),
            ui.field(f"{section.short}: what I will do", form.actions.get(section, ""), set_item(form.actions, section), multiline=True, hint="One per line"),
        ]
    version = f"Version {plan.version}, saved {dates.when(plan.saved_at, shell.session.now(), agency_zone())}" if plan else "No plan yet: write it together, in their words."
    back = f"/person/{person_id}"
    view = ui.view(
        f"/person/{person_id}/wrap",
        f"WRAP · {person.preferred_name}",
        [
            ui.text(version, 14, identifier="wrap-version"),
            *([ui.text("Continued from your draft: not saved as a new version yet.", 14, identifier="draft-restored")] if kept else []),
            *sections,
            ui.button("Save new version", save, "save-wrap", icon=ft.Icons.SAVE),
            ft.Semantics(identifier="draft-status", live_region=True, content=guard.status),
        ],
        back=back,
    )
    return guarded(ui, view, guard, back)
