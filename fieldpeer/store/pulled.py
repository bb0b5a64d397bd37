"""Applying what the agency sends on pull: one place that knows which store function takes
which record type (the sync client calls it inside the page's transaction).

A page of 10,000 notes' unit figures applied one by one (a get, a merge and an audit row each)
took 22 s on the phone (issue #18); the agency's figures, reviews and alert states are therefore
applied in bulk: one read of the held versions, one executemany upsert of the newer ones, one
audit row per page and type."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from fieldpeer.records import AlertStatus, Deletion, NoteFeedback, PeerProfile, Person, Record, UnitsConfirmed, WrapPlan
from fieldpeer.store import alerts, billing, feedback, people, profile, reassignment, wrap
from fieldpeer.store.unit_of_work import Unit

log = logging.getLogger("fieldpeer.store")


# The record types applied a run at a time. They touch tables nothing else in a page does, so a
# run of them applied together after the records before it keeps the page's order.
BULK: dict[type, Callable[[Unit, list[Any]], int]] = {
    UnitsConfirmed: billing.receive_units_confirmed_page,
    NoteFeedback: feedback.receive_feedback_page,
    AlertStatus: alerts.receive_alert_status_page,
}


def apply_pulled_page(unit: Unit, records: Iterable[Record]) -> int:
    """Apply one pulled page in the caller's transaction, in order; how many records phones take."""
    applied = 0
    run: dict[type, list[Any]] = {}

    def flush() -> None:
        for kind, items in run.items():
            BULK[kind](unit, items)
        run.clear()

    for record in records:
        if type(record) in BULK:
            run.setdefault(type(record), []).append(record)
            applied += 1
            continue
        flush()
        applied += _apply_one(unit, record)
    flush()
    return applied


def apply_pulled(unit: Unit, record: Record) -> bool:
    """Apply one pulled record in the caller's transaction. False for a type phones do not take."""
    return apply_pulled_page(unit, [record]) == 1


def _apply_one(unit: Unit, record: Record) -> bool:
    """A record of a type applied one at a time (logged by type only, never content, when phones do not take it)."""
    if isinstance(record, Person):
        people.receive_person(unit, record)
    elif isinstance(record, WrapPlan):
        wrap.receive_wrap_plan(unit, record)
    elif isinstance(record, Deletion) and record.deleted_type == "person":  # moved to another peer
        reassignment.release_person(unit, record.deleted_id)
    elif isinstance(record, PeerProfile):  # an administrator edited this peer's name or credentials
        profile.receive_peer_profile(unit, record)
    else:
        log.warning("pull: ignored a %s record", getattr(record, "record_type", "?"))
        return False
    return True
