"""One person: what to do next (unfinished drafts first), their plan's goals and strengths,
consents, and the timeline."""

from __future__ import annotations

from datetime import datetime, tzinfo

import flet as ft

from fieldpeer.config import agency_zone
from fieldpeer.domain import AlertState, DraftKind
from fieldpeer.screens import dates
from fieldpeer.screens.caseload import flag_chips, going, shown_flags
from fieldpeer.screens.forms import counted
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import alerts, consents, drafts, people

DRAFT_ROUTES = {DraftKind.CHECKIN: "checkin", DraftKind.CONSENT: "consent", DraftKind.WRAP: "wrap"}


def draft_route(draft: drafts.DraftSummary) -> str:
    """Where "Continue draft" goes: the draft note itself, or the form (which restores its draft)."""
    if draft.kind is DraftKind.NOTE:
        return f"/note/{draft.record_id}"
    return f"/person/{draft.person_id}/{DRAFT_ROUTES[draft.kind]}"


SAFETY_ALERT = "safety_alert"  # a timeline line of its own: the alert outlives a discarded check-in
ALERT_STATE_WORDS = {AlertState.OPEN: "Open: waiting for the supervisor", AlertState.ACKNOWLEDGED: "Supervisor following up", AlertState.CLOSED: "Closed"}


def alert_entries(found: list[alerts.AlertSummary], now: datetime, zone: tzinfo) -> list[people.TimelineEntry]:
    """Each safety alert as a timeline line: when it was raised, the answer, where the agency stands
    (by whom). Its time becomes local wall-clock time, as the contacts' are, so they sort together."""
    entries: list[people.TimelineEntry] = []
    for alert in found:
        moment = alert.raised_at or alert.at
        if moment is None:
            continue
        state = ALERT_STATE_WORDS[alert.state] + (f" ({alert.by}{', ' + dates.when(alert.at, now, zone) if alert.at else ''})" if alert.by else "")
        answer = f"Safety question: {alert.safety.label}" if alert.safety else "Raised on another phone"
        entries.append(people.TimelineEntry(record_id=alert.alert_id, kind=SAFETY_ALERT, at=dates.wall_clock(moment, zone), title="Safety alert", detail=answer, status=state))
    return entries


def grid(controls: list[ft.Control], columns: int) -> ft.Control:
    """Buttons laid out in equal columns, each filling its cell (not wrapped raggedly by their widths)."""
    for control in controls:
        control.expand = True
        if isinstance(control, ft.Semantics) and control.content is not None:
            control.content.expand = True
    return ft.ResponsiveRow([ft.Row([c], col=12 // columns) for c in controls], spacing=8, run_spacing=8)


def build(ui: Ui, person_id: str) -> ft.View:
    shell, session = ui.shell, ui.shell.session
    store, today, now, zone = session.store, session.today(), session.now(), agency_zone()
    person = people.get_person(store, person_id)
    entry = next((e for e in people.list_caseload(store, today).entries if e.person_id == person_id), None)
    flags = flag_chips(ui, shown_flags(entry, today), 14) if entry else []
    go = shell.go
    unfinished = [
        ui.button(f"{d.label} ({dates.when(d.updated_at, now, zone)})", going(shell, draft_route(d)), f"continue-draft-{d.kind.value}", icon=ft.Icons.EDIT)
        for d in drafts.drafts_for_person(store, person_id)
    ]
    actions = [
        # One filled button: "Continue draft" when there is one, else a new contact note.
        ui.button("Contact note", lambda e: go(f"/person/{person_id}/note/new"), "new-note", icon=ft.Icons.EDIT_NOTE, primary=not unfinished),
        ui.button("Log a call", lambda e: go(f"/person/{person_id}/phone"), "new-phone", icon=ft.Icons.PHONE_CALLBACK, primary=False),
        ui.button("Check-in", lambda e: go(f"/person/{person_id}/checkin"), "new-checkin", icon=ft.Icons.FAVORITE_BORDER, primary=False),
        ui.button("WRAP plan", lambda e: go(f"/person/{person_id}/wrap"), "open-wrap", icon=ft.Icons.MAP_OUTLINED, primary=False),
        ui.button("Consent", lambda e: go(f"/person/{person_id}/consent"), "new-consent", icon=ft.Icons.HANDSHAKE_OUTLINED, primary=False),
    ]
    if person.phone:  # dial straight away, beside "Log a call" (which records it)
        actions.insert(2, ui.call_button(f"Call {person.phone}", person.phone, "call-person", urgent=False))
    columns = 1 if session.text_scale >= 1.4 else 2  # at the larger sizes a label needs the whole width

    def bullet_list(title: str, items: list[str], empty: str) -> list[ft.Control]:
        return [ui.heading(title), *([ui.text(f"• {item}", 15) for item in items] or [ui.text(empty, 14)])]

    timeline: list[ft.Control] = []
    items = [*people.person_timeline(store, person_id, limit=200), *alert_entries(alerts.alerts_for_person(store, person_id), now, zone)]
    for item in sorted(items, key=lambda i: i.at, reverse=True):
        subtitle = " · ".join(filter(None, [dates.when(item.at, now, zone), item.status, item.units, counted(item.addenda, "addendum", "addenda") if item.addenda else ""]))
        opens = item.kind not in ("checkin", people.OUTREACH, SAFETY_ALERT)
        tile = ft.ListTile(
            title=ft.Text(item.title, size=ui.size(15)), subtitle=ft.Text(f"{subtitle}\n{item.detail[:140]}", size=ui.size(13)),
            is_three_line=True, on_click=ui.act(lambda e, rid=item.record_id: go(f"/note/{rid}")) if opens else None,
        )
        timeline.append(ft.Semantics(identifier=f"timeline-{item.record_id}", content=tile))
    consent_lines = [
        f"{c.kind.label}{' (42 CFR Part 2)' if c.part2 else ''}: {c.recipient or 'agency'}, signed {dates.day_words(c.signed_on, today)}"
        + (f", revoked {dates.day_words(c.revoked_on, today)}" if c.revoked_on else f", ends {dates.day_words(c.expires_on, today)}" if c.expires_on else "")
        for c in consents.list_consents(store, person_id)
    ]
    return ui.view(
        f"/person/{person_id}",
        person.preferred_name,
        [
            ui.text(person.recovery_stage.label, 14),
            *flags,
            *([ui.heading("Not finished"), grid(unfinished, 1)] if unfinished else []),
            grid(actions, columns),
            *bullet_list("Goals", [g.text for g in person.goals], "No goals recorded yet."),
            *bullet_list("Strengths", person.strengths, "No strengths recorded yet."),
            *bullet_list("Natural supports", person.natural_supports, "None recorded yet."),
            *bullet_list("Consents", consent_lines, "No consent recorded on this phone."),
            *([ui.text("Ask before sharing information; record a consent with the Consent button.", 14, identifier="consent-hint")] if not consent_lines else []),
            ui.heading("Timeline"),
            *(timeline or [ui.text("No contacts yet. Start with a contact note or a phone call.", 14, identifier="timeline-empty")]),
        ],
        back="/caseload",
    )
