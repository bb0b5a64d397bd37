"""Accessible building blocks: every control has a label a screen reader reads, a stable
identifier for tests, and a touch target of at least 48 px. Every handler counts as
activity for auto-lock and reports errors instead of crashing the screen."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import flet as ft

from fieldpeer.screens.session import Locked

if TYPE_CHECKING:
    from fieldpeer.app import Shell

log = logging.getLogger("fieldpeer.app")
TOUCH = 48  # px: minimum touch target

C = TypeVar("C", bound=ft.Control)


def narrow(control: object, kind: type[C]) -> C:
    """`control` as the `kind` the layout built (Flet types children loosely, e.g. `Control | None`)."""
    if not isinstance(control, kind):
        raise TypeError(f"expected {kind.__name__}, found {type(control).__name__}")
    return control


def inner(wrapper: ft.Control, kind: type[C]) -> C:
    """The control a Ui helper wrapped in Semantics for its test identifier: the Text of Ui.error
    (and of Ui.text given an identifier), the button of Ui.button."""
    return narrow(narrow(wrapper, ft.Semantics).content, kind)


class Ui:
    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    def size(self, base: float) -> float:
        return round(base * self.shell.session.text_scale, 1)

    def target(self, text_size: float, padding: float = 22) -> float:
        """Height of a one-line control holding text of `text_size` (already scaled): at least 48 px."""
        return max(TOUCH, round(text_size * 1.45 + padding))

    def act(self, handler: Callable[..., Any]) -> Callable[[Any], Any]:
        """Wrap an event handler: count as activity; a failure becomes a message, not a dead screen.

        Async handlers stay async, so they can hand slow work (scrypt, network) to a thread
        with `offload` instead of stalling every session on the event loop."""
        if inspect.iscoroutinefunction(handler):

            async def wrapped_async(event: Any = None) -> Any:
                self.shell.touch()
                try:
                    return await handler(event)
                except Exception as exc:  # noqa: BLE001 - the peer must see something, and nothing is lost
                    self._report(exc)
                    return None

            return wrapped_async

        def wrapped(event: Any = None) -> Any:
            self.shell.touch()
            try:
                return handler(event)
            except Exception as exc:  # noqa: BLE001
                self._report(exc)
                return None

        return wrapped

    def _report(self, exc: Exception) -> None:
        if isinstance(exc, Locked):  # another tab ended the shift: show the PIN screen, not an error
            self.shell.check_lock()
            return
        log.error("handler failed: %s", type(exc).__name__)  # the type only: messages may quote what was typed
        self.shell.toast(str(exc) if isinstance(exc, (ValueError, LookupError)) else "Something went wrong; your saved work is safe.")

    @staticmethod
    def offload(work: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        """Run blocking work (key derivation, network) in a worker thread."""
        return asyncio.to_thread(work, *args)

    def busy(self, controls: Iterable[ft.Control], on: bool) -> None:
        """Disable buttons while their work runs, so a second tap cannot start it twice."""
        for control in controls:
            target = inner(control, ft.Control) if isinstance(control, ft.Semantics) else control
            target.disabled = on
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
        inner(line, ft.Text).value = message
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
            max_lines=8 if multiline else 1, password=password, autofocus=autofocus,  # no reveal icon: it has no label and is 40 px
            keyboard_type=ft.KeyboardType.NUMBER if number else ft.KeyboardType.TEXT, text_size=self.size(16),
            label_style=ft.TextStyle(size=self.size(16)), hint_style=ft.TextStyle(size=self.size(15)),
            on_change=self.act(lambda e: on_change(e.control.value)), on_submit=self.act(on_submit) if on_submit else None,
        )

    def picker(self, label: str, options: Iterable[tuple[str, str]], value: str, on_select: Callable[[str], None], identifier: str) -> ft.Control:
        """One choice from a list: a field-like button ("How (mode) · Face-to-face") that opens a
        bottom sheet of options, each a full-width row. Unlike Flet's Dropdown, the focusable
        node carries the label and the current value, so a screen reader reads both."""
        options = list(options)
        names = dict(options)
        current = ft.Text(names.get(value, "Choose…"), size=self.size(16), no_wrap=False)

        def choose(key: str) -> Callable[[Any], None]:
            def chosen(_: Any) -> None:
                self.shell.page.pop_dialog()
                current.value = names[key]
                on_select(key)
                self.shell.page.update()

            return chosen

        def open_sheet(_: Any) -> None:
            chosen_now = next((k for k, t in options if t == current.value), None)
            rows = [
                ft.Semantics(identifier=f"{identifier}-{key}", content=ft.ListTile(
                    title=ft.Text(text, size=self.size(16)), selected=key == chosen_now, min_height=TOUCH + 8,
                    trailing=ft.Icon(ft.Icons.CHECK, semantics_label="chosen") if key == chosen_now else None, on_click=self.act(choose(key)),
                ))
                for key, text in options
            ]
            # As tall as its options (a scrolling list would fill the screen), at most 85% of the
            # screen; past that the options scroll.
            row = max(TOUCH + 8, self.size(16) * 1.45 + 24)
            fits = self.size(18) * 1.45 + 12 + len(rows) * row + 16
            height = min(fits, (self.shell.page.height or 740) * 0.85 - 40)  # 40: the drag handle
            sheet = ft.BottomSheet(
                ft.Container(
                    ft.Column([self.heading(label), *rows], spacing=0, scroll=ft.ScrollMode.AUTO),
                    padding=ft.Padding.only(left=8, right=8, bottom=12), height=height,
                ),
                scrollable=True, show_drag_handle=True,
            )
            self.shell.page.show_dialog(sheet)

        face = ft.Row(
            [ft.Column([ft.Text(label, size=self.size(12)), current], spacing=0, expand=True), ft.Icon(ft.Icons.ARROW_DROP_DOWN, size=self.size(24))],
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
        )
        button = ft.OutlinedButton(  # its height follows the text: label and value grow with the text size
            content=face, on_click=self.act(open_sheet),
            style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=4), padding=ft.Padding.symmetric(horizontal=12, vertical=8)),
        )
        return ft.Semantics(identifier=identifier, content=button)

    def chips(self, options: Iterable[tuple[str, str]], selected: set[str], on_toggle: Callable[[str, bool], None], identifier: str) -> ft.Control:
        chips: list[ft.Control] = []
        for key, label in options:
            chip = ft.Chip(
                label=ft.Text(label, size=self.size(14)), selected=key in selected,
                on_select=self.act(lambda e, key=key: on_toggle(key, bool(e.control.selected))),
            )
            chips.append(ft.Semantics(identifier=f"{identifier}-{key}", content=ft.Container(chip, height=self.target(self.size(14)))))
        return ft.Row(chips, wrap=True, spacing=6, run_spacing=4)

    def choices(self, options: Iterable[tuple[str, str]], value: str | None, on_change: Callable[[str], Any], identifier: str) -> ft.Control:
        """A single choice as radio buttons (each row a 48 px target)."""
        radios: list[ft.Control] = [
            ft.Semantics(identifier=f"{identifier}-{key}", content=ft.Container(
                ft.Radio(value=key, label=label, label_style=ft.TextStyle(size=self.size(15))), height=self.target(self.size(15), 14),
            ))
            for key, label in options
        ]
        changed: Callable[[Any], Any]
        if inspect.iscoroutinefunction(on_change):

            async def changed_async(e: Any) -> None:
                await on_change(e.control.value or "")

            changed = changed_async
        else:

            def changed_sync(e: Any) -> None:
                on_change(e.control.value or "")

            changed = changed_sync
        return ft.RadioGroup(value=value, content=ft.Column(radios, spacing=0), on_change=self.act(changed))

    # --- buttons --------------------------------------------------------------------

    # The Semantics wrappers only carry a test identifier: the focusable node a screen reader
    # lands on is the button itself, so that is where the name must be (its text, or the
    # icon's semantics label).

    def _button_style(self) -> ft.ButtonStyle:
        # No fixed height: 14 px above and below a line of text make 48 px at the normal size,
        # and the button grows (and wraps its label) with larger text.
        return ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=16, vertical=14), icon_size=self.size(18))

    def _label(self, label: str) -> ft.Text:
        return ft.Text(label, size=self.size(15), text_align=ft.TextAlign.CENTER)

    def button(self, label: str, on_click: Callable[[Any], Any], identifier: str, *, primary: bool = True, icon: Any = None, expand: bool = False) -> ft.Control:
        kind = ft.FilledButton if primary else ft.OutlinedButton
        button = kind(content=self._label(label), icon=icon, on_click=self.act(on_click), expand=expand, style=self._button_style())
        return ft.Semantics(identifier=identifier, content=button)

    def call_button(self, label: str, phone: str, identifier: str, *, urgent: bool = True) -> ft.Control:
        """Dial with one tap: a tel: link (the phone's dialer; on a laptop, whatever handles calls)."""
        number = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
        button: ft.Control
        if urgent:
            button = ft.FilledButton(
                content=self._label(label), icon=ft.Icons.CALL, url=f"tel:{number}", style=self._button_style(), bgcolor=ft.Colors.RED_700, color=ft.Colors.WHITE,
            )
        else:
            button = ft.OutlinedButton(content=self._label(label), icon=ft.Icons.CALL, url=f"tel:{number}", style=self._button_style())
        return ft.Semantics(identifier=identifier, content=button)

    def icon_button(self, icon: Any, label: str, on_click: Callable[[Any], Any], identifier: str, *, badge: str | None = None, caption: str | None = None) -> ft.Control:
        """`caption`: a few visible words under the icon, when the icon alone could be misread."""
        glyph = ft.Icon(icon, semantics_label=label, badge=ft.Badge(label=badge) if badge else None)
        button: ft.Control = ft.IconButton(icon=glyph, tooltip=label, on_click=self.act(on_click), width=TOUCH, height=TOUCH)
        if caption:  # the button keeps its 48 px target; the caption is read as part of the label already
            words = ft.Semantics(exclude_semantics=True, content=ft.Text(caption, size=self.size(11), text_align=ft.TextAlign.CENTER))
            button = ft.Column([button, words], spacing=0, tight=True, horizontal_alignment=ft.CrossAxisAlignment.CENTER)
        return ft.Semantics(identifier=identifier, content=button)

    # --- layout ---------------------------------------------------------------------

    def view(self, route: str, title: str, controls: list[ft.Control], *, back: str | None = None, actions: list[ft.Control] | None = None) -> ft.View:
        leading = self.icon_button(ft.Icons.ARROW_BACK, "Back", lambda e: self.shell.go(back), "back") if back else None
        self.shell.back_route = back  # where the system back gesture goes from this screen
        return ft.View(
            route=route,
            # The title grows less than the text: the bar keeps its height and its icons.
            appbar=ft.AppBar(
                title=ft.Text(title, size=min(self.size(19), 24), max_lines=1, overflow=ft.TextOverflow.ELLIPSIS),
                leading=leading, automatically_imply_leading=False, actions=actions or [],
            ),
            controls=[ft.Column(controls, spacing=12, scroll=ft.ScrollMode.AUTO, expand=True, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)],
            padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        )
