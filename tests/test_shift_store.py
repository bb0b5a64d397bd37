"""A shift without lost work or missed alerts: what the device store keeps and shows.

Safety alerts raised on the answer, outreach attempts that are not contacts, form drafts, the
agency's alert statuses and unit figures as pulled, and the caseload ranked by need."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from fieldpeer.domain import AlertState, ContactMode, ContactSetting, DraftKind, FlagKind, OutreachOutcome, ReviewState, SafetyAnswer, WrapSection
from fieldpeer.records import AlertStatus, Checkin, Consent, ConsentKind, NoteFeedback, Person, UnitsConfirmed, WrapPlan, WrapPlanSection
from fieldpeer.store import alerts, consents, drafts, notes, outreach, people, pulled, wrap
from fieldpeer.store.people import NotFound
from fieldpeer.store.tables import FormDraftRow, OutboxRow
from fieldpeer.store.unit_of_work import URGENT, FieldStore
from tests.conftest import TODAY, complete_note


def queued(store: FieldStore, record_type: str | None = None) -> list[OutboxRow]:
    with store.unit() as unit:
        rows = unit.session.exec(select(OutboxRow).order_by(OutboxRow.priority, OutboxRow.seq)).all()  # type: ignore[arg-type]
    return [r for r in rows if record_type is None or r.record_type == record_type]


def flags(store: FieldStore, person_id: str, today: date = TODAY) -> list[str]:
    [entry] = [e for e in people.list_caseload(store, today).entries if e.person_id == person_id]
    return [f.words for f in entry.flags]


def pull(store: FieldStore, *records: object) -> None:
    with store.unit() as unit:
        for record in records:
            assert pulled.apply_pulled(unit, record)  # type: ignore[arg-type]


# --- Safety alerts ---------------------------------------------------------------------------


def test_the_alert_is_raised_when_yes_is_chosen_and_survives_back(store: FieldStore, person: Person) -> None:
    checkin_id = "checkin-being-typed"
    alert = wrap.raise_safety_alert(store, person.id, checkin_id, SafetyAnswer.YES)
    assert alert is not None and alert.checkin_id == checkin_id and alert.safety is SafetyAnswer.YES
    # The peer taps Back: no check-in is ever saved, and the alert still waits, first in line.
    first = queued(store)[0]
    assert (first.record_type, first.record_id, first.priority) == ("safety_alert", alert.id, URGENT)
    assert flags(store, person.id)[0] == "Safety alert"


def test_changing_the_answer_or_saving_does_not_raise_a_second_alert(store: FieldStore, person: Person) -> None:
    checkin = Checkin(person_id=person.id, safety=SafetyAnswer.YES)
    first = wrap.raise_safety_alert(store, person.id, checkin.id, SafetyAnswer.YES)
    assert wrap.raise_safety_alert(store, person.id, checkin.id, SafetyAnswer.UNSURE) == first
    assert wrap.raise_safety_alert(store, person.id, checkin.id, SafetyAnswer.YES) == first
    assert wrap.raise_safety_alert(store, person.id, checkin.id, SafetyAnswer.NO) == first  # once raised, not withdrawn
    saved, alert = wrap.record_checkin(store, checkin)
    assert alert == first
    assert len(queued(store, "safety_alert")) == 1
    assert [r.priority for r in queued(store, "checkin")] == [URGENT]
    assert wrap.alert_for_checkin(store, saved.id) == first


def test_a_clear_no_raises_nothing_and_unsure_raises(store: FieldStore, person: Person) -> None:
    assert wrap.raise_safety_alert(store, person.id, "c-1", SafetyAnswer.NO) is None
    assert queued(store, "safety_alert") == []
    unsure = wrap.raise_safety_alert(store, person.id, "c-2", SafetyAnswer.UNSURE)
    assert unsure is not None and unsure.safety is SafetyAnswer.UNSURE
    with pytest.raises(NotFound):
        wrap.raise_safety_alert(store, "not-on-caseload", "c-3", SafetyAnswer.YES)


def test_the_alert_lifecycle_reaches_the_caseload_after_sync(store: FieldStore, person: Person) -> None:
    _, alert = wrap.record_checkin(store, Checkin(person_id=person.id, safety=SafetyAnswer.YES))
    assert alert is not None
    at = datetime(2026, 11, 25, 17, tzinfo=timezone.utc)
    acknowledged = AlertStatus(id=alert.id, person_id=person.id, state=AlertState.ACKNOWLEDGED, by="Dana Reyes, LCSW", at=at, version=2)
    pull(store, acknowledged)
    entry = people.list_caseload(store, TODAY).entries[0]
    assert entry.alert_state is AlertState.ACKNOWLEDGED and not entry.open_safety_alert
    assert flags(store, person.id)[0] == "Supervisor following up"
    [summary] = alerts.alerts_for_person(store, person.id)
    assert (summary.state, summary.by, summary.at) == (AlertState.ACKNOWLEDGED, "Dana Reyes, LCSW", at)
    pull(store, acknowledged.model_copy(update={"state": AlertState.CLOSED, "at": at + timedelta(hours=1), "version": 3}))
    assert "Supervisor following up" not in flags(store, person.id) and "Safety alert" not in flags(store, person.id)
    # A replayed older page never reopens it.
    pull(store, acknowledged)
    assert alerts.alerts_for_person(store, person.id)[0].state is AlertState.CLOSED


def test_an_open_alert_outranks_an_acknowledged_one_and_other_devices_alerts_show(store: FieldStore, person: Person) -> None:
    wrap.raise_safety_alert(store, person.id, "c-new", SafetyAnswer.YES)
    # An alert raised on the peer's other phone arrives only as its status.
    pull(store, AlertStatus(id="alert-elsewhere", person_id=person.id, state=AlertState.ACKNOWLEDGED, by="Dana Reyes, LCSW", at=datetime(2026, 11, 25, tzinfo=timezone.utc)))
    assert flags(store, person.id)[0] == "Safety alert"
    assert {a.alert_id for a in alerts.alerts_for_person(store, person.id)} >= {"alert-elsewhere"}


# --- Outreach attempts -----------------------------------------------------------------------


def test_an_outreach_attempt_is_kept_and_sent_but_is_not_a_contact(store: FieldStore) -> None:
    person = people.save_person(store, Person(preferred_name="Jordan", admitted_on=date(2026, 9, 1)))
    notes.log_phone_contact(store, person.id, 10, "Talked about the bus pass.", ended_at=datetime(2026, 10, 1, 10))
    attempt = outreach.log_outreach_attempt(store, person.id, OutreachOutcome.LEFT_MESSAGE, "Asked them to call back.", attempted_at=datetime(2026, 11, 24, 15, 30), follow_up_on=date(2026, 11, 26))
    entry = people.list_caseload(store, TODAY).entries[0]
    assert entry.last_contact == date(2026, 10, 1)  # the attempt is not the last contact
    assert "No contact in 30 days" in flags(store, person.id)
    timeline = people.person_timeline(store, person.id)
    assert (timeline[0].kind, timeline[0].title, timeline[0].detail) == (people.OUTREACH, "Telephone · Left a message", "Asked them to call back.")
    assert "not a contact" in timeline[0].status
    [sent] = queued(store, "outreach_attempt")
    assert sent.record_id == attempt.id
    assert "units" not in attempt.model_dump()
    assert outreach.list_outreach_attempts(store, person.id) == [attempt]
    # Its follow-up date counts: due on the day, like a note's.
    assert "Follow-up due today" in flags(store, person.id, today=date(2026, 11, 26))


# --- Form drafts -----------------------------------------------------------------------------


def test_form_drafts_are_kept_replaced_listed_and_dropped_on_save(store: FieldStore, person: Person) -> None:
    checkin = Checkin(person_id=person.id, safety=SafetyAnswer.NO, feeling_today="Tired but okay")
    drafts.save_form_draft(store, DraftKind.CHECKIN, person.id, {"feeling_today": "Tired"}, record_id=checkin.id)
    drafts.save_form_draft(store, DraftKind.CHECKIN, person.id, {"feeling_today": "Tired but okay"}, record_id=checkin.id)
    drafts.save_form_draft(store, DraftKind.WRAP, person.id, {"triggers": ["Crowds"]})
    consent = Consent(person_id=person.id, kind=ConsentKind.SERVICES, signed_on=date(2026, 11, 25))
    drafts.save_form_draft(store, DraftKind.CONSENT, person.id, {"purpose": "Peer services"}, record_id=consent.id)
    note = notes.save_draft(store, complete_note(person.id))
    assert drafts.load_form_draft(store, DraftKind.CHECKIN, person.id, checkin.id) == {"feeling_today": "Tired but okay"}
    kinds = {(d.kind, d.record_id) for d in drafts.drafts_for_person(store, person.id)}
    assert kinds == {(DraftKind.CHECKIN, checkin.id), (DraftKind.WRAP, ""), (DraftKind.CONSENT, consent.id), (DraftKind.NOTE, note.id)}
    assert drafts.drafts_for_person(store, person.id)[0].label.startswith("Continue draft")
    assert not [r for r in queued(store) if r.record_type not in ("person", "contact_note")]  # drafts never travel

    wrap.record_checkin(store, checkin)
    wrap.save_wrap_plan(store, WrapPlan(person_id=person.id, sections={WrapSection.TRIGGERS: WrapPlanSection(items=["Crowds"])}), based_on_version=None)
    consents.record_consent(store, consent)
    notes.sign_note(store, note.id)
    assert drafts.drafts_for_person(store, person.id) == []
    assert not drafts.has_drafts(store)


def test_a_discarded_draft_is_gone_and_a_draft_does_not_open_elsewhere(store: FieldStore, person: Person) -> None:
    drafts.save_form_draft(store, DraftKind.WRAP, person.id, {"triggers": ["Noise"]})
    other = people.save_person(store, Person(preferred_name="Sky"))
    with store.unit() as unit:  # copy the ciphertext onto another person's draft
        row = unit.session.get(FormDraftRow, (DraftKind.WRAP.value, person.id, ""))
        assert row is not None
        unit.session.add(FormDraftRow(kind=row.kind, person_id=other.id, record_id="", content_enc=row.content_enc, updated_at=row.updated_at))
    with pytest.raises(Exception, match="authentication failed"):
        drafts.load_form_draft(store, DraftKind.WRAP, other.id)
    drafts.discard_form_draft(store, DraftKind.WRAP, person.id)
    assert drafts.load_form_draft(store, DraftKind.WRAP, person.id) is None
    with pytest.raises(ValueError, match="draft notes"):
        drafts.save_form_draft(store, DraftKind.NOTE, person.id, {})


# --- Units and defaults ----------------------------------------------------------------------


def test_the_note_shows_an_estimate_until_the_agency_figure_arrives(store: FieldStore, person: Person) -> None:
    note = notes.sign_note(store, notes.save_draft(store, complete_note(person.id, minutes=40)).id)  # 3 units by the phone's rule
    estimate = notes.note_units(store, note.id)
    assert (estimate.units, estimate.estimate, estimate.words) == (3, True, "About 3 units (estimate)")
    pull(store, UnitsConfirmed(id=note.id, units=2, version=1))  # the agency's daily cap took one
    assert notes.note_units(store, note.id).words == "2 units"
    pull(store, UnitsConfirmed(id=note.id, units=5, version=1))  # a replay of the same version changes nothing
    assert notes.note_units(store, note.id).units == 2
    assert people.person_timeline(store, person.id)[0].units == "2 units"


def test_a_new_note_starts_from_how_the_peer_last_met_this_person(store: FieldStore, person: Person) -> None:
    assert notes.defaults_for_person(store, person.id) == notes.NoteDefaults()
    notes.save_draft(store, complete_note(person.id, start=datetime(2026, 11, 1, 10), mode=ContactMode.VIDEO, setting=ContactSetting.REMOTE))
    notes.save_draft(store, complete_note(person.id, start=datetime(2026, 11, 20, 10), mode=ContactMode.FACE_TO_FACE, setting=ContactSetting.HOME))
    notes.log_phone_contact(store, person.id, 5, "Quick call", ended_at=datetime(2026, 11, 24, 10))  # not a template for a visit
    defaults = notes.defaults_for_person(store, person.id)
    assert (defaults.mode, defaults.setting, defaults.service_code) == (ContactMode.FACE_TO_FACE, ContactSetting.HOME, "H0038")


# --- The caseload, ranked by need ------------------------------------------------------------


def test_the_caseload_answers_who_needs_me_today(store: FieldStore) -> None:
    def add(name: str, **fields: object) -> Person:
        return people.save_person(store, Person(preferred_name=name, **fields))  # type: ignore[arg-type]

    calm = add("Ana Calm", admitted_on=date(2026, 11, 1))
    add("Ben New", admitted_on=date(2026, 11, 15))
    add("Cy Unseen", admitted_on=date(2026, 9, 1), plan_reviewed_on=date(2026, 10, 1))
    follow = add("Dee Follow", admitted_on=date(2026, 11, 1))
    returned = add("Eve Returned", admitted_on=date(2026, 11, 1))
    alert = add("Fay Alert", admitted_on=date(2026, 11, 1))
    for who in (calm, follow, returned, alert):
        notes.log_phone_contact(store, who.id, 10, "Checked in.", ended_at=datetime(2026, 11, 20, 10), follow_up_on=date(2026, 11, 25) if who is follow else None)
    note = notes.sign_note(store, notes.save_draft(store, complete_note(returned.id, start=datetime(2026, 11, 21, 10))).id)
    pull(store, NoteFeedback(id=note.id, state=ReviewState.RETURNED, comment="Add the plan.", reviewer="Dana Reyes, LCSW", reviewed_at=datetime(2026, 11, 24, tzinfo=timezone.utc)))
    wrap.raise_safety_alert(store, alert.id, "c-fay", SafetyAnswer.UNSURE)

    entries = people.list_caseload(store, TODAY).entries
    assert [e.preferred_name for e in entries] == ["Fay Alert", "Eve Returned", "Dee Follow", "Cy Unseen", "Ben New", "Ana Calm"]
    shown = {e.preferred_name: [(f.kind, f.words, f.icon) for f in e.flags] for e in entries}
    assert shown["Dee Follow"] == [(FlagKind.FOLLOW_UP_DUE, "Follow-up due today", "EVENT")]
    assert shown["Ben New"] == [(FlagKind.NO_CONTACT_YET, "No contact yet", "WAVING_HAND")]
    assert shown["Cy Unseen"][0][1] == "No contact since admission"
    assert shown["Ana Calm"] == []
    assert shown["Eve Returned"][0][1] == "1 note returned by supervisor"
