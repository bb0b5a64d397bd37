"""Exports for the agency's records and billing. Each needs a stated purpose, is written to the
disclosure log, carries the 42 CFR Part 2 notice when a person's records are Part 2, and, when
it leaves the agency, needs the person's active consent to that recipient for that purpose.

Only co-signed notes leave: a note becomes an agency record when a supervisor co-signs it.
Units are the agency's one figure per note (units.py), the same the queue and the phone show.
FHIR resources are built with the fhir.resources (R4B) models, so a malformed one fails here.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.chargeitem import ChargeItem
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.documentreference import DocumentReference, DocumentReferenceContent, DocumentReferenceContext
from fhir.resources.R4B.encounter import Encounter, EncounterParticipant
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse, QuestionnaireResponseItem, QuestionnaireResponseItemAnswer
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from sqlmodel import Session, col, select

from fieldpeer.agency import stored
from fieldpeer.agency.review import addenda_for, notes_in_state, signed_name, visible_peer_ids
from fieldpeer.agency.service import Refused, log_access
from fieldpeer.agency.tables import Disclosure, Peer, ReceivedRecord, Supervisor
from fieldpeer.agency.tables import Person as PersonRow
from fieldpeer.domain import ConsentKind, ContactMode, ReviewState
from fieldpeer.records import Checkin, Consent, WrapPlan, utc_now
from fieldpeer.sync.wire import Refusal

# 42 CFR 2.32(a)(2): the short form of the notice that must accompany a Part 2 disclosure.
PART2_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
WITHIN_AGENCY = "agency records"  # the recipient for the agency's own use: no consent needed
# A spreadsheet opening the CSV runs a cell starting with one of these as a formula (OWASP CSV
# injection; the full-width forms too, which some locales accept). Peers' and persons' names are typed
# by people, so such a cell gets a leading apostrophe: shown as text, never run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BILLING_COLUMNS = ["date", "peer", "credentials", "person", "person_id", "service_code", "minutes", "units", "mode", "note_id", "part2"]


# --- Billing ---------------------------------------------------------------------------


def billing_csv(session: Session, supervisor: Supervisor, start: date, end: date, purpose: str) -> str:
    """Co-signed notes between `start` and `end` (inclusive), one row each, with the agency's
    units for the note. Outreach attempts are not contacts: they never appear here."""
    notes = notes_in_state(session, ReviewState.COSIGNED, days=(start, end))
    if (visible := visible_peer_ids(session, supervisor)) is not None:  # a team's supervisor exports their teams' peers only
        notes = [r for r in notes if r.review.peer_id in visible]
    persons = stored.persons(session, {r.note.person_id for r in notes if r.note.person_id})
    peers = {p.id: p for p in session.exec(select(Peer)).all()}
    rows, part2 = [], False
    for r in notes:
        person = persons.get(r.note.person_id or "")
        peer = peers.get(r.review.peer_id)
        part2 = part2 or bool(person and person.part2)
        rows.append([r.note.starts_at.date().isoformat(), peer.name if peer else "", peer.credentials if peer else "", person.preferred_name if person else "",
                     r.note.person_id or "", r.note.service_code, r.note.minutes, r.units, r.note.mode.value if r.note.mode else "", r.note.id,
                     "yes" if person and person.part2 else "no"])
    out = io.StringIO()
    if part2:
        out.write(f"# {PART2_NOTICE}\n")
    writer = csv.writer(out)
    writer.writerow(BILLING_COLUMNS)
    writer.writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])
    session.add(Disclosure(supervisor_id=supervisor.id, kind="billing_csv", recipient=WITHIN_AGENCY, purpose=purpose, part2=part2, records=len(rows)))
    log_access(session, "export_billing", "ok", detail=f"supervisor:{supervisor.id} rows={len(rows)}")
    return out.getvalue()


def spreadsheet_safe(cell: object) -> object:
    """The cell as a spreadsheet must read it: text that would start a formula is neutralised
    with a leading apostrophe; numbers stay numbers."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


# --- Consent ---------------------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _active(consent: Consent, today: date) -> bool:
    return consent.signed_on <= today and (consent.expires_on is None or consent.expires_on >= today) and (consent.revoked_on is None or consent.revoked_on > today)


