"""Push 10,000 contact notes (~1.2 KB each) from a device to a real agency server over loopback.

    .venv/bin/python -m benchmarks.sync_push [--notes 10000] [--repeat 3] [--batch 500]

Prints a table (median of the repeats): records/s end to end, bytes on the wire per record
(request + response bodies and headers), the note's JSON size, client and server peak memory,
and the same push one record per request for comparison.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import select

from fieldpeer.agency import service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.tables import ReceivedRecord
from fieldpeer.domain import ContactMode, ContactSetting, Intervention, NoteStatus, PeerRole
from fieldpeer.store.notes import note_to_row
from fieldpeer.store.profile import Profile
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.sync.client import SyncClient, enrol_device
from fieldpeer.sync.records import ContactNote, Narrative, Person
from tests.servers import AgencyProcess

PIN = "482913"
FRAGMENTS = [
    "Met at the coffee shop on Main Street as planned.",
    "We talked about the week and what went well.",
    "They shared that sleep has been better since starting the evening walk.",
    "Reviewed the goal of finding stable housing and the two listings from Monday.",
    "Practised what to say when calling the landlord, using role-play.",
    "I shared how I used a daily checklist in my own recovery.",
    "They said the bus schedule has been stressful and asked for help reading it.",
    "Looked at the recovery meeting list together and picked a Thursday group.",
    "They identified crowded places as a trigger and chose breathing as a first step.",
    "Discussed the job fair next week and what to bring.",
    "They felt hopeful and laughed about the last interview.",
    "Mentioned missing their sister and wanting to call her on Sunday.",
    "Agreed to bring the housing application to our next meeting.",
    "They were quieter than usual at first but opened up after a few minutes.",
    "Talked about managing money this month and the food bank hours.",
    "We walked to the library and signed up for a computer class.",
    "They asked about volunteering at the animal shelter.",
    "Plan to meet again Tuesday at 2 pm at the recovery center.",
    "I will call on Friday to check how the landlord call went.",
    "They will try the morning routine for three days and tell me how it felt.",
]


def narrative(rng: random.Random, target: int = 520) -> Narrative:  # ~1.2 KB of note JSON
    parts: dict[str, str] = {}
    share = target // 4
    for name in ("goal", "intervention", "response", "plan"):
        text = ""
        while len(text) < share:
            text += rng.choice(FRAGMENTS) + " "
        parts[name] = text.strip()
    return Narrative(**parts)


def write_signed_notes(store: FieldStore, person_ids: list[str], count: int, seed: int = 1) -> int:
    """Signed notes through the same row + outbox encoding the app uses; returns mean JSON size."""
    rng = random.Random(seed)
    sizes: list[int] = []
    start = datetime(2026, 1, 1, 9)
    for chunk in range(0, count, 1000):
        with store.unit() as unit:
            for i in range(chunk, min(count, chunk + 1000)):
                begins = start + timedelta(minutes=30 * i)
                note = ContactNote(
                    person_id=rng.choice(person_ids), peer_id=store.peer_id, starts_at=begins, ends_at=begins + timedelta(minutes=rng.choice([20, 30, 45, 60])),
                    mode=ContactMode.FACE_TO_FACE, setting=ContactSetting.COMMUNITY, service_code="H0038", units=2,
                    interventions=rng.sample(list(Intervention), 2), narrative=narrative(rng), status=NoteStatus.SIGNED, signed_at=unit.now, version=2,
                )
                sizes.append(len(note.model_dump_json()))
                unit.session.add(note_to_row(unit.cipher, note, unit.now))
                unit.changed("sign", note)
    return int(statistics.mean(sizes))


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
        self.bytes += len(request.content) + len(response.content) + headers + 32  # + request/status lines
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
            note_size = write_signed_notes(store, person_ids, notes)
            transport = CountingTransport()
            client = SyncClient(store, http=httpx.Client(transport=transport, timeout=120), batch_size=batch)
            tracemalloc.start()
            began = time.perf_counter()
            summary = client.sync()
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
            write_signed_notes(other, person_ids, baseline_notes, seed=2)
            began = time.perf_counter()
            assert SyncClient(other, batch_size=1).sync().sent == baseline_notes
            per_request = baseline_notes / (time.perf_counter() - began)
            other.close()
        finally:
            server.stop()
    return Run(notes / elapsed, transport.bytes / notes, note_size, client_peak / 2**20, server_peak / 1024, per_request)


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
        ("records/s (batched)", f"{med('records_per_s'):,.0f}", ">= 5,000", "ok" if med("records_per_s") >= 5000 else "MISSED"),
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
