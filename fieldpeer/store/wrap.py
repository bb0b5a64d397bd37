"""WRAP plans (every save is a new version) and pre-crisis check-ins with safety escalation."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select

from fieldpeer import domain
from fieldpeer.domain import DraftKind, Escalation, SafetyAnswer
from fieldpeer.records import Checkin, SafetyAlert, WrapPlan, as_utc, new_id
from fieldpeer.store.crypto import FieldCipher
from fieldpeer.store.drafts import drop_form_draft
from fieldpeer.store.people import NotFound, StaleWrite, load_person_row
from fieldpeer.store.tables import CheckinRow, SafetyAlertRow, WrapPlanRow
from fieldpeer.store.unit_of_work import NORMAL, URGENT, FieldStore, Unit

CHECKIN_ANSWERS = {"feeling_today", "triggers_present", "warning_signs_present", "actions_chosen", "supporters_contacted", "notes"}
PLAN_CONTENT = {"sections", "crisis_plan"}


def _row_to_plan(cipher: FieldCipher, row: WrapPlanRow) -> WrapPlan:
    content = cipher.decrypt_json("wrap_plan", row.id, "content", row.content_enc)
    return WrapPlan(id=row.id, person_id=row.person_id, version=row.version, saved_at=as_utc(row.saved_at), **content)


def get_wrap_plan(store: FieldStore, person_id: str, version: int | None = None) -> WrapPlan | None:
    """The person's current plan (or a given version); None when they have none yet."""
    with store.unit() as unit:
        load_person_row(unit, person_id)
        query = select(WrapPlanRow).where(WrapPlanRow.person_id == person_id)
        if version is not None:
            query = query.where(WrapPlanRow.version == version)
        row = unit.session.exec(query.order_by(col(WrapPlanRow.version).desc()).limit(1)).first()
        return _row_to_plan(unit.cipher, row) if row else None


def save_wrap_plan(store: FieldStore, plan: WrapPlan, *, based_on_version: int | None) -> WrapPlan:
    """Save edits as a new version (and forget the WRAP form draft). `based_on_version` is the version
    the edit started from (None for a first plan); if someone saved in between, the edit is refused, not merged."""
    with store.unit() as unit:
        load_person_row(unit, plan.person_id)
        latest = unit.session.exec(select(func.max(WrapPlanRow.version)).where(WrapPlanRow.person_id == plan.person_id)).one()
        if latest != based_on_version:
            raise StaleWrite("This plan was changed since you opened it. Reopen it to see the newest version.")
        saved = plan.model_copy(update={"id": new_id(), "version": (latest or 0) + 1, "saved_at": unit.now})
        unit.session.add(_plan_to_row(unit.cipher, saved))
        drop_form_draft(unit, DraftKind.WRAP, plan.person_id)
        unit.changed("save_plan", saved)
    return saved


def receive_wrap_plan(unit: Unit, plan: WrapPlan) -> None:
    """Store a plan version the agency sent (pull); it is not queued back to the agency."""
    load_person_row(unit, plan.person_id)
    if unit.session.get(WrapPlanRow, plan.id) is None:
        unit.session.add(_plan_to_row(unit.cipher, plan))
        unit.audit("received", "wrap_plan", plan.id)


def _plan_to_row(cipher: FieldCipher, plan: WrapPlan) -> WrapPlanRow:
    content = plan.model_dump(mode="json", include=PLAN_CONTENT)
    return WrapPlanRow(
        id=plan.id,
        person_id=plan.person_id,
        version=plan.version,
        content_enc=cipher.encrypt_json("wrap_plan", plan.id, "content", content),
        saved_at=plan.saved_at,
    )


