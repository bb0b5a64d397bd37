"""Never lose what a peer typed: autosave a few seconds after the last change, and ask
"Keep as draft / Discard" when they leave a form with changes.

Each form screen puts a `DraftGuard` in its view's `data`. The shell finds it with
`guard_of(view)` and, before leaving the screen any other way than the screen's own Back
(browser back, the Android back gesture, auto-lock, End shift), calls `keep_draft()`; or
`leave(route)` to ask the peer first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flet as ft

from fieldpeer.screens.widgets import TOUCH, inner, narrow

if TYPE_CHECKING:
    from fieldpeer.screens.widgets import Ui

log = logging.getLogger("fieldpeer.app")

AUTOSAVE_SECONDS = 3.0  # after the last change: long enough not to save every keystroke


class DraftGuard:
    """One form's draft keeping. `changed()` says whether the form differs from how it opened;
    `keep()` saves it as a draft (quietly, even if incomplete); `discard()` throws the draft away;
    `leaving_note()` is anything the peer must know when leaving (e.g. an alert already raised)."""

    def __init__(
        self,
        ui: Ui,
        *,
        changed: Callable[[], bool],
        keep: Callable[[], bool],
        discard: Callable[[], None],
        leaving_note: Callable[[], str] = lambda: "",
    ) -> None:
        self.ui = ui
        self.changed = changed
        self._keep = keep
        self._discard = discard
        self.leaving_note = leaving_note
        self.finished = False  # saved or signed for good: nothing left to keep
        self.status: ft.Text = ft.Text("", size=ui.size(13), color=ft.Colors.ON_SURFACE_VARIANT)
        self._generation = 0

    # --- what the shell calls ------------------------------------------------------------

    def has_unsaved_changes(self) -> bool:
        return not self.finished and self.changed()

    def keep_draft(self) -> bool:
        """Save what was typed as a draft now (on leaving, locking, ending the shift). True if kept."""
        self._generation += 1  # a pending autosave has nothing left to do
        if not self.has_unsaved_changes():
            return False
        try:
            kept = self._keep()
        except Exception as exc:  # noqa: BLE001 - leaving must never fail; the error type is logged
            log.error("keeping a draft failed: %s", type(exc).__name__)
            return False
        if kept:
            self.status.value = f"Draft kept at {self.ui.shell.session.now():%H:%M}."
        return kept

    def discard(self) -> None:
        self._generation += 1
        self.finished = True
        self._discard()

    def leave(self, route: str) -> None:
        """Go to `route`, asking first when there are changes: Keep as draft / Discard / Keep editing."""
        if not self.has_unsaved_changes():
            self._go(route)
            return
        shell = self.ui.shell
        note = self.leaving_note()

        def close_then(action: Callable[[], None]) -> Callable[[Any], None]:
            def chosen(_: Any) -> None:
                shell.page.pop_dialog()
                action()

            return chosen

        def keep() -> None:
            self.keep_draft()
            self.finished = True
            self._go(route, "Kept as a draft.")

        def discard() -> None:
            self.discard()
            self._go(route, "Draft discarded.")

        lines = [("You have changes that are not saved for good yet.", False), *([(note, True)] if note else [])]
        choice_dialog(self.ui, "Keep this as a draft?", lines, [
            ("Keep as draft", close_then(keep), "leave-keep", True),
            ("Discard", close_then(discard), "leave-discard", False),
            ("Keep editing", close_then(lambda: None), "leave-stay", False),
        ], "leave-dialog")

    # --- what the screen calls -----------------------------------------------------------

    def poke(self) -> None:
        """Something changed: save a draft once the peer pauses for AUTOSAVE_SECONDS."""
        if self.finished:
            return
        self._generation += 1
        self.ui.shell.page.run_task(self._autosave, self._generation)

    def done(self) -> None:
        """Saved or signed for good: no more autosaves, no question on leaving."""
        self._generation += 1
        self.finished = True

    async def _autosave(self, generation: int) -> None:
        await asyncio.sleep(AUTOSAVE_SECONDS)
        if generation != self._generation or not self.ui.shell.session.is_unlocked:
            return  # typed again since, left already, or locked (the shell kept the draft first)
        if self.keep_draft():
            self.ui.shell.page.update()

    def _go(self, route: str, toast: str = "") -> None:
        shell = self.ui.shell
        note = self.leaving_note()
        shell.go(route)
        if toast or note:
            shell.toast(" ".join(filter(None, [toast, note])))


def tall(ui: Ui, button: ft.Control) -> ft.Control:
    """Hold a Ui.button at 48 px or more: in Chromium its padding alone measured 33 px at the normal size."""
    inner(button, ft.LayoutControl).height = max(TOUCH, ui.size(15) * 2.4)
    return button


def choice_dialog(ui: Ui, title: str, lines: list[tuple[str, bool]], buttons: list[tuple[str, Callable[[Any], None], str, bool]], identifier: str) -> None:
    """A modal question: lines of (text, bold), then full-width 48 px buttons of (label, handler,
    identifier, primary), first choice on top, so long labels and the largest text size still fit."""
    words = [ft.Text(text, size=ui.size(15), weight=ft.FontWeight.BOLD if bold else None) for text, bold in lines]
    choices = [tall(ui, ui.button(label, handler, key, primary=primary)) for label, handler, key, primary in buttons]
    ui.shell.page.show_dialog(ft.AlertDialog(
        modal=True, title=ft.Text(title, size=ui.size(19)),
        content=ft.Semantics(identifier=identifier, live_region=True, content=ft.Column(
            [*words, ft.Container(height=4), *choices], tight=True, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )),
    ))


LAYOUT_PAUSE = 0.15  # seconds: the client lays out what just appeared, else there is nothing to scroll to


def scroll_key(name: str) -> ft.ScrollKey:
    return ft.ScrollKey(name)  # type: ignore[call-arg]  # flet's @value decorator hides the dataclass __init__ from mypy


async def scroll_into_view(view: ft.View, name: str) -> None:
    """Scroll the form (the view's one Column, see Ui.view) to the control keyed `name`."""
    view.page.update()
    await asyncio.sleep(LAYOUT_PAUSE)
    await narrow(view.controls[0], ft.Column).scroll_to(scroll_key=scroll_key(name), duration=250)


def guard_of(view: ft.View | None) -> DraftGuard | None:
    """The draft guard of a form screen's view (None on other screens)."""
    data = getattr(view, "data", None)
    return data if isinstance(data, DraftGuard) else None


def guarded(ui: Ui, view: ft.View, guard: DraftGuard, back: str) -> ft.View:
    """Attach the guard to the view: the view's Back asks before throwing changes away."""
    view.data = guard
    if view.appbar is not None:
        view.appbar.leading = ui.icon_button(ft.Icons.ARROW_BACK, "Back", lambda e: guard.leave(back), "back")
    return view
