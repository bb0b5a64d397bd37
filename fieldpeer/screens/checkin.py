"""Pre-crisis check-in guided by the person's own WRAP, ending with the safety question.

Any answer but a clear "no" raises the urgent alert to the supervisor the moment it is chosen
(before the check-in is saved: Back or a dead battery cannot silence it) and shows crisis
resources at once: 988 to call or text, the agency's crisis line, the person's supporters.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import tzinfo
from typing import Any

import flet as ft

from fieldpeer.config import agency_zone, crisis_lines
from fieldpeer.domain import DraftKind, Escalation, SafetyAnswer, WrapSection, Zone
from fieldpeer.records import SafetyAlert, Supporter
from fieldpeer.screens import dates, form_store
from fieldpeer.screens.drafting import DraftGuard, guarded, scroll_into_view, scroll_key
from fieldpeer.screens.form_store import AlertDelivery
from fieldpeer.screens.forms import CheckinForm
from fieldpeer.screens.widgets import Ui, inner
from fieldpeer.store import drafts, people, wrap

CRISIS_KEY = "crisis-resources"
SAFETY_QUESTION = "Are you thinking about hurting yourself or someone else?"
ALERT_DELIVERED = "The alert was already sent to your supervisor."
ALERT_QUEUED = "The alert to your supervisor is queued and will be sent at the next sync, before anything else."
ALERT_STAYS = "Leaving or discarding this check-in does not withdraw it."
SENDING = "Sending the alert to your supervisor…"
NOT_SENT_OFFLINE = "Not sent yet: no connection. It goes first at the next sync."
NOT_SENT_NO_AGENCY = "Not sent: this practice profile has no agency. Call your supervisor."
REFUSED = "The agency did not accept the alert: call your supervisor now."
POLL_SECONDS = 3.0  # while the panel is open and the alert not yet confirmed: a cheap local read
log = logging.getLogger("fieldpeer.app")


def alert_words(ui: Ui, alert: SafetyAlert) -> str:
    """The truth about the alert: sent only once the agency confirmed it, queued until then."""
    return ALERT_DELIVERED if form_store.alert_reached_agency(ui.shell.session.store, alert.person_id, alert.id) else ALERT_QUEUED


def alert_line(delivery: AlertDelivery, *, can_sync: bool, sending: bool, failed: bool, zone: tzinfo) -> str:
    """The panel's line about the alert, following what really happened to it."""
    if delivery.delivered:
        at = f" ({dates.clock_time(dates.wall_clock(delivery.delivered_at, zone))})" if delivery.delivered_at else ""
        return f"Your supervisor has the alert{at}."
    if delivery.refused:
        return REFUSED
    if not can_sync:
        return NOT_SENT_NO_AGENCY
    return NOT_SENT_OFFLINE if failed and not sending else SENDING


def supporter_label(supporter: Supporter) -> str:
    """ "Call Sister (fictional): 555-0142", with the relationship only when the name does not say it."""
    relationship = supporter.relationship.strip()
    said = not relationship or relationship.lower() in supporter.name.lower()
    return f"Call {supporter.name}: {supporter.phone}" + ("" if said else f" ({relationship})")


def digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit() or ch == "+")


def text_button(ui: Ui, line_name: str, number: str, identifier: str) -> ft.Control:
    """Text a crisis line with one tap (an sms: link), looking like Ui.call_button beside it."""
    button = ft.FilledButton(
        content=ft.Text(f"Text {number}", size=ui.size(15), text_align=ft.TextAlign.CENTER), icon=ft.Icons.SMS, url=f"sms:{digits(number)}",
        bgcolor=ft.Colors.RED_700, color=ft.Colors.WHITE, tooltip=f"Text {line_name}",
        style=ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=16, vertical=14), icon_size=ui.size(18)),
    )
    return ft.Semantics(identifier=identifier, content=button)


def crisis_panel(ui: Ui, form: CheckinForm, alert_box: ft.Control) -> ft.Control:
    lines: list[ft.Control] = []
    for n, line in enumerate(crisis_lines()):
        lines.append(ui.call_button(f"Call {line.name}: {line.phone}", line.phone, f"call-line-{n}"))
        if line.text:
            lines.append(text_button(ui, line.name, line.text, f"text-line-{n}"))
        if line.note:
            lines.append(ui.text(line.note, 13))
    supporters = [
        ui.call_button(supporter_label(s), s.phone, f"call-supporter-{n}")
        if s.phone else ui.text(s.name, 15)
        for n, s in enumerate(form.supporters())
    ]
    return ft.Semantics(
        identifier="crisis-resources", live_region=True,
        content=ft.Container(
            ft.Column(
                [
                    ui.text("Get help now", 18, bold=True, color=ft.Colors.RED_800),
                    ui.text("This is outside peer support. Stay with the person and connect them to crisis help:", 15),
                    *lines,
                    *([ui.text("Their crisis-plan supporters:", 15, bold=True), *supporters] if supporters else []),
                    alert_box,
                ],
                spacing=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            ),
            bgcolor=ft.Colors.RED_50, border=ft.Border.all(2, ft.Colors.RED_700), border_radius=8, padding=12,
        ),
    )


