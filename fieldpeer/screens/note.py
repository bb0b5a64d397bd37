"""Contact note: every required element, units as you go, save draft, sign; then addenda only."""

from __future__ import annotations

from typing import Any

import flet as ft

from fieldpeer.config import service_catalog
from fieldpeer.domain import ContactMode, ContactSetting, Intervention, NoteStatus, ReviewState
from fieldpeer.screens.forms import NoteForm, default_setting_for
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import feedback, notes, people
from fieldpeer.records import ContactNote, NoteFeedback

NOW_BUTTON_WIDTH = 124  # both rows alike, so the two time fields line up


def build(ui: Ui, person_id: str | None = None, note_id: str | None = None) -> ft.View:
    store = ui.shell.session.store
    if note_id:
        existing = notes.get_note(store, note_id)
        if existing.status is NoteStatus.SIGNED:
            return signed_view(ui, existing)
        form = NoteForm.from_note(existing)
    else:
        form = NoteForm.new(person_id, ui.shell.session.now())
    return edit_view(ui, form)


def edit_view(ui: Ui, form: NoteForm) -> ft.View:
    shell, store = ui.shell, ui.shell.session.store
    person = people.get_person(store, form.person_id) if form.person_id else None
    catalog = service_catalog()
    units = ui.text(form.units_preview(catalog), 15, bold=True, identifier="units")
    message = ui.error("", "note-error")
    start = ui.field("Start (HH:MM)", form.start, lambda v: update(start=v))
    end = ui.field("End (HH:MM)", form.end, lambda v: update(end=v))
    setting_box = ft.Column([])

    def refresh_units() -> None:
        units.content.value = form.units_preview(catalog)  # type: ignore[attr-defined]
        shell.page.update()

    def update(**values: Any) -> None:
        for key, value in values.items():
            setattr(form, key, value)
        refresh_units()

    def now_button(which: str) -> Any:
        def press(_: Any) -> None:
            getattr(form, f"{which}_now")(shell.session.now())
            start.value, end.value = form.start, form.end
            refresh_units()

        return press

    def choose_mode(mode: str) -> None:
        form.mode = mode
        if not form.setting and (suggested := default_setting_for(mode)):
            form.setting = suggested
            setting_box.controls = [setting_menu()]
        shell.page.update()

    def setting_menu() -> ft.Control:
        return ui.picker("Where (setting)", ContactSetting.choices(), form.setting, lambda v: update(setting=v), "setting")

    setting_box.controls = [setting_menu()]

    def toggle(collection: set[str]) -> Any:
        return lambda key, on: collection.add(key) if on else collection.discard(key)

    def show(errors: str) -> None:
        ui.show_error(message, errors)

    def save(_: Any = None) -> ContactNote | None:
        note, errors = form.to_note()
        if note is None:
            show(" ".join(errors.values()))
            return None
        saved = notes.save_draft(store, note)
        form.note_id, form.version = saved.id, saved.version
        show("")
        shell.toast("Draft saved.")
        return saved

    def sign(_: Any) -> None:
        saved = save()
        if saved is None:
            return
        try:
            notes.sign_note(store, saved.id)
        except notes.NoteError as exc:
            show(str(exc))
            return
        shell.toast("Note signed. It will sync with the agency.")
        shell.go(f"/person/{saved.person_id}" if saved.person_id else "/caseload")

    goals = [(g.id, g.text) for g in person.goals] if person else []
    title = f"Contact note · {person.preferred_name}" if person else "Contact note"
    return ui.view(
        f"/note/{form.note_id}" if form.note_id else f"/person/{form.person_id}/note/new",
        title,
        [
            ui.field("Date (YYYY-MM-DD)", form.day, lambda v: update(day=v)),
            ft.Row([ft.Container(start, expand=True), ft.Container(ui.button("Start now", now_button("start"), "start-now", primary=False), width=NOW_BUTTON_WIDTH)]),
            ft.Row([ft.Container(end, expand=True), ft.Container(ui.button("End now", now_button("end"), "end-now", primary=False), width=NOW_BUTTON_WIDTH)]),
            units,
            ui.picker("How (mode)", ContactMode.choices(), form.mode, choose_mode, "mode"),
            setting_box,
            ui.picker("Service", [(c.code, f"{c.code} · {c.label}") for c in catalog.codes], form.service_code, lambda v: update(service_code=v), "service"),
            ui.heading("Interventions"),
            ui.chips(Intervention.choices(), form.interventions, toggle(form.interventions), "intervention"),
            *([ui.heading("Goals addressed"), ui.chips(goals, form.goal_ids, toggle(form.goal_ids), "goal")] if goals else []),
            ui.field("Goal / purpose of the contact", form.goal, lambda v: setattr(form, "goal", v), multiline=True),
            ui.field("Intervention: what you did together", form.intervention, lambda v: setattr(form, "intervention", v), multiline=True),
            ui.field("Response: how the person responded", form.response, lambda v: setattr(form, "response", v), multiline=True),
            ui.field("Plan / next steps", form.plan, lambda v: setattr(form, "plan", v), multiline=True),
            ui.field("Follow-up date (YYYY-MM-DD, optional)", form.follow_up, lambda v: setattr(form, "follow_up", v)),
            message,
            ft.Row([ui.button("Save draft", save, "save-draft", primary=False, expand=True), ui.button("Sign", sign, "sign-note", icon=ft.Icons.VERIFIED, expand=True)]),
        ],
        back=f"/person/{form.person_id}" if form.person_id else "/caseload",
    )


