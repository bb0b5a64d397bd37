"""Runs inside an export of the first release that had fieldpeer/agency/tables.py (f1fdc64), with
that release's code first on the path: fills an agency database the way it did, through its real
server and sync client. Prints what it made as JSON. Used by tests/test_agency_upgrade.py."""

# ruff: noqa: I001  (fieldpeer.sync.records exists only in the first release, so isort would misplace it)
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from fieldpeer.domain import SafetyAnswer, Zone
from fieldpeer.store import notes, wrap
from fieldpeer.sync.client import SyncClient
from fieldpeer.sync.records import Checkin, WrapPlan
from tests.conftest import complete_note
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin, enrolled, no_sleep

db_url, work = sys.argv[1], Path(sys.argv[2])
admin = Admin(db_url)  # that release's migrate_agency: create_all
peer_id, person_ids, code = admin.peer_with_caseload("Sam Field", ["Alex", "Robin"])
agency = AgencyProcess(db_url, work / "keys", work / "first-release.log")
agency.start()
try:
    profile, store = enrolled(agency, work, code, name="old-phone")
    client = SyncClient(store, sleep=no_sleep)
    assert client.sync().pulled == 2
    note = notes.sign_note(store, notes.save_draft(store, complete_note(person_ids[0])).id)
    notes.add_addendum(store, note.id, "Follow-up: housing form sent.")
    notes.log_phone_contact(store, person_ids[1], 10, "Check-in call.", ended_at=datetime(2026, 11, 25, 9))
    wrap.save_wrap_plan(store, WrapPlan(person_id=person_ids[1]), based_on_version=None)
    wrap.record_checkin(store, Checkin(person_id=person_ids[1], zone=Zone.EARLY_WARNING, safety=SafetyAnswer.YES))
    summary = client.sync()
    assert summary.ok and summary.pending == 0 and summary.quarantined == 0, summary
    store.close()
finally:
    agency.stop()
print(json.dumps({"peer_id": peer_id, "person_ids": person_ids, "note_id": note.id, "sent": summary.sent, "profile": str(profile.root), "port": agency.port}))
