"""Exports for the agency's records and billing. Each needs a stated purpose, is written to the
disclosure log, carries the 42 CFR Part 2 notice when a person's records are Part 2, and, when
it leaves the agency, needs the person's active consent to that recipient for that purpose.

Only co-signed notes leave: a note becomes an agency record when a supervisor co-signs it.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from fieldpeer import domain
from fieldpeer.agency.review import addenda_of, notes_in_state, signed_name
from fieldpeer.agency.service import Refused, log_access
from fieldpeer.agency.tables import Disclosure, Peer, Person, ReceivedRecord, Supervisor
from fieldpeer.config import service_catalog
from fieldpeer.domain import ConsentKind, ReviewState
from fieldpeer.records import utc_now
from fieldpeer.sync.wire import Refusal

# 42 CFR 2.32(a)(2): the short form of the notice that must accompany a Part 2 disclosure.
PART2_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
WITHIN_AGENCY = "agency records"  # the recipient for the agency's own use: no consent needed
BILLING_COLUMNS = ["date", "peer", "credentials", "person", "person_id", "service_code", "minutes", "units", "mode", "note_id", "part2"]


def _persons(session: Session) -> dict[str, dict[str, Any]]:
    return {p.id: json.loads(p.payload) for p in session.exec(select(Person)).all()}


def _minutes(note: dict[str, Any]) -> int:
    return int((datetime.fromisoformat(note["ends_at"]) - datetime.fromisoformat(note["starts_at"])).total_seconds() // 60)


# --- Billing ---------------------------------------------------------------------------


def billing_csv(session: Session, supervisor: Supervisor, start: date, end: date, purpose: str) -> str:
    """Co-signed notes between `start` and `end` (inclusive), units by the agency's configured rule
    (re-worked here, daily caps per person and code included: the server's count is the one billed)."""
    catalog = service_catalog()
    persons, peers = _persons(session), {p.id: p for p in session.exec(select(Peer)).all()}
    used: dict[tuple[str, str, str], int] = {}  # (person, day, code) -> units already billed
    rows, part2 = [], False
    for note, review in notes_in_state(session, ReviewState.COSIGNED):
        day = note["starts_at"][:10]
        if not (start.isoformat() <= day <= end.isoformat()):
            continue
        person = persons.get(note.get("person_id") or "", {})
        minutes, code = _minutes(note), note.get("service_code", "")
        service = catalog.get(code)
        key = (note.get("person_id") or "", day, code)
        units = domain.billable_units(minutes, service.rule, used.get(key, 0)) if service else 0
        used[key] = used.get(key, 0) + units
        peer = peers.get(review.peer_id)
        part2 = part2 or bool(person.get("part2"))
        rows.append([day, peer.name if peer else "", peer.credentials if peer else "", person.get("preferred_name", ""), note.get("person_id") or "",
                     code, minutes, units, note.get("mode") or "", note["id"], "yes" if person.get("part2") else "no"])
    out = io.StringIO()
    if part2:
        out.write(f"# {PART2_NOTICE}\n")
    writer = csv.writer(out)
    writer.writerow(BILLING_COLUMNS)
    writer.writerows(rows)
    session.add(Disclosure(supervisor_id=supervisor.id, kind="billing_csv", recipient=WITHIN_AGENCY, purpose=purpose, part2=part2, records=len(rows)))
    log_access(session, "export_billing", "ok", detail=f"supervisor:{supervisor.id} rows={len(rows)}")
    return out.getvalue()


# --- Consent ---------------------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def matching_consent(session: Session, person_id: str, recipient: str, purpose: str, today: date) -> dict[str, Any] | None:
    """An active release of information by this person to `recipient` for `purpose` (42 CFR 2.31)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in session.exec(select(ReceivedRecord).where(ReceivedRecord.record_type == "consent", ReceivedRecord.person_id == person_id).order_by(col(ReceivedRecord.version))).all():
        latest[row.record_id] = json.loads(row.payload)
    for consent in latest.values():
        active = date.fromisoformat(consent["signed_on"]) <= today and (
            consent.get("expires_on") is None or date.fromisoformat(consent["expires_on"]) >= today
        ) and (consent.get("revoked_on") is None or date.fromisoformat(consent["revoked_on"]) > today)
        if consent["kind"] == ConsentKind.RELEASE.value and active and _same(consent.get("recipient", ""), recipient) and _same(consent.get("purpose", ""), purpose):
            return consent
    return None


# --- FHIR R4 ---------------------------------------------------------------------------

PART2_LABEL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2", "display": "42 CFR Part2"}
MODE_CLASS = {  # v3 ActCode encounter classes
    "face_to_face": ("FLD", "field"), "telephone": ("VR", "virtual"), "video": ("VR", "virtual"),
    "text_social": ("VR", "virtual"), "email": ("VR", "virtual"),
}


@dataclass(frozen=True)
class FhirExport:
    bundle: dict[str, Any]
    part2: bool


def fhir_bundle(session: Session, supervisor: Supervisor, person_id: str, purpose: str, recipient: str, today: date | None = None) -> FhirExport:
    """A person's agency record as an HL7 FHIR R4 Bundle: Patient, an Encounter and a
    DocumentReference per co-signed note, a QuestionnaireResponse per check-in, the WRAP as a CarePlan."""
    today = today or utc_now().date()
    person_row = session.get(Person, person_id)
    if person_row is None:
        raise Refused(Refusal.NOT_FOUND, "There is no person with that id.", 404)
    person = json.loads(person_row.payload)
    consent = None
    if not _same(recipient, WITHIN_AGENCY):
        consent = matching_consent(session, person_id, recipient, purpose, today)
        if consent is None:
            log_access(session, "export_fhir", "refused", object_id=person_id, detail=f"supervisor:{supervisor.id} no_consent")
            session.add(Disclosure(supervisor_id=supervisor.id, kind="fhir_refused", person_id=person_id, recipient=recipient, purpose=purpose, part2=bool(person.get("part2"))))
            raise Refused(Refusal.CONSENT_REQUIRED, "No active consent from this person allows disclosing their records to that recipient for that purpose.", 403)
    part2 = bool(person.get("part2"))
    security = {"security": [PART2_LABEL]} if part2 else {}
    patient_ref = {"reference": f"Patient/{person_id}"}
    peers = {p.id: p for p in session.exec(select(Peer)).all()}
    reviewers = {s.id: s for s in session.exec(select(Supervisor)).all()}
    resources: list[dict[str, Any]] = [{"resourceType": "Patient", "id": person_id, "meta": security, "name": [{"text": person.get("preferred_name", "")}], "active": person.get("discharged_on") is None}]
    notes = notes_in_state(session, ReviewState.COSIGNED, person_id=person_id)
    for note, review in notes:
        peer, reviewer = peers.get(review.peer_id), reviewers.get(review.reviewer_id or "")
        code, display = MODE_CLASS.get(note.get("mode") or "", ("FLD", "field"))
        narrative = note.get("narrative", {})
        text = "\n\n".join(f"{label}: {narrative.get(key, '')}" for label, key in (("Goal", "goal"), ("Intervention", "intervention"), ("Response", "response"), ("Plan", "plan")))
        text += "".join(f"\n\nAddendum: {a}" for a in addenda_of(session, note["id"]))
        if part2:
            text = f"{PART2_NOTICE}\n\n{text}"
        encounter_id = f"enc-{note['id']}"
        resources.append({
            "resourceType": "Encounter", "id": encounter_id, "meta": security, "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code, "display": display},
            "type": [{"text": f"Peer support ({note.get('service_code', '')})"}], "subject": patient_ref,
            "period": {"start": _fhir_time(note["starts_at"]), "end": _fhir_time(note["ends_at"])},
            "participant": [{"individual": {"display": signed_name(peer)}}],
        })
        resources.append({
            "resourceType": "DocumentReference", "id": f"doc-{note['id']}", "meta": security, "status": "current", "docStatus": "final",
            "type": {"text": "Peer support progress note"}, "subject": patient_ref, "date": note.get("signed_at") or _fhir_time(note["ends_at"]),
            "author": [{"display": signed_name(peer)}],
            "authenticator": {"display": signed_name(reviewer)},
            "description": PART2_NOTICE if part2 else "Co-signed peer support progress note",
            "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": base64.b64encode(text.encode()).decode(), "title": "Progress note"}}],
            "context": {"encounter": [{"reference": f"Encounter/{encounter_id}"}]},
        })
    checkins = {r.record_id: json.loads(r.payload) for r in session.exec(select(ReceivedRecord).where(ReceivedRecord.record_type == "checkin", ReceivedRecord.person_id == person_id).order_by(col(ReceivedRecord.version))).all()}
    for checkin in checkins.values():
        answers = [("feeling", "How are you today?", checkin.get("feeling_today", "")), ("zone", "Which part of the plan applies?", checkin.get("zone", "")),
                   ("triggers", "Triggers present", ", ".join(checkin.get("triggers_present", []))), ("warning-signs", "Early warning signs present", ", ".join(checkin.get("warning_signs_present", []))),
                   ("safety", "Thinking about hurting yourself or someone else?", checkin.get("safety", ""))]
        resources.append({
            "resourceType": "QuestionnaireResponse", "id": f"checkin-{checkin['id']}", "meta": security, "status": "completed", "subject": patient_ref,
            "authored": _fhir_time(checkin["occurred_at"]),
            "item": [{"linkId": link, "text": question, "answer": [{"valueString": answer}]} for link, question, answer in answers if answer],
        })
    plan = max((json.loads(r.payload) for r in session.exec(select(ReceivedRecord).where(ReceivedRecord.record_type == "wrap_plan", ReceivedRecord.person_id == person_id)).all()), key=lambda p: p.get("version", 1), default=None)
    if plan:
        notes_text = [{"text": f"{section}: " + "; ".join([*content.get("items", []), *content.get("actions", [])])} for section, content in plan.get("sections", {}).items() if content.get("items") or content.get("actions")]
        resources.append({
            "resourceType": "CarePlan", "id": f"wrap-{plan['id']}", "meta": security, "status": "active", "intent": "plan",
            "title": "Wellness Recovery Action Plan (WRAP)", "subject": patient_ref, **({"note": notes_text} if notes_text else {}),
        })
    bundle = {
        "resourceType": "Bundle", "type": "collection", "timestamp": _fhir_time(utc_now().isoformat()), "meta": security,
        "entry": [{"fullUrl": f"urn:fieldpeer:{r['resourceType']}/{r['id']}", "resource": {k: v for k, v in r.items() if v != {}}} for r in resources],
    }
    if not security:
        bundle.pop("meta")
    session.add(Disclosure(supervisor_id=supervisor.id, kind="fhir_bundle", person_id=person_id, recipient=recipient, purpose=purpose, consent_id=consent["id"] if consent else None, part2=part2, records=len(notes)))
    log_access(session, "export_fhir", "ok", object_id=person_id, detail=f"supervisor:{supervisor.id} notes={len(notes)}")
    return FhirExport(bundle, part2)


def _fhir_time(value: str) -> str:
    """FHIR dateTime with a zone (required with a time): contact times are the agency's local
    wall-clock, so they get the server's local offset."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.astimezone()).isoformat(timespec="seconds")