def review_banner(ui: Ui, review: NoteFeedback | None) -> list[ft.Control]:
    """What the supervisor said, above everything else: a returned note asks for an addendum."""
    if review is None:
        return []
    when = f"{review.reviewed_at.astimezone():%Y-%m-%d}"
    if review.state is ReviewState.RETURNED:
        text = f"Returned by {review.reviewer} on {when}: “{review.comment}” Answer with an addendum below."
        colour = ft.Colors.PURPLE_50
    elif review.state is ReviewState.COSIGNED:
        text, colour = f"Co-signed by {review.reviewer} on {when}.", ft.Colors.GREEN_50
    else:
        text, colour = f"Addendum sent; waiting for {review.reviewer} to review it again.", ft.Colors.BLUE_50
    return [ft.Semantics(identifier="review-banner", live_region=True, content=ft.Container(ui.text(text, 15, bold=review.state is ReviewState.RETURNED), bgcolor=colour, padding=12, border_radius=8))]


def signed_view(ui: Ui, note: ContactNote) -> ft.View:
    shell, store = ui.shell, ui.shell.session.store
    addendum = {"text": ""}

    def add(_: Any) -> None:
        notes.add_addendum(store, note.id, addendum["text"])
        shell.toast("Addendum added.")
        shell.render()

    n = note.narrative
    signed = note.signed_at.astimezone().strftime("%Y-%m-%d %H:%M") if note.signed_at else ""
    facts = [
        f"{note.starts_at:%Y-%m-%d} {note.starts_at:%H:%M}-{note.ends_at:%H:%M} ({note.minutes} min, {note.units} units)",
        f"{note.mode.label if note.mode else ''} · {note.setting.label if note.setting else ''} · {note.service_code}",
        "Interventions: " + (", ".join(i.label for i in note.interventions) or "none listed"),
    ]
    addenda = [ui.text(f"{a.written_at.astimezone():%Y-%m-%d %H:%M}: {a.text}", 14) for a in notes.list_addenda(store, note.id)]
    return ui.view(
        f"/note/{note.id}",
        "Signed note",
        [
            *review_banner(ui, feedback.feedback_for(store, note.id)),
            ui.text(f"Signed {signed}. A signed note is a legal record: it cannot be edited, only amended by an addendum.", 14, identifier="signed-banner"),
            *[ui.text(f, 15) for f in facts],
            *[item for label, text in (("Goal", n.goal), ("Intervention", n.intervention), ("Response", n.response), ("Plan", n.plan)) for item in (ui.heading(label), ui.text(text or "-", 15))],
            ui.heading("Addenda"),
            *(addenda or [ui.text("None yet.", 14)]),
            ui.field("New addendum", "", lambda v: addendum.__setitem__("text", v), multiline=True),
            ui.button("Add addendum", add, "add-addendum"),
        ],
        back=f"/person/{note.person_id}" if note.person_id else "/caseload",
    )
