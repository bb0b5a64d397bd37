"""The agency's side of a push against raw SQLite: how close to the floor is it?

    .venv/bin/python -m benchmarks.server_ingest [--notes 10000] [--batch 500] [--repeat 5]

Both write 10,000 contact notes, 500 per transaction, into a SQLite file with the server's
settings (WAL, synchronous=FULL). FieldPeer: open the sealed batch (verify the device's
signature, decrypt, gunzip), validate every record, check ownership and duplicates, store
exactly once, and build the receipt. Raw: `executemany` of the same rows into a table of the
same shape and indexes with Python's sqlite3, and nothing else.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from benchmarks.field_data import narrative
from fieldpeer.agency import review, service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.tables import Device
from fieldpeer.domain import ContactMode, ContactSetting, Intervention, NoteStatus, PeerRole
from fieldpeer.records import ContactNote, Person, new_id, utc_now
from fieldpeer.sync.sealing import KeyPair, b64, open_seal, seal, unb64
from fieldpeer.sync.wire import PushBatch, PushEntry, push_context


def batches(peer_id: str, person_ids: list[str], notes: int, size: int) -> list[list[tuple[str, str]]]:
    rng = random.Random(3)
    out: list[list[tuple[str, str]]] = []
    for first in range(0, notes, size):
        batch = []
        for i in range(first, min(notes, first + size)):
            begins = datetime(2026, 1, 1, 9) + timedelta(minutes=30 * i)
            note = ContactNote(
                person_id=person_ids[i % len(person_ids)], peer_id=peer_id, starts_at=begins, ends_at=begins + timedelta(minutes=45),
                mode=ContactMode.FACE_TO_FACE, setting=ContactSetting.COMMUNITY, service_code="H0038", units=3,
                interventions=[Intervention.SELF_HELP], narrative=narrative(rng, i), status=NoteStatus.SIGNED, signed_at=utc_now(), version=2,
            )
            batch.append((new_id(), note.model_dump_json()))
        out.append(batch)
    return out


def fieldpeer_run(root: Path, notes: int, size: int, profile: bool = False) -> float:
    engine = open_agency_engine(f"sqlite:///{root / 'agency.db'}")
    migrate_agency(engine)
    agency, device_keys = KeyPair.generate(), KeyPair.generate()
    with Session(engine, expire_on_commit=False) as db:
        peer = service.add_peer(db, "Bench", PeerRole.RECOVERY_COACH)
        db.flush()
        persons = [service.add_person(db, peer.id, Person(preferred_name=f"P{i}", admitted_on=date(2026, 1, 1))).id for i in range(60)]
        device = Device(id=new_id(), peer_id=peer.id, token_hash="x", box_key=b64(device_keys.public.box), sign_key=b64(device_keys.public.sign))
        db.add(device)
        db.commit()
    sealed = []
    for batch in batches(peer.id, persons, notes, size):
        # Exactly as the phone builds it (sync/client.py: the wire model, compact JSON).
        body = PushBatch.model_construct(batch_id=new_id(), entries=[PushEntry.model_construct(entry_id=e, record=json.loads(r)) for e, r in batch]).model_dump_json().encode()
        sealed.append(seal(body, recipient_box=agency.public.box, sender=device_keys, context=push_context(device.id)))
    if profile:  # --profile: where the server's time goes
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    began = time.perf_counter()
    for body in sealed:
        plaintext = open_seal(body, recipient=agency, sender_sign=unb64(device.sign_key), context=push_context(device.id))
        parsed = service.parse_batch(plaintext)
        with Session(engine) as db:
            receipt = review.ingest(db, device, parsed)  # what the push route runs
            db.commit()
        assert all(r.status.value == "stored" for r in receipt.results)
    elapsed = time.perf_counter() - began
    if profile:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(20)
        stats.sort_stats("cumulative").print_stats("fieldpeer|sqlalchemy/engine/base|pydantic", 30)
    engine.dispose()
    return notes / elapsed


def raw_run(root: Path, notes: int, size: int, everything: bool = False) -> float:
    """Raw sqlite3 executemany of the received rows; with `everything`, also the rows the agency
    keeps beside each signed note (review queue, units, the UnitsConfirmed feed entry): the
    database's own floor for what the server stores."""
    tables = ["agency_received", *(["agency_note_review", "agency_note_units", "agency_feed"] if everything else [])]
    template = sqlite3.connect(root / "agency.db")  # the same tables and indexes as the server's
    schema = [sql for (sql,) in template.execute(f"SELECT sql FROM sqlite_master WHERE tbl_name IN ({','.join('?' * len(tables))}) AND sql IS NOT NULL", tables)]
    template.close()
    path = root / ("raw-all.db" if everything else "raw.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    for statement in schema:
        db.execute(statement)
    now = utc_now().isoformat(" ")
    prepared = []
    for batch in batches("peer", ["person"], notes, size):
        parsed = [(e, r, json.loads(r)) for e, r in batch]
        prepared.append((
            [(e, "contact_note", n["id"], 2, n["person_id"], "peer", "device", "batch", now, r) for e, r, n in parsed],
            [(n["id"], "peer", n["person_id"], "awaiting", "", 1, now) for _, _, n in parsed],
            [(n["id"], "peer", n["person_id"], n["starts_at"][:10], n["starts_at"].replace("T", " "), 45, "H0038", 3, 1) for _, _, n in parsed],
            [("peer", "units_confirmed", n["id"], f'{{"id":"{n["id"]}","record_type":"units_confirmed","units":3,"version":1}}', now) for _, _, n in parsed],
        ))
    began = time.perf_counter()
    for received, reviews, units, feed in prepared:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO agency_received (entry_id, record_type, record_id, version, person_id, peer_id, device_id, batch_id, received_at, payload) VALUES (?,?,?,?,?,?,?,?,?,?)",
            received,
        )
        if everything:
            db.executemany("INSERT INTO agency_note_review (note_id, peer_id, person_id, state, comment, version, updated_at) VALUES (?,?,?,?,?,?,?)", reviews)
            db.executemany("INSERT INTO agency_note_units (note_id, peer_id, person_id, day, starts_at, minutes, service_code, units, version) VALUES (?,?,?,?,?,?,?,?,?)", units)
            db.executemany("INSERT INTO agency_feed (peer_id, record_type, record_id, payload, created_at) VALUES (?,?,?,?,?)", feed)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - began
    db.close()
    return notes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print where the server's time goes (one run)")
    args = parser.parse_args()
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="fieldpeer-ingest-") as tmp:
            fieldpeer_run(Path(tmp), args.notes, args.batch, profile=True)
        return
    ours, raw, raw_all = [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="fieldpeer-ingest-") as tmp:
            ours.append(fieldpeer_run(Path(tmp), args.notes, args.batch))
            raw.append(raw_run(Path(tmp), args.notes, args.batch))
            raw_all.append(raw_run(Path(tmp), args.notes, args.batch, everything=True))
        print(f"run {len(ours)}: FieldPeer {ours[-1]:,.0f}, raw {raw[-1]:,.0f}, raw with every table {raw_all[-1]:,.0f} notes/s", flush=True)
    ratios = sorted(r / o for o, r in zip(ours, raw, strict=True))
    ratios_all = sorted(r / o for o, r in zip(ours, raw_all, strict=True))
    print(f"\nAgency ingest vs raw SQLite: {args.notes:,} notes, {args.batch} per transaction, median of {args.repeat} runs\n")
    print(f"| {'measure':<58} | {'value':>8} | {'target':>6} |")
    print(f"|{'-' * 60}|{'-' * 10}|{'-' * 8}|")
    print(f"| {'FieldPeer server: unseal + validate + store (notes/s)':<58} | {statistics.median(ours):>8,.0f} | {'':>6} |")
    print(f"| {'raw sqlite3 executemany, received rows (notes/s)':<58} | {statistics.median(raw):>8,.0f} | {'':>6} |")
    print(f"| {'raw, also review, units and feed rows (notes/s)':<58} | {statistics.median(raw_all):>8,.0f} | {'':>6} |")
    print(f"| {'raw / FieldPeer (median of per-run ratios)':<58} | {statistics.median(ratios):>7.2f}x | {'<= 3x':>6} |")
    print(f"| {'raw with every table / FieldPeer':<58} | {statistics.median(ratios_all):>7.2f}x | {'':>6} |")


if __name__ == "__main__":
    main()
