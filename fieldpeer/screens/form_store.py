"""The few store questions the form screens ask that take more than one store call, gathered so
each screen stays a screen. No SQL or crypto here: only store services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldpeer.domain import DraftKind
from fieldpeer.records import SafetyAlert, as_utc
from fieldpeer.store import alerts, drafts, outbox
from fieldpeer.store.unit_of_work import FieldStore

SAFETY_ALERT = SafetyAlert.model_fields["record_type"].default  # "safety_alert"
URGENT_SCAN = 200  # pending entries to look through: alerts go first, so a waiting one is among them


def alert_reached_agency(store: FieldStore, person_id: str, alert_id: str) -> bool:
    """True once the agency has taken the alert: its outbox entry is neither waiting (alerts are
    sent first, so a waiting one is at the head of the queue) nor refused, or the agency has
    already answered it. Until then the phone says it is queued."""
    if any(a.alert_id == alert_id and a.at is not None for a in alerts.alerts_for_person(store, person_id)):
        return True
    waiting = {i.record_id for i in outbox.next_batch(store, URGENT_SCAN) if i.record_type == SAFETY_ALERT}
    refused = {q.record_id for q in outbox.quarantined(store) if q.record_type == SAFETY_ALERT}
    return alert_id not in waiting | refused


@dataclass(frozen=True)
class AlertDelivery:
    """Where a raised alert stands on this phone: taken by the agency (and when), or refused."""

    delivered: bool
    delivered_at: datetime | None  # UTC; None when not delivered (or the receipt's time is not kept)
    refused: bool


def alert_delivery(store: FieldStore, person_id: str, alert_id: str) -> AlertDelivery:
    refused = any(q.record_id == alert_id for q in outbox.quarantined(store) if q.record_type == SAFETY_ALERT)
    if refused:
        return AlertDelivery(False, None, True)
    at = outbox.sent_at(store, SAFETY_ALERT, alert_id)
    if at is not None:
        return AlertDelivery(True, as_utc(at), False)
    return AlertDelivery(alert_reached_agency(store, person_id, alert_id), None, False)


def form_draft(store: FieldStore, kind: DraftKind, person_id: str) -> tuple[str, dict[str, Any]] | None:
    """The newest kept draft of this form for this person, as (record id, fields)."""
    for summary in drafts.drafts_for_person(store, person_id):
        if summary.kind is kind:
            content = drafts.load_form_draft(store, kind, person_id, summary.record_id)
            if content is not None:
                return summary.record_id, content
    return None