def matching_consent(session: Session, person_id: str, recipient: str, purpose: str, today: date) -> Consent | None:
    """An active release of information by this person to `recipient` for `purpose` (42 CFR 2.31)."""
    latest: dict[str, Consent] = {}
    for payload in session.exec(
        select(ReceivedRecord.payload).where(ReceivedRecord.record_type == "consent", ReceivedRecord.person_id == person_id).order_by(col(ReceivedRecord.version))
    ).all():
        consent = stored.read(Consent, payload)
        latest[consent.id] = consent
    return next(
        (c for c in latest.values() if c.kind is ConsentKind.RELEASE and _active(c, today) and _same(c.recipient, recipient) and _same(c.purpose, purpose)),
        None,
    )


# --- FHIR R4 ---------------------------------------------------------------------------

ACT_CODES = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
PART2_LABEL = Coding(system=ACT_CODES, code="42CFRPart2", display="42 CFR Part2")
MODE_CLASS = {  # v3 ActCode encounter classes
    ContactMode.FACE_TO_FACE: ("FLD", "field"), ContactMode.TELEPHONE: ("VR", "virtual"), ContactMode.VIDEO: ("VR", "virtual"),
    ContactMode.TEXT_SOCIAL: ("VR", "virtual"), ContactMode.EMAIL: ("VR", "virtual"),
}
CHECKIN_QUESTIONS = (
    ("feeling", "How are you today?"), ("zone", "Which part of the plan applies?"), ("triggers", "Triggers present"),
    ("warning-signs", "Early warning signs present"), ("safety", "Thinking about hurting yourself or someone else?"),
)


@dataclass(frozen=True)
class FhirExport:
    bundle: dict[str, Any]
    part2: bool


