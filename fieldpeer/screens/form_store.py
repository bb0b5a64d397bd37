"""The few store questions the form screens ask that take more than one store call, gathered so
each screen stays a screen. No SQL or crypto here: only store services."""

from __future__ import annotations

from typing import Any

from fieldpeer.domain import DraftKind
from fieldpeer.store import alerts, drafts
from fieldpeer.store.unit_of_work import FieldStore


def alert_reached_agency(store: FieldStore, person_id: str, alert_id: str) -> bool:
    """True once the agency has answered this alert (a pulled status proves it arrived); until
    then the phone only knows it is queued, and says so."""
    return any(a.alert_id == alert_id and a.at is not None for a in alerts.alerts_for_person(store, person_id))


def form_draft(store: FieldStore, kind: DraftKind, person_id: str) -> tuple[str, dict[str, Any]] | None:
    """The newest kept draft of this form for this person, as (record id, fields)."""
    for summary in drafts.drafts_for_person(store, person_id):
        if summary.kind is kind:
            content = drafts.load_form_draft(store, kind, person_id, summary.record_id)
            if content is not None:
                return summary.record_id, content
    return None
