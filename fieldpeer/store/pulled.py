"""Applying what the agency sends on pull: one place that knows which store function takes
which record type (the sync client calls it inside the page's transaction)."""

from __future__ import annotations

import logging

from fieldpeer.records import AlertStatus, Deletion, NoteFeedback, PeerProfile, Person, Record, UnitsConfirmed, WrapPlan
from fieldpeer.store import alerts, billing, feedback, people, profile, reassignment, wrap
from fieldpeer.store.unit_of_work import Unit

log = logging.getLogger("fieldpeer.store")


def apply_pulled(unit: Unit, record: Record) -> bool:
    """Apply one pulled record in the caller's transaction. False for a type phones do not take
    (logged by type only, never content)."""
    if isinstance(record, Person):
        people.receive_person(unit, record)
    elif isinstance(record, WrapPlan):
        wrap.receive_wrap_plan(unit, record)
    elif isinstance(record, NoteFeedback):
        feedback.receive_feedback(unit, record)
    elif isinstance(record, AlertStatus):
        alerts.receive_alert_status(unit, record)
    elif isinstance(record, UnitsConfirmed):
        billing.receive_units_confirmed(unit, record)
    elif isinstance(record, Deletion) and record.deleted_type == "person":  # moved to another peer
        reassignment.release_person(unit, record.deleted_id)
    elif isinstance(record, PeerProfile):  # an administrator edited this peer's name or credentials
        profile.receive_peer_profile(unit, record)
    else:
        log.warning("pull: ignored a %s record", getattr(record, "record_type", "?"))
        return False
    return True
