"""Lock when put away: the app locks a short grace period after it leaves the screen.

``AwayLock`` is the rule, in plain Python: the app went to the background at some moment;
once it has been away for the grace period (30 s unless configured) it must lock, whether the
check happens while away (Android keeps Python running for a while) or only on return (iOS
suspends the process, so nothing runs until the app comes back: the elapsed time decides).
Coming back before the grace period ends cancels it. "Lock now" locks at once, as before.

``attach_lifecycle(page, shell)`` wires it to Flet's app lifecycle events and also covers the
screen the moment the app stops being the foreground app, so the app switcher's snapshot shows
the cover rather than a caseload (see README, "On a phone", for what each platform guarantees).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from fieldpeer.screens.status_words import Status

log = logging.getLogger("fieldpeer.lifecycle")

DEFAULT_GRACE_SECONDS = 30.0
CHECK_SECONDS = 1.0
# Flet's AppLifecycleState values. "inactive": lost focus (app switcher, a call, a system
# sheet); "hide"/"pause": no longer on screen; "show"/"resume": back.
AWAY_STATES = frozenset({"hide", "pause"})
COVER_STATES = frozenset({"inactive", "hide", "pause"})
BACK_STATES = frozenset({"show", "resume"})


def away_clock() -> float:
    """Seconds that keep counting while the phone sleeps (a locked phone in a pocket is away).
    time.monotonic stops during suspend on Linux/Android and Darwin; these clocks do not."""
    if hasattr(time, "CLOCK_BOOTTIME"):  # Linux, Android
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    if sys.platform in ("darwin", "ios") and hasattr(time, "CLOCK_MONOTONIC"):  # counts sleep on Darwin
        return time.clock_gettime(time.CLOCK_MONOTONIC)
    return time.monotonic()


class AwayLock:
    """When the app went away, and whether it has been away long enough to lock."""

    def __init__(self, grace_seconds: float = DEFAULT_GRACE_SECONDS, clock: Callable[[], float] = away_clock) -> None:
        if grace_seconds < 0:
            raise ValueError("The grace period cannot be negative.")
        self.grace_seconds = grace_seconds
        self.clock = clock
        self.away_since: float | None = None

    @property
    def is_away(self) -> bool:
        return self.away_since is not None

    def changed(self, state: str) -> bool:
        """A lifecycle state arrived; True when the app must lock now (it comes back too late)."""
        state = state.lower()
        if state in AWAY_STATES:
            if self.away_since is None:  # hide then pause: the first one started the count
                self.away_since = self.clock()
            return self.due()
        if state in BACK_STATES:
            late = self.due()
            self.away_since = None
            return late
        return False  # "inactive" (still on screen) and "detach" start nothing

    def due(self) -> bool:
        """Away for at least the grace period."""
        return self.away_since is not None and self.clock() - self.away_since >= self.grace_seconds


def lifecycle_state(event: Any) -> str:
    """The state's name from Flet's AppLifecycleStateChangeEvent (an enum) or a plain string."""
    state = getattr(event, "state", event)
    return str(getattr(state, "value", state)).lower()


class LifecycleGuard:
    """The shell's side: lock through the shell, and cover the screen while the app is not in front."""

    def __init__(self, page: Any, shell: Any, rule: AwayLock, cover: Any = None) -> None:
        self.page = page
        self.shell = shell
        self.rule = rule
        self.cover = cover

    def on_change(self, event: Any) -> None:
        state = lifecycle_state(event)
        if state in COVER_STATES:
            self._show_cover(True)
        if self.rule.changed(state):
            self._lock()
        if state in BACK_STATES:
            self._show_cover(False)

    def check(self) -> None:
        """Called every second while away (when the platform lets Python run)."""
        if self.rule.due():
            self._lock()

    def _lock(self) -> None:
        if self.shell.is_unlocked:
            log.info("locked: the app was away for the grace period")
            self.shell.lock(Status.LOCKED)  # keeps a half-typed form as a draft first

    def _show_cover(self, shown: bool) -> None:
        if self.cover is not None and self.cover.visible != shown:
            self.cover.visible = shown
            self.page.update()

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            if self.rule.is_away:
                self.check()


def privacy_cover() -> Any:
    """An opaque layer over every view: the FieldPeer name only, no records."""
    import flet as ft

    return ft.Container(
        visible=False,
        left=0,
        top=0,
        right=0,
        bottom=0,
        bgcolor=ft.Colors.TEAL_700,
        alignment=ft.Alignment.CENTER,
        content=ft.Text("FieldPeer", size=28, color=ft.Colors.WHITE, weight=ft.FontWeight.BOLD),
    )


def attach_lifecycle(page: Any, shell: Any, grace_seconds: float | None = None, clock: Callable[[], float] = away_clock) -> LifecycleGuard:
    """Lock the shell `grace_seconds` (default: the settings' `background_lock_seconds` when it
    has one, else 30 s) after the app goes to the background, and cover the screen while it is
    not in front. Call once per page of an installed app."""
    if grace_seconds is None:
        grace_seconds = float(getattr(shell.session.settings, "background_lock_seconds", DEFAULT_GRACE_SECONDS))
    cover = privacy_cover()
    page.overlay.append(cover)
    guard = LifecycleGuard(page, shell, AwayLock(grace_seconds, clock), cover)
    page.on_app_lifecycle_state_change = guard.on_change
    page.update()  # the client sends lifecycle events only once it knows a handler is set
    page.run_task(guard.watch)
    return guard
