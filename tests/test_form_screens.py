"""The forms peers fill between visits, driven as a person would (no browser; see flet_harness.py):
the phone log with its outcome, the contact note (pickers, duration chips, sections, per-field
errors, the signing confirmation), drafts kept while typing and on leaving, and the check-in
that raises its alert the moment the safety answer is chosen.

Taps are counted the way a person counts them: every tap, choice or typed field is one step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import flet as ft
import pytest
from flet.controls.base_control import BaseControl

from fieldpeer import app, demo_data
from fieldpeer.domain import ContactMode, ContactSetting, DraftKind, NoteStatus, OutreachOutcome
from fieldpeer.records import ContactNote, Narrative
from fieldpeer.screens import checkin, drafting
from fieldpeer.screens.checkin import NOT_SENT_NO_AGENCY
from fieldpeer.screens.drafting import guard_of
from fieldpeer.screens.forms import NoteForm, parse_clock
from fieldpeer.screens.session import FieldSession, Settings
from fieldpeer.store import drafts, notes, outbox, outreach, people, wrap
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient, enrol_device
from tests.conftest import PIN, TEST_COST, TODAY, FakeClock, make_peer
from tests.flet_harness import ScreenHarness, walk
from tests.servers import AgencyProcess
from tests.test_screens import AVERY, NOW, TATUM
from tests.test_sync_integration import Admin

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")


class Person(ScreenHarness):
    """The harness, counting what the person does."""

    steps = 0

    def tap(self, identifier: str) -> None:
        self.steps += 1  # unlock() resets the count
        super().tap(identifier)

    def type(self, label: str, value: str) -> None:
        self.steps += 1
        super().type(label, value)

    def choose(self, identifier: str, key: str) -> None:
        self.steps += 1
        super().choose(identifier, key)

    def toggle(self, identifier: str) -> None:
        self.steps += 1
        super().toggle(identifier)

    def select(self, identifier: str, key: str) -> None:  # opening the sheet and choosing: two taps
        ScreenHarness.tap(self, identifier)
        ScreenHarness.tap(self, f"{identifier}-{key}")
        self.steps += 2

    def pick(self, kind: type, value: object) -> None:
        """Choose in the open date or time picker (its OK counts as the tap)."""
        picker = next(d for d in self.page._dialogs.controls if isinstance(d, kind) and d.open)
        self.steps += 1
        self._event(picker, "change", None, {"value": value})

    def visible(self, identifier: str) -> bool:
        """Shown: neither the control nor any control around it is hidden."""
        target = self.find(identifier)

        def shown(control: object, parents_shown: bool) -> bool | None:
            if isinstance(control, (list, tuple)):
                return next((r for r in (shown(c, parents_shown) for c in control) if r is not None), None)
            if not isinstance(control, BaseControl):
                return None
            here = parents_shown and getattr(control, "visible", True) is not False
            if control is target:
                return here
            for f in dataclasses.fields(control):
                if not f.name.startswith("_") and f.name not in ("parent", "page", "data"):
                    found = shown(getattr(control, f.name, None), here)
                    if found is not None:
                        return found
            return None

        return bool(shown(self.view, True))

    def value(self, identifier: str) -> str:
        return str(self.find(identifier).content.value)


@pytest.fixture
def session(tmp_path: Path, clock: FakeClock) -> FieldSession:
    """A real profile (vault + encrypted SQLite) with the fictional demo caseload, as test_screens.py."""
    profile = Profile(tmp_path / "device", cost=TEST_COST, clock=clock)
    store = profile.set_up(PIN, make_peer())
    demo_data.seed_history(store, TODAY, add_people=True)
    store.close()
    profile.vault.lock()
    return FieldSession(profile, clock=clock, now=lambda: NOW, auto_sync_seconds=None)


@pytest.fixture
def screen(session: FieldSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[Person]:
    monkeypatch.setattr(drafting, "AUTOSAVE_SECONDS", 0.05)
    harness = Person(app.make_main(session))
    yield harness
    harness.close()
    session.lock()


def unlock(screen: Person) -> None:
    ScreenHarness.type(screen, "PIN", PIN)
    ScreenHarness.tap(screen, "unlock")
    screen.wait_for(lambda: screen.route == "/caseload", what="the caseload")
    screen.steps = 0


def texts_under(screen: Person, identifier: str) -> str:
    return "\n".join(c.value for c in walk(screen.find(identifier)) if isinstance(c, ft.Text) and isinstance(c.value, str))


# --- phone log: outcome first ----------------------------------------------------------------


def test_a_reached_call_is_still_three_taps_and_a_contact(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    screen.tap(f"phone-{AVERY}")
    screen.type("Short note", "Confirmed the ride to Thursday's job fair.")
    screen.tap("save-phone")
    assert screen.steps == 3
    assert "Phone call logged: 10 min, 1 unit." in screen.toasts()
    latest = people.person_timeline(session.store, AVERY, limit=1)[0]
    assert latest.detail == "Confirmed the ride to Thursday's job fair."


def test_no_answer_is_an_outreach_attempt_in_three_taps_without_minutes_or_units(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    notes_before = len([e for e in people.person_timeline(session.store, AVERY) if e.kind != "outreach_attempt"])
    screen.tap(f"phone-{AVERY}")
    assert screen.find("outcome-reached") and screen.visible("minutes-10")  # reached is the default
    screen.toggle("outcome-no_answer")
    assert not screen.visible("minutes-10")  # no duration for a call that did not connect
    assert "Short note (optional)" in [c.label for c in screen.controls() if isinstance(c, ft.TextField)]
    assert "Not a contact" in screen.value("attempt-hint")
    screen.tap("save-phone")
    assert screen.steps == 3
    assert screen.route == "/caseload"
    assert "Outreach attempt logged: no answer. Not counted as a contact." in screen.toasts()
    [attempt] = outreach.list_outreach_attempts(session.store, AVERY)
    assert attempt.outcome is OutreachOutcome.NO_ANSWER and attempt.attempted_at == NOW
    assert len([e for e in people.person_timeline(session.store, AVERY) if e.kind != "outreach_attempt"]) == notes_before  # no contact note, no units
    assert outbox.next_batch(session.store, 500)[-1].record_type == "outreach_attempt"


def test_left_a_message_keeps_the_note_and_follow_up(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    screen.tap(f"phone-{AVERY}")
    screen.toggle("outcome-left_message")
    screen.type("Short note (optional)", "Asked her to call back about the form.")
    screen.toggle("follow-up-2026-11-26")
    screen.tap("save-phone")
    [attempt] = outreach.list_outreach_attempts(session.store, AVERY)
    assert (attempt.outcome, attempt.note, str(attempt.follow_up_on)) == (OutreachOutcome.LEFT_MESSAGE, "Asked her to call back about the form.", "2026-11-26")


# --- contact note -------------------------------------------------------------------------------


def open_new_note(screen: Person, person: str = AVERY) -> None:
    unlock(screen)
    screen.tap(f"person-{person}")
    screen.tap("new-note")
    assert screen.route == f"/person/{person}/note/new"


def test_duration_chips_set_the_end_from_the_start_and_units_are_an_estimate(screen: Person) -> None:
    open_new_note(screen)
    screen.type("Start (HH:MM)", "09:00")
    screen.tap("duration-45")
    assert screen.field("End (HH:MM)").value == "09:45"
    assert screen.value("units") == "45 min · about 3 units (estimate; the agency confirms)"
    screen.tap("duration-60")
    assert screen.field("End (HH:MM)").value == "10:00"
    screen.tap("start-now")  # NOW is 10:30
    assert screen.field("Start (HH:MM)").value == "10:30"


@pytest.mark.parametrize("typed, meant", [("14:30", time(14, 30)), ("14.30", time(14, 30)), ("2:30 pm", time(14, 30)), ("2 PM", time(14)), ("12:05am", time(0, 5)), ("9", time(9))])
def test_times_are_read_as_people_type_them(typed: str, meant: time) -> None:
    assert parse_clock(typed) == meant


@pytest.mark.parametrize("typed", ["", "25:00", "13:00 pm", "half past two", "9:60"])
def test_a_time_that_cannot_be_read_says_how_to_write_it(typed: str) -> None:
    with pytest.raises(ValueError, match="HH:MM or 2:30 pm"):
        parse_clock(typed)


def test_date_and_time_pickers_set_the_fields_and_dates_read_as_words(screen: Person, session: FieldSession) -> None:
    open_new_note(screen)
    assert "Today" in texts_under(screen, "day")
    screen.tap("day")
    screen.pick(ft.DatePicker, datetime(2026, 11, 24))
    assert "Yesterday" in texts_under(screen, "day")
    start_clock = screen.field("Start (HH:MM)").suffix_icon
    screen._event(start_clock, "click")
    screen.pick(ft.TimePicker, time(8, 15))
    assert screen.field("Start (HH:MM)").value == "08:15"
    screen.tap("duration-30")
    screen.tap("save-draft")
    saved = notes.get_note(session.store, [e for e in people.person_timeline(session.store, AVERY) if e.status == NoteStatus.DRAFT.label][0].record_id)
    assert (saved.starts_at, saved.ends_at) == (datetime(2026, 11, 24, 8, 15), datetime(2026, 11, 24, 8, 45))


def test_sections_collapse_and_the_jump_bar_opens_them(screen: Person) -> None:
    open_new_note(screen)
    assert screen.visible("mode")
    screen.tap("section-what")
    assert not screen.visible("mode")
    screen.tap("jump-what")
    assert screen.visible("mode")


def test_signing_an_incomplete_note_puts_each_error_at_its_field_and_never_says_draft_saved(screen: Person, session: FieldSession) -> None:
    open_new_note(screen)
    screen.tap("section-story")  # collapsed: the error must open it again
    screen.type("Start (HH:MM)", "09:00")
    screen.tap("sign-note")
    assert screen.visible("error-interventions") and screen.value("error-interventions") == "Choose at least one intervention."
    assert screen.value("error-response") == "Describe how the person responded."
    assert screen.visible("error-response")  # its section opened
    assert not screen.find("error-day").visible and not screen.find("error-mode").visible  # fine (the mode came from the last note)
    assert screen.value("note-error").startswith("Before signing:")
    assert not any("Draft saved" in t for t in screen.toasts())
    drafts_now = [e for e in people.person_timeline(session.store, AVERY) if e.status == NoteStatus.DRAFT.label]
    assert len(drafts_now) == 1  # what was typed is kept all the same


def test_a_full_note_is_signed_after_a_one_line_confirmation(screen: Person, session: FieldSession) -> None:
    open_new_note(screen)
    screen.type("Start (HH:MM)", "09:00")
    screen.tap("end-now")  # 10:30
    screen.select("mode", "face_to_face")
    screen.select("setting", "community")
    screen.toggle("intervention-self_help")
    screen.type("Intervention: what you did together", "Reviewed two listings at the library.")
    screen.type("Response: how the person responded", "Hopeful; will call one landlord.")
    screen.type("Plan / next steps", "Meet Friday to look at the flat.")
    screen.tap("sign-note")
    summary = texts_under(screen, "sign-summary")
    assert "Avery A. · Today, 9:00 am–10:30 am · 90 min · about 6 units" in summary
    assert "read-only" in summary
    screen.tap("cancel-sign")  # "Not yet": still editing, nothing signed
    assert "/note/" in screen.route and not screen.has("confirm-sign")
    screen.tap("sign-note")
    screen.tap("confirm-sign")
    assert screen.route == f"/person/{AVERY}"
    note = notes.get_note(session.store, people.person_timeline(session.store, AVERY, limit=1)[0].record_id)
    assert note.status is NoteStatus.SIGNED and note.minutes == 90
    taps = screen.steps - 2  # the "Not yet" detour (Sign, Not yet) is not part of the count
    print(f"\nTAPS full signed note (from the caseload): {taps}")
    assert taps < 17  # today's count before this work
    screen.go(f"/note/{note.id}")
    assert screen.value("signed-units") == "about 6 units (estimate; the agency confirms)"


def test_with_the_last_note_s_defaults_a_signed_note_takes_ten_taps(screen: Person, session: FieldSession) -> None:
    open_new_note(screen)  # 2 taps: the person, Contact note (mode and setting come from the last note)
    screen.type("Start (HH:MM)", "09:30")
    screen.tap("end-now")
    screen.toggle("intervention-self_help")
    screen.type("Intervention: what you did together", "Practised the bus route to the job centre.")
    screen.type("Response: how the person responded", "Calmer on the second trip.")
    screen.type("Plan / next steps", "Try it alone on Tuesday.")
    screen.tap("sign-note")
    screen.tap("confirm-sign")
    assert screen.route == f"/person/{AVERY}"
    print(f"\nTAPS signed note with defaults from the last note: {screen.steps}")
    assert screen.steps == 10


def test_a_new_note_starts_from_the_last_note_with_this_person(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    last = ContactNote(
        person_id=AVERY, starts_at=datetime(2026, 11, 20, 9), ends_at=datetime(2026, 11, 20, 10), mode=ContactMode.VIDEO,
        setting=ContactSetting.REMOTE, service_code="H0038", narrative=Narrative(intervention="x"),
    )
    notes.save_draft(session.store, last)
    screen.go(f"/person/{AVERY}/note/new")
    face = texts_under(screen, "mode") + texts_under(screen, "setting")
    assert "Video" in face and "By telephone or electronically" in face


# --- drafts: autosave and leaving ------------------------------------------------------------


def test_a_note_is_kept_as_a_draft_while_typing_and_back_asks_keep_or_discard(screen: Person, session: FieldSession) -> None:
    open_new_note(screen)
    screen.type("Response: how the person responded", "Quiet, then talked about her sister.")
    screen.wait_for(lambda: any(e.status == NoteStatus.DRAFT.label for e in people.person_timeline(session.store, AVERY)), what="the autosave")
    [kept] = [e for e in people.person_timeline(session.store, AVERY) if e.status == NoteStatus.DRAFT.label]
    assert notes.get_note(session.store, kept.record_id).narrative.response == "Quiet, then talked about her sister."
    assert "Draft kept at 10:30." in screen.value("draft-status")
    screen.tap("back")
    assert screen.has("leave-dialog") and screen.route == f"/note/{kept.record_id}"  # the draft's own address from the first save
    screen.tap("leave-discard")
    assert screen.route == f"/person/{AVERY}"
    assert not any(e.status == NoteStatus.DRAFT.label for e in people.person_timeline(session.store, AVERY))


def test_keep_as_draft_then_reopen_continues_the_note(screen: Person, session: FieldSession) -> None:
    open_new_note(screen)
    screen.type("Plan / next steps", "Call the housing office on Monday.")
    screen.tap("back")
    screen.tap("leave-keep")
    assert screen.route == f"/person/{AVERY}" and "Kept as a draft." in screen.toasts()
    [kept] = [e for e in people.person_timeline(session.store, AVERY) if e.status == NoteStatus.DRAFT.label]
    screen.go(f"/note/{kept.record_id}")
    assert screen.field("Plan / next steps").value == "Call the housing office on Monday."
    screen.tap("back")  # nothing changed since it opened: no question
    assert screen.route == f"/person/{AVERY}"


def test_discarding_changes_to_an_existing_draft_puts_it_back_as_it_was(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    draft = notes.save_draft(session.store, ContactNote(person_id=AVERY, starts_at=datetime(2026, 11, 24, 9), ends_at=datetime(2026, 11, 24, 10), narrative=Narrative(plan="Call on Monday.")))
    screen.go(f"/note/{draft.id}")
    screen.type("Plan / next steps", "Something typed by mistake")
    screen.wait_for(lambda: notes.get_note(session.store, draft.id).narrative.plan == "Something typed by mistake", what="the autosave")
    screen.tap("back")
    screen.tap("leave-discard")
    kept = notes.get_note(session.store, draft.id)
    assert kept.status is NoteStatus.DRAFT and kept.narrative.plan == "Call on Monday."


def test_the_shell_can_keep_a_draft_before_locking(screen: Person, session: FieldSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drafting, "AUTOSAVE_SECONDS", 60)  # too late: only the shell's call can keep it
    unlock(screen)
    screen.go(f"/person/{AVERY}/consent")
    screen.type("To whom (the recipient)", "County Housing Authority")
    guard = guard_of(screen.view)
    assert guard is not None and guard.has_unsaved_changes()
    assert guard.keep_draft()
    assert drafts.load_form_draft(session.store, DraftKind.CONSENT, AVERY)["recipient"] == "County Housing Authority"  # type: ignore[index]
    screen.go("/caseload")
    screen.go(f"/person/{AVERY}/consent")
    assert screen.field("To whom (the recipient)").value == "County Housing Authority" and screen.has("draft-restored")


def test_consent_dates_can_be_picked_from_the_calendar(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}/consent")
    screen._event(screen.field("Ends on (YYYY-MM-DD)").suffix_icon, "click")
    screen.pick(ft.DatePicker, datetime(2027, 11, 25))
    assert screen.field("Ends on (YYYY-MM-DD)").value == "2027-11-25"
    assert guard_of(screen.view).has_unsaved_changes()  # type: ignore[union-attr]


def test_wrap_edits_are_kept_and_saving_forgets_the_draft(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}/wrap")
    screen.type("Triggers: what I notice", "Money worries\nLoud neighbours")
    screen.wait_for(lambda: drafts.load_form_draft(session.store, DraftKind.WRAP, AVERY) is not None, what="the autosave")
    screen.go("/caseload")
    screen.go(f"/person/{AVERY}/wrap")
    assert screen.field("Triggers: what I notice").value == "Money worries\nLoud neighbours"
    screen.tap("save-wrap")
    assert drafts.load_form_draft(session.store, DraftKind.WRAP, AVERY) is None
    assert wrap.get_wrap_plan(session.store, AVERY).version == 2  # type: ignore[union-attr]


# --- check-in: the alert goes the moment the answer is chosen -----------------------------------


def test_yes_raises_the_alert_at_once_and_leaving_says_it_is_queued(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{TATUM}/checkin")
    screen.type("How are you today? (in their words)", "Not sleeping, on edge.")
    screen.choose("safety", "yes")
    first = outbox.next_batch(session.store, 1)[0]
    assert first.record_type == "safety_alert" and first.record["person_id"] == TATUM  # before any save
    assert screen.inner("text-line-0", ft.FilledButton).url == "sms:988"
    assert screen.inner("call-line-0", ft.FilledButton).url == "tel:988"
    assert screen.inner("call-supporter-0", ft.FilledButton).url == "tel:5550142"
    assert screen.value("alert-state") == NOT_SENT_NO_AGENCY  # this test profile has no agency: never "sent"
    assert not screen.visible("send-alert-now")
    screen.choose("safety", "unsure")
    screen.choose("safety", "yes")
    assert len([i for i in outbox.next_batch(session.store, 500) if i.record_type == "safety_alert"]) == 1  # one alert, however often chosen
    screen.tap("back")
    dialog = texts_under(screen, "leave-dialog")
    assert "The alert to your supervisor is queued and will be sent at the next sync" in dialog and "does not withdraw it" in dialog
    screen.tap("leave-discard")
    assert screen.route == f"/person/{TATUM}"
    assert any("queued" in t for t in screen.toasts())
    assert [i.record_type for i in outbox.next_batch(session.store, 500)].count("safety_alert") == 1  # discarding the check-in kept the alert


def test_once_the_agency_took_the_alert_leaving_says_it_was_sent(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{TATUM}/checkin")
    screen.choose("safety", "yes")
    entry = next(i for i in outbox.next_batch(session.store, 500) if i.record_type == "safety_alert")
    outbox.settle(session.store, accepted=[entry.entry_id], rejected={})  # the agency's receipt, as a sync applies it
    screen.tap("back")
    assert "The alert was already sent to your supervisor." in texts_under(screen, "leave-dialog")


def test_saving_the_check_in_reuses_the_alert_raised_on_the_answer(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{TATUM}/checkin")
    screen.choose("safety", "unsure")
    alert = next(i for i in outbox.next_batch(session.store, 500) if i.record_type == "safety_alert")
    screen.choose("zone", "early_warning")
    screen.tap("save-checkin")
    assert "Check-in saved. Urgent alert queued to sync first." in screen.toasts()
    batch = outbox.next_batch(session.store, 500)
    assert [i.record_type for i in batch].count("safety_alert") == 1
    saved = next(i for i in batch if i.record_type == "checkin")
    assert alert.record["checkin_id"] == saved.record_id


def test_a_check_in_left_with_keep_as_draft_reopens_with_its_answers_and_its_alert(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{TATUM}/checkin")
    screen.type("How are you today? (in their words)", "Tired.")
    screen.choose("safety", "yes")
    screen.tap("back")
    screen.tap("leave-keep")
    screen.go("/caseload")  # the harness's client does not follow push_route: a different address first
    screen.go(f"/person/{TATUM}/checkin")
    assert screen.field("How are you today? (in their words)").value == "Tired."
    assert screen.has("crisis-resources") and screen.has("draft-restored")
    screen.choose("zone", "breaking_down")
    screen.tap("save-checkin")
    assert [i.record_type for i in outbox.next_batch(session.store, 500)].count("safety_alert") == 1
    assert drafts.drafts_for_person(session.store, TATUM) == []


def test_crisis_buttons_grow_with_the_largest_text_size(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    session.save_settings(Settings(text_size="largest"))
    screen.go(f"/person/{TATUM}/checkin")
    screen.choose("safety", "yes")
    for button in ("call-line-0", "text-line-0", "call-supporter-0"):
        label = screen.inner(button, ft.FilledButton).content
        assert isinstance(label, ft.Text) and label.size >= 15 * session.text_scale and not label.no_wrap, button


# --- what a new user found: errors that stay, contradictory defaults, a stale alert line --------


def test_errors_clear_as_each_field_is_fixed_and_each_sits_under_its_own_field(screen: Person) -> None:
    open_new_note(screen)  # start and end are both "now": 0 minutes
    screen.tap("sign-note")
    for name in ("time", "interventions", "intervention", "response", "plan"):
        assert screen.visible(f"error-{name}"), name
    ids = screen.identifiers()
    assert ids.index("intervention-self_help") < ids.index("error-interventions") < min(ids.index(i) for i in ids if i.startswith("goal-"))
    screen.tap("duration-30")
    assert not screen.visible("error-time")  # fixed: gone before the next Sign
    screen.toggle("intervention-self_help")
    assert not screen.visible("error-interventions")
    screen.type("Intervention: what you did together", "Walked to the food bank together.")
    assert not screen.visible("error-intervention") and screen.visible("error-response")  # only what is fixed clears
    summary = screen.value("note-error")
    assert "Describe how the person responded." in summary and "intervention" not in summary.lower()
    screen.type("Response: how the person responded", "Relieved.")
    screen.type("Plan / next steps", "Go again next week.")
    assert not screen.visible("note-error")


def test_defaults_from_the_last_note_never_contradict_each_other() -> None:
    form = NoteForm(person_id=AVERY)
    form.apply_defaults(ContactMode.TELEPHONE.value, ContactSetting.COMMUNITY.value, "H0038")
    assert (form.mode, form.setting) == ("telephone", "remote")  # a phone call did not happen in a coffee shop
    face = NoteForm(person_id=AVERY)
    face.apply_defaults(ContactMode.FACE_TO_FACE.value, ContactSetting.REMOTE.value, "H0038")
    assert (face.mode, face.setting) == ("face_to_face", "")  # the peer says where
    kept = NoteForm(person_id=AVERY)
    kept.apply_defaults(ContactMode.FACE_TO_FACE.value, ContactSetting.HOME.value, "H0038")
    assert (kept.mode, kept.setting) == ("face_to_face", "home")  # consistent defaults stay
    kept.choose_mode(ContactMode.VIDEO.value)
    assert kept.setting == "remote"
    kept.choose_mode(ContactMode.FACE_TO_FACE.value)
    assert kept.setting == ""


def test_a_new_note_after_a_phone_note_in_a_coffee_shop_opens_consistent(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    notes.save_draft(session.store, ContactNote(
        person_id=AVERY, starts_at=datetime(2026, 11, 24, 9), ends_at=datetime(2026, 11, 24, 10), mode=ContactMode.TELEPHONE,
        setting=ContactSetting.COMMUNITY, service_code="H0038", narrative=Narrative(intervention="x"),
    ))
    screen.go(f"/person/{AVERY}/note/new")
    assert "Telephone" in texts_under(screen, "mode") and "By telephone or electronically" in texts_under(screen, "setting")
    screen.select("mode", "face_to_face")
    assert "Choose…" in texts_under(screen, "setting")  # not a remote setting for a meeting in person


def test_the_check_in_zone_is_chosen_by_the_peer_before_saving(screen: Person, session: FieldSession) -> None:
    unlock(screen)
    screen.go(f"/person/{AVERY}/checkin")
    zone = next(c for c in screen.controls() if isinstance(c, ft.RadioGroup) and any(getattr(s, "identifier", "") == "zone-well" for s in walk(c.content)))
    assert zone.value is None  # nothing pre-selected
    screen.choose("safety", "no")
    screen.tap("save-checkin")
    assert screen.visible("error-zone") and screen.value("error-zone") == "Choose which part of the plan fits today."
    assert screen.route.endswith("/checkin") and not any(e.kind == "checkin" for e in people.person_timeline(session.store, AVERY, limit=1))
    screen.choose("zone", "triggers")
    assert not screen.visible("error-zone")
    screen.tap("save-checkin")
    assert "Check-in saved." in screen.toasts()


def test_the_phone_log_keeps_save_on_screen_and_hints_fit_the_outcome(screen: Person) -> None:
    unlock(screen)
    screen.tap(f"phone-{AVERY}")
    form_column = screen.view.controls[0]
    assert not any(getattr(c, "identifier", "") == "save-phone" for c in walk(form_column))  # a bar below the scrolling form
    assert screen.field("Short note").hint_text == "What you talked about, what's next"
    screen.toggle("outcome-no_answer")
    assert "call back" not in (screen.field("Short note (optional)").hint_text or "")  # nobody answered
    screen.toggle("outcome-left_message")
    assert "call back" in (screen.field("Short note (optional)").hint_text or "")
    assert screen.inner("outcome-left_message", ft.Chip).selected and not screen.inner("outcome-no_answer", ft.Chip).selected
    screen.toggle("outcome-reached")
    screen.type("Minutes", "25")
    assert not screen.inner("minutes-10", ft.Chip).selected  # the chip no longer claims 10 minutes


def test_the_crisis_panel_names_a_supporter_once() -> None:
    from fieldpeer.records import Supporter
    from fieldpeer.screens.checkin import supporter_label

    assert supporter_label(Supporter(name="Sister (fictional)", phone="555-0142", relationship="Sister")) == "Call Sister (fictional): 555-0142"
    assert supporter_label(Supporter(name="Jo", phone="555-0100", relationship="Neighbour")) == "Call Jo: 555-0100 (Neighbour)"


@pytest.mark.slow
def test_the_alert_line_follows_the_agency_sent_offline_then_send_now(agency: AgencyProcess, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Admin(agency.db_url)
    _, [person], code = admin.peer_with_caseload("Pat", ["Quinn"])
    profile = Profile(tmp_path / "phone", cost=TEST_COST, clock=clock)
    store = enrol_device(profile, agency.url, code, PIN, device_name="phone")
    SyncClient(store).sync()  # the caseload
    store.close()
    profile.vault.lock()
    session = FieldSession(profile, clock=clock, auto_sync_seconds=None)
    monkeypatch.setattr(checkin, "POLL_SECONDS", 0.2)
    screen = Person(app.make_main(session))
    try:
        unlock(screen)
        screen.go(f"/person/{person}/checkin")
        screen.choose("safety", "yes")  # the screen syncs at once: no waiting for the next round
        screen.wait_for(lambda: screen.value("alert-state").startswith("Your supervisor has the alert ("), what="the agency's receipt")
        assert [r.record_type for r in admin.received()].count("safety_alert") == 1
        assert not screen.visible("send-alert-now")
        screen.choose("zone", "crisis")
        screen.tap("save-checkin")

        agency.stop()  # no connection
        screen.go(f"/person/{person}/checkin")
        screen.choose("safety", "unsure")
        screen.wait_for(lambda: screen.value("alert-state") == checkin.NOT_SENT_OFFLINE, timeout=60, what="the offline words")
        assert screen.visible("send-alert-now")
        agency.start()
        screen.tap("send-alert-now")
        screen.wait_for(lambda: screen.value("alert-state").startswith("Your supervisor has the alert ("), timeout=60, what="the receipt after Send now")
        assert [r.record_type for r in admin.received()].count("safety_alert") == 2
    finally:
        screen.close()
        session.lock()
