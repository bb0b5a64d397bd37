"""Secrets hygiene: sensitive text (a marker written into every sensitive field, and into every
input that can be refused) never shows up in the agency's log, its access log, the device's log,
any URL, any HTTP error body, any sync error or quarantine reason, or any exception message.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from fieldpeer.agency.tables import AccessEvent
from fieldpeer.domain import SafetyAnswer
from fieldpeer.logs import configure_logging
from fieldpeer.store import notes, outbox, people, wrap
from fieldpeer.store.outbox import OutboxItem
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient, SyncError, enrol_device
from fieldpeer.records import Checkin, Narrative, Person, new_id
from fieldpeer.sync.wire import SEALED_MEDIA_TYPE
from tests.conftest import PIN, TEST_COST, complete_note
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin

MARKER = "QZMARKER7"


class Recorder:
    """httpx hooks: every URL the phone asked for, every error body it got back."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.error_bodies: list[str] = []

    def request(self, request: httpx.Request) -> None:
        self.urls.append(str(request.url))

    def response(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            response.read()
            self.error_bodies.append(response.text)

    def client(self) -> httpx.Client:
        return httpx.Client(timeout=30, event_hooks={"request": [self.request], "response": [self.response]})


def test_sensitive_text_never_reaches_logs_urls_or_errors(agency: AgencyProcess, tmp_path: Path) -> None:
    admin = Admin(agency.db_url)
    _, persons, code = admin.peer_with_caseload("Pat", ["Quinn"])
    _, others, _ = admin.peer_with_caseload("Other", ["Not Pat's"])
    seen = Recorder()
    http = seen.client()
    messages: list[str] = []
    profile = Profile(tmp_path / "phone", cost=TEST_COST)
    configure_logging(profile.log_dir)
    try:
        with pytest.raises(SyncError) as refused:
            enrol_device(profile, agency.url, f"{MARKER}-code", PIN, http=http)
        messages.append(str(refused.value))
        store = enrol_device(profile, agency.url, code, PIN, http=http)
        client = SyncClient(store, http=http, sleep=lambda _: None)
        client.sync()

        # Stored, quarantined (someone else's person) and rejected (invalid) records, all full of the marker.
        words = Narrative(goal=MARKER, intervention=f"{MARKER} said", response=MARKER, plan=MARKER)
        notes.sign_note(store, notes.save_draft(store, complete_note(persons[0], narrative=words)).id)
        notes.log_phone_contact(store, persons[0], 9, f"{MARKER} call", ended_at=datetime(2026, 11, 25, 9))
        wrap.record_checkin(store, Checkin(person_id=persons[0], feeling_today=MARKER, triggers_present=[MARKER], safety=SafetyAnswer.YES))
        people.save_person(store, Person(id=others[0], preferred_name=f"{MARKER} not mine"))
        summary = client.sync()
        assert summary.sent == 4 and summary.quarantined == 1
        messages += [summary.error, *(q.reason for q in outbox.quarantined(store))]

        bad = complete_note(persons[0], narrative=words).model_dump(mode="json") | {"ends_at": "2020-01-01T00:00:00"}
        receipt = client._post(client._seal_batch([OutboxItem(0, new_id(), "contact_note", bad["id"], json.dumps(bad))]))
        messages += [r.reason for r in receipt.results]
        bad_entry = client._seal_batch([OutboxItem(0, f"{MARKER} entry", "contact_note", bad["id"], json.dumps(bad))])
        headers = {"Authorization": f"Bearer {client.token}", "Content-Type": SEALED_MEDIA_TYPE}
        assert http.post(f"{agency.url}/api/v1/push", headers=headers, content=bad_entry).status_code == 422
        assert http.get(f"{agency.url}/api/v1/pull", headers=headers, params={"cursor": MARKER}).status_code == 422
        assert http.get(f"{agency.url}/api/v1/pull", headers={"Authorization": f"Bearer {MARKER}"}).status_code == 401
        with pytest.raises(Exception) as missing:
            notes.get_note(store, f"{MARKER}-no-such-note")
        messages.append(str(missing.value))
        store.close()
    finally:
        for handler in logging.getLogger("fieldpeer").handlers:
            handler.close()
        logging.getLogger("fieldpeer").handlers.clear()
        http.close()

    agency.stop()  # flush its log
    with admin.session() as db:
        access_log = [e.model_dump_json() for e in db.exec(select(AccessEvent)).all()]
    places = {
        "agency log": agency.log_path.read_text(),
        "agency access log": "\n".join(access_log),
        "device logs": "\n".join(p.read_text() for p in profile.log_dir.glob("*") if p.is_file()),
        "URLs, except the refused cursor the test typed into one": "\n".join(u for u in seen.urls if "cursor=" + MARKER not in u),
        "HTTP error bodies": "\n".join(seen.error_bodies),
        "sync errors, reasons, exception messages": "\n".join(messages),
    }
    assert len(seen.error_bodies) >= 4 and len(access_log) >= 5 and places["device logs"]
    assert {place: MARKER in content for place, content in places.items()} == {place: False for place in places}
