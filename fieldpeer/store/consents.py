"""Consents: to peer services, and to release information to a named party (42 CFR 2.31 elements)."""

from __future__ import annotations

from sqlmodel import col, select

from fieldpeer.domain import DraftKind
from fieldpeer.records import Consent
from fieldpeer.store.drafts import drop_form_draft
from fieldpeer.store.people import load_person_row
from fieldpeer.store.tables import ConsentRow
from fieldpeer.store.unit_of_work import FieldStore

TERMS = {"discloser", "recipient", "information", "purpose"}


def record_consent(store: FieldStore, consent: Consent) -> Consent:
    """Save a consent (and forget its form draft)."""
    with store.unit() as unit:
        load_person_row(unit, consent.person_id)
        terms = consent.model_dump(include=TERMS)
        unit.session.merge(
            ConsentRow(
                id=consent.id,
                person_id=consent.person_id,
                kind=consent.kind.value,
                part2=consent.part2,
                terms_enc=unit.cipher.encrypt_json("consent", consent.id, "terms", terms),
                signed_on=consent.signed_on,
                expires_on=consent.expires_on,
                revoked_on=consent.revoked_on,
                version=consent.version,
            )
        )
        for key in (consent.id, ""):  # the form may have kept its draft before it had an id
            drop_form_draft(unit, DraftKind.CONSENT, consent.person_id, key)
        unit.changed("consent", consent)
    return consent


def list_consents(store: FieldStore, person_id: str) -> list[Consent]:
    with store.unit() as unit:
        rows = unit.session.exec(select(ConsentRow).where(ConsentRow.person_id == person_id).order_by(col(ConsentRow.signed_on))).all()
        return [
            Consent(
                id=r.id, person_id=r.person_id, kind=r.kind, part2=r.part2, signed_on=r.signed_on,
                expires_on=r.expires_on, revoked_on=r.revoked_on, version=r.version,
                **unit.cipher.decrypt_json("consent", r.id, "terms", r.terms_enc),
            )
            for r in rows
        ]
