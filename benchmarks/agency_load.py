"""End-of-shift load on the agency server: many devices syncing at the same moment.

    .venv/bin/python -m benchmarks.agency_load [--devices 200] [--notes 50] [--backends sqlite,postgresql]
        [--workers 1,2,4] [--repeat 3]

Each device is real: enrolled with a one-time code, its own encrypted store, 50 signed notes
in its outbox, its own HTTP client. All of them call `end_shift()` at once (push, then pull)
against the agency server on loopback (`fieldpeer agency serve --workers N`; PostgreSQL takes
several workers, SQLite one). Latency is timed per HTTP request at the transport; server CPU is
the user + system time of the server's processes during the rush.
"""

from __future__ import annotations

import argparse
import os
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
from fieldpeer.records import Person
from fieldpeer.store import outbox
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient, enrol_device
from fieldpeer.sync.wire import SEALED_MEDIA_TYPE, EntryStatus
from tests.conftest import PIN, TEST_COST  # cheap scrypt: enrolling 200 phones is setup, not the measure
from tests.servers import AgencyProcess, PostgresServer


class TimedTransport(httpx.HTTPTransport):
    def __init__(self, latencies: dict[str, list[float]], errors: list[str]) -> None:
        super().__init__()
        self.latencies, self.errors = latencies, errors

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        began = time.perf_counter()
        response = super().handle_request(request)
        response.read()
        self.latencies["push" if request.url.path.endswith("/push") else "pull"].append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            self.errors.append(f"{request.url.path} {response.status_code}")
        return response


def process_tree_cpu(pid: int) -> float:
    """User + system seconds of a process and its live children (the uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wire_rush(client: SyncClient, start: threading.Barrier) -> bool:
    """One device's end of shift as the agency sees it: the push of its sealed batch, then a pull,
    with the phone's own work done beforehand (sealing) or afterwards (applying the pull): on 200
    real phones that work runs on 200 processors, here it would queue on the server's two cores."""
    items = client._next_batch()
    body = client._seal_batch(items)
    start.wait()
    receipt = client._post(body)
    client._request("GET", "/pull", params={"cursor": 0}, expect=SEALED_MEDIA_TYPE)
    outbox.settle(client.store, [r.entry_id for r in receipt.results if r.status in (EntryStatus.STORED, EntryStatus.DUPLICATE)], {})
    return len(receipt.results) == len(items) and outbox.counts(client.store).pending == 0


