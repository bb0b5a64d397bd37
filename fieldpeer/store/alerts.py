"""Safety alerts as the agency handles them: open -> acknowledged (supervisor following up) -> closed.

The phone raises alerts (wrap.raise_safety_alert); the agency's AlertStatus comes back on pull.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from fieldpeer.domain import AlertState, SafetyAnswer
from fieldpeer.records import AlertStatus, as_utc
from fieldpeer.store import bulk
from fieldpeer.store.tables import AlertStatusRow, SafetyAlertRow
from fieldpeer.store.unit_of_work import FieldStore, Unit

TABLE = "alert_status"


def receive_alert_status(unit: Unit, status: AlertStatus) -> None:
    """Apply a pulled status; an older one (a replayed page) never overwrites a newer one."""
    receive_alert_status_page(unit, [status])


def receive_alert_status_page(unit: Unit, page: list[AlertStatus]) -> int:
    """Apply a pulled page's statuses in bulk ("by" encrypted as ever) and mark the alerts raised
    here closed or reopened; how many were newer than what was held."""
    table = AlertStatusRow.__table__  # type: ignore[attr-defined]  # SQLModel does not declare __table__ (SQLAlchemy's mapping sets it)
    newer = bulk.newer_only(unit, table, "alert_id", page)
    rows = [{"alert_id": s.id, "person_id": s.person_id, "state": s.state.value, "by_enc": unit.cipher.encrypt(TABLE, s.id, "by", s.by), "at": s.at, "version": s.version} for s in newer]
    bulk.upsert_newer(unit, table, "alert_id", rows)
    if newer:
        resolved = [{"alert_id": s.id, "closed_at": s.at if s.state is AlertState.CLOSED else None} for s in newer]
        alerts_table = SafetyAlertRow.__table__  # type: ignore[attr-defined]  # SQLModel does not declare __table__ (SQLAlchemy's mapping sets it)
        unit.session.execute(update(alerts_table).where(alerts_table.c.id == bindparam("alert_id")).values(resolved_at=bindparam("closed_at")), resolved)
    bulk.audit_page(unit, "alert_status_received", "safety_alert", len(newer))
    return len(newer)


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
