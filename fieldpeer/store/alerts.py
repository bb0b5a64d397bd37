"""Safety alerts as the agency handles them: open -> acknowledged (supervisor following up) -> closed.

The phone raises alerts (wrap.raise_safety_alert); the agency's AlertStatus comes back on pull.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from fieldpeer.domain import AlertState, SafetyAnswer
from fieldpeer.records import AlertStatus, as_utc
from fieldpeer.store.tables import AlertStatusRow, SafetyAlertRow
from fieldpeer.store.unit_of_work import FieldStore, Unit

TABLE = "alert_status"


def receive_alert_status(unit: Unit, status: AlertStatus) -> None:
    """Apply a pulled status; an older one (a replayed page) never overwrites a newer one."""
    row = unit.session.get(AlertStatusRow, status.id)
    if row is not None and row.version >= status.version:
        return
    by = unit.cipher.encrypt(TABLE, status.id, "by", status.by)
    unit.session.merge(AlertStatusRow(alert_id=status.id, person_id=status.person_id, state=status.state.value, by_enc=by, at=status.at, version=status.version))
    alert = unit.session.get(SafetyAlertRow, status.id)
    if alert is not None:
        alert.resolved_at = status.at if status.state is AlertState.CLOSED else None
        unit.session.add(alert)
    unit.audit("alert_status_received", "safety_alert", status.id)


def alert_states(unit: Unit) -> dict[str, AlertState]:
    """Per person, the most pressing state of their alerts that are not closed: OPEN when any
    alert is still unanswered (raised here, no status yet), else ACKNOWLEDGED."""
    statuses = dict(unit.session.exec(select(AlertStatusRow.alert_id, AlertStatusRow.state)).all())
    by_person: dict[str, AlertState] = {}
    raised = unit.session.exec(select(SafetyAlertRow.id, SafetyAlertRow.person_id)).all()
    status_only = unit.session.exec(select(AlertStatusRow.alert_id, AlertStatusRow.person_id).where(col(AlertStatusRow.alert_id).not_in(select(SafetyAlertRow.id)))).all()
    for alert_id, person_id in [*raised, *status_only]:
        state = AlertState(statuses.get(alert_id, AlertState.OPEN.value))
        if state is AlertState.CLOSED:
            continue
        if by_person.get(person_id) is not AlertState.OPEN:
            by_person[person_id] = state
    return by_person


@dataclass(frozen=True)
class AlertSummary:
    """One alert for the person screen: when it was raised, and where the agency stands."""

    alert_id: str
    raised_at: datetime | None  # UTC; None when raised on another device
    safety: SafetyAnswer | None
    state: AlertState
    by: str  # "Name, CREDENTIALS" of the supervisor; "" while open
    at: datetime | None  # UTC, when the state was set by the agency


def alerts_for_person(store: FieldStore, person_id: str) -> list[AlertSummary]:
    """The person's alerts, newest first, closed ones included (they say who closed them and when)."""
    with store.unit() as unit:
        raised = {r.id: r for r in unit.session.exec(select(SafetyAlertRow).where(SafetyAlertRow.person_id == person_id)).all()}
        statuses = {r.alert_id: r for r in unit.session.exec(select(AlertStatusRow).where(AlertStatusRow.person_id == person_id)).all()}
        found: list[AlertSummary] = []
        for alert_id in raised.keys() | statuses.keys():
            alert, status = raised.get(alert_id), statuses.get(alert_id)
            found.append(
                AlertSummary(
                    alert_id=alert_id,
                    raised_at=as_utc(alert.raised_at) if alert else None,
                    safety=SafetyAnswer(alert.safety) if alert else None,
                    state=AlertState(status.state) if status else AlertState.OPEN,
                    by=unit.cipher.decrypt(TABLE, alert_id, "by", status.by_enc) if status else "",
                    at=as_utc(status.at) if status else None,
                )
            )
    return sorted(found, key=_when, reverse=True)


def _when(alert: AlertSummary) -> float:
    moment = alert.raised_at or alert.at
    return moment.timestamp() if moment else 0.0
