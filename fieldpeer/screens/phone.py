"""Telephone quick log: from the caseload in three taps. The outcome comes first: a call that
reached the person is a contact (duration defaults to 10 min); one that did not (no answer, a
message, a wrong number) is an outreach attempt: no duration, no units, not a contact.

Outcome and duration are rows of chips and Save sits in a bar below the form, so at 360x740
the whole log fits without scrolling."""

from __future__ import annotations

import flet as ft

from fieldpeer.domain import OutreachOutcome
from fieldpeer.screens import pickers
from fieldpeer.screens.drafting import tall
from fieldpeer.screens.forms import PHONE_OUTCOMES, QUICK_MINUTES, REACHED, PhoneForm, counted, follow_up_in
from fieldpeer.screens.widgets import Ui, inner, narrow
from fieldpeer.store import notes, outreach, people

NO_FOLLOW_UP = "none"
NOTE_LABEL = "Short note"
ATTEMPT_NOTE_LABEL = "Short note (optional)"
NOTE_HINTS = {  # what is worth writing depends on what happened
    REACHED: "What you talked about, what's next",
    OutreachOutcome.NO_ANSWER.value: "e.g. tried twice; will try again tomorrow",
    OutreachOutcome.LEFT_MESSAGE.value: "e.g. asked them to call back",
    OutreachOutcome.WRONG_NUMBER.value: "e.g. number is someone else's; ask the agency for a new one",
}
NOTE_HINT = NOTE_HINTS[REACHED]


def build(ui: Ui, person_id: str) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    person = people.get_person(session.store, person_id)
    form = PhoneForm(person_id=person_id)
    message = ui.error("", "phone-error")
    minutes_field = ui.field("Minutes", form.minutes, lambda v: type_minutes(v), number=True)
    summary = ui.field(NOTE_LABEL, "", lambda v: setattr(form, "summary", v), multiline=True, hint=NOTE_HINT, autofocus=True)
    summary.min_lines = 2  # grows as they type; two lines keep Save on the screen at 360x740
    minute_chips = pickers.choice_chips(ui, [(str(m), f"{m} min") for m in QUICK_MINUTES], form.minutes, lambda v: pick_minutes(v), "minutes", checkmark=False)
    duration = ft.Column([ui.heading("How long?"), minute_chips, minutes_field], spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    attempt_hint = ui.text("Not a contact: it is kept and reported, bills nothing, and does not count as this month's contact.", 14, identifier="attempt-hint")
    save_button = ui.button("Save phone call", lambda e: save(), "save-phone", icon=ft.Icons.CHECK)

    def pick_minutes(value: str) -> None:
        form.minutes = minutes_field.value = value

    def type_minutes(value: str) -> None:
        form.minutes = value
        for chip in pickers.walk_chips(minute_chips):  # a typed 25 is no longer "10 min"
            chip.selected = chip.data == value.strip()
        shell.page.update()

    def choose_outcome(value: str) -> None:
        form.outcome = value
        duration.visible = form.reached
        attempt_hint.visible = not form.reached
        summary.label = NOTE_LABEL if form.reached else ATTEMPT_NOTE_LABEL
        summary.hint_text = NOTE_HINTS.get(value, NOTE_HINT)
        narrow(inner(save_button, ft.FilledButton).content, ft.Text).value = "Save phone call" if form.reached else "Save outreach attempt"
        ui.show_error(message, "")

    def save() -> None:
        if not form.reached:
            attempt, errors = form.attempt(session.now())
            if attempt is None:
                ui.show_error(message, " ".join(errors.values()))
                return
            outreach.log_outreach_attempt(session.store, person_id, attempt.outcome, attempt.note, attempted_at=attempt.attempted_at, follow_up_on=attempt.follow_up_on)
            shell.go("/caseload")
            shell.toast(f"Outreach attempt logged: {OutreachOutcome(form.outcome).label.lower()}. Not counted as a contact.")
            return
        minutes, text, follow_up, errors = form.parse()
        if errors:
            ui.show_error(message, " ".join(errors.values()))
            return
        note = notes.log_phone_contact(session.store, person_id, minutes, text, ended_at=session.now(), follow_up_on=follow_up)
        shell.go("/caseload")
        shell.toast(f"Phone call logged: {note.minutes} min, {counted(note.units, 'unit')}.")

    attempt_hint.visible = False
    today = session.today()
    follow_ups = [(NO_FOLLOW_UP, "No follow-up"), (follow_up_in(1, today), "Tomorrow"), (follow_up_in(7, today), "In a week")]
    view = ui.view(
        f"/person/{person_id}/phone",
        f"Phone call · {person.preferred_name}",
        [
            ui.heading("Did you reach them?"),
            pickers.choice_chips(ui, PHONE_OUTCOMES, form.outcome, choose_outcome, "outcome"),
            attempt_hint,
            duration,
            summary,
            ui.heading("Follow up"),
            pickers.choice_chips(ui, follow_ups, NO_FOLLOW_UP, lambda v: setattr(form, "follow_up", "" if v == NO_FOLLOW_UP else v), "follow-up", checkmark=False),
            message,
        ],
        back="/caseload",
    )
    save_button.expand = True  # the bar's whole width
    view.controls.append(ft.Container(ft.Row([tall(ui, save_button)]), padding=ft.Padding.only(top=8)))  # below the scrolling form: always on screen
    return view
