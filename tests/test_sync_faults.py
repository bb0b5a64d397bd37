"""Exactly once under faults: a harness between client and server breaks the network on purpose.

It drops requests, drops replies after the server committed, sends requests twice (one after
the other and at the same moment), delays them, and kills the server (SIGKILL) while a batch is
in flight, then restarts it. A second schedule is a captive portal (cafe or hospital Wi-Fi): it
answers some requests itself with a 200 HTML login page or a redirect, relabels or cuts short
the agency's replies. After the last sync every record must be on the server exactly once, none
lost, and the device's outbox empty; no sync may raise, and the auto-sync thread keeps running.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from fieldpeer.agency import service
from fieldpeer.agency.tables import ReceivedRecord
from fieldpeer.domain import SafetyAnswer, Zone
from fieldpeer.records import Checkin, Narrative, Person
from fieldpeer.store import notes, outbox, people, sync_state, wrap
from fieldpeer.store.profile import Profile
from fieldpeer.store.tables import OutboxRow
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.sync.client import GARBLED, SIGN_IN, STOPPED, UNVERIFIED, AutoSync, SyncClient, SyncError, SyncSummary, enrol_device
from tests import figures
from tests.conftest import PIN, TEST_COST, complete_note
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin, enrolled, enrolled_phone

# Fault schedules: fault -> weight. "kill_server" is not drawn: it hits the push numbered kill_at_push.
SCHEDULES: dict[str, dict[str, int]] = {
    "hostile": {"pass": 40, "drop_request": 12, "drop_reply": 14, "duplicate": 8, "duplicate_concurrent": 8, "delay": 10},
    "captive_portal": {"pass": 45, "portal_page": 20, "portal_redirect": 8, "relabelled": 6, "cut_short": 8, "not_a_receipt": 5, "drop_reply": 8},
}
PORTAL_PAGE = b"<!doctype html><html><body><h1>Welcome to Cafe Wi-Fi</h1><form action='/login'>Accept the terms to continue</form></body></html>"


@dataclass
class FaultStats:
    counts: Counter[str] = field(default_factory=Counter)


class FaultyNetwork(httpx.BaseTransport):
    def __init__(self, server: AgencyProcess, rng: random.Random, stats: FaultStats, kill_at_push: int = -1, schedule: str = "hostile") -> None:
        self.inner = httpx.HTTPTransport()
        self.server = server
        self.rng = rng
        self.stats = stats
        self.kill_at_push = kill_at_push  # the server dies during this push (0 = the first; -1 = never)
        self.pushes = 0
        self.faults, self.weights = list(SCHEDULES[schedule]), list(SCHEDULES[schedule].values())
        self.forced: dict[str, str] = {}  # path suffix ("/pull", "/push", "/health", "" = all) -> fault, instead of drawing

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.rng.choices(self.faults, self.weights)[0]
        for suffix, forced in self.forced.items():
            if request.url.path.endswith(suffix):
                fault = forced
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
        if fault == "crash":  # a bug below the client, not a network answer
            raise RuntimeError("fault: something unexpected")
        if fault == "portal_page":  # the portal answers itself; the agency never sees the request
            return httpx.Response(200, headers={"Content-Type": "text/html; charset=utf-8"}, content=PORTAL_PAGE)
        if fault == "portal_redirect":
            return httpx.Response(302, headers={"Location": "http://portal.example/login?continue=agency", "Content-Type": "text/html"}, content=PORTAL_PAGE)
        if fault == "portal_511":
            return httpx.Response(511, headers={"Content-Type": "text/html"}, content=PORTAL_PAGE)
        if fault == "not_a_receipt":  # JSON, but from something else
            return httpx.Response(200, headers={"Content-Type": "application/json"}, content=b'{"status": "ok", "portal": true}')
        if fault == "relabelled":  # the agency's reply, content type rewritten by a middlebox
            reply = self._send(request)
            return httpx.Response(200, headers={"Content-Type": "application/octet-stream"}, content=reply.content)
        if fault == "cut_short":  # the agency's reply, truncated on the way (type kept)
            reply = self._send(request)
            return httpx.Response(reply.status_code, headers={"Content-Type": reply.headers.get("content-type", "")}, content=reply.content[: len(reply.content) // 2])
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
    stats = FaultStats()
    store, admin, runs, syncs, _ = sync_through(agency, tmp_path, stats, "hostile", runs=12)
    assert_exactly_once(store, admin)
    assert stats.counts["drop_reply"] and stats.counts["duplicate_concurrent"] and stats.counts["kill_server"]
    print(f"\nfault schedule: {dict(stats.counts)}; {syncs} syncs")
    figures.add("fault schedules run", runs)
    figures.add("network faults injected", sum(n for fault, n in stats.counts.items() if fault != "pass"))
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)  # the portal is the client's business
def test_every_record_arrives_exactly_once_through_a_captive_portal(agency: AgencyProcess, tmp_path: Path) -> None:
    stats = FaultStats()
    store, admin, runs, syncs, errors = sync_through(agency, tmp_path, stats, "captive_portal", runs=6)
    assert_exactly_once(store, admin)
    assert stats.counts["portal_page"] and stats.counts["portal_redirect"] and stats.counts["cut_short"] and stats.counts["relabelled"]
    assert SIGN_IN in errors and GARBLED in errors  # reported in plain words, not raised
    print(f"\nfault schedule: {dict(stats.counts)}; {syncs} syncs; errors seen: {sorted(errors)}")
    figures.add("fault schedules run", runs)
    figures.add("network faults injected", sum(n for fault, n in stats.counts.items() if fault != "pass"))
    store.close()


def sync_through(agency: AgencyProcess, tmp_path: Path, stats: FaultStats, schedule: str, runs: int) -> tuple[FieldStore, Admin, int, int, set[str]]:
    """Write records and sync them through the schedule's faults until the outbox is empty, `runs` times."""
    admin = Admin(agency.db_url)
    _, person_ids, code = admin.peer_with_caseload("Sam", [f"Person {i}" for i in range(5)])
    _, store = enrolled(agency, tmp_path, code)
    SyncClient(store).sync()  # pull the caseload on a good network first
    syncs, errors = 0, set[str]()
    for run in range(runs):
        rng = random.Random(1000 + run)
        network = FaultyNetwork(agency, rng, stats, kill_at_push=rng.randint(0, 3) if schedule == "hostile" else -1, schedule=schedule)
        client = SyncClient(store, http=httpx.Client(transport=network, timeout=10), batch_size=rng.randint(5, 25), sleep=lambda _: None, max_attempts=3)
        write_some_records(store, person_ids, rng, datetime(2026, 1, 1) + timedelta(days=run * 10))
        for _ in range(60):
            syncs += 1
            summary = client.sync()  # never raises, whatever answered
            errors.add(summary.error)
            if summary.pending == 0 and outbox.counts(store).pending == 0:
                break
        assert outbox.counts(store).pending == 0, f"run {run}: outbox not drained"
    return store, admin, runs, syncs, errors


