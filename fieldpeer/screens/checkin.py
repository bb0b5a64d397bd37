"""Pre-crisis check-in guided by the person's own WRAP, ending with the safety question.

Any answer but a clear "no" shows crisis resources at once (988, the agency's crisis line,
the person's crisis-plan supporters) and, on save, raises an urgent alert that syncs first.
"""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from fieldpeer.config import crisis_lines
from fieldpeer.domain import Escalation, SafetyAnswer, WrapSection, Zone
from fieldpeer.screens.forms import CheckinForm
from fieldpeer.screens.widgets import Ui
from fieldpeer.store import people, wrap

CRISIS_KEY = "crisis-resources"
LAYOUT_PAUSE = 0.15  # seconds
SAFETY_QUESTION = "Are you thinking about hurting yourself or someone else?"


def crisis_panel(ui: Ui, form: CheckinForm) -> ft.Control:
    lines = [
        item
        for n, line in enumerate(crisis_lines())
        for item in (ui.call_button(f"Call {line.name}: {line.phone}", line.phone, f"call-line-{n}"), *([ui.text(line.note, 13)] if line.note else []))
    ]
    supporters = [
        ui.call_button(f"Call {s.name}: {s.phone}" + (f" ({s.relationship})" if s.relationship else ""), s.phone, f"call-supporter-{n}") if s.phone else ui.text(s.name, 15)
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
                    ui.text("Saving this check-in sends an urgent alert to your supervisor first.", 14),
                ],
                spacing=6,
            ),
            bgcolor=ft.Colors.RED_50, border=ft.Border.all(2, ft.Colors.RED_700), border_radius=8, padding=12,
        ),
    )


def build(ui: Ui, person_id: str) -> ft.View:
    shell, store = ui.shell, ui.shell.session.store
    person = people.get_person(store, person_id)
    form = CheckinForm(person_id=person_id, plan=wrap.get_wrap_plan(store, person_id))
    crisis_box = ft.Column([], key=ft.ScrollKey(CRISIS_KEY))
    actions_box = ft.Column([])
    message = ui.error("", "checkin-error")

    def toggle(collection: set[str], after: Any = None) -> Any:
        def change(key: str, on: bool) -> None:
            collection.add(key) if on else collection.discard(key)
            if after:
                after()

        return change

    def refresh_actions() -> None:
        options = sorted(set(form.suggested_actions()) | form.actions)
        actions_box.controls = [ui.chips([(a, a) for a in options], form.actions, toggle(form.actions), "action")] if options else [ui.text("Their plan lists no actions for this zone yet.", 14)]
        shell.page.update()

    def choose_zone(value: str) -> None:
        form.zone = Zone(value)
        refresh_actions()

    async def answer_safety(value: str) -> None:
        form.safety = SafetyAnswer(value)
        crisis_box.controls = [crisis_panel(ui, form)] if form.escalation is Escalation.URGENT else []
        shell.page.update()
        if crisis_box.controls:  # bring the resources into view at once, not below the fold
            await asyncio.sleep(LAYOUT_PAUSE)  # the client lays the panel out first, else there is nothing to scroll to
            await view.controls[0].scroll_to(scroll_key=ft.ScrollKey(CRISIS_KEY), duration=250)  # type: ignore[attr-defined]

    def save(_: Any) -> None:
        checkin, errors = form.to_checkin()
        if checkin is None:
            ui.show_error(message, " ".join(errors.values()))
            return
        _, alert = wrap.record_checkin(store, checkin)
        shell.toast("Check-in saved. Urgent alert queued to sync first." if alert else "Check-in saved.")
        shell.go(f"/person/{person_id}")

    triggers = form.plan_items(WrapSection.TRIGGERS)
    signs = form.plan_items(WrapSection.EARLY_WARNING_SIGNS)
    supporters = [(s.name, s.name) for s in form.supporters()]
    refresh_actions_initial = sorted(set(form.suggested_actions()))
    actions_box.controls = [ui.chips([(a, a) for a in refresh_actions_initial], form.actions, toggle(form.actions), "action")] if refresh_actions_initial else [ui.text("Their plan lists no actions for this zone yet.", 14)]
    view = ui.view(
        f"/person/{person_id}/checkin",
        f"Check-in · {person.preferred_name}",
        [
            *([] if form.plan else [ui.text("No WRAP on file yet: you can still check in, and write the plan together later.", 14)]),
            ui.field("How are you today? (in their words)", "", lambda v: setattr(form, "feeling_today", v), multiline=True),
            ui.heading("Triggers present"),
            ui.chips([(t, t) for t in triggers], form.triggers, toggle(form.triggers), "trigger") if triggers else ui.text("No triggers in their plan.", 14),
            ui.heading("Early warning signs present"),
            ui.chips([(s, s) for s in signs], form.warning_signs, toggle(form.warning_signs), "sign") if signs else ui.text("No warning signs in their plan.", 14),
            ui.heading("Which part of the plan fits today?"),
            ui.choices(Zone.choices(), form.zone.value, choose_zone, "zone"),
            ui.heading("Action steps chosen"),
            actions_box,
            *([ui.heading("Supporters contacted"), ui.chips(supporters, form.supporters_contacted, toggle(form.supporters_contacted), "supporter")] if supporters else []),
            ui.heading("Safety question"),
            ui.text(SAFETY_QUESTION, 16, bold=True),
            ui.choices(SafetyAnswer.choices(), None, answer_safety, "safety"),
            crisis_box,
            ui.field("Anything else", "", lambda v: setattr(form, "notes", v), multiline=True),
            message,
            ui.button("Save check-in", save, "save-checkin", icon=ft.Icons.CHECK),
        ],
        back=f"/person/{person_id}",
    )
    return view
