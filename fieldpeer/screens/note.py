"""Contact note: every required element in sections a peer can collapse or jump between, units
as an estimate until the agency confirms them, kept as a draft while typing, signed after a
one-line confirmation; then read-only, addenda only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import flet as ft

from fieldpeer.config import agency_zone, service_catalog
from fieldpeer.domain import ContactMode, ContactSetting, Intervention, NoteStatus, ReviewState
from fieldpeer.records import ContactNote, NoteFeedback
from fieldpeer.screens import dates, pickers
from fieldpeer.screens.drafting import DraftGuard, choice_dialog, guarded, scroll_into_view, scroll_key, tall
from fieldpeer.screens.forms import (
    DURATION_CHIPS,
    NOTE_FIELDS,
    NoteForm,
    clock,
    contact_span,
    counted,
    parse_clock,
    units_estimate_text,
)
from fieldpeer.screens.widgets import TOUCH, Ui, inner
from fieldpeer.store import feedback, notes, people
from fieldpeer.store.billing import NoteUnits

NOW_BUTTON_WIDTH = 124  # both rows alike, so the two time fields line up
ROOMY_SCALE = 1.4  # from this text size on, a time field and its Now button no longer share a row
DAYS_BACK = 366  # the date picker reaches a year back (late notes); never into the future


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    fields: tuple[str, ...]  # the NOTE_FIELDS it holds, so an error opens its section


SECTIONS = (
    Section("when", "When", ("day", "time")),
    Section("what", "What you did", ("mode", "setting", "service_code", "interventions", "goal_ids")),
    Section("story", "What happened", ("goal", "intervention", "response", "plan")),
    Section("next", "Follow-up", ("follow_up", "form")),  # not "Next steps": the Plan / next steps field is just above
)
STORY_HINT = "Goal, intervention, response, plan (the GIRP format)."


def build(ui: Ui, person_id: str | None = None, note_id: str | None = None) -> ft.View:
    store = ui.shell.session.store
    if note_id:
        existing = notes.get_note(store, note_id)
        if existing.status is NoteStatus.SIGNED:
            return signed_view(ui, existing)
        return edit_view(ui, NoteForm.from_note(existing))
    form = NoteForm.new(person_id, ui.shell.session.now())
    if person_id:
        last = notes.defaults_for_person(store, person_id)
        form.apply_defaults(last.mode or "", last.setting or "", last.service_code)
    return edit_view(ui, form)


@dataclass
class SectionBox:
    """A collapsible section: a header that toggles it, and its body."""

    section: Section
    body: ft.Column
    header: ft.Control = field(init=False)
    chevron: ft.Icon = field(init=False)


def edit_view(ui: Ui, form: NoteForm) -> ft.View:
    shell, store = ui.shell, ui.shell.session.store
    person = people.get_person(store, form.person_id) if form.person_id else None
    catalog = service_catalog()
    opened_as = form.snapshot()
    opened_id = form.note_id
    units = ui.text(form.units_preview(catalog), 15, bold=True, identifier="units")
    message = ui.error("", "note-error")
    errors = {name: ui.error("", f"error-{name}") for name in NOTE_FIELDS}
    start = ui.field("Start (HH:MM)", form.start, lambda v: update(start=v))
    end = ui.field("End (HH:MM)", form.end, lambda v: update(end=v))
    today = shell.session.today()

    def day_label(day: date) -> str:
        return dates.day_words(day, today)

    day_face = ft.Text(day_label(date.fromisoformat(form.day)) if form.day else "Choose…", size=ui.size(16))
    follow_face = ft.Text(day_label(date.fromisoformat(form.follow_up)) if form.follow_up else "None", size=ui.size(16))
    setting_box = ft.Column([])
    roomy = shell.session.text_scale >= ROOMY_SCALE

    shown: set[str] = set()  # fields whose error is on screen: re-checked on every change

    def changed() -> None:
        guard.poke()
        if shown:
            recheck()
            shell.page.update()

    def recheck() -> None:
        """Clear an error the moment its field is right (or reword it); never add new ones while typing."""
        found = form.sign_problems(catalog)
        for name in list(shown):
            line = errors[name]
            if name in found:
                inner(line, ft.Text).value = found[name]
            else:
                inner(line, ft.Text).value, line.visible = "", False
                shown.discard(name)
        still = [found[name] for name in NOTE_FIELDS if name in shown]
        inner(message, ft.Text).value = "Before signing: " + " ".join(still) if still else ""
        message.visible = bool(still)

    def refresh_units() -> None:
        inner(units, ft.Text).value = form.units_preview(catalog)
        shell.page.update()

    def update(**values: Any) -> None:
        for key, value in values.items():
            setattr(form, key, value)
        refresh_units()
        changed()

    def setter(name: str) -> Callable[[str], None]:
        return lambda value: update(**{name: value})

    def times_changed() -> None:
        start.value, end.value = form.start, form.end
        refresh_units()
        changed()

    def now_button(which: str) -> Callable[[Any], None]:
        def press(_: Any) -> None:
            getattr(form, f"{which}_now")(shell.session.now())
            day_face.value = day_label(date.fromisoformat(form.day))
            times_changed()

        return press

    def duration_button(minutes: int) -> ft.Control:
        """A chip that sets the end `minutes` after the start; compact, so four fit a 360 px row."""
        def press(_: Any) -> None:
            form.set_duration(minutes)
            times_changed()

        button = ft.OutlinedButton(
            content=ft.Text(f"{minutes} min", size=ui.size(14), no_wrap=True), on_click=ui.act(press), height=max(TOUCH, ui.size(TOUCH)),
            tooltip=f"Lasted {minutes} minutes: set the end from the start", style=ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=12 if roomy else 4)),
        )
        return ft.Semantics(identifier=f"duration-{minutes}", content=button, expand=None if roomy else True)

    # --- pickers --------------------------------------------------------------------------

    def pick_day(target: str, face: ft.Text, first: date, last: date) -> Callable[[Any], None]:
        def picked(day: date) -> None:
            setattr(form, target, day.isoformat())
            face.value = day_label(day)
            refresh_units()
            changed()

        def open_picker(_: Any) -> None:
            current = getattr(form, target)
            pickers.pick_date(ui, date.fromisoformat(current) if current else None, first, last, picked)

        return open_picker

    def pick_time(which: str) -> Callable[[Any], None]:
        def picked(value: time) -> None:
            setattr(form, which, clock(datetime.combine(date.today(), value)))
            times_changed()

        def open_picker(_: Any) -> None:
            try:
                value = parse_clock(getattr(form, which))
            except ValueError:
                value = shell.session.now().time()
            pickers.pick_time(ui, value, picked, f"{which.title()} time")

        return open_picker

    def time_row(text_field: ft.TextField, which: str) -> ft.Control:
        text_field.suffix_icon = pickers.picker_icon(ui, ft.Icons.SCHEDULE, f"Choose the {which} time", pick_time(which))
        now = tall(ui, ui.button("Start now" if which == "start" else "End now", now_button(which), f"{which}-now", primary=False))
        if roomy:  # large text: the field keeps the whole width, the button goes below it
            return ft.Column([text_field, now], spacing=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
        return ft.Row([ft.Container(text_field, expand=True), ft.Container(now, width=NOW_BUTTON_WIDTH)], vertical_alignment=ft.CrossAxisAlignment.START)

    # --- the what ------------------------------------------------------------------------

    def choose_mode(mode: str) -> None:
        before = form.setting
        form.choose_mode(mode)  # remote modes take the remote setting; face to face drops it
        if form.setting != before:
            setting_box.controls = [setting_menu()]
        changed()
        shell.page.update()

    def setting_menu() -> ft.Control:
        return ui.picker("Where (setting)", ContactSetting.choices(), form.setting, setter("setting"), "setting")

    setting_box.controls = [setting_menu()]

    def toggle(collection: set[str]) -> Callable[[str, bool], None]:
        def change(key: str, on: bool) -> None:
            collection.add(key) if on else collection.discard(key)
            changed()

        return change

    def clear_follow_up(_: Any) -> None:
        form.follow_up = ""
        follow_face.value = "None"
        changed()
        shell.page.update()

    # --- sections ------------------------------------------------------------------------

    goals = [(g.id, g.text) for g in person.goals] if person else []
    pick_follow_up = pick_day("follow_up", follow_face, today, today + timedelta(days=DAYS_BACK))
    bodies: dict[str, list[ft.Control]] = {
        "day": [pickers.date_button(ui, "Date", day_face, pick_day("day", day_face, today - timedelta(days=DAYS_BACK), today), "day")],
        "time": [
            time_row(start, "start"),
            time_row(end, "end"),
            ft.Row([duration_button(m) for m in DURATION_CHIPS], spacing=6, wrap=roomy, run_spacing=6),
            units,
        ],
        "mode": [ui.picker("How (mode)", ContactMode.choices(), form.mode, choose_mode, "mode")],
        "setting": [setting_box],
        "service_code": [ui.picker("Service", [(c.code, f"{c.code} · {c.label}") for c in catalog.codes], form.service_code, setter("service_code"), "service")],
        "interventions": [
            ui.heading("Interventions"),
            ui.chips(Intervention.choices(), form.interventions, toggle(form.interventions), "intervention"),
        ],
        "goal_ids": [ui.heading("Goals addressed"), ui.chips(goals, form.goal_ids, toggle(form.goal_ids), "goal")] if goals else [],
        "goal": [ui.text(STORY_HINT, 13, identifier="story-hint"), ui.field("Goal / purpose of the contact", form.goal, setter("goal"), multiline=True)],
        "intervention": [ui.field("Intervention: what you did together", form.intervention, setter("intervention"), multiline=True)],
        "response": [ui.field("Response: how the person responded", form.response, setter("response"), multiline=True)],
        "plan": [ui.field("Plan / next steps", form.plan, setter("plan"), multiline=True)],
        "follow_up": [
            ft.Row(
                [ft.Container(pickers.date_button(ui, "Follow-up date (optional)", follow_face, pick_follow_up, "follow-up"), expand=True),
                 tall(ui, ui.button("No follow-up", clear_follow_up, "clear-follow-up", primary=False))],
                vertical_alignment=ft.CrossAxisAlignment.CENTER,
            ),
        ],
        "form": [message],
    }
    boxes: dict[str, SectionBox] = {}
    column_items: list[ft.Control] = []
    for section in SECTIONS:
        stretch = ft.CrossAxisAlignment.STRETCH
        body = ft.Column(
            [ft.Column([*bodies[name], errors[name]], spacing=4, key=scroll_key(f"field-{name}"), horizontal_alignment=stretch) for name in section.fields if bodies[name]],
            spacing=12, horizontal_alignment=stretch,
        )
        box = SectionBox(section, body)
        boxes[section.key] = box
        box.chevron = ft.Icon(ft.Icons.EXPAND_LESS, semantics_label="collapse")
        box.header = ft.Semantics(
            identifier=f"section-{section.key}", header=True,
            content=ft.ListTile(
                title=ft.Text(section.title, size=ui.size(18), weight=ft.FontWeight.BOLD), trailing=box.chevron, min_height=TOUCH,
                content_padding=ft.Padding.symmetric(horizontal=4), on_click=ui.act(lambda e, k=section.key: toggle_section(k)),
            ),
        )
        column_items += [ft.Container(box.header, key=scroll_key(f"section-{section.key}")), body]

    def set_open(key: str, on: bool) -> None:
        box = boxes[key]
        box.body.visible = on
        box.chevron.icon = ft.Icons.EXPAND_LESS if on else ft.Icons.EXPAND_MORE
        box.chevron.semantics_label = "collapse" if on else "expand"

    def toggle_section(key: str) -> None:
        set_open(key, not boxes[key].body.visible)
        shell.page.update()

    async def scroll_to(key: str) -> None:
        await scroll_into_view(view, key)

    async def jump(key: str) -> None:
        set_open(key, True)
        await scroll_to(f"section-{key}")

    def jump_button(section: Section) -> ft.Control:
        async def press(_: Any) -> None:
            await jump(section.key)

        words = ft.Text(section.title, size=ui.size(14), no_wrap=True)
        button = ft.TextButton(content=words, on_click=ui.act(press), height=TOUCH, style=ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=4)))
        return ft.Semantics(identifier=f"jump-{section.key}", content=button)

    # Tight padding: one line at 360 px at the normal text size; larger text wraps (never off screen).
    jump_bar = ft.Row([jump_button(s) for s in SECTIONS], wrap=True, spacing=0, run_spacing=0)

    # --- errors, saving, signing -----------------------------------------------------------

    def show_errors(found: dict[str, str], summary: str = "") -> str | None:
        """Each message at its field; open the sections holding one; returns the first field."""
        shown.clear()
        shown.update(name for name in found if name != "form")
        for name, line in errors.items():
            if name != "form":
                inner(line, ft.Text).value = found.get(name, "")
                line.visible = name in found
        text = inner(message, ft.Text)
        text.value = summary or found.get("form", "")
        message.visible = bool(text.value)
        for section in SECTIONS:
            if any(name in found for name in section.fields):
                set_open(section.key, True)
        shell.page.update()
        return next((name for name in NOTE_FIELDS if name in found), None)

    def keep() -> bool:
        """Save quietly as a draft (the autosave, and Keep as draft). False when the times do not parse yet."""
        note, _ = form.to_note()
        if note is None:
            return False
        saved = notes.save_draft(store, note)
        form.note_id, form.version = saved.id, saved.version
        if view.route != (route := f"/note/{saved.id}"):  # a redraw (text size, a lock) reopens this draft, not a blank note
            view.route = shell.route = route
        return True

    def discard() -> None:
        if opened_id is None and form.note_id:
            notes.discard_draft(store, form.note_id)  # a new note: nothing of it stays
        elif form.note_id and form.snapshot() != opened_as:
            note_id, version = form.note_id, form.version
            for name, value in opened_as.items():  # an existing draft: back to how it was opened
                setattr(form, name, value)
            form.note_id, form.version = note_id, version
            keep()

    guard = DraftGuard(ui, changed=lambda: form.snapshot() != opened_as, keep=keep, discard=discard)

    async def save(_: Any = None) -> None:
        note, found = form.to_note()
        if note is None:
            first = show_errors(found)
            if first:
                await scroll_to(f"field-{first}")
            return
        keep()
        show_errors({})
        guard.status.value = f"Draft saved at {shell.session.now():%H:%M}."
        shell.toast("Draft saved.")

    async def sign(_: Any) -> None:
        found = form.sign_problems(catalog)
        if found:
            guard.keep_draft()  # nothing typed is lost, but this is not the moment to say "Draft saved"
            first = show_errors(found, "Before signing: " + " ".join(found.values()))
            if first:
                await scroll_to(f"field-{first}")
            return
        show_errors({})
        confirm_sign()

    def confirm_sign() -> None:
        summary = form.sign_summary(person.preferred_name if person else "Community education", today, catalog)

        def close_then(action: Callable[[], None]) -> Callable[[Any], None]:
            def chosen(_: Any) -> None:
                shell.page.pop_dialog()
                action()

            return chosen

        def really_sign() -> None:
            note, _ = form.to_note()
            assert note is not None  # sign_problems found nothing a moment ago
            saved = notes.save_draft(store, note)
            form.note_id, form.version = saved.id, saved.version
            try:
                notes.sign_note(store, saved.id)
            except notes.NoteError as exc:
                show_errors({"form": str(exc)})
                return
            guard.done()
            shell.go(f"/person/{saved.person_id}" if saved.person_id else "/caseload")
            shell.toast("Note signed. It will sync with the agency.")

        choice_dialog(ui, "Sign this note?", [(summary, True), ("Once signed it is read-only: it becomes a legal record, changed only by a dated addendum.", False)], [
            ("Sign", close_then(really_sign), "confirm-sign", True),
            ("Not yet", close_then(lambda: None), "cancel-sign", False),
        ], "sign-summary")

    title = f"Contact note · {person.preferred_name}" if person else "Contact note"
    back = f"/person/{form.person_id}" if form.person_id else "/caseload"
    view = ui.view(
        f"/note/{form.note_id}" if form.note_id else f"/person/{form.person_id}/note/new",
        title,
        [
            jump_bar,
            *column_items,
            ft.Row([wide(tall(ui, ui.button("Save draft", save, "save-draft", primary=False))), wide(tall(ui, ui.button("Sign", sign, "sign-note", icon=ft.Icons.VERIFIED)))]),
            ft.Semantics(identifier="draft-status", live_region=True, content=guard.status),
        ],
        back=back,
    )
    return guarded(ui, view, guard, back)


def wide(control: ft.Control) -> ft.Control:
    """Share a row's width (Ui.button's expand sits on the button, inside its Semantics)."""
    control.expand = True
    return control


def review_banner(ui: Ui, review: NoteFeedback | None) -> list[ft.Control]:
    """What the supervisor said, above everything else: a returned note asks for an addendum."""
    if review is None:
        return []
    when = dates.when(review.reviewed_at, ui.shell.session.now(), agency_zone())
    if review.state is ReviewState.RETURNED:
        text = f"Returned by {review.reviewer} on {when}: “{review.comment}” Answer with an addendum below."
        colour = ft.Colors.PURPLE_50
    elif review.state is ReviewState.COSIGNED:
        text, colour = f"Co-signed by {review.reviewer} on {when}.", ft.Colors.GREEN_50
    else:
        text, colour = f"Addendum sent; waiting for {review.reviewer} to review it again.", ft.Colors.BLUE_50
    return [ft.Semantics(identifier="review-banner", live_region=True, content=ft.Container(ui.text(text, 15, bold=review.state is ReviewState.RETURNED), bgcolor=colour, padding=12, border_radius=8))]


def units_line(units: NoteUnits) -> str:
    """The agency's figure once it has confirmed one; until then the phone's, marked as an estimate."""
    return units_estimate_text(units.units) if units.estimate else f"{counted(units.units, 'unit')} (confirmed by the agency)"


def signed_view(ui: Ui, note: ContactNote) -> ft.View:
    shell, store = ui.shell, ui.shell.session.store
    addendum = {"text": ""}

    def add(_: Any) -> None:
        notes.add_addendum(store, note.id, addendum["text"])
        shell.toast("Addendum added.")
        shell.render()

    n = note.narrative
    now, zone = shell.session.now(), agency_zone()
    signed = dates.when(note.signed_at, now, zone) if note.signed_at else ""
    facts = [
        ui.text(f"{contact_span(note.starts_at, note.ends_at, now.date())} · {note.minutes} min", 15),
        ui.text(units_line(notes.note_units(store, note.id)), 15, identifier="signed-units"),
        ui.text(f"{note.mode.label if note.mode else ''} · {note.setting.label if note.setting else ''} · {note.service_code}", 15),
        ui.text("Interventions: " + (", ".join(i.label for i in note.interventions) or "none listed"), 15),
    ]
    addenda = [ui.text(f"{dates.when(a.written_at, now, zone)}: {a.text}", 14) for a in notes.list_addenda(store, note.id)]
    return ui.view(
        f"/note/{note.id}",
        "Signed note",
        [
            *review_banner(ui, feedback.feedback_for(store, note.id)),
            ui.text(f"Signed {signed}. A signed note is a legal record: it cannot be edited, only amended by an addendum.", 14, identifier="signed-banner"),
            *facts,
            *[item for label, text in (("Goal", n.goal), ("Intervention", n.intervention), ("Response", n.response), ("Plan", n.plan)) for item in (ui.heading(label), ui.text(text or "-", 15))],
            ui.heading("Addenda"),
            *(addenda or [ui.text("None yet.", 14)]),
            ui.field("New addendum", "", lambda v: addendum.__setitem__("text", v), multiline=True),
            ui.button("Add addendum", add, "add-addendum"),
        ],
        back=f"/person/{note.person_id}" if note.person_id else "/caseload",
    )
