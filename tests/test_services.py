"""The services the screens call: what a peer would notice when saving, signing and flagging."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from fieldpeer.domain import ContactKind, Escalation, NoteStatus, SafetyAnswer, WrapSection, Zone
from fieldpeer.store import consents, notes, people, wrap
from fieldpeer.store.notes import NoteError, SignedNoteIsFinal
from fieldpeer.store.people import NotFound, StaleWrite
from fieldpeer.store.tables import AuditEventRow, OutboxRow
from fieldpeer.store.unit_of_work import URGENT, FieldStore
from fieldpeer.records import Checkin, Consent, ConsentKind, Narrative, Person, WrapPlan, WrapPlanSection
from tests.conftest import TODAY, complete_note


def outbox(store: FieldStore) -> list[OutboxRow]:
    with store.unit() as unit:
        return list(unit.session.exec(select(OutboxRow).order_by(OutboxRow.priority, OutboxRow.seq)).all())  # type: ignore[arg-type]


def test_draft_can_be_incomplete_but_signing_lists_what_is_missing(store: FieldStore, person: Person) -> None:
    draft = notes.save_draft(store, complete_note(person.id, mode=None, interventions=[], narrative=Narrative()))
    assert draft.status is NoteStatus.DRAFT
    with pytest.raises(NoteError) as caught:
        notes.sign_note(store, draft.id)
    message = str(caught.value)
    for expected in ("mode", "intervention", "what you did", "how the person responded", "next steps"):
        assert expected in message


def test_signed_note_is_final_and_takes_addenda(store: FieldStore, person: Person) -> None:
    draft = notes.save_draft(store, complete_note(person.id))
    signed = notes.sign_note(store, draft.id)
    assert signed.status is NoteStatus.SIGNED and signed.signed_at is not None
    with pytest.raises(SignedNoteIsFinal):
        notes.save_draft(store, signed.model_copy(update={"narrative": Narrative(intervention="rewritten")}))
    with pytest.raises(SignedNoteIsFinal):
        notes.sign_note(store, draft.id)
    with pytest.raises(SignedNoteIsFinal):
        notes.discard_draft(store, draft.id)
    notes.add_addendum(store, draft.id, "Landlord called back: lease renewed.")
    assert notes.get_note(store, draft.id).narrative == signed.narrative
    assert [a.text for a in notes.list_addenda(store, draft.id)] == ["Landlord called back: lease renewed."]


def test_addendum_needs_a_signed_note_and_text(store: FieldStore, person: Person) -> None:
    draft = notes.save_draft(store, complete_note(person.id))
    with pytest.raises(NoteError, match="Only a signed note"):
        notes.add_addendum(store, draft.id, "x")
    notes.sign_note(store, draft.id)
    with pytest.raises(NoteError, match="Write the addendum"):
        notes.add_addendum(store, draft.id, "   ")


def test_units_are_shown_on_drafts_and_capped_per_day(store: FieldStore, person: Person) -> None:
    first = notes.save_draft(store, complete_note(person.id, minutes=180))  # 12 units
    assert first.units == 12
    notes.sign_note(store, first.id)
    second = notes.save_draft(store, complete_note(person.id, start=datetime(2026, 11, 24, 15, 0), minutes=120))
    assert second.units == 4  # H0038 is capped at 16 units a day
    other_day = notes.save_draft(store, complete_note(person.id, start=datetime(2026, 11, 25, 9, 0), minutes=120))
    assert other_day.units == 8


def test_editing_a_draft_keeps_one_record_and_refuses_stale_edits(store: FieldStore, person: Person) -> None:
    draft = notes.save_draft(store, complete_note(person.id))
    edited = notes.save_draft(store, draft.model_copy(update={"narrative": Narrative(intervention="More detail.")}))
    assert edited.id == draft.id and edited.version == 2
    with pytest.raises(StaleWrite):
        notes.save_draft(store, draft)  # still version 1


def test_discarded_draft_is_gone_and_the_agency_is_told(store: FieldStore, person: Person) -> None:
    draft = notes.save_draft(store, complete_note(person.id))
    notes.discard_draft(store, draft.id)
    with pytest.raises(NotFound):
        notes.get_note(store, draft.id)
    assert outbox(store)[-1].record_type == "deletion"


def test_quick_phone_contact(store: FieldStore, person: Person) -> None:
    ended = datetime(2026, 11, 25, 9, 30)
    note = notes.log_phone_contact(store, person.id, 12, "Confirmed ride to the clinic.", ended_at=ended, follow_up_on=date(2026, 11, 28))
    assert note.kind is ContactKind.PHONE_QUICK and note.status is NoteStatus.SIGNED
    assert note.starts_at == ended - timedelta(minutes=12) and note.units == 1
    with pytest.raises(NoteError, match="minutes"):
        notes.log_phone_contact(store, person.id, 0, "x", ended_at=ended)
    with pytest.raises(NoteError, match="short note"):
        notes.log_phone_contact(store, person.id, 5, " ", ended_at=ended)
    with pytest.raises(NotFound):
        notes.log_phone_contact(store, "nobody", 5, "x", ended_at=ended)


def test_every_saved_change_has_its_outbox_entry(store: FieldStore, person: Person) -> None:
    draft = notes.save_draft(store, complete_note(person.id))
    notes.sign_note(store, draft.id)
    notes.add_addendum(store, draft.id, "More.")
    entries = [(e.record_type, e.record_version) for e in outbox(store)]
    assert entries == [("person", 1), ("contact_note", 1), ("contact_note", 2), ("addendum", 1)]
    with store.unit() as unit:
        actions = [a.action for a in unit.session.exec(select(AuditEventRow).order_by(AuditEventRow.seq)).all()]  # type: ignore[arg-type]
    assert actions[-4:] == ["create", "save_draft", "sign", "addendum"]


def test_a_failed_save_leaves_neither_record_nor_outbox_entry(store: FieldStore, person: Person) -> None:
    before = len(outbox(store))
    with pytest.raises(NotFound):
        notes.save_draft(store, complete_note("not-on-caseload"))
    with pytest.raises(RuntimeError):
        with store.unit() as unit:
            unit.changed("create", Person(preferred_name="Half-written"))
            raise RuntimeError("battery died")
    assert len(outbox(store)) == before


def test_safety_yes_raises_an_urgent_alert_that_syncs_first(store: FieldStore, person: Person) -> None:
    notes.log_phone_contact(store, person.id, 5, "hello", ended_at=datetime(2026, 11, 25, 9))
    checkin, alert = wrap.record_checkin(store, Checkin(person_id=person.id, zone=Zone.EARLY_WARNING, safety=SafetyAnswer.YES))
    assert checkin.escalation is Escalation.URGENT and alert is not None
    queue = outbox(store)
    assert [e.record_type for e in queue[:2]] == ["safety_alert", "checkin"]
    assert queue[0].priority == URGENT
    assert people.list_caseload(store, TODAY).entries[0].open_safety_alert


def test_safety_no_raises_no_alert(store: FieldStore, person: Person) -> None:
    checkin, alert = wrap.record_checkin(store, Checkin(person_id=person.id, zone=Zone.CRISIS, safety=SafetyAnswer.NO, feeling_today="ok"))
    assert alert is None and checkin.escalation is Escalation.CRISIS_PLAN
    assert wrap.get_checkin(store, checkin.id).feeling_today == "ok"
    assert not people.list_caseload(store, TODAY).entries[0].open_safety_alert


def test_wrap_plan_versions_are_kept_and_stale_edits_refused(store: FieldStore, person: Person) -> None:
    assert wrap.get_wrap_plan(store, person.id) is None
    first = wrap.save_wrap_plan(store, WrapPlan(person_id=person.id, sections={WrapSection.TRIGGERS: WrapPlanSection(items=["Crowds"])}), based_on_version=None)
    second = wrap.save_wrap_plan(store, first.model_copy(update={"sections": {WrapSection.TRIGGERS: WrapPlanSection(items=["Crowds", "Noise"])}}), based_on_version=1)
    assert second.version == 2 and second.id != first.id
    assert wrap.get_wrap_plan(store, person.id).section(WrapSection.TRIGGERS).items == ["Crowds", "Noise"]  # type: ignore[union-attr]
    assert wrap.get_wrap_plan(store, person.id, version=1).section(WrapSection.TRIGGERS).items == ["Crowds"]  # type: ignore[union-attr]
    with pytest.raises(StaleWrite):
        wrap.save_wrap_plan(store, first, based_on_version=1)


def test_person_edits_need_the_current_version(store: FieldStore, person: Person) -> None:
    updated = people.save_person(store, person.model_copy(update={"strengths": ["Funny"]}), expected_version=1)
    assert updated.version == 2
    with pytest.raises(StaleWrite):
        people.save_person(store, person, expected_version=1)
    with store.unit() as unit:
        people.receive_person(unit, person)  # an older version from the agency does not win
    assert people.get_person(store, person.id).strengths == ["Funny"]


def test_caseload_flags_search_and_order(store: FieldStore) -> None:
    seen = people.save_person(store, Person(preferred_name="Seen Recently", admitted_on=date(2026, 1, 1), plan_reviewed_on=date(2026, 11, 1)))
    people.save_person(store, Person(preferred_name="Not Seen", admitted_on=date(2026, 1, 1), plan_reviewed_on=date(2026, 11, 1)))
    people.save_person(store, Person(preferred_name="Discharged", admitted_on=date(2026, 1, 1), discharged_on=date(2026, 6, 1)))
    notes.log_phone_contact(store, seen.id, 5, "hi", ended_at=datetime(2026, 11, 20, 10))
    caseload = people.list_caseload(store, TODAY)
    assert [e.preferred_name for e in caseload.entries] == ["Not Seen", "Seen Recently"]
    not_seen, seen_entry = caseload.entries
    assert not_seen.no_recent_contact and not not_seen.plan_review_due
    assert not seen_entry.no_recent_contact and seen_entry.last_contact == date(2026, 11, 20)
    assert caseload.pending_sync == 4
    assert [e.preferred_name for e in people.list_caseload(store, TODAY, search="recent").entries] == ["Seen Recently"]


def test_timeline_is_newest_first_with_addenda_counts(store: FieldStore, person: Person) -> None:
    old = notes.save_draft(store, complete_note(person.id, start=datetime(2026, 11, 1, 10)))
    notes.sign_note(store, old.id)
    notes.add_addendum(store, old.id, "later")
    notes.log_phone_contact(store, person.id, 5, "Quick call", ended_at=datetime(2026, 11, 20, 10))
    wrap.record_checkin(store, Checkin(person_id=person.id, safety=SafetyAnswer.NO, occurred_at=datetime(2026, 11, 10, 12)))
    timeline = people.person_timeline(store, person.id)
    assert [e.kind for e in timeline] == ["phone_quick", "checkin", "individual"]
    assert timeline[0].detail == "Quick call" and timeline[2].addenda == 1


def test_consents_round_trip(store: FieldStore, person: Person) -> None:
    consent = Consent(person_id=person.id, kind=ConsentKind.RELEASE, part2=True, recipient="County housing office", purpose="Housing application", signed_on=date(2026, 11, 1))
    consents.record_consent(store, consent)
    assert consents.list_consents(store, person.id) == [consent]


def test_only_the_newest_pending_version_of_a_note_or_person_is_sent(store: FieldStore, person: Person) -> None:
    from fieldpeer.store import outbox as outbox_module

    draft = notes.save_draft(store, complete_note(person.id))
    for text in ("second", "third"):
        draft = notes.save_draft(store, draft.model_copy(update={"narrative": Narrative(intervention=text, response="r", plan="p")}))
    notes.sign_note(store, draft.id)
    people.save_person(store, person.model_copy(update={"strengths": ["Kind"]}), expected_version=1)
    wrap.record_checkin(store, Checkin(person_id=person.id, safety=SafetyAnswer.NO))
    wrap.record_checkin(store, Checkin(person_id=person.id, safety=SafetyAnswer.NO))
    assert outbox_module.supersede_older_versions(store) == 4  # note v1-v3, person v1
    pending = [(e.record_type, e.record_version) for e in outbox(store) if e.state == "pending"]
    assert sorted(pending) == [("checkin", 1), ("checkin", 1), ("contact_note", 4), ("person", 2)]
    [note_item] = [i for i in outbox_module.next_batch(store, 10) if i.record_type == "contact_note"]
    assert note_item.record["status"] == "signed" and note_item.record["narrative"]["intervention"] == "third"
