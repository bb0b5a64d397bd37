"""Lock when put away, and sync when the network comes back.

The rules are plain Python (AwayLock, ConnectivityWatch); then the installed app's own entry
(fieldpeer.phone) runs on a real Flet session as an Android app would (not web mode), and the
test plays the platform: app lifecycle events and connectivity changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import flet as ft
import pytest
from flet.controls.context import _context_page
from flet.messaging.protocol import Message, MessageAction, RegisterClientResponseBody
from flet.messaging.session import Session

from fieldpeer import demo_data
from fieldpeer.app import Shell
from fieldpeer.screens.connectivity import ConnectivityWatch, attach_connectivity, is_online
from fieldpeer.screens.lifecycle import DEFAULT_GRACE_SECONDS, AwayLock, LifecycleGuard, attach_lifecycle, away_clock, lifecycle_state
from fieldpeer.screens.session import FieldSession
from fieldpeer.store import notes, outbox
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import AutoSync, SyncClient
from tests.conftest import PIN, TEST_COST, TODAY, FakeClock, make_peer
from tests.flet_harness import ScreenHarness, walk
from tests.servers import AgencyProcess

# --- the rule ------------------------------------------------------------------------


def test_backgrounded_locks_after_the_grace_period() -> None:
    clock = FakeClock()
    rule = AwayLock(clock=clock)
    assert rule.grace_seconds == DEFAULT_GRACE_SECONDS == 30
    assert rule.changed("inactive") is False and not rule.is_away  # the app switcher opening is not "away" yet
    assert rule.changed("hide") is False
    clock.advance(29)
    assert not rule.due()
    assert rule.changed("pause") is False  # hide then pause: the count started at hide
    clock.advance(1)
    assert rule.due()  # checked while away (Android lets Python run a while)


def test_resumed_before_the_grace_period_does_not_lock() -> None:
    clock = FakeClock()
    rule = AwayLock(clock=clock)
    rule.changed("hide")
    clock.advance(25)
    assert rule.changed("show") is False
    assert rule.changed("resume") is False
    clock.advance(3600)
    assert not rule.due()  # back in front: the count is over


def test_coming_back_too_late_locks_on_return() -> None:
    """iOS suspends the app: nothing runs while away, so the elapsed time decides on return."""
    clock = FakeClock()
    rule = AwayLock(grace_seconds=10, clock=clock)
    rule.changed("hide")
    clock.advance(11)
    assert rule.changed("show") is True
    assert not rule.is_away


def test_grace_period_is_configurable() -> None:
    clock = FakeClock()
    rule = AwayLock(grace_seconds=0, clock=clock)
    assert rule.changed("hide") is True  # 0: lock the moment it leaves the screen
    with pytest.raises(ValueError):
        AwayLock(grace_seconds=-1)


def test_away_clock_keeps_counting() -> None:
    first = away_clock()
    assert away_clock() >= first


def test_lifecycle_state_reads_flets_enum_and_strings() -> None:
    assert lifecycle_state(ft.AppLifecycleStateChangeEvent(name="app_lifecycle_state_change", control=None, state=ft.AppLifecycleState.HIDE)) == "hide"  # type: ignore[arg-type]
    assert lifecycle_state("PAUSE") == "pause"


def test_connectivity_watch_says_when_the_network_comes_back() -> None:
    watch = ConnectivityWatch(online=True)
    assert watch.changed([ft.ConnectivityType.WIFI]) is False  # still online: nothing to do
    assert watch.changed([ft.ConnectivityType.NONE]) is False
    assert watch.changed([]) is False
    assert watch.changed([ft.ConnectivityType.MOBILE]) is True  # back: sync now
    assert watch.changed(["wifi", "mobile"]) is False
    assert not is_online(["none"]) and is_online(["vpn"])


# --- the installed app on a real Flet session ------------------------------------------------------


class PhoneHarness(ScreenHarness):
    """The screen harness as an Android app (web False) instead of a browser tab."""

    async def _open(self, main: Any, width: int, height: int) -> Session:
        session = Session(self.conn)
        self.conn.session = session
        session.apply_page_patch({"route": "/", "width": width, "height": height, "web": False, "platform": "android"})
        self.conn.send_message(Message(MessageAction.REGISTER_CLIENT, RegisterClientResponseBody(session_id=session.id, page_patch=session.get_page_patch(), error="")))
        _context_page.set(session.page)  # as Flet's app runtime does before calling main
        main(session.page)
        await session.after_event(session.page)
        return session

    def platform_event(self, control: Any, name: str, data: dict[str, Any]) -> None:
        async def run() -> None:
            await self.session.dispatch_event(control._i, name, data)

        self._call(run())


class Wakes:
    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def phone(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[PhoneHarness, FieldSession, dict[str, Any]]]:
    profile = Profile(tmp_path / "device", cost=TEST_COST, clock=clock)
    store = profile.set_up(PIN, make_peer())
    demo_data.seed_history(store, TODAY, add_people=True)
    store.close()
    profile.vault.lock()
    session = FieldSession(profile, clock=clock, auto_sync_seconds=None)
    parts: dict[str, Any] = {"away": FakeClock(), "wakes": Wakes()}
    session.wake_sync = lambda: setattr(parts["wakes"], "count", parts["wakes"].count + 1)  # type: ignore[method-assign]

    def main(page: ft.Page) -> None:  # fieldpeer.phone.main, with this test's profile and clocks
        shell = Shell(page, session)
        shell.start()
        parts["guard"] = attach_lifecycle(page, shell, clock=parts["away"])
        parts["watch"] = attach_connectivity(page, shell)

    harness = PhoneHarness(main)
    yield harness, session, parts
    harness.close()
    session.lock()


def unlock(screen: ScreenHarness) -> None:
    screen.type("PIN", PIN)
    screen.tap("unlock")
    screen.wait_for(lambda: screen.route == "/caseload", what="the caseload")


def cover_shown(screen: ScreenHarness, guard: LifecycleGuard) -> bool:
    return bool(guard.cover is not None and guard.cover in screen.page.overlay and guard.cover.visible)


def test_put_away_for_the_grace_period_the_app_locks_and_the_cover_hides_the_caseload(phone: tuple[PhoneHarness, FieldSession, dict[str, Any]]) -> None:
    screen, session, parts = phone
    guard: LifecycleGuard = parts["guard"]
    unlock(screen)
    screen.platform_event(screen.page, "app_lifecycle_state_change", {"state": "inactive"})
    assert cover_shown(screen, guard)  # the app switcher's snapshot gets the cover
    texts = [c.value for c in walk(guard.cover) if isinstance(c, ft.Text)]
    assert texts == ["FieldPeer"]
    screen.platform_event(screen.page, "app_lifecycle_state_change", {"state": "hide"})
    assert session.is_unlocked  # not yet: a glance at a text message is not "put away"
    parts["away"].advance(31)
    screen.wait_for(lambda: not session.is_unlocked, timeout=5, what="the lock while away")  # the watcher, ~1 s
    screen.platform_event(screen.page, "app_lifecycle_state_change", {"state": "show"})
    screen.platform_event(screen.page, "app_lifecycle_state_change", {"state": "resume"})
    assert screen.route == "/unlock" or screen.has("unlock")
    assert not cover_shown(screen, guard)
    assert "Locked." in screen.text()


def test_back_before_the_grace_period_nothing_locks(phone: tuple[PhoneHarness, FieldSession, dict[str, Any]]) -> None:
    screen, session, parts = phone
    guard: LifecycleGuard = parts["guard"]
    unlock(screen)
    screen.platform_event(screen.page, "app_lifecycle_state_change", {"state": "hide"})
    parts["away"].advance(20)
    screen.platform_event(screen.page, "app_lifecycle_state_change", {"state": "show"})
    screen.platform_event(screen.page, "app_lifecycle_state_change", {"state": "resume"})
    assert session.is_unlocked and screen.route == "/caseload"
    assert not cover_shown(screen, guard)
    parts["away"].advance(3600)
    guard.check()
    assert session.is_unlocked


def test_suspended_then_back_too_late_locks_before_anything_shows(phone: tuple[PhoneHarness, FieldSession, dict[str, Any]]) -> None:
    screen, session, parts = phone
    unlock(screen)
    guard: LifecycleGuard = parts["guard"]
    guard.watch = lambda: asyncio.sleep(0)  # type: ignore[method-assign,assignment]  # iOS: no Python runs while away
    screen.platform_event(screen.page, "app_lifecycle_state_change", {"state": "pause"})
    parts["away"].advance(120)
    screen.platform_event(screen.page, "app_lifecycle_state_change", {"state": "show"})
    assert not session.is_unlocked
    assert "Locked." in screen.text()


def test_network_back_wakes_the_sync_at_once(phone: tuple[PhoneHarness, FieldSession, dict[str, Any]]) -> None:
    screen, session, parts = phone
    unlock(screen)
    watch: ConnectivityWatch = parts["watch"]
    assert watch is not None
    service = next(s for s in screen.page._services._services if isinstance(s, ft.Connectivity))
    screen.platform_event(service, "change", {"connectivity": ["none"]})
    assert parts["wakes"].count == 0
    screen.platform_event(service, "change", {"connectivity": ["mobile"]})
    assert parts["wakes"].count == 1
    screen.platform_event(service, "change", {"connectivity": ["mobile", "wifi"]})
    assert parts["wakes"].count == 1


def test_web_mode_has_no_connectivity_service(phone: tuple[PhoneHarness, FieldSession, dict[str, Any]]) -> None:
    screen, _, _ = phone

    class WebPage:
        web = True

    assert attach_connectivity(WebPage(), None) is None
    assert screen.page.web is False


@pytest.mark.slow
@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)
def test_network_back_sends_at_once_instead_of_after_the_offline_back_off(agency: AgencyProcess, tmp_path: Path) -> None:
    """A real phone store and agency: offline, the background sync waits minutes between tries
    (battery); the connectivity event's wake sends the waiting note within seconds."""
    from tests.test_sync_integration import Admin, enrolled, no_sleep  # the agency side: not in the phone's test set

    admin = Admin(agency.db_url)
    _, person_ids, code = admin.peer_with_caseload("Sam", ["Alex"])
    _, store = enrolled(agency, tmp_path, code)
    client = SyncClient(store, sleep=no_sleep, max_attempts=1)
    client.sync()
    agency.kill()  # no signal
    notes.log_phone_contact(store, person_ids[0], 5, "in the basement", ended_at=datetime(2026, 11, 25, 9))
    auto = AutoSync(client, interval=600)  # after a failed try: 5 to 10 minutes before the next
    auto.start()
    try:
        time.sleep(1.0)
        agency.start()  # signal again, but nobody has told the phone
        time.sleep(2.0)
        assert outbox.counts(store).pending == 1  # still backing off
        auto.wake()  # what the connectivity event does
        deadline = time.monotonic() + 20
        while outbox.counts(store).pending and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outbox.counts(store).pending == 0
    finally:
        auto.stop()
    assert len(admin.received(record_type="contact_note")) == 1
    store.close()
