"""Every screen driven as a person would, without a browser (see tests/flet_harness.py).

Each test works on a real profile (vault + encrypted SQLite) seeded with the fictional demo
caseload, and checks what the peer sees and what the store then holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import flet as ft
import pytest

from fieldpeer import app, demo_data
from fieldpeer.domain import NoteStatus, ReviewState, WrapSection
from fieldpeer.records import NoteFeedback
from fieldpeer.screens.session import FieldSession
from fieldpeer.store import consents, feedback, notes, outbox, people, sync_state, wrap
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncSummary
from tests.conftest import PIN, TEST_COST, TODAY, FakeClock, make_peer
from tests.flet_harness import ScreenHarness, walk
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin

NOW = datetime.combine(TODAY, datetime.min.time()).replace(hour=10, minute=30)
AVERY = "person-demo-0001"  # first of the demo caseload by name
TATUM = "person-demo-0020"  # last by name; every demo person has a WRAP with a crisis supporter


@pytest.fixture
def seeded_profile(tmp_path: Path, clock: FakeClock) -> Profile:
    profile = Profile(tmp_path / "device", cost=TEST_COST, clock=clock)
    store = profile.set_up(PIN, make_peer())
    demo_data.seed_history(store, TODAY, add_people=True)
    store.close()
    profile.vault.lock()
    return profile


@pytest.fixture
def session(seeded_profile: Profile, clock: FakeClock) -> FieldSession:
    return FieldSession(seeded_profile, clock=clock, now=lambda: NOW, auto_sync_seconds=None)


@pytest.fixture
def screen(session: FieldSession) -> Iterator[ScreenHarness]:
    harness = ScreenHarness(app.make_main(session))
    yield harness
    harness.close()
    session.lock()


def unlock(screen: ScreenHarness, pin: str = PIN) -> None:
    screen.type("PIN", pin)
    screen.tap("unlock")
    screen.wait_for(lambda: screen.route == "/caseload", what="the caseload")


# --- unlock and first run -----------------------------------------------------------


def test_a_wrong_pin_gets_one_line_with_the_tries_left_and_a_countdown_then_the_right_one_opens(screen: ScreenHarness, clock: FakeClock, session: FieldSession) -> None:
    assert screen.route == "/unlock"
    assert screen.value("lock-reason") == "Enter your PIN to open your caseload."
    screen.type("PIN", "000111")
    screen.tap("unlock")
    screen.wait_for(lambda: screen.find("unlock-error").visible, what="the error")
    assert screen.value("unlock-error") == "Wrong PIN. 9 tries left before FieldPeer erases its data on this phone."
    for _ in range(4):  # the fifth wrong PIN in a row makes the peer wait 30 s
        screen.tap("unlock")
        screen.wait_for(lambda: not screen.inner("unlock", ft.FilledButton).disabled or "Try again" in screen.value("unlock-error"), what="the answer")
    assert screen.value("unlock-error") == "Try again in 0:30"
    assert screen.inner("unlock", ft.FilledButton).disabled
    clock.advance(3)
    screen.wait_for(lambda: screen.value("unlock-error") == "Try again in 0:27", what="the countdown")
    clock.advance(28)
    screen.wait_for(lambda: not screen.inner("unlock", ft.FilledButton).disabled, what="Unlock to come back")
    assert screen.value("unlock-error") == "Wrong PIN. 5 tries left before FieldPeer erases its data on this phone."
    assert [t for t in screen.texts() if "erases" in t or "Try again" in t] == [screen.value("unlock-error")]  # one line
    second = ScreenHarness(app.make_main(session))  # another tab says the same before any PIN is typed there
    try:
        assert second.value("unlock-error") == "Wrong PIN. 5 tries left before FieldPeer erases its data on this phone."
    finally:
        second.close()
    unlock(screen)
    assert "Avery A." in screen.text()


def test_every_tab_unlocks_on_its_own_and_locking_one_leaves_the_other_open(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    second = ScreenHarness(app.make_main(session))  # a second tab or browser on the same web app
    try:
        assert second.route == "/unlock" and not second.has(f"person-{AVERY}")
        second.go("/caseload")  # typing the address does not get past the PIN either
        assert second.route == "/unlock"
        second.type("PIN", "000111")
        second.tap("unlock")
        second.wait_for(lambda: second.find("unlock-error").visible, what="the error")
        assert session.profile.vault.pin_status().attempts_left == 9  # a wrong PIN counts in any tab
        store = session.store
        unlock(second)
        assert second.has(f"person-{AVERY}") and session.store is store  # the first tab's store stays as it was
        screen.go(f"/person/{AVERY}")
        assert screen.has("new-note")
        second.tap("lock-now")
        assert second.route == "/unlock" and second.value("lock-reason") == "Locked. Enter your PIN to open your caseload."
        screen.go("/settings")  # the first tab carries on
        assert screen.route == "/settings" and session.is_unlocked
        screen.tap("settings-lock")  # the last tab locks: the store closes
        assert screen.route == "/unlock" and not session.is_unlocked
        unlock(screen)
        unlock(second)
        second._event(second.page, "close")  # the second tab is closed without locking
        screen.tap("lock-now")  # so the first one is the last: the store closes
        assert not session.is_unlocked
    finally:
        second.close()


def test_first_run_refuses_mismatched_pins_then_starts_the_offline_demo(tmp_path: Path) -> None:
    session = FieldSession(Profile(tmp_path / "new", cost=TEST_COST), now=lambda: NOW, auto_sync_seconds=None)
    screen = ScreenHarness(app.make_main(session))
    try:
        assert screen.route == "/enrol"
        screen.type("Choose a PIN (6 or more)", "739164")
        screen.type("PIN again", "739165")
        screen.tap("offline-demo")
        screen.wait_for(lambda: screen.find("enrol-error").visible, what="the error")
        assert "not the same" in screen.text()
        assert not session.is_set_up
        screen.type("PIN again", "739164")
        screen.tap("offline-demo")
        screen.wait_for(lambda: screen.route == "/caseload", what="the caseload")
        assert len([i for i in screen.identifiers() if i.startswith("person-")]) == 20
        assert screen.inner("sync-badge", ft.Icon).semantics_label == "Sync: practice profile, nothing is sent"  # never "all sent"
        screen.go("/sync")
        assert screen.value("sync-status") == "This practice profile has no agency: nothing leaves this phone."
        screen.tap("sync-now")
        assert "This practice profile has no agency: nothing leaves this phone." in screen.toasts()
    finally:
        screen.close()
        session.lock()


def test_enrolling_against_an_unreachable_agency_explains_and_keeps_the_form(tmp_path: Path) -> None:
    session = FieldSession(Profile(tmp_path / "new", cost=TEST_COST), auto_sync_seconds=None)
    screen = ScreenHarness(app.make_main(session))
    try:
        screen.type("Agency address", "http://agency.example.org")
        screen.type("One-time code", "ABCD-EFGH-JKMN")
        screen.type("Choose a PIN (6 or more)", "739164")
        screen.type("PIN again", "739164")
        screen.tap("enrol")
        screen.wait_for(lambda: screen.find("enrol-error").visible, what="the error")
        assert "https://" in screen.text()  # plain http to a non-loopback host is refused
        assert screen.route == "/enrol" and not session.is_set_up
        assert not screen.inner("enrol", ft.FilledButton).disabled  # the peer can correct and retry
    finally:
        screen.close()


# --- caseload --------------------------------------------------------------------------


def test_caseload_search_filters_by_name_and_says_when_nobody_matches(screen: ScreenHarness) -> None:
    unlock(screen)
    screen.type("Search by name", "aver")
    assert [i for i in screen.identifiers() if i.startswith("person-")] == [f"person-{AVERY}"]
    screen.type("Search by name", "zzz")
    assert "Nobody matches that name." in screen.text()
    screen.type("Search by name", "")
    assert len([i for i in screen.identifiers() if i.startswith("person-")]) == 20


def test_caseload_flags_and_pending_badge(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    text = screen.text()
    assert "No contact for 31 days" in text and "Plan review due since" in text
    sync_state.set_values(session.store, {"device_id": "device-1", "server_url": "https://agency.example.org"})  # as if enrolled
    screen.go("/settings")
    screen.go("/caseload")
    pending = session.pending().pending
    assert pending > 0  # the seeded history has not been synced
    badge = screen.inner("sync-badge", ft.Icon)
    assert badge.semantics_label == f"Sync: {pending} waiting" and badge.badge.label == str(pending)
    assert not screen.has("sync-banner")  # waiting is normal: no banner until something is wrong
    session.last_summary = SyncSummary(pending=pending, error="The agency could not be reached.")  # as auto-sync reports it
    screen.go("/sync")
    status = screen.value("sync-status")
    assert status == f"The agency was not reached: The agency could not be reached. Waiting safely on this phone for the next sync: {pending} records."
    assert "All done" not in screen.text() and " sent" not in status
    screen.go("/caseload")
    assert screen.inner("sync-badge", ft.Icon).semantics_label == f"Sync: {pending} waiting, agency not reached"
    assert screen.inner("sync-banner", ft.Text).value == f"Sync: {pending} waiting, agency not reached"  # in words on the caseload too
    screen.tap("sync-banner")
    assert screen.route == "/sync"


def test_end_shift_without_the_agency_keeps_the_phone_open_and_says_why(tmp_path: Path) -> None:
    agency = AgencyProcess(f"sqlite:///{tmp_path / 'agency.db'}", tmp_path / "agency-keys", tmp_path / "agency.log")
    agency.start()
    _, [quinn], code = Admin(agency.db_url).peer_with_caseload("Pat Peer", ["Quinn"])
    session = FieldSession(Profile(tmp_path / "phone", cost=TEST_COST), now=lambda: NOW, auto_sync_seconds=None)
    screen = ScreenHarness(app.make_main(session))
    try:
        screen.type("Agency address", agency.url)
        screen.type("One-time code", code)
        screen.type("Choose a PIN (6 or more)", PIN)
        screen.type("PIN again", PIN)
        screen.tap("enrol")
        screen.wait_for(lambda: screen.route == "/caseload", what="the caseload")
        notes.log_phone_contact(session.store, quinn, 10, "Talked about the weekend.", ended_at=NOW)
        agency.stop()  # the network is gone
        screen.go("/sync")
        screen.tap("end-shift")
        assert screen.value("end-shift-summary").startswith("Today: 1 contact, 1 unit; 1 record waiting to reach the agency.")  # asks first
        screen.tap("end-shift-confirm")
        assert session.is_unlocked and screen.route == "/sync"
        assert "Shift not ended: not everything has reached the agency (1 record waiting)." in " ".join(screen.toasts())
        assert screen.value("sync-status").startswith("The agency was not reached:")
        assert "All done" not in screen.text() and "Shift ended" not in screen.text()
    finally:
        screen.close()
        session.lock()
        agency.stop()


def test_searching_notes_finds_words_and_opens_the_note(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    call = notes.log_phone_contact(session.store, AVERY, 10, "Talked about the Saturday pottery class.", ended_at=NOW)
    screen.tap("search-notes")
    assert screen.route == "/search" and screen.field("Words to find").autofocus
    screen.type("Words to find", "POTTERY saturday")
    assert "1 note found." in screen.text() and "Avery" in screen.text() and "pottery class" in screen.text()
    screen.type("Words to find", "trombone")
    assert "No note holds “trombone”." in screen.text()
    screen.type("Words to find", "pottery")
    screen.tap(f"hit-{call.id}")
    assert screen.route == f"/note/{call.id}"


# --- telephone quick log -----------------------------------------------------------------


def test_phone_call_is_logged_in_three_taps_from_the_caseload(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    screen.tap(f"phone-{AVERY}")  # 1: the phone icon on the person's row
    assert screen.field("Short note").autofocus  # the keyboard is already up
    screen.type("Short note", "Confirmed the ride to Thursday's job fair.")  # 2: type
    screen.tap("save-phone")  # 3: save (10 minutes is the default)
    assert screen.route == "/caseload"
    assert "Phone call logged: 10 min, 1 unit." in screen.toasts()
    latest = people.person_timeline(session.store, AVERY, limit=1)[0]
    assert latest.detail == "Confirmed the ride to Thursday's job fair." and "10 min" in latest.title


def test_phone_call_without_a_note_is_refused_with_a_reason_and_nothing_saved(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    before = session.pending().pending
    screen.tap(f"phone-{AVERY}")
    screen.toggle("minutes-30")
    screen.type("Minutes", "abc")
    screen.tap("save-phone")
    assert screen.route.endswith("/phone")
    assert "Enter the call's length in minutes." in screen.text() and "Write a short note about the call." in screen.text()
    assert session.pending().pending == before


def test_phone_call_follow_up_choice_is_saved(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    screen.tap(f"phone-{AVERY}")
    screen.toggle("minutes-15")
    screen.type("Short note", "Left a message about the housing form.")
    screen.toggle("follow-up-2026-12-02")
    screen.tap("save-phone")
    note_id = people.person_timeline(session.store, AVERY, limit=1)[0].record_id
    note = notes.get_note(session.store, note_id)
    assert note.follow_up_on is not None and note.follow_up_on.isoformat() == "2026-12-02"
    assert note.minutes == 15 and note.status is NoteStatus.SIGNED


# --- contact note --------------------------------------------------------------------------


def open_new_note(screen: ScreenHarness) -> None:
    unlock(screen)
    screen.tap(f"person-{AVERY}")
    screen.tap("new-note")
    assert screen.route == f"/person/{AVERY}/note/new"


def test_signing_an_incomplete_note_lists_what_is_missing_and_keeps_the_draft(screen: ScreenHarness, session: FieldSession) -> None:
    open_new_note(screen)
    screen.type("Start (HH:MM)", "09:00")
    screen.tap("sign-note")
    error = screen.value("note-error")
    assert error.startswith("Before signing:")
    drafts = [e for e in people.person_timeline(session.store, AVERY) if e.status == NoteStatus.DRAFT.label]
    assert len(drafts) == 1  # saved as a draft: nothing typed is lost


def test_a_signed_note_is_read_only_and_takes_addenda(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    note = notes.log_phone_contact(session.store, AVERY, 40, "Reviewed two listings at the library.", ended_at=NOW)
    screen.go(f"/note/{note.id}")
    assert screen.has("signed-banner") and not screen.has("sign-note")
    assert all(not isinstance(c, ft.TextField) or c.label == "New addendum" for c in screen.controls())
    screen.type("New addendum", "Landlord called back: viewing on Monday.")
    screen.tap("add-addendum")
    assert "Landlord called back: viewing on Monday." in screen.text()
    assert [a.text for a in notes.list_addenda(session.store, note.id)] == ["Landlord called back: viewing on Monday."]


def test_a_returned_note_shows_the_comment_and_leaves_the_caseload_flag_once_answered(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    call = notes.log_phone_contact(session.store, AVERY, 10, "Checked in about the move.", ended_at=NOW)
    with session.store.unit() as unit:  # as a pull brings it from the agency
        feedback.receive_feedback(unit, NoteFeedback(
            id=call.id, state=ReviewState.RETURNED, comment="Say where the person is moving to.", reviewer="Dana Reyes, LCSW",
            reviewed_at=datetime(2026, 11, 24, 15, tzinfo=UTC), version=2,
        ))
    assert people.person_timeline(session.store, AVERY, limit=1)[0].status == "Returned for an addendum"
    screen.go("/settings")
    screen.go("/caseload")  # built afresh
    assert "1 note returned by supervisor" in screen.text()
    screen.go(f"/note/{call.id}")
    banner = screen.text()
    assert "Returned by Dana Reyes, LCSW on Yesterday 7:00 am: “Say where the person is moving to.” Answer with an addendum below." in banner  # agency time
    screen.type("New addendum", "Moving to her sister's flat on Elm Street.")
    screen.tap("add-addendum")
    assert "waiting for Dana Reyes, LCSW to review it again" in screen.text()
    screen.go("/caseload")
    assert "returned by supervisor" not in screen.text()


def test_a_person_with_a_phone_number_gets_a_real_call_button_beside_log_a_call(screen: ScreenHarness) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}")  # the demo gives every other person a (fictional) number
    assert screen.inner("call-person", ft.OutlinedButton).url == "tel:555-0150".replace("-", "")
    order = [i for i in screen.identifiers() if i in ("new-phone", "call-person", "new-checkin")]
    assert order == ["new-phone", "call-person", "new-checkin"]  # beside "Log a call"
    screen.go(f"/person/{TATUM}")  # the twentieth: no number, no button
    assert screen.has("new-phone") and not screen.has("call-person")


def test_backing_out_of_a_half_written_note_keeps_it_and_the_person_offers_continue_draft(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}")
    assert not [i for i in screen.identifiers() if i.startswith("continue-draft")]
    screen.tap("new-note")
    screen.type("Intervention: what you did together", "Went over the bus timetable together.")
    screen.go(f"/person/{AVERY}")  # the browser's back button: no dialog, nothing lost
    assert "Kept as a draft: continue it from the person's page." in screen.toasts()
    assert screen.has("continue-draft-note")
    screen.tap("continue-draft-note")
    assert screen.route.startswith("/note/") and screen.field("Intervention: what you did together").value == "Went over the bus timetable together."


def test_the_back_gesture_goes_where_back_goes_and_keeps_what_was_typed(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}/wrap")
    assert len(screen.page.views) == 2  # something to pop to: the gesture does not close the app
    screen.type("Triggers: what I notice", "Money worries\nLoud neighbours")
    screen._event(screen.page, "view_pop", {"route": f"/person/{AVERY}/wrap"})  # Android's back gesture
    assert screen.route == f"/person/{AVERY}" and screen.has("continue-draft-wrap")
    screen._event(screen.page, "view_pop", {"route": f"/person/{AVERY}"})
    assert screen.route == "/caseload" and len(screen.page.views) == 1  # the caseload is the bottom: back leaves the app


def test_auto_lock_keeps_the_form_being_typed_as_a_draft(screen: ScreenHarness, session: FieldSession, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "IDLE_CHECK_SECONDS", 0.05)
    unlock(screen)
    screen.go(f"/person/{AVERY}/consent")
    screen.type("To whom (the recipient)", "County Housing Authority")
    clock.advance(5 * 60)
    screen.wait_for(lambda: screen.route == "/unlock", timeout=15, what="auto-lock")
    assert screen.value("lock-reason") == "Locked after 5 minutes without use. Enter your PIN to continue."
    unlock(screen)
    screen.go(f"/person/{AVERY}")
    screen.tap("continue-draft-consent")
    assert screen.field("To whom (the recipient)").value == "County Housing Authority"


def test_a_release_of_information_needs_every_42_cfr_2_31_element(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}")
    screen.tap("new-consent")
    assert screen.route == f"/person/{AVERY}/consent"
    screen.tap("save-consent")
    problems = screen.text()
    for missing in ("must say to whom", "must say what may be disclosed", "must say the purpose", "needs the date it ends"):
        assert missing in problems
    assert consents.list_consents(session.store, AVERY) == []
    screen.type("To whom (the recipient)", "County Housing Authority")
    screen.type("What may be disclosed", "Attendance and progress notes")
    screen.type("For what purpose", "Housing application")
    screen.type("Ends on (YYYY-MM-DD)", "2020-01-01")
    screen.tap("save-consent")
    assert "It cannot end before it was signed." in screen.text()
    screen.type("Ends on (YYYY-MM-DD)", "2027-11-25")
    screen.tap("save-consent")
    assert screen.route == f"/person/{AVERY}" and "Release of information recorded. It syncs with the agency." in screen.toasts()
    [saved] = consents.list_consents(session.store, AVERY)
    assert (saved.recipient, saved.purpose, saved.expires_on, saved.signed_on) == ("County Housing Authority", "Housing application", date(2027, 11, 25), NOW.date())
    assert saved.discloser  # the agency's name, filled in
    assert "Release of information: County Housing Authority" in screen.text()


# --- pre-crisis check-in -------------------------------------------------------------------


def test_safety_yes_shows_crisis_resources_at_once_and_queues_an_urgent_alert_first(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{TATUM}/checkin")
    assert not screen.has("crisis-resources")
    screen.type("How are you today? (in their words)", "Not sleeping, on edge.")
    screen.toggle("sign-Not sleeping")
    screen.choose("zone", "early_warning")
    screen.toggle("action-Tell my sister")
    screen.choose("safety", "yes")
    assert screen.has("crisis-resources")  # before saving: the peer needs it now
    panel = "\n".join(str(c.value if isinstance(c, ft.Text) else c.content) for c in walk(screen.find("crisis-resources")) if isinstance(c, (ft.Text, ft.FilledButton)))
    assert "Call 988 Suicide & Crisis Lifeline: 988" in panel and "Call Sister (fictional): 555-0142" in panel and "(Sister)" not in panel
    assert screen.inner("call-line-0", ft.FilledButton).url == "tel:988"
    assert screen.inner("call-line-1", ft.FilledButton).url == "tel:5550100"
    screen.tap("save-checkin")
    assert screen.route == f"/person/{TATUM}"
    assert "Check-in saved. Urgent alert queued to sync first." in screen.toasts()
    assert outbox.next_batch(session.store, 1)[0].record_type == "safety_alert"
    screen.go("/caseload")
    rows = [i for i in screen.identifiers() if i.startswith("person-")]
    assert rows[0] == f"person-{TATUM}" != f"person-{AVERY}"  # an open alert goes to the top, above the alphabet
    assert "Safety alert" in screen.text()


def test_safety_no_shows_no_crisis_panel_and_an_unanswered_question_blocks_saving(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}/checkin")
    screen.tap("save-checkin")
    assert "Ask the safety question before saving." in screen.text()
    screen.choose("zone", "well")
    screen.choose("safety", "no")
    assert not screen.has("crisis-resources")
    screen.tap("save-checkin")
    assert "Check-in saved." in screen.toasts()
    latest = people.person_timeline(session.store, AVERY, limit=1)[0]
    assert latest.kind == "checkin" and latest.status == ""  # no safety alert raised
    assert outbox.next_batch(session.store, 1)[0].record_type != "safety_alert"


# --- WRAP ----------------------------------------------------------------------------------------


def test_editing_the_wrap_saves_a_new_version(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}/wrap")
    assert "Version 1" in screen.value("wrap-version")
    assert screen.field("Triggers: what I notice").value == "Money worries\nCrowded buses\nAnniversaries"
    screen.type("Triggers: what I notice", "Money worries\nLoud neighbours")
    screen.tap("save-wrap")
    assert "WRAP saved as version 2." in screen.toasts()
    plan = wrap.get_wrap_plan(session.store, AVERY)
    assert plan is not None and plan.version == 2
    assert plan.section(WrapSection.TRIGGERS).items == ["Money worries", "Loud neighbours"]


# --- settings, lock ----------------------------------------------------------------------------


def test_settings_change_auto_lock_text_size_and_pin(screen: ScreenHarness, session: FieldSession, seeded_profile: Profile) -> None:
    unlock(screen)
    screen.tap("settings")
    screen.select("auto-lock", "10")
    screen.select("text-size", "large")
    assert session.settings.auto_lock_minutes == 10 and session.text_scale == 1.2
    assert not any(c.open for c in screen.page._dialogs.controls if isinstance(c, ft.BottomSheet))  # the picker closed
    screen.wait_for(lambda: screen.field("Current PIN").text_size == 19.2, what="the screen redrawn at the larger size")
    assert FieldSession(seeded_profile).settings.auto_lock_minutes == 10  # kept across restarts
    screen.type("Current PIN", PIN)
    screen.type("New PIN", "864209")
    screen.type("New PIN again", "864201")
    screen.tap("change-pin")
    screen.wait_for(lambda: screen.find("settings-error").visible, what="the error")
    screen.type("New PIN again", "864209")
    screen.tap("change-pin")
    screen.wait_for(lambda: "PIN changed." in screen.toasts(), what="PIN changed")
    screen.tap("settings-lock")
    assert screen.route == "/unlock"
    unlock(screen, "864209")


def test_idle_auto_lock_returns_to_the_pin_screen(screen: ScreenHarness, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "IDLE_CHECK_SECONDS", 0.05)
    unlock(screen)  # the watcher started at 5 s; the next checks come quickly
    clock.advance(5 * 60)
    screen.wait_for(lambda: screen.route == "/unlock", timeout=15, what="auto-lock")


def test_a_gone_record_in_the_address_bar_shows_the_caseload_with_a_message(screen: ScreenHarness) -> None:
    unlock(screen)
    screen.go("/note/no-such-note")
    assert screen.route == "/caseload"
    assert "That note is not on this device." in screen.toasts()


# --- what a new user found (review at 390 and 360 px) ----------------------------------------


def person_named(session: FieldSession, name: str) -> people.CaseloadEntry:
    return next(e for e in people.list_caseload(session.store, TODAY).entries if e.preferred_name == name)


def row_text(screen: ScreenHarness, person_id: str) -> str:
    return "\n".join(c.value for c in walk(screen.find(f"person-{person_id}")) if isinstance(c, ft.Text))


def test_an_unsigned_draft_is_not_a_contact_the_row_says_so_and_continue_draft_is_the_one_filled_button(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    casey = person_named(session, "Casey R.").person_id  # admitted, never contacted
    assert "No contact since admission" in row_text(screen, casey)
    screen.go(f"/person/{casey}")
    screen.tap("new-note")
    screen.type("Intervention: what you did together", "Went over the bus timetable together.")
    screen.go(f"/person/{casey}")  # kept as a draft note, 0 minutes, unsigned
    filled = [c for c in walk(screen.view) if isinstance(c, ft.FilledButton)]
    assert len(filled) == 1 and filled[0] is screen.inner("continue-draft-note", ft.FilledButton)
    assert screen.inner("new-note", ft.OutlinedButton) is not None  # outlined now
    screen.go("/caseload")
    row = row_text(screen, casey)
    assert "Unsigned draft" in row and "No contact since admission" in row and "Last contact" not in row  # the agency says "never" too
    assert person_named(session, "Casey R.").last_contact is None


def test_caseload_rows_give_dates_in_one_line_the_latest_attempt_and_a_labelled_log_call_button(screen: ScreenHarness, session: FieldSession) -> None:
    from fieldpeer.domain import OutreachOutcome
    from fieldpeer.store import outreach

    unlock(screen)
    avery = person_named(session, "Avery A.")
    assert avery.last_contact is not None and avery.plan_review_due_on is not None
    days = (TODAY - avery.last_contact).days
    due = avery.plan_review_due_on
    row = row_text(screen, AVERY)
    assert f"No contact for {days} days" in row and "Last contact" not in row and "in 30 days" not in row  # one line, not two
    assert f"Plan review due since {due.day} {due:%b}" in row
    assert "Tried" not in row
    outreach.log_outreach_attempt(session.store, AVERY, OutreachOutcome.NO_ANSWER, attempted_at=NOW)
    screen.go("/settings")
    screen.go("/caseload")
    assert "Tried today: no answer" in row_text(screen, AVERY)
    assert f"No contact for {days} days" in row_text(screen, AVERY)  # an attempt is not a contact
    call = screen.inner(f"phone-{AVERY}", ft.IconButton)
    assert call.tooltip == "Log a call with Avery A." and call.icon.icon == ft.Icons.ADD_CALL  # logs a call; it does not dial
    assert "Log call" in [c.value for c in walk(screen.find(f"phone-{AVERY}")) if isinstance(c, ft.Text)]


def test_a_safety_alert_stays_in_the_timeline_with_its_state_when_the_check_in_never_arrives(screen: ScreenHarness, session: FieldSession) -> None:
    from fieldpeer.domain import AlertState, SafetyAnswer
    from fieldpeer.records import AlertStatus
    from fieldpeer.store import wrap as wrap_store

    unlock(screen)
    alert = wrap_store.raise_safety_alert(session.store, TATUM, "checkin-discarded", SafetyAnswer.YES)  # "Yes" chosen, then the check-in discarded
    assert alert is not None
    screen.go(f"/person/{TATUM}")
    line = "\n".join(c.value for c in walk(screen.find(f"timeline-{alert.id}")) if isinstance(c, ft.Text))
    assert "Safety alert" in line and "Safety question: Yes" in line and "Open: waiting for the supervisor" in line
    with session.store.unit() as unit:
        from fieldpeer.store.alerts import receive_alert_status

        receive_alert_status(unit, AlertStatus(id=alert.id, person_id=TATUM, state=AlertState.ACKNOWLEDGED, by="Dana Reyes, LCSW", at=datetime(2026, 1, 1, tzinfo=UTC), version=2))
    screen.go("/caseload")
    screen.go(f"/person/{TATUM}")
    line = "\n".join(c.value for c in walk(screen.find(f"timeline-{alert.id}")) if isinstance(c, ft.Text))
    assert "Supervisor following up (Dana Reyes, LCSW" in line and "Open" not in line


def test_a_person_without_consent_says_so_on_this_phone_with_a_hint(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}")
    assert not consents.list_consents(session.store, AVERY)
    assert "No consent recorded on this phone." in screen.text() and "No consents on this device." not in screen.text()
    assert screen.value("consent-hint") == "Ask before sharing information; record a consent with the Consent button."


def test_sync_says_whose_unsigned_note_goes_as_a_draft_and_end_shift_asks_first_with_a_summary(screen: ScreenHarness, session: FieldSession) -> None:
    unlock(screen)
    casey = person_named(session, "Casey R.").person_id
    screen.go(f"/person/{casey}")
    screen.tap("new-note")
    screen.type("Intervention: what you did together", "Went over the bus timetable together.")
    screen.go(f"/person/{casey}")
    sync_state.set_values(session.store, {"device_id": "device-1", "server_url": "https://agency.example.org"})  # as if enrolled
    screen.go("/sync")
    said = screen.value("drafts-unsigned")
    assert said.startswith("1 unsigned note (Casey R.) — finish and sign it") and "reach the agency as drafts" in said
    assert "stay on this phone" not in screen.text() and "locks FieldPeer" in screen.text() and "locks the phone" not in screen.text()
    pending = session.pending().pending
    screen.tap("end-shift")
    summary = screen.value("end-shift-summary")
    assert summary.startswith("Today: ") and f"1 unsigned note (Casey R.) — finish and sign it; {pending} records waiting to reach the agency." in summary
    screen.tap("end-shift-cancel")  # Keep working: nothing sent, nothing locked
    assert session.is_unlocked and screen.route == "/sync" and session.last_summary is None
