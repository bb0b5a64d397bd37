"""End-of-shift load on the agency server: many devices syncing at the same moment.

    .venv/bin/python -m benchmarks.agency_load [--devices 200] [--notes 50] [--backends sqlite,postgresql]

Each device is real: enrolled with a one-time code, its own encrypted store, 50 signed notes
in its outbox, its own HTTP client. All of them start `sync()` at once (push, then pull) against
one agency server process on loopback. Latency is timed per HTTP request at the transport.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from benchmarks.field_data import write_signed_notes
from fieldpeer.agency import service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.tables import ReceivedRecord
from fieldpeer.domain import PeerRole
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient, SyncSummary, enrol_device
from fieldpeer.records import Person
from tests.conftest import PIN, TEST_COST  # cheap scrypt: enrolling 200 phones is setup, not the measure
from tests.servers import AgencyProcess, PostgresServer


class TimedTransport(httpx.HTTPTransport):
    def __init__(self, latencies: list[float], errors: list[str]) -> None:
        super().__init__()
        self.latencies, self.errors = latencies, errors

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        began = time.perf_counter()
        response = super().handle_request(request)
        response.read()
        self.latencies.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            self.errors.append(f"{request.url.path} {response.status_code}")
        return response


def run(db_url: str, root: Path, devices: int, notes: int) -> dict[str, float]:
    server = AgencyProcess(db_url, root / "keys", root / "agency.log")
    server.start()
    try:
        engine = open_agency_engine(db_url)
        migrate_agency(engine)
        with Session(engine) as db:
            plans = []
            for n in range(devices):
                peer = service.add_peer(db, f"Peer {n}", PeerRole.PEER_SUPPORT_SPECIALIST)
                db.flush()
                persons = [service.add_person(db, peer.id, Person(preferred_name=f"P{n}-{k}", admitted_on=date(2026, 1, 1))).id for k in range(3)]
                plans.append((service.create_enrol_code(db, peer.id), persons))
            db.commit()
        latencies: list[float] = []
        errors: list[str] = []
        clients = []
        for n, (code, persons) in enumerate(plans):
            store = enrol_device(Profile(root / f"device-{n}", cost=TEST_COST), server.url, code, PIN)
            SyncClient(store).sync()  # the caseload, before the shift
            write_signed_notes(store, lambda i, persons=persons: persons[i % 3], notes, seed=n)
            clients.append(SyncClient(store, http=httpx.Client(transport=TimedTransport(latencies, errors), timeout=120), max_attempts=1))
        summaries: list[SyncSummary] = []
        start = threading.Barrier(devices + 1)

        def end_of_shift(client: SyncClient) -> None:
            start.wait()
            summaries.append(client.end_shift())

        threads = [threading.Thread(target=end_of_shift, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        start.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
        with Session(engine) as db:
            stored = db.exec(select(func.count()).select_from(ReceivedRecord).where(ReceivedRecord.record_type == "contact_note")).one()
        engine.dispose()
        for client in clients:
            client.store.close()
        ordered = sorted(latencies)
        return {
            "requests": len(ordered),
            "p50": statistics.median(ordered),
            "p95": ordered[int(len(ordered) * 0.95)],
            "max": ordered[-1],
            "wall": wall,
            "notes/s": devices * notes / wall,
            "errors": len(errors) + sum(1 for s in summaries if not s.ok),
            "lost": devices * notes - stored,
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--notes", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="fieldpeer-load-") as tmp:
            root = Path(tmp)
            if backend == "sqlite":
                results[backend] = run(f"sqlite:///{root / 'agency.db'}", root, args.devices, args.notes)
            else:
                (root / "pg").mkdir()
                postgres = PostgresServer(root / "pg")
                try:
                    url = postgres.start()
                    results[backend] = run(url, root, args.devices, args.notes)
                finally:
                    postgres.stop()
    print(f"\nFieldPeer agency under end-of-shift load: {args.devices} devices x {args.notes} notes, all syncing at once, one server process\n")
    print(f"| {'backend':<10} | {'requests':>8} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7} | {'wall s':>6} | {'notes/s':>7} | {'errors':>6} | {'lost':>4} |")
    print(f"|{'-' * 12}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 9}|{'-' * 8}|{'-' * 6}|")
    for backend, r in results.items():
        print(f"| {backend:<10} | {r['requests']:>8.0f} | {r['p50']:>7.0f} | {r['p95']:>7.0f} | {r['max']:>7.0f} | {r['wall']:>6.1f} | {r['notes/s']:>7,.0f} | {r['errors']:>6.0f} | {r['lost']:>4.0f} |")


if __name__ == "__main__":
    main()
