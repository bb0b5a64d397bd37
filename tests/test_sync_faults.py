"""Exactly once under faults: a harness between client and server breaks the network on purpose.

It drops requests, drops replies after the server committed, sends requests twice (one after
the other and at the same moment), delays them, and kills the server (SIGKILL) while a batch is
in flight, then restarts it. After the last sync every record must be on the server exactly
once, none lost, and the device's outbox empty.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from fieldpeer.agency.tables import ReceivedRecord
from fieldpeer.domain import SafetyAnswer, Zone
from fieldpeer.store import notes, outbox, wrap
from fieldpeer.store.tables import OutboxRow
from fieldpeer.sync.client import SyncClient
from fieldpeer.records import Checkin, Narrative
from tests import figures
from tests.conftest import complete_note
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin, enrolled

FAULTS = ["pass", "drop_request", "drop_reply", "duplicate", "duplicate_concurrent", "delay"]
WEIGHTS = [40, 12, 14, 8, 8, 10]


@dataclass
class FaultStats:
    counts: Counter[str] = field(default_factory=Counter)


class FaultyNetwork(httpx.BaseTransport):
    def __init__(self, server: AgencyProcess, rng: random.Random, stats: FaultStats, kill_at_push: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.server = server
        self.rng = rng
        self.stats = stats
        self.kill_at_push = kill_at_push  # the server dies during this push (0 = the first)
        self.pushes = 0

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.rng.choices(FAULTS, WEIGHTS)[0]
        if request.url.path.endswith("/push"):
            if self.pushes == self.kill_at_push:
                fault = "kill_server"
            self.pushes += 1
        self.stats.counts[fault] += 1
        if fault == "drop_request":
            raise httpx.ConnectError("fault: request dropped")
        if fault == "delay":
            time.sleep(self.rng.uniform(0.0, 0.05))
        if fault == "drop_reply":
            self._send(request)  # the server did the work and committed...
            raise httpx.ReadError("fault: reply lost")  # ...but the phone never hears back
        if fault == "duplicate":
            self._send(request)
        if fault == "duplicate_concurrent":
            twin = threading.Thread(target=lambda: self._quietly(request))
            twin.start()
            try:
                return self._send(request)
            finally:
                twin.join()
        if fault == "kill_server":
            killer = threading.Timer(self.rng.uniform(0.0, 0.03), self.server.kill)
            killer.start()
            try:
                return self._send(request)
            finally:
                killer.join()
                self.server.start()  # same port, same database
        return self._send(request)

    def _quietly(self, request: httpx.Request) -> None:
        try:
            self._send(request)
        except httpx.TransportError:
            pass


def write_some_records(store, person_ids: list[str], rng: random.Random, start: datetime) -> int:  # type: ignore[no-untyped-def]
    before = outbox.counts(store).pending
    for i in range(rng.randint(15, 60)):
        person = rng.choice(person_ids)
        when = start + timedelta(hours=i)
        kind = rng.random()
        if kind < 0.5:
            note = notes.save_draft(store, complete_note(person, start=when, narrative=Narrative(goal="g", intervention=f"visit {i} " * 20, response="ok", plan="next")))
            if rng.random() < 0.8:
                notes.sign_note(store, note.id)
                if rng.random() < 0.3:
                    notes.add_addendum(store, note.id, f"addendum {i}")
        elif kind < 0.85:
            notes.log_phone_contact(store, person, rng.randint(3, 40), f"call {i}", ended_at=when)
        else:
            wrap.record_checkin(store, Checkin(person_id=person, zone=rng.choice(list(Zone)), safety=rng.choice(list(SafetyAnswer))))
    return outbox.counts(store).pending - before


@pytest.mark.slow
def test_every_record_arrives_exactly_once_despite_faults(agency: AgencyProcess, tmp_path: Path) -> None:
    admin = Admin(agency.db_url)
    _, person_ids, code = admin.peer_with_caseload("Sam", [f"Person {i}" for i in range(5)])
    _, store = enrolled(agency, tmp_path, code)
    SyncClient(store).sync()  # pull the caseload on a good network first

    stats = FaultStats()
    runs, syncs = 12, 0
    for run in range(runs):
        rng = random.Random(1000 + run)
        network = FaultyNetwork(agency, rng, stats, kill_at_push=rng.randint(0, 3))
        client = SyncClient(store, http=httpx.Client(transport=network, timeout=10), batch_size=rng.randint(5, 25), sleep=lambda _: None, max_attempts=3)
        write_some_records(store, person_ids, rng, datetime(2026, 1, 1) + timedelta(days=run * 10))
        for _ in range(60):
            syncs += 1
            if client.sync().pending == 0 and outbox.counts(store).pending == 0:
                break
        assert outbox.counts(store).pending == 0, f"run {run}: outbox not drained"

    with store.unit() as unit:
        local = {row.id: row for row in unit.session.exec(select(OutboxRow)).all()}
    with admin.session() as db:
        received = db.exec(select(ReceivedRecord)).all()
    by_entry = Counter(r.entry_id for r in received)
    by_version = Counter((r.record_type, r.record_id, r.version) for r in received)
    sent = {e for e, row in local.items() if row.state == "sent"}
    figures.add("records lost", len(sent - set(by_entry)))  # reported before the asserts: the table shows what happened
    figures.add("duplicates", sum(n - 1 for n in by_entry.values()) + sum(n - 1 for n in by_version.values()))
    assert not [e for e, n in by_entry.items() if n > 1], "duplicated on the server"
    assert not [k for k, n in by_version.items() if n > 1], "a record version stored twice"
    assert {e for e, row in local.items() if row.state == "sent"} == set(by_entry), "lost or unexpected records"
    assert outbox.counts(store).quarantined == 0
    assert stats.counts["drop_reply"] and stats.counts["duplicate_concurrent"] and stats.counts["kill_server"]
    print(f"\nfault schedule: {dict(stats.counts)}; {syncs} syncs; {len(by_entry)} records exactly once")
    figures.add("fault schedules run", runs)
    figures.add("network faults injected", sum(n for fault, n in stats.counts.items() if fault != "pass"))
    figures.add("records synced through faults, exactly once", len(by_entry))
    store.close()