def run(db_url: str, root: Path, devices: int, notes: int, workers: int = 1, phones: str = "wire") -> dict[str, float]:
    # Every phone enrols from this one address: lift the per-address enrolment rate limit for the run.
    os.environ["FIELDPEER_AGENCY_SETTING_ENROL_PER_MINUTE"] = str(devices * 10)
    server = AgencyProcess(db_url, root / "keys", root / "agency.log", options=("--workers", str(workers)) if workers > 1 else ())
    try:
        server.start()
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
        latencies: dict[str, list[float]] = {"push": [], "pull": []}
        errors: list[str] = []
        clients = []
        for n, (code, persons) in enumerate(plans):
            store = enrol_device(Profile(root / f"device-{n}", cost=TEST_COST), server.url, code, PIN)
            SyncClient(store).sync()  # the caseload, before the shift
            write_signed_notes(store, lambda i, persons=persons: persons[i % 3], notes, seed=n)
            clients.append(SyncClient(store, http=httpx.Client(transport=TimedTransport(latencies, errors), timeout=120), max_attempts=1))
        assert server.process is not None
        cpu_before = process_tree_cpu(server.process.pid)
        summaries: list[bool] = []
        start = threading.Barrier(devices + 1)

        def end_of_shift(client: SyncClient) -> None:
            if phones == "wire":
                summaries.append(wire_rush(client, start))
            else:
                start.wait()
                summaries.append(client.end_shift().ok)

        threads = [threading.Thread(target=end_of_shift, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        start.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
        server_cpu = process_tree_cpu(server.process.pid) - cpu_before
        with Session(engine) as db:
            stored = db.exec(select(func.count()).select_from(ReceivedRecord).where(ReceivedRecord.record_type == "contact_note")).one()
        engine.dispose()
        for client in clients:
            client.store.close()
        ordered = sorted(latencies["push"] + latencies["pull"])
        pushes = sorted(latencies["push"])
        return {
            "requests": len(ordered),
            "p50": statistics.median(ordered),
            "p95": ordered[int(len(ordered) * 0.95)],
            "push p95": pushes[int(len(pushes) * 0.95)],
            "max": ordered[-1],
            "wall": wall,
            "notes/s": devices * notes / wall,
            "server cpu µs/note": server_cpu / (devices * notes) * 1e6,
            "errors": len(errors) + sum(1 for ok in summaries if not ok),
            "lost": devices * notes - stored,
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--notes", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2,4", help="server worker processes to try on PostgreSQL (SQLite: always 1)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; each figure is the median")
    parser.add_argument(
        "--phones", choices=["wire", "real"], default="wire",
        help="wire: each phone's batch is sealed before the rush and its pull is not applied, so the two cores serve the agency (default); real: every phone runs end_shift() in this process",
    )
    args = parser.parse_args()
    settings = [(backend, w) for backend in args.backends.split(",") for w in ([1] if backend == "sqlite" else [int(x) for x in args.workers.split(",")])]
    results: dict[tuple[str, int], dict[str, list[float]]] = {}
    for _ in range(args.repeat):
        for backend, workers in settings:  # interleaved, so a noisy minute on the shared machine hits every setting alike
            with tempfile.TemporaryDirectory(prefix="fieldpeer-load-") as tmp:
                root = Path(tmp)
                if backend == "sqlite":
                    found = run(f"sqlite:///{root / 'agency.db'}", root, args.devices, args.notes, phones=args.phones)
                else:
                    (root / "pg").mkdir()
                    postgres = PostgresServer(root / "pg")
                    try:
                        url = postgres.start()
                        found = run(url, root, args.devices, args.notes, workers, args.phones)
                    finally:
                        postgres.stop()
            print(backend, workers, {k: round(v, 1) for k, v in found.items()}, flush=True)
            for key, value in found.items():
                results.setdefault((backend, workers), {}).setdefault(key, []).append(value)
    print(f"\nFieldPeer agency under end-of-shift load: {args.devices} devices x {args.notes} notes, all syncing at once ({args.phones} phones); median of {args.repeat} run(s)\n")
    print(
        f"| {'backend':<10} | {'workers':>7} | {'requests':>8} | {'p50 ms':>7} | {'p95 ms':>7} | {'push p95':>8} | {'max ms':>7} | {'wall s':>6} "
        f"| {'notes/s':>7} | {'server CPU µs/note':>18} | {'errors':>6} | {'lost':>4} |"
    )
    print(f"|{'-' * 12}|{'-' * 9}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 10}|{'-' * 9}|{'-' * 8}|{'-' * 9}|{'-' * 20}|{'-' * 8}|{'-' * 6}|")
    for (backend, workers), runs in results.items():
        r = {k: statistics.median(v) for k, v in runs.items()}
        errors, lost = sum(runs["errors"]), sum(runs["lost"])  # totals over runs, never a median
        print(
            f"| {backend:<10} | {workers:>7} | {r['requests']:>8.0f} | {r['p50']:>7.0f} | {r['p95']:>7.0f} | {r['push p95']:>8.0f} | {r['max']:>7.0f} | {r['wall']:>6.1f} "
            f"| {r['notes/s']:>7,.0f} | {r['server cpu µs/note']:>18.0f} | {errors:>6.0f} | {lost:>4.0f} |"
        )


if __name__ == "__main__":
    main()
