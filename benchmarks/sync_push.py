"""Push 10,000 contact notes (~1.2 KB each) from a device to a real agency server over loopback.

    .venv/bin/python -m benchmarks.sync_push [--notes 10000] [--repeat 3] [--batch 500]

Prints a table (median of the repeats): records/s end to end, bytes on the wire per record
(request + response bodies and headers), the note's JSON size, client and server peak memory,
and the same push one record per request for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from sqlmodel import select

from benchmarks.field_data import write_signed_notes
from fieldpeer.agency import service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.tables import ReceivedRecord
from fieldpeer.domain import PeerRole
from fieldpeer.records import Person
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient, enrol_device
from tests.servers import AgencyProcess

PIN = "482913"


class CountingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = super().handle_request(request)
        response.read()
        headers = sum(len(k) + len(v) + 4 for k, v in [*request.headers.raw, *response.headers.raw])
        # The body as it crossed the wire (gzip'd receipts), not as httpx inflated it.
        self.bytes += len(request.content) + response.num_bytes_downloaded + headers + 32  # + request/status lines
        self.requests += 1
        return response


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@dataclass
class Run:
    records_per_s: float
    wire_bytes_per_record: float
    note_json_bytes: int
    client_peak_mib: float
    server_peak_mib: float
    per_request_records_per_s: float
    push_records_per_s: float  # the push alone
    pull_seconds: float  # the pull that follows it (the agency's unit figure for every note, issue #18)


def one_run(notes: int, batch: int, baseline_notes: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="fieldpeer-bench-") as tmp:
        root = Path(tmp)
        server = AgencyProcess(f"sqlite:///{root / 'agency.db'}", root / "keys", root / "agency.log")
        server.start()
        try:
            engine = open_agency_engine(server.db_url)
            migrate_agency(engine)
            from sqlmodel import Session

            with Session(engine) as db:
                peer = service.add_peer(db, "Bench Peer", PeerRole.RECOVERY_COACH)
                db.flush()
                person_ids = [service.add_person(db, peer.id, Person(preferred_name=f"Person {i}", admitted_on=date(2026, 1, 1))).id for i in range(60)]
                codes = [service.create_enrol_code(db, peer.id) for _ in range(2)]
                db.commit()

            # The batched push being measured.
            store = enrol_device(Profile(root / "device"), server.url, codes[0], PIN)
            SyncClient(store).sync()
            note_size = write_signed_notes(store, lambda i: person_ids[i % len(person_ids)], notes)
            transport = CountingTransport()
            client = SyncClient(store, http=httpx.Client(transport=transport, timeout=120), batch_size=batch)
            tracemalloc.start()
            began = time.perf_counter()
            summary = client.push()  # what sync() does, timed in its two halves
            push_elapsed = time.perf_counter() - began
            summary.pulled = client.pull()
            elapsed = time.perf_counter() - began
            client_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert summary.ok and summary.sent == notes and summary.pending == 0, summary
            server_peak = peak_rss_kib(server.process.pid)  # type: ignore[union-attr]
            with Session(engine) as db:
                stored = len(db.exec(select(ReceivedRecord.seq)).all())
            assert stored == notes, f"server holds {stored}, expected {notes}"
            store.close()

            # The naive alternative: one record per request.
            other = enrol_device(Profile(root / "device2"), server.url, codes[1], PIN)
            SyncClient(other).sync()
            write_signed_notes(other, lambda i: person_ids[i % len(person_ids)], baseline_notes, seed=2)
            began = time.perf_counter()
            assert SyncClient(other, batch_size=1).sync().sent == baseline_notes
            per_request = baseline_notes / (time.perf_counter() - began)
            other.close()
        finally:
            server.stop()
    return Run(notes / elapsed, transport.bytes / notes, note_size, client_peak / 2**20, server_peak / 1024, per_request, notes / push_elapsed, elapsed - push_elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--baseline-notes", type=int, default=300, help="notes for the one-per-request comparison")
    args = parser.parse_args()
    runs = [one_run(args.notes, args.batch, args.baseline_notes) for _ in range(args.repeat)]

    def med(attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs)

    rows = [
        ("notes pushed end to end", f"{args.notes:,}", "", ""),
        ("records/s (batched), push + pull", f"{med('records_per_s'):,.0f}", ">= 5,000", "ok" if med("records_per_s") >= 5000 else "MISSED"),
        ("records/s, push alone", f"{med('push_records_per_s'):,.0f}", "", ""),
        ("pull after the push (s)", f"{med('pull_seconds'):,.1f}", "", ""),
        ("bytes on the wire per record", f"{med('wire_bytes_per_record'):,.0f}", "< 400", "ok" if med("wire_bytes_per_record") < 400 else "MISSED"),
        ("note JSON size (bytes)", f"{med('note_json_bytes'):,.0f}", "", ""),
        ("wire / JSON size", f"{med('wire_bytes_per_record') / med('note_json_bytes'):.2f}x", "< 0.35x", "ok" if med("wire_bytes_per_record") / med("note_json_bytes") < 0.35 else "MISSED"),
        ("records/s, one per request", f"{med('per_request_records_per_s'):,.0f}", "", ""),
        ("batched / one per request", f"{med('records_per_s') / med('per_request_records_per_s'):.1f}x", ">= 10x", "ok" if med("records_per_s") / med("per_request_records_per_s") >= 10 else "MISSED"),
        ("client peak Python memory (MiB)", f"{med('client_peak_mib'):.1f}", "", ""),
        ("server peak RSS (MiB)", f"{med('server_peak_mib'):.1f}", "", ""),
    ]
    print(f"\nFieldPeer sync push benchmark: median of {args.repeat} runs, batch size {args.batch}, SQLite agency on loopback\n")
    print(f"| {'measure':<32} | {'value':>10} | {'target':>9} | {'':6} |")
    print(f"|{'-' * 34}|{'-' * 12}|{'-' * 11}|{'-' * 8}|")
    for name, value, target, verdict in rows:
        print(f"| {name:<32} | {value:>10} | {target:>9} | {verdict:6} |")


if __name__ == "__main__":
    main()