def assert_exactly_once(store: FieldStore, admin: Admin) -> None:
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
    figures.add("records synced through faults, exactly once", len(by_entry))


# --- Hostile replies, one kind at a time -------------------------------------------------------

PULL_REPLIES = {  # what answers the phone's pull -> what the peer is told
    "portal_page": SIGN_IN,
    "portal_redirect": SIGN_IN,
    "portal_511": SIGN_IN,
    "relabelled": GARBLED,  # a 200 with the wrong content type
    "not_a_receipt": GARBLED,
    "cut_short": UNVERIFIED,  # a truncated sealed body
}
PUSH_REPLIES = {**PULL_REPLIES, "cut_short": GARBLED}


def phone_behind(agency: AgencyProcess, tmp_path: Path) -> tuple[FaultyNetwork, SyncClient, Admin, str, FieldStore]:
    """An enrolled phone with its caseload, talking through a network whose faults the test forces."""
    phone = enrolled_phone(agency, tmp_path)
    network = FaultyNetwork(agency, random.Random(1), FaultStats())
    network.forced[""] = "pass"
    client = SyncClient(phone.store, http=httpx.Client(transport=network, timeout=10), sleep=lambda _: None, max_attempts=2)
    return network, client, phone.admin, phone.peer_id, phone.store


