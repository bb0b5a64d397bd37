"""FieldPeer's push against a plain batch upload of the same notes, side by side in one run.

    .venv/bin/python -m benchmarks.plain_baseline [--notes 10000] [--batch 500] [--repeat 5]

Plain: the notes' JSON in a plain SQLite table on the "device", sent as gzip'd JSON arrays of
500 to a minimal FastAPI endpoint that gunzips, parses and stores them with INSERT OR IGNORE,
one transaction per batch, and answers with a count; then the device marks them sent. No
encryption at rest, no sealing or signing, no per-entry receipt, no validation, no outbox
bookkeeping. FieldPeer: the app's own encrypted store and outbox, `SyncClient.sync()` to a real
agency server (seal, sign, gzip, validate, exactly-once storage, receipts, then pull). Both
servers are separate uvicorn processes on loopback with the same SQLite settings (WAL,
synchronous=FULL); both send exactly the same note JSON (read back from FieldPeer's outbox),
with narratives that vary like real notes (benchmarks/field_data.py: varied_narrative). The two
alternate which goes first, and every ratio is taken within one run; the table shows medians.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from sqlmodel import Session

from benchmarks.field_data import varied_narrative, write_signed_notes
from benchmarks.sync_push import CountingTransport
from fieldpeer.agency import service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.domain import PeerRole
from fieldpeer.records import Person
from fieldpeer.store import outbox
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient, enrol_device
from tests.servers import AgencyProcess, free_port

PIN = "482913"
SQLITE_SETTINGS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL")


# --- The plain server: run as `python -m benchmarks.plain_baseline serve --db PATH --port N` --------


def plain_app(db_path: Path) -> FastAPI:
    db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    for pragma in SQLITE_SETTINGS:
        db.execute(pragma)
    db.execute("CREATE TABLE IF NOT EXISTS received (id TEXT PRIMARY KEY, record_type TEXT NOT NULL, version INTEGER NOT NULL, payload TEXT NOT NULL)")
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/push")
    async def push(request: Request) -> dict[str, int]:
        records = json.loads(gzip.decompress(await request.body()))
        rows = [(r["id"], r["record_type"], r["version"], json.dumps(r)) for r in records]
        db.execute("BEGIN IMMEDIATE")
        before = db.total_changes
        db.executemany("INSERT OR IGNORE INTO received (id, record_type, version, payload) VALUES (?, ?, ?, ?)", rows)
        stored = db.total_changes - before
        db.execute("COMMIT")
        return {"stored": stored}

    return app


def serve(db_path: Path, port: int) -> None:
    import uvicorn

    uvicorn.run(plain_app(db_path), host="127.0.0.1", port=port, log_level="warning")


class PlainServer:
    def __init__(self, db_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        root = Path(__file__).resolve().parent.parent
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.plain_baseline", "serve", "--db", str(db_path), "--port", str(self.port)], cwd=root)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise TimeoutError("plain server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Cost:
    """CPU per note on each side: steadier than notes/s on a shared machine."""

    client_us: float
    server_us: float


def measured(server_pid: int, notes: int, work):  # type: ignore[no-untyped-def]
    client, server = time.process_time(), cpu_seconds(server_pid)
    result = work()
    return result, Cost((time.process_time() - client) / notes * 1e6, (cpu_seconds(server_pid) - server) / notes * 1e6)


# --- The plain device: a table of note JSON and a sent flag -----------------------------------------


def plain_device(path: Path, records: list[str]) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_SETTINGS:
        db.execute(pragma)
    db.execute("CREATE TABLE notes (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, json TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO notes (id, json) VALUES (?, ?)", [(json.loads(r)["id"], r) for r in records])
    db.execute("COMMIT")
    return db


def plain_push(db: sqlite3.Connection, http: httpx.Client, url: str, batch: int) -> int:
    """Send every unsent note, `batch` at a time; mark them sent once the server answered."""
    sent = 0
    while True:
        rows = db.execute("SELECT seq, json FROM notes WHERE sent = 0 ORDER BY seq LIMIT ?", (batch,)).fetchall()
        if not rows:
            return sent
        body = gzip.compress(("[" + ",".join(r[1] for r in rows) + "]").encode(), compresslevel=6)
        response = http.post(f"{url}/push", content=body, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        response.raise_for_status()
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE notes SET sent = 1 WHERE seq BETWEEN ? AND ?", (rows[0][0], rows[-1][0]))
        db.execute("COMMIT")
        sent += len(rows)


# --- One run: both, on the same notes ---------------------------------------------------------------


@dataclass
class Run:
    fieldpeer_per_s: float
    fieldpeer_bytes: float
    plain_per_s: float
    plain_bytes: float
    sync_per_s: float  # push + the pull sync() does next (the agency's confirmed units come back)
    sync_bytes: float
    fieldpeer_cost: Cost  # the push
    plain_cost: Cost
    note_json_bytes: float
    batch_gzip_ratio: float


def one_run(notes: int, batch: int, plain_first: bool) -> Run:
    with tempfile.TemporaryDirectory(prefix="fieldpeer-bench-") as tmp:
        root = Path(tmp)
        agency = AgencyProcess(f"sqlite:///{root / 'agency.db'}", root / "keys", root / "agency.log")
        agency.start()
        plain = PlainServer(root / "plain-server.db")
        try:
            engine = open_agency_engine(agency.db_url)
            migrate_agency(engine)
            with Session(engine) as db:
                peer = service.add_peer(db, "Bench Peer", PeerRole.RECOVERY_COACH)
                db.flush()
                person_ids = [service.add_person(db, peer.id, Person(preferred_name=f"Person {i}", admitted_on=date(2026, 1, 1))).id for i in range(60)]
                code = service.create_enrol_code(db, peer.id)
                db.commit()
            store = enrol_device(Profile(root / "device"), agency.url, code, PIN)
            SyncClient(store).sync()  # the caseload
            write_signed_notes(store, lambda i: person_ids[i % len(person_ids)], notes, narrate=varied_narrative)
            records = [item.record_json for item in outbox.next_batch(store, notes)]  # exactly what FieldPeer sends
            assert len(records) == notes
            device = plain_device(root / "plain-device.db", records)
            sample = ("[" + ",".join(records[:batch]) + "]").encode()
            costs: dict[str, Cost] = {}

            def fieldpeer() -> tuple[float, float, float, float]:
                """Push (what the plain upload does), then the pull that follows in sync(), timed apart."""
                transport = CountingTransport()
                client = SyncClient(store, http=httpx.Client(transport=transport, timeout=120), batch_size=batch)
                began = time.perf_counter()
                summary, costs["fieldpeer"] = measured(agency.process.pid, notes, client.push)  # type: ignore[union-attr]
                pushed = time.perf_counter()
                push_bytes = transport.bytes
                client.pull()
                pulled = time.perf_counter()
                assert summary.ok and summary.sent == notes and summary.pending == 0, summary
                return notes / (pushed - began), push_bytes / notes, notes / (pulled - began), transport.bytes / notes

            def plain_baseline() -> tuple[float, float]:
                transport = CountingTransport()
                began = time.perf_counter()
                sent, costs["plain"] = measured(plain.process.pid, notes, lambda: plain_push(device, httpx.Client(transport=transport, timeout=120), plain.url, batch))
                assert sent == notes
                elapsed = time.perf_counter() - began
                stored = sqlite3.connect(root / "plain-server.db").execute("SELECT count(*) FROM received").fetchone()[0]
                assert stored == notes, stored
                return notes / elapsed, transport.bytes / notes

            if plain_first:
                plain_rate, plain_bytes = plain_baseline()
                fp_rate, fp_bytes, sync_rate, sync_bytes = fieldpeer()
            else:
                fp_rate, fp_bytes, sync_rate, sync_bytes = fieldpeer()
                plain_rate, plain_bytes = plain_baseline()
            store.close()
            device.close()
        finally:
            plain.stop()
            agency.stop()
    gzip_ratio = len(sample) / len(gzip.compress(sample, 6))
    return Run(fp_rate, fp_bytes, plain_rate, plain_bytes, sync_rate, sync_bytes, costs["fieldpeer"], costs["plain"], statistics.mean(len(r) for r in records), gzip_ratio)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    server = commands.add_parser("serve", help="(internal) run the plain server")
    server.add_argument("--db", type=Path, required=True)
    server.add_argument("--port", type=int, required=True)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.db, args.port)
        return
    runs = [one_run(args.notes, args.batch, plain_first=bool(n % 2)) for n in range(args.repeat)]

    def med(values: list[float]) -> float:
        return statistics.median(values)

    def row(name: str, fieldpeer: float, plain: float | None, ratio: float, target: str = "", ok: bool | None = None) -> None:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"| {name:<28} | {fieldpeer:>10,.0f} | {'' if plain is None else f'{plain:,.0f}':>10} | {ratio:>16.2f}x | {target:>8} | {verdict:6} |")

    speed = med([r.fieldpeer_per_s / r.plain_per_s for r in runs])
    size = med([r.fieldpeer_bytes / r.plain_bytes for r in runs])
    print(f"\nFieldPeer push vs a plain batch upload: {args.notes:,} notes, batches of {args.batch}, median of {args.repeat} runs (ratios within each run)\n")
    print(f"note JSON {med([r.note_json_bytes for r in runs]):,.0f} bytes on average; a batch of them gzips {med([r.batch_gzip_ratio for r in runs]):.1f}x\n")
    print(f"| {'measure':<28} | {'FieldPeer':>10} | {'plain':>10} | {'FieldPeer / plain':>17} | {'target':>8} |        |")
    print(f"|{'-' * 30}|{'-' * 12}|{'-' * 12}|{'-' * 19}|{'-' * 10}|--------|")
    row("notes/s, push", med([r.fieldpeer_per_s for r in runs]), med([r.plain_per_s for r in runs]), speed, ">= 0.8x", speed >= 0.8)
    row("notes/s, push + pull", med([r.sync_per_s for r in runs]), None, med([r.sync_per_s / r.plain_per_s for r in runs]))
    row("wire bytes/note, push", med([r.fieldpeer_bytes for r in runs]), med([r.plain_bytes for r in runs]), size, "<= 1.1x", size <= 1.1)
    row("wire bytes/note, push + pull", med([r.sync_bytes for r in runs]), None, med([r.sync_bytes / r.plain_bytes for r in runs]))
    for side in ("client", "server"):
        fp, pl = med([getattr(r.fieldpeer_cost, f"{side}_us") for r in runs]), med([getattr(r.plain_cost, f"{side}_us") for r in runs])
        row(f"{side} CPU µs/note, push", fp, pl, fp / pl)
    print("\nper run (FieldPeer/plain notes/s, bytes):", ", ".join(f"{r.fieldpeer_per_s:,.0f}/{r.plain_per_s:,.0f} {r.fieldpeer_bytes:.0f}/{r.plain_bytes:.0f}" for r in runs))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
