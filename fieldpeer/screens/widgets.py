"""Accessible building blocks: every control has a label a screen reader reads, a stable
identifier for tests, and a touch target of at least 48 px. Every handler counts as
activity for auto-lock and reports errors instead of crashing the screen."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import flet as ft

if TYPE_CHECKING:
    from fieldpeer.app import Shell

log = logging.getLogger("fieldpeer.app")
TOUCH = 48  # px: minimum touch target


class Ui:
    def __init__(self, shell: "Shell") -> None:
        self.shell = shell

    def size(self, base: float) -> float:
        return round(base * self.shell.session.text_scale, 1)

    def act(self, handler: Callable[..., Any]) -> Callable[[Any], Any]:
        """Wrap an event handler: count as activity; a failure becomes a message, not a dead screen.

        Async handlers stay async, so they can hand slow work (scrypt, network) to a thread
        with `offload` instead of stalling every session on the event loop."""
        if inspect.iscoroutinefunction(handler):

            async def wrapped_async(event: Any = None) -> Any:
                self.shell.session.touch()
                try:
                    return await handler(event)
                except Exception as exc:  # noqa: BLE001 - the peer must see something, and nothing is lost
                    self._report(exc)
                    return None

            return wrapped_async

        def wrapped(event: Any = None) -> Any:
            self.shell.session.touch()
            try:
                return handler(event)
            except Exception as exc:  # noqa: BLE001
                self._report(exc)
                return None

        return wrapped

    def _report(self, exc: Exception) -> None:
        log.error("handler failed: %s", type(exc).__name__)  # the type only: messages may quote what was typed
        self.shell.toast(str(exc) if isinstance(exc, (ValueError, LookupError)) else "Something went wrong; your saved work is safe.")

    @staticmethod
    def offload(work: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        """Run blocking work (key derivation, network) in a worker thread."""
        return asyncio.to_thread(work, *args)

    def busy(self, controls: Iterable[ft.Control], on: bool) -> None:
        """Disable buttons while their work runs, so a second tap cannot start it twice."""
        for control in controls:
            target = control.content if isinstance(control, ft.Semantics) else control
            target.disabled = on  # type: ignore[union-attr]
        self.shell.page.update()

    # --- text -----------------------------------------------------------------------

    def text(self, value: str, size: float = 15, *, bold: bool = False, color: str | None = None, identifier: str | None = None) -> ft.Control:
        text = ft.Text(value, size=self.size(size), weight=ft.FontWeight.BOLD if bold else None, color=color, selectable=False)
        return ft.Semantics(identifier=identifier, content=text) if identifier else text

    def heading(self, value: str) -> ft.Control:
        return ft.Semantics(header=True, content=ft.Text(value, size=self.size(18), weight=ft.FontWeight.BOLD))

    def error(self, message: str, identifier: str = "form-error") -> ft.Semantics:
        """An error line read out when it appears; show it with `show_error`."""
        return ft.Semantics(
            identifier=identifier, live_region=True, visible=bool(message),
            content=ft.Text(message, color=ft.Colors.ERROR, size=self.size(14)),
        )

    def show_error(self, line: ft.Semantics, message: str) -> None:
        line.content.value = message  # type: ignore[union-attr]
        line.visible = bool(message)
        self.shell.page.update()

    # --- inputs ---------------------------------------------------------------------

    def field(
        self, label: str, value: str, on_change: Callable[[str], None], *, multiline: bool = False, password: bool = False,
        number: bool = False, hint: str | None = None, error: str | None = None, on_submit: Callable[[Any], Any] | None = None,
        autofocus: bool = False,
    ) -> ft.TextField:
        return ft.TextField(
            label=label, value=value, hint_text=hint, error=error or None, multiline=multiline, min_lines=3 if multiline else None,
            max_lines=8 if multiline else 1, password=password, can_reveal_password=password, autofocus=autofocus,
            keyboard_type=ft.KeyboardType.NUMBER if number else ft.KeyboardType.TEXT, text_size=self.size(16),
            on_change=self.act(lambda e: on_change(e.control.value)), on_submit=self.act(on_submit) if on_submit else None,
        )

    def dropdown(self, label: str, options: Iterable[tuple[str, str]], value: str, on_select: Callable[[str], None], identifier: str) -> ft.Control:
        menu = ft.Dropdown(
            label=label, value=value or None, options=[ft.DropdownOption(key=k, text=t) for k, t in options], expand=True,
            on_select=self.act(lambda e: on_select(e.control.value or "")), text_size=self.size(15),
        )
        # A Row keeps a stretched Dropdown's hit box to the widget (see architecture.md).
        return ft.Semantics(identifier=identifier, content=ft.Row([menu]))

    def chips(self, options: Iterable[tuple[str, str]], selected: set[str], on_toggle: Callable[[str, bool], None], identifier: str) -> ft.Control:
        chips = []
        for key, label in options:
            chip = ft.Chip(
                label=ft.Text(label, size=self.size(14)), selected=key in selected,
                on_select=self.act(lambda e, key=key: on_toggle(key, bool(e.control.selected))),
            )
            chips.append(ft.Semantics(identifier=f"{identifier}-{key}", label=label, content=ft.Container(chip, height=TOUCH)))
        return ft.Row(chips, wrap=True, spacing=6, run_spacing=4)

    def choices(self, options: Iterable[tuple[str, str]], value: str | None, on_change: Callable[[str], None], identifier: str) -> ft.Control:
        """A single choice as radio buttons (each row a 48 px target)."""
        radios = [
            ft.Semantics(identifier=f"{identifier}-{key}", content=ft.Container(ft.Radio(value=key, label=label), height=TOUCH))
            for key, label in options
        ]
        return ft.RadioGroup(value=value, content=ft.Column(radios, spacing=0), on_change=self.act(lambda e: on_change(e.control.value or "")))

    # --- buttons --------------------------------------------------------------------

    def button(self, label: str, on_click: Callable[[Any], Any], identifier: str, *, primary: bool = True, icon: Any = None, expand: bool = False) -> ft.Control:
        kind = ft.FilledButton if primary else ft.OutlinedButton
        button = kind(content=label, icon=icon, on_click=self.act(on_click), height=TOUCH, expand=expand)
        return ft.Semantics(identifier=identifier, button=True, label=label, content=button)

    def icon_button(self, icon: Any, label: str, on_click: Callable[[Any], Any], identifier: str) -> ft.Control:
        return ft.Semantics(
            identifier=identifier, button=True, label=label,
            content=ft.IconButton(icon=icon, tooltip=label, on_click=self.act(on_click), width=TOUCH, height=TOUCH),
        )

    # --- layout ---------------------------------------------------------------------

    def view(self, route: str, title: str, controls: list[ft.Control], *, back: str | None = None, actions: list[ft.Control] | None = None) -> ft.View:
        leading = self.icon_button(ft.Icons.ARROW_BACK, "Back", lambda e: self.shell.go(back), "back") if back else None
        return ft.View(
            route=route,
            appbar=ft.AppBar(title=ft.Text(title, size=self.size(19)), leading=leading, automatically_imply_leading=False, actions=actions or []),
            controls=[ft.Column(controls, spacing=12, scroll=ft.ScrollMode.AUTO, expand=True, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)],
            padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        )