@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)
def test_hostile_pull_replies_are_transient_apply_nothing_and_lose_nothing(agency: AgencyProcess, tmp_path: Path) -> None:
    network, client, admin, peer_id, store = phone_behind(agency, tmp_path)
    with admin.session() as db:
        service.add_person(db, peer_id, Person(preferred_name="Walk-in", admitted_on=date(2026, 11, 1)))
        db.commit()
    cursor = sync_state.get_value(store, "pull_cursor")
    for number, (fault, words) in enumerate(PULL_REPLIES.items()):
        notes.log_phone_contact(store, people.list_caseload(store, date(2026, 11, 25)).entries[0].person_id, 5, f"call {number}", ended_at=datetime(2026, 11, 25, 9, number))
        network.forced["/pull"] = fault
        summary = client.sync()  # must not raise
        assert summary.error == words, fault
        assert summary.sent == 1 and outbox.counts(store).pending == 0, f"{fault}: the push before the pull still counts"
        assert sync_state.get_value(store, "pull_cursor") == cursor, f"{fault}: the cursor moved past what was not applied"
        assert "Walk-in" not in names_on(store), fault
    network.forced["/pull"] = "pass"
    assert client.sync().ok and "Walk-in" in names_on(store)  # the honest network brings it
    assert len(admin.received(record_type="contact_note")) == len(PULL_REPLIES)
    store.close()


@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)
def test_hostile_push_replies_keep_the_records_queued(agency: AgencyProcess, tmp_path: Path) -> None:
    network, client, admin, _, store = phone_behind(agency, tmp_path)
    person_id = people.list_caseload(store, date(2026, 11, 25)).entries[0].person_id
    call = notes.log_phone_contact(store, person_id, 5, "call", ended_at=datetime(2026, 11, 25, 9))
    for fault, words in PUSH_REPLIES.items():
        network.forced["/push"] = fault
        summary = client.sync()
        assert summary.error == words and summary.pending == 1, fault
    network.forced["/push"] = "pass"
    summary = client.sync()
    assert summary.ok and summary.pending == 0
    # Replies relabelled or cut short came after the server stored it: the resend is a duplicate.
    assert [r.record_id for r in admin.received(record_type="contact_note")] == [call.id]
    store.close()


@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)
def test_a_captive_portal_at_enrolment_says_so(agency: AgencyProcess, tmp_path: Path) -> None:
    admin = Admin(agency.db_url)
    _, _, code = admin.peer_with_caseload("Sam", ["Alex"])
    network = FaultyNetwork(agency, random.Random(1), FaultStats())
    for fault in ("portal_page", "portal_redirect", "not_a_receipt"):
        network.forced[""] = fault
        with pytest.raises(SyncError) as refused:
            enrol_device(Profile(tmp_path / fault, cost=TEST_COST), agency.url, code, PIN, http=httpx.Client(transport=network))
        assert str(refused.value) == (GARBLED if fault == "not_a_receipt" else SIGN_IN)
        assert not (tmp_path / fault / "vault.json").exists()
    network.forced[""] = "pass"  # the code was not used up by the portal
    enrol_device(Profile(tmp_path / "phone", cost=TEST_COST), agency.url, code, PIN, http=httpx.Client(transport=network)).close()


@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)
def test_auto_sync_keeps_running_behind_a_captive_portal(agency: AgencyProcess, tmp_path: Path) -> None:
    network, client, admin, _, store = phone_behind(agency, tmp_path)
    summaries: list[SyncSummary] = []
    auto = AutoSync(client, interval=0.1, on_summary=summaries.append)
    auto.start()
    try:
        person_id = people.list_caseload(store, date(2026, 11, 25)).entries[0].person_id
        notes.log_phone_contact(store, person_id, 5, "at the cafe", ended_at=datetime(2026, 11, 25, 9))
        for fault, words in (("portal_page", SIGN_IN), ("portal_redirect", SIGN_IN), ("crash", STOPPED), ("cut_short", GARBLED)):
            network.forced[""] = fault
            summaries.clear()
            wait_for(lambda words=words: any(s.error == words for s in summaries), f"no summary saying {words!r}")
            assert auto._thread.is_alive(), f"the auto-sync thread died on {fault}"
            assert outbox.counts(store).pending == 1
        network.forced[""] = "pass"  # signed in to the Wi-Fi
        wait_for(lambda: outbox.counts(store).pending == 0, "the note never left")
        assert auto._thread.is_alive()
    finally:
        auto.stop()
    assert len(admin.received(record_type="contact_note")) == 1
    store.close()


def wait_for(condition: Callable[[], bool], message: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def names_on(store: FieldStore) -> list[str]:
    return [e.preferred_name for e in people.list_caseload(store, date(2026, 11, 25)).entries]
