"""A misbehaving device (a stolen phone, a buggy app version, a dishonest user) holding real
keys tries to rewrite the agency's legal and billing record (issue #17). Every batch here is
sealed and signed with a real enrolled device's keys and pushed over HTTP to a real agency
server process, on SQLite and PostgreSQL. Each attack is refused with a reason the phone can
quarantine, nothing the agency holds changes, and the honest phone's later syncs still work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from fieldpeer.agency import review, service
from fieldpeer.agency.tables import Person as PersonRow
from fieldpeer.agency.tables import ReceivedRecord
from fieldpeer.domain import AlertState, ConsentKind, ContactMode, NoteStatus, OutreachOutcome, PeerRole, ReviewState, SafetyAnswer, ServiceCriterion, WrapSection
from fieldpeer.records import (
    Addendum,
    AlertStatus,
    Checkin,
    Consent,
    ContactNote,
    Deletion,
    Goal,
    Narrative,
    NoteFeedback,
    OutreachAttempt,
    PeerProfile,
    Person,
    Record,
    SafetyAlert,
    UnitsConfirmed,
    WrapPlan,
    WrapPlanSection,
    new_id,
    utc_now,
)
from fieldpeer.store import notes, outbox, people
from fieldpeer.sync.client import SyncClient
from fieldpeer.sync.sealing import seal
from fieldpeer.sync.wire import API, SEALED_MEDIA_TYPE, EntryResult, EntryStatus, PushBatch, PushEntry, push_context
from tests.conftest import complete_note
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin, enrolled, no_sleep

JAN = date(2026, 1, 5)


@dataclass
class Device:
    client: SyncClient

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.client.store


@dataclass
class Scene:
    """Peer A (two phones) with Quinn (Part 2) and Rowan; peer B (one phone) with Sky. A supervisor."""

    agency: AgencyProcess
    admin: Admin
    a: Device
    a2: Device
    b: Device
    quinn: str
    rowan: str
    sky: str
    rowan_goal: str
    supervisor_token: str
    calls: int = 0

    def push(self, device: Device, *items: Record | dict[str, Any]) -> list[EntryResult]:
        """What a device with real keys can send: any records, sealed and signed as the app does."""
        client = device.client
        entries = [PushEntry(entry_id=new_id(), record=i if isinstance(i, dict) else i.model_dump(mode="json")) for i in items]
        body = seal(PushBatch(batch_id=new_id(), entries=entries).model_dump_json().encode(), recipient_box=client.agency_box, sender=client.keys, context=push_context(client.device_id))
        response = httpx.post(f"{self.agency.url}{API}/push", headers={"Authorization": f"Bearer {client.token}", "Content-Type": SEALED_MEDIA_TYPE}, content=body, timeout=60)
        assert response.status_code == 200, response.text
        results = [EntryResult.model_validate(r) for r in response.json()["results"]]
        for result in results:  # codes and ids only, never what the record said
            assert "Reviewed" not in result.reason and "lease" not in result.reason and "rewritten" not in result.reason.lower()
        return results

    def held(self) -> list[tuple[Any, ...]]:
        """Everything the agency holds from devices and about persons, to prove nothing changed."""
        with self.admin.session() as db:
            received = sorted((r.record_type, r.record_id, r.version, r.peer_id, r.device_id, r.payload) for r in db.exec(select(ReceivedRecord)).all())
            persons = sorted((p.id, p.peer_id, p.version, p.payload) for p in db.exec(select(PersonRow)).all())
        return [*received, *persons]

    def supervisor(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.request(method, f"{self.agency.url}{API}{path}", headers={"Authorization": f"Bearer {self.supervisor_token}"}, json=body, timeout=60)

    def billing(self) -> str:
        response = self.supervisor("POST", "/exports/billing", {"start": "2026-01-01", "end": "2026-12-31", "purpose": "claims"})
        assert response.status_code == 200, response.text
        return response.text

    def still_syncs(self, device: Device, person_id: str) -> None:
        """The honest phone's next sync: sends its new work, quarantines nothing."""
        self.calls += 1
        call = notes.log_phone_contact(device.store, person_id, 10, "Honest follow-up call", ended_at=datetime(2026, 11, 25, 8) + timedelta(minutes=20 * self.calls))
        summary = device.client.sync()
        assert summary.ok and summary.sent == 1 and summary.quarantined == 0, summary
        assert [r for r in self.admin_received("contact_note") if r.record_id == call.id]

    def admin_received(self, record_type: str) -> list[ReceivedRecord]:
        return self.admin.received(record_type=record_type)


