"""The field app: routes to screens, keeps the session, locks itself when idle."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft

from fieldpeer.screens import caseload, checkin, consent, note, note_search, person, phone, settings, sync_view, unlock, wrap_plan
from fieldpeer.screens.drafting import guard_of
from fieldpeer.screens.session import FieldSession
from fieldpeer.screens.status_words import Status
from fieldpeer.screens.web_fonts import with_fallback_fonts
from fieldpeer.screens.widgets import Ui
from fieldpeer.store.profile import Profile

log = logging.getLogger("fieldpeer.app")

Builder = Callable[..., ft.View]
ROUTES: list[tuple[re.Pattern[str], Builder]] = [
    (re.compile(r"^/caseload$"), caseload.build),
    (re.compile(r"^/person/(?P<person_id>[\w-]+)$"), person.build),
    (re.compile(r"^/person/(?P<person_id>[\w-]+)/note/new$"), note.build),
    (re.compile(r"^/note/(?P<note_id>[\w-]+)$"), note.build),
    (re.compile(r"^/person/(?P<person_id>[\w-]+)/phone$"), phone.build),
    (re.compile(r"^/person/(?P<person_id>[\w-]+)/checkin$"), checkin.build),
    (re.compile(r"^/person/(?P<person_id>[\w-]+)/wrap$"), wrap_plan.build),
    (re.compile(r"^/person/(?P<person_id>[\w-]+)/consent$"), consent.build),
    (re.compile(r"^/search$"), note_search.build),
    (re.compile(r"^/sync$"), sync_view.build),
    (re.compile(r"^/settings$"), settings.build),
]
IDLE_CHECK_SECONDS = 5


class Shell:
    """One per browser tab / app window: the page, the session and the current route."""

    def __init__(self, page: ft.Page, session: FieldSession) -> None:
        self.page = page
        self.session = session
        self.ui = Ui(self)
        self.route = "/caseload"
        self.last_activity = session.clock()
        self.lock_reason = Status.FIRST_OPEN  # why this tab shows the PIN screen
        self.showing_unlocked = False
        self.back_route: str | None = None  # set by each screen as it is built (Ui.view)

    def start(self) -> None:
        self.page.title = "FieldPeer"
        self.page.theme_mode = ft.ThemeMode.LIGHT
        # Standard density everywhere: web and desktop default to compact, which shrinks buttons below 48 px.
        self.page.theme = ft.Theme(color_scheme_seed=ft.Colors.TEAL, visual_density=ft.VisualDensity.STANDARD)
        self.page.on_route_change = self._route_changed
        self.page.on_view_pop = self._view_popped
        self.page.on_close = self._closed
        self.route = self.page.route if self.page.route not in ("", "/") else "/caseload"
        self.render()
        self.page.run_task(self._watch_idle)

    def _route_changed(self, event: Any) -> None:
        if event.route != self.route:  # the browser's back button, or a typed address
            self.keep_draft()
            self.route = event.route
            self.render()

    def _view_popped(self, event: Any) -> None:
        """The system back gesture (Android) popped the screen: go where its Back goes."""
        self.keep_draft()
        self.go(self.back_route or "/caseload")

    def _closed(self, event: Any) -> None:
        """The tab is gone (closed, or its session expired): it holds the store open no longer."""
        self.keep_draft(announce=False)
        self.session.release(self)

    def keep_draft(self, announce: bool = True) -> None:
        """Leaving a form any way but its own Back (browser back, the back gesture, a lock, End
        shift in another tab): keep what was typed as a draft, without asking."""
        guard = guard_of(self.page.views[-1] if self.page.views else None)
        if guard is not None and self.session.is_unlocked and guard.keep_draft() and announce:
            self.toast("Kept as a draft: continue it from the person's page.")

    def go(self, route: str | None) -> None:
        self.route = route or "/caseload"
        self.render()
        self.page.run_task(self.page.push_route, self.route)

    def render(self) -> None:
        self.back_route = None
        view = self.build_view(self.route)  # built first: a failure leaves the old screen, not a blank one
        self.page.views.clear()
        if self.back_route:  # an empty screen underneath, so the back gesture pops this one instead of closing the app
            self.page.views.append(ft.View(route=self.back_route))
        self.page.views.append(view)
        self.page.update()

    @property
    def is_unlocked(self) -> bool:
        """This tab's own PIN opened the store (another tab's unlocking opens nothing here)."""
        return self.session.holds(self)

    def touch(self) -> None:
        self.last_activity = self.session.clock()
        self.session.touch()

    def build_view(self, route: str) -> ft.View:
        self.showing_unlocked = self.is_unlocked
        if not self.session.is_set_up:
            return unlock.build_enrol(self.ui)
        if not self.is_unlocked:
            return unlock.build(self.ui)
        for pattern, builder in ROUTES:
            match = pattern.match(route)
            if match:
                try:
                    return builder(self.ui, **match.groupdict())
                except LookupError as exc:  # a record that is gone (e.g. discarded draft)
                    self.toast(str(exc))
                    return caseload.build(self.ui)
        return caseload.build(self.ui)

    def toast(self, message: str) -> None:
        self.page.show_dialog(ft.SnackBar(ft.Semantics(identifier="toast", live_region=True, content=ft.Text(message))))

    def lock(self, reason: Status = Status.LOCKED) -> None:
        """Lock this tab; the store closes when no other tab holds it open."""
        self.keep_draft()
        self.session.release(self, reason)
        self.lock_reason = reason
        self.go("/caseload")

    def unlocked(self) -> None:
        self.touch()
        self.go(self.route if self.route not in ("/unlock", "/enrol") else "/caseload")

    async def _watch_idle(self) -> None:
        while True:
            await asyncio.sleep(IDLE_CHECK_SECONDS)
            self.check_lock()

    def check_lock(self) -> None:
        if self.is_unlocked and self.session.idle_expired(self.last_activity):
            log.info("auto-lock after idle")
            self.lock(Status.IDLE_LOCKED)
        elif self.showing_unlocked and not self.is_unlocked:  # End shift, a wipe or a revocation from another tab
            self.lock_reason = self.session.lock_reason
            self.render()


def make_main(session: FieldSession) -> Callable[[ft.Page], None]:
    """Each browser tab gets its own shell over one shared session (one peer, one device)."""

    def main(page: ft.Page) -> None:
        Shell(page, session).start()

    return main


def web_app(profile_dir: Path, **session_options: Any) -> Any:
    """The field app as an ASGI app for uvicorn (shuts down cleanly, unlike ft.run's own server)."""
    from flet_web.fastapi import app as flet_web_app  # web mode only (tests, the demo): never on a phone

    session = FieldSession(Profile(profile_dir), **session_options)
    app = flet_web_app(  # named, so the tab says "FieldPeer" from the first byte, not "Flet" until connected
        make_main(session), app_name="FieldPeer", app_short_name="FieldPeer", app_description="FieldPeer: the field tool for peer support workers.",
        no_cdn=True,
    )
    return with_fallback_fonts(app)
