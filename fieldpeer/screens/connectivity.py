"""Sync by itself when the network comes back.

Where the platform reports connectivity changes (Flet's Connectivity service: Android, iOS,
desktop), regaining a network wakes the background sync at once. Everywhere else, and between
events, the background sync's own retry runs, backing off to a few minutes while offline so a
phone with no signal does not drain its battery (sync/client.py, AutoSync).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("fieldpeer.connectivity")

OFFLINE = "none"
# Flet drops a service nobody else references: each page's watch (holding its service) lives here.
_WATCHES: weakref.WeakKeyDictionary[Any, ConnectivityWatch] = weakref.WeakKeyDictionary()


def names(kinds: Iterable[Any]) -> frozenset[str]:
    """Connectivity kinds as plain names ("wifi", "mobile", "none"...), from Flet's enum or strings."""
    return frozenset(str(getattr(kind, "value", kind)).lower() for kind in kinds)


def is_online(kinds: Iterable[Any]) -> bool:
    """Some network other than "none" (whether the agency answers is the sync's own question)."""
    return bool(names(kinds) - {OFFLINE})


class ConnectivityWatch:
    """Remembers whether the phone had a network, and says when one came back."""

    def __init__(self, online: bool = True) -> None:
        self.online = online
        self.service: Any = None  # Flet's Connectivity service, kept alive with the watch

    def changed(self, kinds: Iterable[Any]) -> bool:
        """True when this change brings a network back after none (the moment to sync)."""
        now = is_online(kinds)
        came_back = now and not self.online
        self.online = now
        return came_back


def attach_connectivity(page: Any, shell: Any) -> ConnectivityWatch | None:
    """Wake the background sync when the platform reports a network again. Web mode has no
    such event (the browser's Python runs on the server): the periodic retry covers it."""
    if getattr(page, "web", False):
        return None
    import flet as ft

    watch = ConnectivityWatch()

    def on_change(event: Any) -> None:
        if watch.changed(getattr(event, "connectivity", [])) and shell.session.is_unlocked:
            log.info("network back: sync now")
            shell.session.wake_sync()

    try:
        watch.service = ft.Connectivity(on_change=on_change)  # registers itself with the current page
    except Exception as exc:  # noqa: BLE001 - no connectivity service: the periodic retry still runs
        log.warning("no connectivity events: %s", type(exc).__name__)
        return None
    _WATCHES[page] = watch
    return watch