def _alert_in_unit(unit: Unit, person_id: str, checkin_id: str, answer: SafetyAnswer) -> SafetyAlert | None:
    """The check-in's alert, raising it (queued urgent) the first time the answer is not a clear no.
    Once raised it stays raised: changing the answer afterwards does not withdraw it."""
    row = unit.session.exec(select(SafetyAlertRow).where(SafetyAlertRow.checkin_id == checkin_id)).first()
    if row is not None:
        return SafetyAlert(id=row.id, checkin_id=row.checkin_id, person_id=row.person_id, safety=SafetyAnswer(row.safety), raised_at=as_utc(row.raised_at))
    if domain.escalation_for(answer, domain.Zone.WELL) is not Escalation.URGENT:
        return None
    load_person_row(unit, person_id)
    alert = SafetyAlert(checkin_id=checkin_id, person_id=person_id, safety=answer, raised_at=unit.now)
    unit.session.add(SafetyAlertRow(id=alert.id, checkin_id=checkin_id, person_id=person_id, safety=answer.value, raised_at=alert.raised_at))
    unit.changed("safety_alert", alert, priority=URGENT)
    return alert


def raise_safety_alert(store: FieldStore, person_id: str, checkin_id: str, answer: SafetyAnswer) -> SafetyAlert | None:
    """Call the moment a safety answer is chosen, before the check-in is saved: "yes" or "not sure"
    raises the urgent alert (synced first) so Back, a dead battery or an interruption cannot silence
    it. Idempotent per check-in id: choosing yes, then not sure, then yes raises one alert, and
    saving the check-in later reuses it. Returns the check-in's alert, or None (a clear no, none raised)."""
    with store.unit() as unit:
        return _alert_in_unit(unit, person_id, checkin_id, answer)


def alert_for_checkin(store: FieldStore, checkin_id: str) -> SafetyAlert | None:
    """The alert already raised for this check-in id, if any (the form reopened from a draft)."""
    with store.unit() as unit:
        row = unit.session.exec(select(SafetyAlertRow).where(SafetyAlertRow.checkin_id == checkin_id)).first()
        if row is None:
            return None
        return SafetyAlert(id=row.id, checkin_id=row.checkin_id, person_id=row.person_id, safety=SafetyAnswer(row.safety), raised_at=as_utc(row.raised_at))


def record_checkin(store: FieldStore, checkin: Checkin) -> tuple[Checkin, SafetyAlert | None]:
    """Save a check-in (and forget its form draft). Unless the safety answer is a clear no, make sure
    its urgent alert exists: the one raised while the form was open, or a new one."""
    checkin = checkin.model_copy(update={"escalation": domain.escalation_for(checkin.safety, checkin.zone)})
    with store.unit() as unit:
        load_person_row(unit, checkin.person_id)
        answers = checkin.model_dump(mode="json", include=CHECKIN_ANSWERS)
        unit.session.add(
            CheckinRow(
                id=checkin.id,
                person_id=checkin.person_id,
                wrap_plan_id=checkin.wrap_plan_id,
                occurred_at=checkin.occurred_at,
                zone=checkin.zone.value,
                safety=checkin.safety.value,
                escalation=checkin.escalation.value,
                answers_enc=unit.cipher.encrypt_json("checkin", checkin.id, "answers", answers),
            )
        )
        alert = _alert_in_unit(unit, checkin.person_id, checkin.id, checkin.safety)
        drop_form_draft(unit, DraftKind.CHECKIN, checkin.person_id, checkin.id)
        unit.changed("checkin", checkin, priority=URGENT if alert else NORMAL)
    return checkin, alert


def get_checkin(store: FieldStore, checkin_id: str) -> Checkin:
    with store.unit() as unit:
        row = unit.session.get(CheckinRow, checkin_id)
        if row is None:
            raise NotFound("That check-in is not on this device.")
        answers = unit.cipher.decrypt_json("checkin", row.id, "answers", row.answers_enc)
        return Checkin(
            id=row.id, person_id=row.person_id, wrap_plan_id=row.wrap_plan_id, occurred_at=row.occurred_at,
            zone=row.zone, safety=row.safety, escalation=row.escalation, **answers,
        )