def build(ui: Ui, person_id: str) -> ft.View:
    shell, store = ui.shell, ui.shell.session.store
    person = people.get_person(store, person_id)
    form = CheckinForm(person_id=person_id, plan=wrap.get_wrap_plan(store, person_id))
    kept = form_store.form_draft(store, DraftKind.CHECKIN, person_id)
    if kept:
        form.restore(kept[1])
    opened_as = form.draft()
    alert: list[SafetyAlert] = [a for a in [wrap.alert_for_checkin(store, form.checkin_id)] if a]  # one at most
    crisis_box = ft.Column([], key=scroll_key(CRISIS_KEY))
    actions_box = ft.Column([])
    message = ui.error("", "checkin-error")
    field_errors = {name: ui.error("", f"error-{name}") for name in ("zone", "safety")}
    alert_text = ui.text("", 14, bold=True, identifier="alert-state")
    send_now = ui.button("Send now", lambda e: start_sending(), "send-alert-now", primary=False, icon=ft.Icons.SEND)
    alert_box = ft.Column([alert_text, send_now], spacing=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    sending = {"now": False, "polling": False}

    def leaving_note() -> str:
        return f"{alert_words(ui, alert[0])} {ALERT_STAYS}" if alert else ""

    def keep() -> bool:
        drafts.save_form_draft(store, DraftKind.CHECKIN, person_id, form.draft(), record_id=form.checkin_id)
        return True

    def discard() -> None:
        drafts.discard_form_draft(store, DraftKind.CHECKIN, person_id, form.checkin_id)

    guard = DraftGuard(ui, changed=lambda: form.draft() != opened_as, keep=keep, discard=discard, leaving_note=leaving_note)

    def toggle(collection: set[str], after: Any = None) -> Any:
        def change(key: str, on: bool) -> None:
            collection.add(key) if on else collection.discard(key)
            guard.poke()
            if after:
                after()

        return change

    def action_chips() -> list[ft.Control]:
        options = sorted(set(form.suggested_actions()) | form.actions)
        if options:
            return [ui.chips([(a, a) for a in options], form.actions, toggle(form.actions), "action")]
        return [ui.text("Their plan lists no actions for this zone yet." if form.zone else "Choose the part of the plan above: its action steps show here.", 14)]

    def choose_zone(value: str) -> None:
        form.zone = Zone(value)
        actions_box.controls = action_chips()
        field_errors["zone"].visible = False
        guard.poke()
        shell.page.update()

    # --- the alert's line: what really happened to it ----------------------------------------

    def delivered() -> bool:
        return bool(alert) and form_store.alert_delivery(store, person_id, alert[0].id).delivered

    def refresh_alert() -> None:
        if not alert:
            inner(alert_text, ft.Text).value, send_now.visible = ALERT_QUEUED, False
            return
        delivery = form_store.alert_delivery(store, person_id, alert[0].id)
        last = shell.session.last_summary
        failed = last is not None and not last.ok
        inner(alert_text, ft.Text).value = alert_line(delivery, can_sync=shell.session.can_sync, sending=sending["now"], failed=failed, zone=agency_zone())
        send_now.visible = shell.session.can_sync and not delivery.delivered and not delivery.refused and not sending["now"]

    def on_screen() -> bool:
        return shell.session.is_unlocked and shell.route == view.route

    def start_sending(show: bool = True) -> None:
        if alert and shell.session.can_sync and not sending["now"]:
            sending["now"] = True
            refresh_alert()
            if show:
                shell.page.update()
            shell.page.run_task(send)

    async def send() -> None:
        """Sync now (the alert goes first), then say how it went; one sync at a time (SyncClient's lock)."""
        try:
            await ui.offload(shell.session.sync)
        except Exception as exc:  # noqa: BLE001 - the line says "not sent", nothing is lost
            log.error("alert send failed: %s", type(exc).__name__)
        finally:
            sending["now"] = False
        if on_screen():
            refresh_alert()
            shell.page.update()

    async def poll() -> None:
        """While the panel is open, follow the background sync too (cheap local reads)."""
        if sending["polling"]:
            return
        sending["polling"] = True
        try:
            while on_screen() and alert and not delivered():
                await asyncio.sleep(POLL_SECONDS)
                if on_screen():
                    refresh_alert()
                    shell.page.update()
            if on_screen():
                refresh_alert()
                shell.page.update()
        finally:
            sending["polling"] = False

    def show_crisis() -> None:
        refresh_alert()
        crisis_box.controls = [crisis_panel(ui, form, alert_box)] if form.escalation is Escalation.URGENT or alert else []

    async def answer_safety(value: str) -> None:
        form.safety = SafetyAnswer(value)
        field_errors["safety"].visible = False
        if form.escalation is Escalation.URGENT and not alert:
            raised = wrap.raise_safety_alert(store, person_id, form.checkin_id, form.safety)  # now, not on save
            alert.extend([raised] if raised else [])
            guard.keep_draft()  # the draft names the alert's check-in id: reopening continues this check-in
            start_sending()  # the supervisor should have it in seconds, not at the next 30 s round
            shell.page.run_task(poll)
        else:
            guard.poke()
        show_crisis()
        shell.page.update()
        if crisis_box.controls:  # bring the resources into view at once, not below the fold
            await scroll_into_view(view, CRISIS_KEY)

    def save(_: Any) -> None:
        checkin, errors = form.to_checkin()
        if checkin is None:
            for name, line in field_errors.items():  # each under its own question
                inner(line, ft.Text).value, line.visible = errors.get(name, ""), name in errors
            ui.show_error(message, "Before saving: " + " ".join(errors.values()))
            return
        _, saved_alert = wrap.record_checkin(store, checkin)
        guard.done()
        shell.go(f"/person/{person_id}")
        if saved_alert and form_store.alert_reached_agency(store, person_id, saved_alert.id):
            shell.toast(f"Check-in saved. {ALERT_DELIVERED}")
        else:
            shell.toast("Check-in saved. Urgent alert queued to sync first." if saved_alert else "Check-in saved.")

    def setter(name: str) -> Any:
        def change(value: str) -> None:
            setattr(form, name, value)
            guard.poke()

        return change

    triggers = form.plan_items(WrapSection.TRIGGERS)
    signs = form.plan_items(WrapSection.EARLY_WARNING_SIGNS)
    supporters = [(s.name, s.name) for s in form.supporters()]
    actions_box.controls = action_chips()
    show_crisis()
    back = f"/person/{person_id}"
    view = ui.view(
        f"/person/{person_id}/checkin",
        f"Check-in · {person.preferred_name}",
        [
            *([ui.text("Continued from your draft.", 14, identifier="draft-restored")] if kept else []),
            *([] if form.plan else [ui.text("No WRAP on file yet: you can still check in, and write the plan together later.", 14)]),
            ui.field("How are you today? (in their words)", form.feeling_today, setter("feeling_today"), multiline=True),
            ui.heading("Triggers present"),
            ui.chips([(t, t) for t in triggers], form.triggers, toggle(form.triggers), "trigger") if triggers else ui.text("No triggers in their plan.", 14),
            ui.heading("Early warning signs present"),
            ui.chips([(s, s) for s in signs], form.warning_signs, toggle(form.warning_signs), "sign") if signs else ui.text("No warning signs in their plan.", 14),
            ui.heading("Which part of the plan fits today?"),
            ui.choices(Zone.choices(), form.zone.value if form.zone else None, choose_zone, "zone"),
            field_errors["zone"],
            ui.heading("Action steps chosen"),
            actions_box,
            *([ui.heading("Supporters contacted"), ui.chips(supporters, form.supporters_contacted, toggle(form.supporters_contacted), "supporter")] if supporters else []),
            ui.heading("Safety question"),
            ui.text(SAFETY_QUESTION, 16, bold=True),
            ui.choices(SafetyAnswer.choices(), form.safety.value if form.safety else None, answer_safety, "safety"),
            field_errors["safety"],
            crisis_box,
            ui.field("Anything else", form.notes, setter("notes"), multiline=True),
            message,
            ui.button("Save check-in", save, "save-checkin", icon=ft.Icons.CHECK),
            ft.Semantics(identifier="draft-status", live_region=True, content=guard.status),
        ],
        back=back,
    )
    if alert and not delivered():  # a reopened check-in whose alert has not gone yet: try now
        start_sending(show=False)  # the view is not on the page yet
        refresh_alert()
        shell.page.run_task(poll)
    return guarded(ui, view, guard, back)
