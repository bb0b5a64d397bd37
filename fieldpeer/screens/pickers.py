"""Date and time pickers (Flet 1.0: dialogs opened with page.show_dialog), and the small
controls that open them. What the peer picks comes back as a plain date or time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import flet as ft

from fieldpeer.screens.widgets import TOUCH, Ui, inner, narrow


def as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value  # DatePicker gives a datetime


def pick_date(ui: Ui, current: date | None, first: date, last: date, on_pick: Callable[[date], None], help_text: str = "Choose the date") -> None:
    """Open the calendar at `current` (or today, kept within first..last); `on_pick` gets the chosen day."""
    today = ui.shell.session.today()
    start = current or min(max(today, first), last)

    def chosen(e: Any) -> None:
        if e.control.value is not None:
            on_pick(as_date(e.control.value))

    ui.shell.page.show_dialog(ft.DatePicker(
        value=datetime.combine(start, time()), first_date=datetime.combine(first, time()), last_date=datetime.combine(last, time()),
        current_date=datetime.combine(today, time()), help_text=help_text, on_change=ui.act(chosen),
    ))


def pick_time(ui: Ui, current: time, on_pick: Callable[[time], None], help_text: str) -> None:
    def chosen(e: Any) -> None:
        if e.control.value is not None:
            on_pick(e.control.value)

    ui.shell.page.show_dialog(ft.TimePicker(value=current, help_text=help_text, on_change=ui.act(chosen)))


def picker_icon(ui: Ui, icon: Any, label: str, on_click: Callable[[Any], None]) -> ft.IconButton:
    """The calendar or clock button inside a text field (its name is what a screen reader says)."""
    return ft.IconButton(icon=ft.Icon(icon, semantics_label=label), tooltip=label, on_click=ui.act(on_click), width=TOUCH, height=TOUCH)


def date_button(ui: Ui, label: str, face: ft.Text, on_click: Callable[[Any], None], identifier: str) -> ft.Control:
    """A field-like button showing a date in words ("Today", "Mon 3 Nov") that opens the calendar."""
    content = ft.Row(
        [ft.Column([ft.Text(label, size=ui.size(12)), face], spacing=0, expand=True), ft.Icon(ft.Icons.CALENDAR_MONTH, semantics_label="choose a date")],
        vertical_alignment=ft.CrossAxisAlignment.CENTER,
    )
    button = ft.OutlinedButton(
        content=content, on_click=ui.act(on_click),
        style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=4), padding=ft.Padding.symmetric(horizontal=12, vertical=6)),
    )
    return ft.Semantics(identifier=identifier, content=ft.Container(button, height=max(TOUCH + 12, ui.size(TOUCH + 12))))


def choice_chips(
    ui: Ui, options: list[tuple[str, str]], value: str, on_change: Callable[[str], None], identifier: str, *, checkmark: bool = True,
) -> ft.Control:
    """One choice as a wrapping row of chips (compact where radio rows would push the form off
    the screen): tapping one selects it and unselects the rest; tapping the chosen one keeps it.
    `checkmark=False` for short options that must share one row at 360 px (the fill still shows it)."""
    chips: dict[str, ft.Chip] = {}

    def chosen(key: str) -> Callable[[Any], None]:
        def select(_: Any) -> None:
            for other, chip in chips.items():
                chip.selected = other == key
            on_change(key)
            ui.shell.page.update()

        return select

    for key, label in options:
        chips[key] = ft.Chip(
            label=ft.Text(label, size=ui.size(14)), selected=key == value, show_checkmark=checkmark, on_select=ui.act(chosen(key)), data=key,
        )
    return ft.Row(
        [ft.Semantics(identifier=f"{identifier}-{key}", content=ft.Container(chip, height=ui.target(ui.size(14)))) for key, chip in chips.items()],
        wrap=True, spacing=6, run_spacing=4,
    )


def walk_chips(row: ft.Control) -> list[ft.Chip]:
    """The chips of a `choice_chips` row (each chip's `data` is its key): Semantics > Container > Chip."""
    return [narrow(inner(c, ft.Container).content, ft.Chip) for c in narrow(row, ft.Row).controls]
