"""No sensitive text in clear on disk: database, -wal/-journal side files, logs. Also after a kill."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from fieldpeer.logs import configure_logging
from fieldpeer.domain import AlertState, ConsentKind, DraftKind, OutreachOutcome, ReviewState, SafetyAnswer, WrapSection
from fieldpeer.store import consents, drafts, notes, outreach, people, pulled, wrap
from fieldpeer.store.profile import Profile
from fieldpeer.records import AlertStatus, Checkin, Consent, Goal, Narrative, NoteFeedback, Person, WrapPlan, WrapPlanSection
from tests.conftest import PIN, complete_note, make_peer

MARKER = "ZQXMARKER"


def marker_hits(root: Path) -> dict[str, int]:
    """Every file under the profile (database, side files, logs), searched as raw bytes."""
    needles = [MARKER.encode(), MARKER.encode("utf-16-le"), MARKER.lower().encode()]
    hits: dict[str, int] = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            count = sum(data.count(n) for n in needles)
            if count:
                hits[str(path.relative_to(root))] = count
    return hits


def test_markers_written_through_every_service_never_reach_disk(profile: Profile) -> None:
    configure_logging(profile.log_dir)
    try:
        store = profile.set_up(PIN, make_peer().model_copy(update={"name": f"{MARKER} peer", "agency_name": f"{MARKER} Agency"}))
        person = people.save_person(
            store,
            Person(preferred_name=f"{MARKER} name", strengths=[f"{MARKER} strength"], goals=[Goal(text=f"{MARKER} goal")], natural_supports=[f"{MARKER} aunt"]),
        )
        person = people.save_person(store, person.model_copy(update={"preferred_name": f"{MARKER} renamed"}), expected_version=1)
        note = notes.save_draft(store, complete_note(person.id, narrative=Narrative(goal=MARKER, intervention=f"{MARKER} did", response=MARKER, plan=MARKER)))
        note = notes.save_draft(store, note.model_copy(update={"narrative": Narrative(goal=MARKER, intervention=f"{MARKER} edited", response=MARKER, plan=MARKER)}))
        notes.sign_note(store, note.id)
        notes.add_addendum(store, note.id, f"{MARKER} addendum")
        doomed = notes.save_draft(store, complete_note(person.id, narrative=Narrative(intervention=f"{MARKER} to delete")))
        notes.discard_draft(store, doomed.id)
        notes.log_phone_contact(store, person.id, 9, f"{MARKER} call", ended_at=datetime(2026, 11, 25, 9))
        plan = WrapPlan(person_id=person.id, sections={WrapSection.TRIGGERS: WrapPlanSection(items=[f"{MARKER} trigger"], actions=[f"{MARKER} action"])})
        wrap.save_wrap_plan(store, plan, based_on_version=None)
        wrap.record_checkin(store, Checkin(person_id=person.id, safety=SafetyAnswer.YES, feeling_today=f"{MARKER} feeling", triggers_present=[f"{MARKER} t"]))
        consents.record_consent(store, Consent(person_id=person.id, kind=ConsentKind.RELEASE, recipient=f"{MARKER} clinic", purpose=MARKER, signed_on=date(2026, 11, 1)))
        # What arrives from the agency: supervisors' names on reviews and alert statuses.
        alert = wrap.raise_safety_alert(store, person.id, "checkin-typed", SafetyAnswer.UNSURE)
        assert alert is not None
        with store.unit() as unit:
            pulled.apply_pulled(unit, NoteFeedback(id=note.id, state=ReviewState.RETURNED, comment=f"{MARKER} comment", reviewer=f"{MARKER} Reviewer, LCSW", reviewed_at=datetime(2026, 11, 25, tzinfo=timezone.utc)))
            pulled.apply_pulled(unit, AlertStatus(id=alert.id, person_id=person.id, state=AlertState.ACKNOWLEDGED, by=f"{MARKER} Supervisor, LCSW", at=datetime(2026, 11, 25, tzinfo=timezone.utc), version=2))
        # Typing kept for later, and a call that did not reach the person.
        drafts.save_form_draft(store, DraftKind.CHECKIN, person.id, {"feeling_today": f"{MARKER} draft"}, record_id="checkin-typed")
        drafts.save_form_draft(store, DraftKind.WRAP, person.id, {"triggers": [f"{MARKER} draft trigger"]})
        drafts.discard_form_draft(store, DraftKind.WRAP, person.id)
        outreach.log_outreach_attempt(store, person.id, OutreachOutcome.LEFT_MESSAGE, f"{MARKER} voicemail", attempted_at=datetime(2026, 11, 25, 10))
        with pytest.raises(Exception) as caught:
            notes.sign_note(store, "no-such-note")
        assert MARKER not in str(caught.value)
        # Look while the side files still exist (WAL not yet checkpointed), then after close.
        assert (profile.root / "fieldpeer.db-wal").exists()
        assert marker_hits(profile.root) == {}
        store.close()
        assert marker_hits(profile.root) == {}
        assert (profile.log_dir / "fieldpeer.log").stat().st_size > 0  # logs exist, and hold no content
    finally:
        logging.getLogger("fieldpeer").handlers.clear()
