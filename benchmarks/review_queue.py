"""The supervisor's pages at agency scale: the review queue and a peer's page.

    .venv/bin/python -m benchmarks.review_queue [--notes 10000] [--peers 50] [--repeat 9] [--backends sqlite,postgresql]

An agency database with `--peers` peers (20 persons each) and `--notes` signed notes awaiting
review, pushed through the server's own ingest (review.ingest): every tenth note has an addendum,
every fiftieth was returned with a comment and answered (history), and 20 safety alerts are open.
Timed in process, as the server runs them: the page handler of routes/supervisor_pages.py (the
queries, reading the page's notes, rendering the template), for an agency-wide supervisor who
sees every note. Median of `--repeat` runs after one warm-up; queries counted per page.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import Request

from benchmarks.field_data import narrative
from fieldpeer.agency import review, service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.routes import supervisor_pages
from fieldpeer.agency.tables import Device, Supervisor
from fieldpeer.domain import ContactMode, ContactSetting, Intervention, NoteStatus, PeerRole, SafetyAnswer
from fieldpeer.records import Addendum, ContactNote, Goal, Person, Record, SafetyAlert, utc_now
from tests.statements import statements_sent

FIRST_DAY = datetime(2026, 1, 5, 8)


def build(engine: Engine, notes: int, peers: int) -> tuple[Supervisor, list[str], list[str]]:
    """Returns the supervisor, the peer ids and the first peer's person ids."""
    rng = random.Random(13)
    with Session(engine, expire_on_commit=False) as db:
        made = [service.add_peer(db, f"Peer {p:02d}", PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS") for p in range(peers)]
        db.flush()
        goals = [Goal(id="g-home", text="Keep the apartment"), Goal(id="g-work", text="Find part-time work")]
        persons = {
            peer.id: [service.add_person(db, peer.id, Person(preferred_name=f"Person {p:02d}-{i:02d}", goals=goals, admitted_on=date(2026, 1, 1))).id for i in range(20)]
            for p, peer in enumerate(made)
        }
        devices = {peer.id: Device(id=f"device-{peer.id}", peer_id=peer.id, token_hash=f"bench-{peer.id}", box_key="-", sign_key="-") for peer in made}
        db.add_all(devices.values())
        supervisor, _ = review.add_supervisor(db, "Dana Reyes", "LCSW")
        db.commit()
    per_peer = notes // peers
    returned: list[str] = []
    for p, peer in enumerate(made):
        batch: list[Record] = []
        for i in range(per_peer):
            begins = FIRST_DAY + timedelta(days=(i * 280) // per_peer, hours=i % 8)
            note = ContactNote(
                person_id=persons[peer.id][i % 20], starts_at=begins, ends_at=begins + timedelta(minutes=45), mode=ContactMode.FACE_TO_FACE,
                setting=ContactSetting.COMMUNITY, service_code="H0038", interventions=[Intervention.SELF_HELP, Intervention.RECOVERY_PLANNING],
                goal_ids=["g-home"], narrative=narrative(rng, i), status=NoteStatus.SIGNED, signed_at=utc_now(), version=2,
            )
            batch.append(note)
            if i % 10 == 0:
                batch.append(Addendum(note_id=note.id, text=f"Addendum {i}."))
            if i % 50 == 25:
                returned.append(note.id)
        if p < 20:
            batch.append(SafetyAlert(checkin_id=f"checkin-{p}", person_id=persons[peer.id][0], safety=SafetyAnswer.YES))
        with Session(engine, expire_on_commit=False) as db:
            review.ingest(db, devices[peer.id], service.ParsedBatch(f"batch-{p}", [(f"entry-{r.id}", r) for r in batch]))
            db.commit()
    with Session(engine, expire_on_commit=False) as db:
        for note_id in returned:
            review.return_note(db, supervisor, note_id, "Add what the person said about the plan.")
        db.commit()
    by_peer: dict[str, list[str]] = {}
    with Session(engine) as db:
        for note_id in returned:
            row = db.get(review.NoteReview, note_id)
            assert row is not None
            by_peer.setdefault(row.peer_id, []).append(note_id)
    for peer_id, note_ids in by_peer.items():  # each returned note answered: back in the queue with its history
        with Session(engine, expire_on_commit=False) as db:
            answers: list[Record] = [Addendum(note_id=n, text="The person said the plan works.") for n in note_ids]
            review.ingest(db, devices[peer_id], service.ParsedBatch(f"answers-{peer_id}", [(f"entry-{a.id}", a) for a in answers]))
            db.commit()
    return supervisor, [peer.id for peer in made], persons[made[0].id]


def request(path: str, query: str = "", path_params: dict[str, str] | None = None) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": [], "path_params": path_params or {}})


def measure(engine: Engine, run: Callable[[Session], Any], repeat: int) -> tuple[float, int, int]:
    """Median milliseconds, queries sent, bytes of HTML."""
    times, size, queries = [], 0, 0
    for attempt in range(repeat + 1):
        with statements_sent(engine) as sent:
            began = time.perf_counter()
            with Session(engine) as db:
                response = run(db)
                db.rollback()
            elapsed = time.perf_counter() - began
        queries = sent.count
        size = len(response.body)
        assert response.status_code == 200, response.body[:300]
        if attempt:  # the first is a warm-up
            times.append(elapsed * 1000)
    return statistics.median(times), queries, size


def bench(db_url: str, notes: int, peers: int, repeat: int) -> list[tuple[str, float, int, int]]:
    engine = open_agency_engine(db_url)
    migrate_agency(engine)
    began = time.perf_counter()
    supervisor, peer_ids, persons = build(engine, notes, peers)
    print(f"  built {notes:,} notes for {peers} peers in {time.perf_counter() - began:.0f} s", flush=True)
    peer = peer_ids[7]
    pages = [
        ("queue, first page (25 of every note)", lambda db: supervisor_pages.queue_page(db, supervisor, request("/supervisor/queue"), {})),
        ("queue, page 200", lambda db: supervisor_pages.queue_page(db, supervisor, request("/supervisor/queue", "page=200"), {})),
        ("queue, filtered: a peer and a quarter, page 2", lambda db: supervisor_pages.queue_page(
            db, supervisor, request("/supervisor/queue", f"peer={peer}&start=2026-04-01&end=2026-06-30&page=2"), {})),
        ("queue, filtered: a person", lambda db: supervisor_pages.queue_page(db, supervisor, request("/supervisor/queue", f"peer={peer_ids[0]}&person={persons[3]}"), {})),
        ("peer page (a month: contacts, mix, flags, alerts)", lambda db: supervisor_pages.peer_page(
            db, supervisor, request(f"/supervisor/peers/{peer}", "start=2026-05-01&end=2026-05-31", {"peer_id": peer}), {})),
    ]
    results = [(label, *measure(engine, run, repeat)) for label, run in pages]
    for label, ms, queries, _ in results:
        print(f"  {label}: {ms:.1f} ms, {queries} queries", flush=True)
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--peers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    tables: dict[str, list[tuple[str, float, int, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="fieldpeer-queue-") as tmp:
        for backend in args.backends.split(","):
            print(f"{backend}:", flush=True)
            if backend == "sqlite":
                tables[backend] = bench(f"sqlite:///{Path(tmp) / 'agency.db'}", args.notes, args.peers, args.repeat)
                continue
            from tests.servers import PostgresServer  # the tests' throwaway cluster (scripts/setup.sh --test installs PostgreSQL)

            (Path(tmp) / "pg").mkdir()
            postgres = PostgresServer(Path(tmp) / "pg")
            try:
                tables[backend] = bench(postgres.start(), args.notes, args.peers, args.repeat)
            finally:
                postgres.stop()
    print(f"\nSupervisor pages at {args.notes:,} notes awaiting review, {args.peers} peers: handler time in process, median of {args.repeat}\n")
    print(f"| {'page':<50} | {'backend':<10} | {'ms':>6} | {'queries':>7} | {'HTML KiB':>8} | {'target':>8} |")
    print(f"|{'-' * 52}|{'-' * 12}|{'-' * 8}|{'-' * 9}|{'-' * 10}|{'-' * 10}|")
    for backend, rows in tables.items():
        for label, ms, queries, size in rows:
            target = "< 200 ms" if label.startswith("queue, first") else ""
            print(f"| {label:<50} | {backend:<10} | {ms:>6.1f} | {queries:>7} | {size / 1024:>8.0f} | {target:>8} |")


if __name__ == "__main__":
    main()
