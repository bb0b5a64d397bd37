"""The shift's records against a real agency (SQLite and PostgreSQL): an alert raised before its
check-in is acknowledged and closed by a supervisor and the phone's caseload follows; an outreach
attempt travels without counting as a contact; the note shows the agency's unit figure after sync."""

from __future__ import annotations

from datetime import date, datetime

from fieldpeer.domain import AlertState, OutreachOutcome, SafetyAnswer
from fieldpeer.records import Checkin, new_id
from fieldpeer.store import alerts, notes, outbox, outreach, people, wrap
from tests.conftest import complete_note
from tests.servers import AgencyProcess
from tests.test_supervision import Supervisor
from tests.test_sync_integration import Phone, enrolled_phone

TODAY = date(2026, 11, 25)


def flag_words(phone: Phone, person_id: str) -> list[str]:
    [entry] = [e for e in people.list_caseload(phone.store, TODAY).entries if e.person_id == person_id]
    return [f.words for f in entry.flags]


def test_alert_lifecycle_outreach_and_confirmed_units_reach_the_phone(agency: AgencyProcess, tmp_path) -> None:  # type: ignore[no-untyped-def]
    phone = enrolled_phone(agency, tmp_path, ("Quinn",))
    quinn = phone.person_ids[0]
    supervisor = Supervisor(agency, phone)

    # "Not sure" is chosen, then the peer is interrupted: no check-in saved, the alert still goes.
    checkin_id = new_id()
    alert = wrap.raise_safety_alert(phone.store, quinn, checkin_id, SafetyAnswer.UNSURE)
    assert alert is not None
    outreach.log_outreach_attempt(phone.store, quinn, OutreachOutcome.NO_ANSWER, "Rang twice.", attempted_at=datetime(2026, 11, 25, 9, 30))
    note = notes.sign_note(phone.store, notes.save_draft(phone.store, complete_note(quinn, minutes=40)).id)
    assert notes.note_units(phone.store, note.id).estimate
    summary = phone.client.sync()
    assert summary.ok and summary.quarantined == 0 and outbox.quarantined(phone.store) == []
    assert [a["alert_id"] for a in supervisor.queue()["alerts"]] == [alert.id]
    assert flag_words(phone, quinn)[0] == "Safety alert"

    # The agency counted the note: the phone now shows its figure, no longer an estimate.
    units = notes.note_units(phone.store, note.id)
    assert not units.estimate and units.units == 3

    # Acknowledged at the agency: after the next sync the caseload says who is following up.
    assert supervisor.post(f"/review/alerts/{alert.id}/acknowledge").status_code == 200
    phone.client.sync()
    assert flag_words(phone, quinn)[0] == "Supervisor following up"
    [shown] = alerts.alerts_for_person(phone.store, quinn)
    assert (shown.state, shown.by) == (AlertState.ACKNOWLEDGED, "Dana Reyes, LCSW") and shown.at is not None

    # The check-in saved later reuses the alert; closing removes the flag.
    _, same = wrap.record_checkin(phone.store, Checkin(id=checkin_id, person_id=quinn, safety=SafetyAnswer.UNSURE))
    assert same == alert
    assert supervisor.post(f"/review/alerts/{alert.id}/close").status_code == 200
    summary = phone.client.sync()
    assert summary.ok and summary.quarantined == 0
    words = flag_words(phone, quinn)
    assert "Safety alert" not in words and "Supervisor following up" not in words
    assert alerts.alerts_for_person(phone.store, quinn)[0].state is AlertState.CLOSED
    # The outreach attempt travelled, but the last contact is still the note.
    assert people.list_caseload(phone.store, TODAY).entries[0].last_contact == note.starts_at.date()
