"""The one table of sync and lock states and their words (fieldpeer/screens/status_words.py):
nothing says "All done" while records wait, "sent" before the agency confirmed, or "Shift
ended" after a plain lock."""

from __future__ import annotations

import pytest

from fieldpeer.screens.status_words import WORDS, Status, SyncFacts, sync_status, sync_words, words


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        (SyncFacts(pending=0, quarantined=0, can_sync=True), Status.ALL_SENT),
        (SyncFacts(pending=3, quarantined=0, can_sync=True), Status.WAITING),
        (SyncFacts(pending=3, quarantined=0, can_sync=True, error="No network."), Status.NOT_REACHED),
        (SyncFacts(pending=0, quarantined=2, can_sync=True), Status.SET_ASIDE),
        (SyncFacts(pending=0, quarantined=0, can_sync=True, error="No network."), Status.ALL_SENT),  # nothing left to send
        (SyncFacts(pending=3, quarantined=0, can_sync=True, syncing=True), Status.SYNCING),
        (SyncFacts(pending=0, quarantined=0, can_sync=False), Status.PRACTICE),  # the offline demo has no agency
        (SyncFacts(pending=5, quarantined=0, can_sync=False), Status.PRACTICE),
    ],
)
def test_each_situation_gets_its_state(facts: SyncFacts, status: Status) -> None:
    assert sync_status(facts) is status


def test_every_state_has_words_and_only_all_sent_says_all_done() -> None:
    assert set(WORDS) == set(Status)
    for status in Status:
        said = words(status, pending=3, quarantined=1, error="No network.", minutes=5)
        assert "{" not in said.badge + said.line, status  # every placeholder filled
        assert ("All done" in said.line) == (status is Status.ALL_SENT), status
        assert ("all sent" in said.badge) == (status is Status.ALL_SENT), status
        assert ("Shift ended" in said.line) == (status is Status.SHIFT_ENDED), status


def test_one_record_reads_as_one() -> None:
    for status in Status:
        line = words(status, pending=1, quarantined=1, error="No network.", minutes=1).line
        assert "1 records" not in line and "1 record have" not in line and "1 record wait " not in line and "1 minutes" not in line, status


def test_waiting_records_are_never_called_sent() -> None:
    for error in ("", "The agency could not be reached."):
        said = sync_words(SyncFacts(pending=1, quarantined=0, can_sync=True, error=error))
        assert " sent" not in said.line and "all sent" not in said.badge
        assert "1 record." in said.line or "1 record waiting" in said.line
    assert sync_words(SyncFacts(pending=2, quarantined=0, can_sync=True)).badge == "Sync: 2 waiting"


def test_every_refusal_code_of_the_agency_has_words_for_the_peer() -> None:
    """A quarantined record shows why in words; a code the agency adds without words would show raw."""
    import re
    from pathlib import Path

    from fieldpeer.screens.sync_view import REASONS, readable

    agency = Path(__file__).resolve().parent.parent / "fieldpeer" / "agency"
    source = "\n".join((agency / name).read_text() for name in ("service.py", "invariants.py"))
    codes = set(re.findall(r'(?:reject\(|return |REJECTED, )f?"([a-z_]+)[:"]', source)) - {"agency_fields_kept"}
    assert {"signed_note_is_final", "not_your_record", "foreign_reference"} <= codes  # the scan finds them
    assert codes <= set(REASONS), codes - set(REASONS)
    assert readable("foreign_reference:checkin") == REASONS["foreign_reference"]


def test_end_shift_summary_says_the_day_and_whose_notes_are_unsigned() -> None:
    from fieldpeer.screens.status_words import shift_line, unsigned_words

    assert unsigned_words([]) == ""
    assert unsigned_words(["Casey R."]) == "1 unsigned note (Casey R.) — finish and sign it"
    assert unsigned_words(["Casey R.", "Avery A.", "Casey R."]) == "3 unsigned notes (Casey R., Avery A.) — finish and sign them"
    assert shift_line(0, 0, [], 0) == "Today: 0 contacts, 0 units."
    assert shift_line(1, 1, ["Casey R."], 1) == "Today: 1 contact, 1 unit; 1 unsigned note (Casey R.) — finish and sign it; 1 record waiting to reach the agency."
    assert shift_line(3, 7, [], 2, unsaved_forms=2) == "Today: 3 contacts, 7 units; 2 unsaved forms kept on this phone; 2 records waiting to reach the agency."
