"""Record a consent the person signed: to peer services, or to release information to a named
party with every element 42 CFR 2.31 asks for. It syncs to the agency, whose exports check it.
What the peer types is kept as a draft (encrypted, on this phone) until saved or discarded."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import flet as ft

from fieldpeer.domain import ConsentKind, DraftKind
from fieldpeer.screens import form_store, pickers
from fieldpeer.screens.drafting import DraftGuard, guarded
from fieldpeer.screens.forms import ConsentForm
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import consents, drafts, people
from fieldpeer.store.profile import get_peer_profile

YEAR = 366  # days


def build(ui: Ui, person_id: str) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    store = session.store
    person = people.get_person(store, person_id)
    form = ConsentForm(person_id=person_id, part2=person.part2, discloser=get_peer_profile(store).agency_name, signed_on=session.today().isoformat())
    kept = form_store.form_draft(store, DraftKind.CONSENT, person_id)
    if kept:
        form.restore(kept[1])
    opened_as = form.draft()
    message = ui.error("", "consent-error")

    def keep() -> bool:
        drafts.save_form_draft(store, DraftKind.CONSENT, person_id, form.draft())
        return True

    guard = DraftGuard(ui, changed=lambda: form.draft() != opened_as, keep=keep, discard=lambda: drafts.discard_form_draft(store, DraftKind.CONSENT, person_id))

    def setter(name: str) -> Any:
        def change(value: str) -> None:
            setattr(form, name, value)
            guard.poke()

        return change

    def save(_: Any) -> None:
        consent, errors = form.parse()
        if consent is None:
            ui.show_error(message, " ".join(errors.values()))
            return
        consents.record_consent(store, consent)
        guard.done()
        shell.toast(f"{consent.kind.label} recorded. It syncs with the agency.")
        shell.go(f"/person/{person_id}")

    def dated(text_field: ft.TextField, name: str, first: date, last: date) -> ft.TextField:
        """A date typed (YYYY-MM-DD) or picked from the calendar in the field."""
        def picked(day: date) -> None:
            text_field.value = day.isoformat()
            setter(name)(text_field.value)
            shell.page.update()

        def open_picker(_: Any) -> None:
            try:
                current = date.fromisoformat(getattr(form, name))
            except ValueError:
                current = None
            pickers.pick_date(ui, current, first, last, picked)

        text_field.suffix_icon = pickers.picker_icon(ui, ft.Icons.CALENDAR_MONTH, f"Choose the date: {text_field.label}", open_picker)
        return text_field

    today = session.today()
    back = f"/person/{person_id}"
    view = ui.view(
        f"/person/{person_id}/consent",
        f"Consent · {person.preferred_name}",
        [
            *([ui.text("Continued from your draft.", 14, identifier="draft-restored")] if kept else []),
            ui.heading("What kind?"),
            ui.choices(ConsentKind.choices(), form.kind, setter("kind"), "consent-kind"),
            ui.field("Who may disclose", form.discloser, setter("discloser"), hint="Usually the agency's name"),
            ui.field("To whom (the recipient)", form.recipient, setter("recipient"), hint="e.g. County Housing Authority"),
            ui.field("What may be disclosed", form.information, setter("information"), multiline=True, hint="e.g. attendance and progress notes"),
            ui.field("For what purpose", form.purpose, setter("purpose"), hint="e.g. housing application"),
            dated(ui.field("Signed on (YYYY-MM-DD)", form.signed_on, setter("signed_on")), "signed_on", today - timedelta(days=YEAR), today),
            dated(ui.field("Ends on (YYYY-MM-DD)", form.expires_on, setter("expires_on"), hint="Required for a release of information"), "expires_on", today, today + timedelta(days=10 * YEAR)),
            ui.text("42 CFR Part 2 applies to this person's records: the agency adds the notice against redisclosure." if person.part2 else "", 13),
            message,
            ui.button("Save consent", save, "save-consent", icon=ft.Icons.CHECK),
            ft.Semantics(identifier="draft-status", live_region=True, content=guard.status),
        ],
        back=back,
    )
    return guarded(ui, view, guard, back)
