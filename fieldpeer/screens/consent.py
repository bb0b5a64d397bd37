"""Record a consent the person signed: to peer services, or to release information to a named
party with every element 42 CFR 2.31 asks for. It syncs to the agency, whose exports check it."""

from __future__ import annotations

from typing import Any

import flet as ft

from fieldpeer.domain import ConsentKind
from fieldpeer.screens.forms import ConsentForm
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import consents, people
from fieldpeer.store.profile import get_peer_profile


def build(ui: Ui, person_id: str) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    person = people.get_person(session.store, person_id)
    form = ConsentForm(person_id=person_id, part2=person.part2, discloser=get_peer_profile(session.store).agency_name, signed_on=session.today().isoformat())
    message = ui.error("", "consent-error")

    def setter(name: str) -> Any:
        return lambda value: setattr(form, name, value)

    def save(_: Any) -> None:
        consent, errors = form.parse()
        if consent is None:
            ui.show_error(message, " ".join(errors.values()))
            return
        consents.record_consent(session.store, consent)
        shell.toast(f"{consent.kind.label} recorded. It syncs with the agency.")
        shell.go(f"/person/{person_id}")

    return ui.view(
        f"/person/{person_id}/consent",
        f"Consent · {person.preferred_name}",
        [
            ui.heading("What kind?"),
            ui.choices(ConsentKind.choices(), form.kind, setter("kind"), "consent-kind"),
            ui.field("Who may disclose", form.discloser, setter("discloser"), hint="Usually the agency's name"),
            ui.field("To whom (the recipient)", "", setter("recipient"), hint="e.g. County Housing Authority"),
            ui.field("What may be disclosed", "", setter("information"), multiline=True, hint="e.g. attendance and progress notes"),
            ui.field("For what purpose", "", setter("purpose"), hint="e.g. housing application"),
            ui.field("Signed on (YYYY-MM-DD)", form.signed_on, setter("signed_on")),
            ui.field("Ends on (YYYY-MM-DD)", "", setter("expires_on"), hint="Required for a release of information"),
            ui.text("42 CFR Part 2 applies to this person's records: the agency adds the notice against redisclosure." if person.part2 else "", 13),
            message,
            ui.button("Save consent", save, "save-consent", icon=ft.Icons.CHECK),
        ],
        back=f"/person/{person_id}",
    )