def fhir_bundle(session: Session, supervisor: Supervisor, person_id: str, purpose: str, recipient: str, today: date | None = None) -> FhirExport:
    """A person's agency record as an HL7 FHIR R4 Bundle: Patient; per co-signed note an Encounter,
    a DocumentReference (the note and its addenda) and a ChargeItem (the agency's units); a
    QuestionnaireResponse per check-in; the newest WRAP as a CarePlan."""
    today = today or utc_now().date()
    person = stored.persons(session, {person_id}).get(person_id)
    served_by = session.get(PersonRow, person_id)
    if person is None or served_by is None or (visible := visible_peer_ids(session, supervisor)) is not None and served_by.peer_id not in visible:
        log_access(session, "export_fhir", "refused", object_id=person_id, detail=f"supervisor:{supervisor.id} not_found_or_out_of_team")
        raise Refused(Refusal.NOT_FOUND, "There is no person with that id.", 404)
    consent = None
    if not _same(recipient, WITHIN_AGENCY):
        consent = matching_consent(session, person_id, recipient, purpose, today)
        if consent is None:
            log_access(session, "export_fhir", "refused", object_id=person_id, detail=f"supervisor:{supervisor.id} no_consent")
            session.add(Disclosure(supervisor_id=supervisor.id, kind="fhir_refused", person_id=person_id, recipient=recipient, purpose=purpose, part2=person.part2))
            raise Refused(Refusal.CONSENT_REQUIRED, "No active consent from this person allows disclosing their records to that recipient for that purpose.", 403)
    meta = Meta(security=[PART2_LABEL]) if person.part2 else None
    patient = Reference(reference=f"Patient/{person_id}")
    peers = {p.id: p for p in session.exec(select(Peer)).all()}
    reviewers = {s.id: s for s in session.exec(select(Supervisor)).all()}
    resources: list[Resource] = [Patient(id=person_id, meta=meta, name=[HumanName(text=person.preferred_name)], active=person.discharged_on is None)]
    notes = notes_in_state(session, ReviewState.COSIGNED, person_id=person_id)
    addenda = addenda_for(session, [r.note.id for r in notes])
    for r in notes:
        note, peer, reviewer = r.note, peers.get(r.review.peer_id), reviewers.get(r.review.reviewer_id or "")
        code, display = MODE_CLASS.get(note.mode, ("FLD", "field")) if note.mode else ("FLD", "field")
        story = note.narrative
        text = "\n\n".join(f"{label}: {value}" for label, value in (("Goal", story.goal), ("Intervention", story.intervention), ("Response", story.response), ("Plan", story.plan)))
        text += "".join(f"\n\nAddendum: {a.text}" for a in addenda.get(note.id, []))
        if person.part2:
            text = f"{PART2_NOTICE}\n\n{text}"
        encounter = Reference(reference=f"Encounter/enc-{note.id}")
        service = CodeableConcept(coding=[Coding(system=HCPCS, code=note.service_code)], text=f"Peer support ({note.service_code})") if note.service_code else CodeableConcept(text="Peer support")
        resources += [
            Encounter(
                id=f"enc-{note.id}", meta=meta, status="finished", class_fhir=Coding(system=ACT_CODES, code=code, display=display), type=[service], subject=patient,
                period=Period(start=_fhir_time(note.starts_at), end=_fhir_time(note.ends_at)), participant=[EncounterParticipant(individual=Reference(display=signed_name(peer)))],
            ),
            DocumentReference(
                id=f"doc-{note.id}", meta=meta, status="current", docStatus="final", type=CodeableConcept(text="Peer support progress note"), subject=patient,
                date=_fhir_time(note.signed_at or note.ends_at), author=[Reference(display=signed_name(peer))], authenticator=Reference(display=signed_name(reviewer)),
                description=PART2_NOTICE if person.part2 else "Co-signed peer support progress note",
                content=[DocumentReferenceContent(attachment=Attachment(contentType="text/plain; charset=utf-8", data=base64.b64encode(text.encode()), title="Progress note"))],
                context=DocumentReferenceContext(encounter=[encounter]),
            ),
            ChargeItem(  # the billable units: the agency's figure, as in the billing CSV
                id=f"charge-{note.id}", meta=meta, status="billable", code=service, subject=patient, context=encounter,
                occurrenceDateTime=_fhir_time(note.starts_at), quantity=Quantity(value=r.units, unit="unit"),
            ),
        ]
    checkins = stored.latest(session, Checkin, list(session.exec(select(ReceivedRecord.record_id).where(ReceivedRecord.record_type == "checkin", ReceivedRecord.person_id == person_id)).all()))
    for checkin in sorted(checkins.values(), key=lambda c: c.occurred_at):
        answers = (checkin.feeling_today, checkin.zone.label, ", ".join(checkin.triggers_present), ", ".join(checkin.warning_signs_present), checkin.safety.label)
        resources.append(QuestionnaireResponse(
            id=f"checkin-{checkin.id}", meta=meta, status="completed", subject=patient, authored=_fhir_time(checkin.occurred_at),
            item=[QuestionnaireResponseItem(linkId=link, text=question, answer=[QuestionnaireResponseItemAnswer(valueString=answer)])
                  for (link, question), answer in zip(CHECKIN_QUESTIONS, answers, strict=True) if answer],
        ))
    plans = stored.latest(session, WrapPlan, list(session.exec(select(ReceivedRecord.record_id).where(ReceivedRecord.record_type == "wrap_plan", ReceivedRecord.person_id == person_id)).all()))
    plan = max(plans.values(), key=lambda p: p.version, default=None)
    if plan:
        sections = [f"{which.label}: " + "; ".join([*content.items, *content.actions]) for which, content in plan.sections.items() if content.items or content.actions]
        resources.append(CarePlan(
            id=f"wrap-{plan.id}", meta=meta, status="active", intent="plan", title="Wellness Recovery Action Plan (WRAP)", subject=patient,
            note=[{"text": s} for s in sections] or None,
        ))
    bundle = Bundle(
        type="collection", timestamp=_fhir_time(utc_now()), meta=meta,
        entry=[BundleEntry(fullUrl=f"urn:fieldpeer:{r.get_resource_type()}/{r.id}", resource=r) for r in resources],
    )
    session.add(Disclosure(
        supervisor_id=supervisor.id, kind="fhir_bundle", person_id=person_id, recipient=recipient, purpose=purpose,
        consent_id=consent.id if consent else None, part2=person.part2, records=len(notes),
    ))
    log_access(session, "export_fhir", "ok", object_id=person_id, detail=f"supervisor:{supervisor.id} notes={len(notes)}")
    return FhirExport(bundle.model_dump(mode="json"), person.part2)


def _fhir_time(moment: datetime) -> str:
    """FHIR dateTime with a zone (required with a time): contact times are the agency's local
    wall-clock, so they get the server's local offset."""
    return (moment if moment.tzinfo else moment.astimezone()).isoformat(timespec="seconds")