def rejected(results: list[EntryResult]) -> list[str]:
    assert all(r.status is EntryStatus.REJECTED for r in results), results
    return [r.reason for r in results]


@pytest.fixture
def scene(agency: AgencyProcess, tmp_path: Path) -> Scene:
    admin = Admin(agency.db_url)
    with admin.session() as db:
        peer_a = service.add_peer(db, "Pat Avery", PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS")
        peer_b = service.add_peer(db, "Blair Boone", PeerRole.RECOVERY_COACH, "CPRC")
        db.flush()
        rowan_goal = Goal(text="Find a part-time job")
        quinn = service.add_person(db, peer_a.id, Person(preferred_name="Quinn", part2=True, admitted_on=JAN, service_criterion=ServiceCriterion.A, goals=[Goal(id="g1", text="Keep my apartment")])).id
        rowan = service.add_person(db, peer_a.id, Person(preferred_name="Rowan", admitted_on=JAN, goals=[rowan_goal])).id
        sky = service.add_person(db, peer_b.id, Person(preferred_name="Sky", admitted_on=JAN)).id
        codes = [service.create_enrol_code(db, peer_a.id), service.create_enrol_code(db, peer_a.id), service.create_enrol_code(db, peer_b.id)]
        _, token = review.add_supervisor(db, "Dana Reyes", "LCSW")
        db.commit()
    devices = []
    for name, code in zip(("a", "a2", "b"), codes, strict=True):
        _, store = enrolled(agency, tmp_path, code, name)
        client = SyncClient(store, sleep=no_sleep)
        assert client.sync().ok  # the caseload
        devices.append(Device(client))
    return Scene(agency, admin, *devices, quinn=quinn, rowan=rowan, sky=sky, rowan_goal=rowan_goal.id, supervisor_token=token)


def signed_note(scene: Scene) -> ContactNote:
    """Peer A's honest phone signs a 40-minute note with Quinn and syncs it."""
    draft = notes.save_draft(scene.a.store, complete_note(scene.quinn, start=datetime(2026, 11, 24, 10, 0)))
    note = notes.sign_note(scene.a.store, draft.id)
    assert scene.a.client.sync().sent == 1
    return note


def rewritten(note: ContactNote, **changes: Any) -> ContactNote:
    """The tester's rewrite: other text, 09:00-17:00 (16 units instead of 3)."""
    values: dict[str, Any] = dict(
        narrative=Narrative(goal="rewritten", intervention="rewritten", response="rewritten", plan="rewritten"),
        starts_at=datetime(2026, 11, 24, 9, 0), ends_at=datetime(2026, 11, 24, 17, 0), units=32,
    )
    return note.model_copy(update={**values, **changes})


REWRITES = {
    "a draft after signing": (dict(status=NoteStatus.DRAFT, version=3, signed_at=None), "signed_note_is_final"),
    "signed again with new text": (dict(version=3), "signed_note_is_final"),
    "the same version with new text": (dict(), "version_conflict:2"),
    "an older version number": (dict(status=NoteStatus.DRAFT, version=1, signed_at=None), "signed_note_is_final"),
}


@pytest.mark.parametrize("how", sorted(REWRITES))
def test_a_signed_note_is_never_rewritten(scene: Scene, how: str) -> None:
    note = signed_note(scene)
    before = scene.held()
    changes, reason = REWRITES[how]
    assert rejected(scene.push(scene.a, rewritten(note, **changes))) == [reason]
    assert rejected(scene.push(scene.a, Deletion(deleted_type="contact_note", deleted_id=note.id))) == ["signed_note_is_final"]
    assert scene.held() == before
    [stored] = [r for r in scene.admin_received("contact_note") if r.record_id == note.id]
    assert "Reviewed the lease together." in stored.payload and "rewritten" not in stored.payload
    scene.still_syncs(scene.a, scene.quinn)


def test_a_cosigned_note_changes_in_nothing_billing_and_fhir_included(scene: Scene) -> None:
    note = signed_note(scene)
    assert scene.supervisor("POST", f"/review/notes/{note.id}/cosign").status_code == 200
    billing = scene.billing()
    assert note.id in billing and ",40," in billing  # 40 minutes
    fhir = scene.supervisor("POST", "/exports/fhir", {"person_id": scene.quinn, "purpose": "audit", "recipient": "agency records"})
    before = scene.held()
    attempts = [
        rewritten(note, status=NoteStatus.DRAFT, version=3, signed_at=None),
        rewritten(note, version=4),
        rewritten(note, version=2**31 - 1),
        note.model_copy(update={"version": 3}),  # even with the same content
        Deletion(deleted_type="contact_note", deleted_id=note.id),
    ]
    assert set(rejected(scene.push(scene.a, *attempts))) == {"signed_note_is_final"}
    assert scene.held() == before
    assert scene.billing() == billing  # still 3 units, not 32
    again = scene.supervisor("POST", "/exports/fhir", {"person_id": scene.quinn, "purpose": "audit", "recipient": "agency records"})
    assert "rewritten" not in again.text and [e["resource"]["id"] for e in again.json()["entry"]] == [e["resource"]["id"] for e in fhir.json()["entry"]]
    notes.add_addendum(scene.a.store, note.id, "Landlord called back.")  # corrections are addenda
    assert scene.a.client.sync().sent == 1
    scene.still_syncs(scene.a, scene.quinn)


def test_another_peer_cannot_take_over_a_record_id(scene: Scene) -> None:
    note = signed_note(scene)
    addendum = notes.add_addendum(scene.a.store, note.id, "Housing form sent.")
    draft = notes.save_draft(scene.a.store, complete_note(scene.rowan, start=datetime(2026, 11, 23, 10), goal_ids=[scene.rowan_goal]))
    checkin = Checkin(person_id=scene.quinn, safety=SafetyAnswer.NO, feeling_today="steady")
    consent = Consent(person_id=scene.quinn, kind=ConsentKind.RELEASE, recipient="Housing office", purpose="housing", signed_on=date(2026, 11, 1))
    assert scene.a.client.sync().sent == 2
    assert {r.status for r in scene.push(scene.a, checkin, consent)} == {EntryStatus.STORED}
    before = scene.held()
    # Not even A's own phone may move A's consent to another person.
    assert rejected(scene.push(scene.a, consent.model_copy(update={"person_id": scene.rowan, "version": 2}))) == ["person_changed"]

    # Peer B's phone, B's own person, A's ids.
    takeovers = [
        complete_note(scene.sky, id=note.id, version=3, status=NoteStatus.SIGNED, goal_ids=[]),
        complete_note(scene.sky, id=draft.id, version=2, goal_ids=[]),
        Addendum(id=addendum.id, note_id=note.id, text="B's words"),
        Checkin(id=checkin.id, person_id=scene.sky, safety=SafetyAnswer.NO),
        Consent(id=consent.id, person_id=scene.sky, kind=ConsentKind.RELEASE, recipient="Anyone", purpose="any", signed_on=date(2026, 11, 1), version=2),
        Deletion(deleted_type="contact_note", deleted_id=draft.id),
    ]
    assert rejected(scene.push(scene.b, *takeovers)) == ["not_your_record"] * len(takeovers)
    # ... or A's ids with A's persons: the caseload refuses first.
    assert rejected(scene.push(scene.b, complete_note(scene.quinn, id=note.id, version=3))) == [f"not_your_caseload:{scene.quinn}"]
    # An addendum of B's own on A's note: B cannot even learn that the note exists.
    assert rejected(scene.push(scene.b, Addendum(note_id=note.id, text="B's words"))) == ["unknown_note"]
    assert scene.held() == before

    notes.add_addendum(scene.a.store, note.id, "Second addendum.")  # A's next addendum is not refused
    assert scene.a.client.sync().sent == 1
    assert "B's words" not in json.dumps([r.payload for r in scene.admin_received("addendum")])
    scene.still_syncs(scene.a, scene.quinn)
    scene.still_syncs(scene.b, scene.sky)


def test_a_second_phone_of_the_same_peer_cannot_write_the_first_phones_records(scene: Scene) -> None:
    """The strict reading (SECURITY.md): a record id belongs to the peer *and device* that first wrote
    it. Phones never pull notes, so no honest flow writes another phone's note; an addendum is a
    record of its own, and any phone of the note's peer may add one."""
    note = signed_note(scene)
    draft = notes.save_draft(scene.a.store, complete_note(scene.rowan, start=datetime(2026, 11, 23, 10), goal_ids=[scene.rowan_goal]))
    assert scene.a.client.sync().sent == 1
    before = scene.held()
    attempts = [
        draft.model_copy(update={"version": 2, "narrative": Narrative(intervention="rewritten")}),
        draft.model_copy(update={"version": 2, "status": NoteStatus.SIGNED, "signed_at": utc_now()}),
        Deletion(deleted_type="contact_note", deleted_id=draft.id),
    ]
    assert rejected(scene.push(scene.a2, *attempts)) == ["written_by_another_device"] * 3
    assert scene.held() == before
    [amended] = scene.push(scene.a2, Addendum(note_id=note.id, text="Added from the spare phone."))
    assert amended.status is EntryStatus.STORED
    scene.still_syncs(scene.a, scene.quinn)


def test_a_device_cannot_change_what_the_agency_owns_about_a_person(scene: Scene) -> None:
    phone = scene.a
    person = people.get_person(phone.store, scene.quinn)
    assert person.part2 and person.service_criterion is ServiceCriterion.A
    # A buggy build lets the peer clear Part 2, move the admission and discharge Quinn.
    edited = person.model_copy(update={
        "preferred_name": "Quinn R.", "strengths": ["Funny"], "part2": False, "admitted_on": date(2025, 1, 1),
        "service_criterion": ServiceCriterion.B, "discharged_on": date(2026, 11, 20), "plan_reviewed_on": date(2026, 11, 20),
    })
    people.save_person(phone.store, edited, expected_version=person.version)
    summary = phone.client.sync()  # push, then pull: the agency's values come back
    assert summary.ok and summary.sent == 1 and summary.quarantined == 0
    with scene.admin.session() as db:
        row = db.get(PersonRow, scene.quinn)
        assert row is not None and row.peer_id != ""
        agency = Person.model_validate_json(row.payload)
    assert agency.part2 and agency.admitted_on == JAN and agency.service_criterion is ServiceCriterion.A and agency.discharged_on is None
    assert agency.preferred_name == "Quinn R." and agency.strengths == ["Funny"] and agency.plan_reviewed_on == date(2026, 11, 20)  # the peer's fields
    on_phone = people.get_person(phone.store, scene.quinn)
    assert on_phone.part2 and on_phone.admitted_on == JAN and on_phone.discharged_on is None and on_phone.preferred_name == "Quinn R."
    # The redisclosure notice stays on the export.
    fhir = scene.supervisor("POST", "/exports/fhir", {"person_id": scene.quinn, "purpose": "audit", "recipient": "agency records"})
    assert fhir.status_code == 200 and fhir.headers.get("x-redisclosure-notice")

    # The receipt says what was kept, by field name only.
    [result] = scene.push(phone, on_phone.model_copy(update={"version": on_phone.version + 1, "part2": False}))
    assert (result.status, result.reason) == (EntryStatus.STORED, "agency_fields_kept:part2")
    before = scene.held()
    # Assignment: another peer's phone cannot take Quinn, nor edit them.
    assert rejected(scene.push(scene.b, on_phone.model_copy(update={"version": 50, "part2": False}))) == [f"not_your_caseload:{scene.quinn}"]
    # Going back a version is stale.
    assert rejected(scene.push(phone, on_phone.model_copy(update={"version": 1, "preferred_name": "Old"})))[0].startswith("stale_version")
    assert scene.held() == before
    scene.still_syncs(phone, scene.quinn)


def test_references_stay_within_one_peer_and_one_person(scene: Scene) -> None:
    a, b = scene.a, scene.b
    quinn_checkin = Checkin(person_id=scene.quinn, safety=SafetyAnswer.YES, feeling_today="not great")
    assert [r.status for r in scene.push(a, quinn_checkin)] == [EntryStatus.STORED]
    plan_b = WrapPlan(person_id=scene.sky, sections={WrapSection.TRIGGERS: WrapPlanSection(items=["noise"])})
    assert [r.status for r in scene.push(b, plan_b)] == [EntryStatus.STORED]
    draft = notes.save_draft(a.store, complete_note(scene.quinn, start=datetime(2026, 11, 23, 10)))
    assert a.client.sync().sent == 1
    before = scene.held()
    assert rejected(scene.push(a, SafetyAlert(checkin_id=quinn_checkin.id, person_id=scene.rowan))) == ["foreign_reference:checkin"]  # Quinn's words under Rowan
    assert rejected(scene.push(b, SafetyAlert(checkin_id=quinn_checkin.id, person_id=scene.sky))) == ["foreign_reference:checkin"]  # another peer's check-in
    assert rejected(scene.push(a, Checkin(person_id=scene.quinn, wrap_plan_id=plan_b.id, safety=SafetyAnswer.NO))) == ["foreign_reference:wrap_plan"]
    assert rejected(scene.push(a, complete_note(scene.quinn, goal_ids=[scene.rowan_goal]))) == [f"foreign_reference:goal:{scene.rowan_goal}"]
    assert rejected(scene.push(a, Addendum(note_id=draft.id, text="on a draft"))) == ["note_not_signed"]
    assert scene.held() == before

    # An alert raised before its check-in is saved: accepted for the peer's person; the check-in that
    # arrives later must be that person's, from that peer.
    later = Checkin(person_id=scene.quinn, safety=SafetyAnswer.UNSURE, feeling_today="scared")
    assert [r.status for r in scene.push(a, SafetyAlert(checkin_id=later.id, person_id=scene.quinn, safety=SafetyAnswer.UNSURE))] == [EntryStatus.STORED]
    assert rejected(scene.push(a, later.model_copy(update={"person_id": scene.rowan}))) == ["foreign_reference:safety_alert"]
    assert rejected(scene.push(b, later.model_copy(update={"person_id": scene.sky}))) == ["foreign_reference:safety_alert"]
    assert [r.status for r in scene.push(a, later)] == [EntryStatus.STORED]
    # An alert whose check-in never comes is still an alert, under the right person.
    assert [r.status for r in scene.push(a, SafetyAlert(checkin_id=new_id(), person_id=scene.rowan))] == [EntryStatus.STORED]
    queue = scene.supervisor("GET", "/review/queue").json()
    assert sorted(alert["person_name"] for alert in queue["alerts"]) == ["Quinn", "Rowan"]
    scene.still_syncs(a, scene.quinn)


def test_only_what_phones_write_can_be_pushed(scene: Scene) -> None:
    a = scene.a
    note = signed_note(scene)
    before = scene.held()
    agency_only = [
        NoteFeedback(id=note.id, state=ReviewState.COSIGNED, reviewer="Dana Reyes, LCSW", reviewed_at=utc_now(), version=9),
        AlertStatus(id=new_id(), person_id=scene.quinn, state=AlertState.CLOSED, by="Me", at=utc_now()),
        UnitsConfirmed(id=note.id, units=16, version=9),
        PeerProfile(name="Pat Avery", role=PeerRole.PEER_SUPPORT_SPECIALIST, credentials="LCSW"),
    ]
    assert rejected(scene.push(a, *agency_only)) == [f"not_pushable:{r.record_type}" for r in agency_only]
    assert scene.held() == before
    # Outreach attempts: pushable, for the peer's own caseload, never with units.
    attempt = OutreachAttempt(person_id=scene.quinn, outcome=OutreachOutcome.NO_ANSWER, mode=ContactMode.TELEPHONE)
    assert [r.status for r in scene.push(a, attempt)] == [EntryStatus.STORED]
    assert rejected(scene.push(a, OutreachAttempt(person_id=scene.sky, outcome=OutreachOutcome.LEFT_MESSAGE))) == [f"not_your_caseload:{scene.sky}"]
    with_units = {**OutreachAttempt(person_id=scene.quinn, outcome=OutreachOutcome.NO_ANSWER).model_dump(mode="json"), "units": 4}
    [reason] = rejected(scene.push(a, with_units))
    assert reason.startswith("invalid:") and "units" in reason
    assert rejected(scene.push(a, Deletion(deleted_type="checkin", deleted_id=new_id()))) == ["not_deletable:checkin"]
    scene.still_syncs(a, scene.quinn)


def test_a_refusal_reaches_the_phone_as_a_quarantined_item(scene: Scene) -> None:
    """Through the app's own sync client: the refused record waits in quarantine with its reason,
    the rest of the queue goes through."""
    phone = scene.a
    person = people.get_person(phone.store, scene.rowan)
    people.save_person(phone.store, person.model_copy(update={"preferred_name": "Rowan T."}), expected_version=person.version)
    with scene.admin.session() as db:  # meanwhile the agency updated Rowan (a newer version)
        row = db.get(PersonRow, scene.rowan)
        assert row is not None
        row.version, row.payload = 5, Person.model_validate_json(row.payload).model_copy(update={"version": 5}).model_dump_json()
        db.add(row)
        db.commit()
    call = notes.log_phone_contact(phone.store, scene.quinn, 10, "Call", ended_at=datetime(2026, 11, 25, 9))
    summary = phone.client.sync()
    assert summary.quarantined == 1 and summary.sent == 1
    [item] = outbox.quarantined(phone.store)
    assert item.record_id == scene.rowan and item.reason.startswith("stale_version")
    assert [r for r in scene.admin_received("contact_note") if r.record_id == call.id]
