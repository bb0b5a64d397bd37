"""Upgrading the agency database (issue #13): Alembic revisions on SQLite and PostgreSQL, a database
from the first release upgraded with every record readable and sync working, databases made by
create_all adopted, several processes upgrading at once, and models and migrations agreeing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import TypeAdapter
from sqlalchemy import Column, Integer, String, inspect, text
from sqlmodel import Session, select

from fieldpeer.agency import review, service
from fieldpeer.agency.database import current_revision, head_revision, is_at_head, migration_lock, open_agency_engine, schema_differences, upgrade
from fieldpeer.agency.migrations import alembic_config
from fieldpeer.agency.tables import Peer, ReceivedRecord
from fieldpeer.domain import PeerRole
from fieldpeer.records import AnyRecord, ContactNote
from fieldpeer.store import notes
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient
from tests.conftest import PIN, TEST_COST, complete_note
from tests.servers import ROOT, AgencyProcess

FIRST_RELEASE = "f1fdc64"  # the first commit with fieldpeer/agency/tables.py (git log --diff-filter=A)


def test_models_and_migrations_agree(agency_db_url: str) -> None:
    """The CI check: one head, and at head Alembic's autogenerate finds nothing to add or change.
    A model changed without its revision fails here."""
    engine = open_agency_engine(agency_db_url)
    assert current_revision(engine) is None and not is_at_head(engine)
    assert upgrade(engine) == head_revision() and is_at_head(engine)
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
    assert schema_differences(engine) == []
    assert upgrade(engine) == head_revision()  # again: nothing to do, nothing fails


def test_a_database_made_by_create_all_is_adopted_with_its_rows(agency_db_url: str) -> None:
    """Agencies already running (and the demo) have tables made by create_all, an `agency_schema`
    version table and, before 2026-11-25, the day index on (peer, person, day)."""
    engine = open_agency_engine(agency_db_url)
    baseline = ScriptDirectory.from_config(alembic_config()).get_revision("0001")
    assert baseline is not None
    with engine.begin() as conn:
        baseline.module.schema.create_all(conn)  # the tables as the last create_all made them
        conn.execute(text("DROP INDEX ix_note_units_day"))
        conn.execute(text("CREATE INDEX ix_note_units_day ON agency_note_units (peer_id, person_id, day)"))
        conn.execute(text("CREATE TABLE agency_schema (version INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO agency_schema (version) VALUES (1)"))
    with Session(engine) as db:
        peer_id = service.add_peer(db, "Sam Field", PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS").id
        db.commit()
    assert current_revision(engine) is None and schema_differences(engine) != []

    assert upgrade(engine) == head_revision()
    assert schema_differences(engine) == []
    assert "agency_schema" not in inspect(engine).get_table_names()
    with Session(engine) as db:
        assert [p.name for p in db.exec(select(Peer).where(Peer.id == peer_id)).all()] == ["Sam Field"]


def test_several_processes_upgrading_at_once_all_start(agency_db_url: str) -> None:
    """Server processes starting together: each upgrades under the lock, none fails on 'table
    exists', and the schema is made once."""
    script = "import sys; from fieldpeer.agency.database import open_agency_engine, upgrade; print(upgrade(open_agency_engine(sys.argv[1])))"
    runs = [subprocess.Popen([sys.executable, "-c", script, agency_db_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) for _ in range(3)]
    results = [(run.wait(timeout=120), run.communicate()) for run in runs]
    assert [(code, out.decode().strip()) for code, (out, _) in results] == [(0, head_revision())] * 3, [err.decode()[-2000:] for _, (_, err) in results]
    assert schema_differences(open_agency_engine(agency_db_url)) == []


@pytest.mark.slow
def test_a_first_release_database_upgrades_with_every_record_readable_and_sync_working(agency_db_url: str, tmp_path: Path) -> None:
    """The first release's own server and phone fill the database; today's server starts on it
    (and upgrades it); every stored record reads through today's models; the same phone, opened
    by today's app, pulls and pushes again."""
    old = tmp_path / "first-release"
    old.mkdir()
    archive = subprocess.run(["git", "archive", FIRST_RELEASE], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    env = {**os.environ, "PYTHONPATH": str(old)}
    filled = subprocess.run([sys.executable, str(ROOT / "tests/data/fill_first_release.py"), agency_db_url, str(tmp_path)],
                            cwd=old, env=env, capture_output=True, timeout=300)
    assert filled.returncode == 0, filled.stderr.decode()[-3000:]
    made = json.loads(filled.stdout.decode().strip().splitlines()[-1])
    engine = open_agency_engine(agency_db_url)
    assert current_revision(engine) is None
    with Session(engine) as db:
        before = {(r.record_type, r.record_id, r.version): r.payload for r in db.exec(select(ReceivedRecord)).all()}
    assert len(before) == made["sent"] and {kind for kind, _, _ in before} >= {"contact_note", "addendum", "wrap_plan", "checkin", "safety_alert"}

    agency = AgencyProcess(agency_db_url, tmp_path / "keys", tmp_path / "agency.log")
    agency.port, agency.url = made["port"], f"http://127.0.0.1:{made['port']}"  # the address the phone knows
    agency.start()  # `serve` upgrades before answering
    try:
        assert is_at_head(engine) and schema_differences(engine) == []
        with Session(engine) as db:
            after = {(r.record_type, r.record_id, r.version): r.payload for r in db.exec(select(ReceivedRecord)).all()}
            assert after == before  # nothing lost, nothing rewritten
            readable = [TypeAdapter(AnyRecord).validate_json(payload) for payload in after.values()]
            assert {r.record_type for r in readable} == {kind for kind, _, _ in before}
            note = next(r for r in readable if isinstance(r, ContactNote))
            assert note.id == made["note_id"] and note.narrative and note.narrative.plan == "Call landlord Friday."
            supervisor, _ = review.add_supervisor(db, "Dana Reyes", "LCSW")
            queued = review.queue(db, supervisor).notes  # signed before supervision existed: awaiting, with units and addendum
            by_id = {n.note_id: (n.units, n.addenda) for n in queued}
            assert len(by_id) == 2 and by_id[note.id] == (3, ["Follow-up: housing form sent."])  # and the 10-minute phone call

        store = Profile(Path(made["profile"]), cost=TEST_COST).unlock(PIN)  # the old phone, today's app
        try:
            client = SyncClient(store, sleep=lambda _: None)
            second = notes.sign_note(store, notes.save_draft(store, complete_note(made["person_ids"][1])).id)
            summary = client.sync()
            assert summary.ok and summary.pending == 0 and summary.quarantined == 0, summary
        finally:
            store.close()
        with Session(engine) as db:
            stored = service.received_records(db, peer_id=made["peer_id"])
            assert second.id in {r.record_id for r in stored}
    finally:
        agency.stop()


def test_migrate_command_and_health_tell_the_schema(agency_db_url: str, tmp_path: Path) -> None:
    """`fieldpeer agency migrate` upgrades and says to what; /api/v1/health answers 503 when the
    database is not at this server's head (e.g. a newer release upgraded it under an old process)."""
    migrated = subprocess.run([sys.executable, "-m", "fieldpeer.cli", "agency", "--db", agency_db_url, "migrate"], cwd=ROOT, capture_output=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr.decode()[-2000:]
    assert migrated.stdout.decode().strip() == f"Database at revision {head_revision()}."
    agency = AgencyProcess(agency_db_url, tmp_path / "keys", tmp_path / "agency.log")
    agency.start()
    try:
        assert httpx.get(f"{agency.url}/api/v1/health").json() == {"status": "ok", "database": "ok", "schema": head_revision(), "expected": head_revision()}
        engine = open_agency_engine(agency_db_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'from_a_newer_release'"))
        answer = httpx.get(f"{agency.url}/api/v1/health")
        assert (answer.status_code, answer.json()["schema"]) == (503, "from_a_newer_release")
        assert "sqlite" not in answer.text and "postgres" not in answer.text  # never the database's address
    finally:
        agency.stop()


def test_a_batch_rebuild_of_a_referenced_table_keeps_rows_and_references(agency_db_url: str) -> None:
    """What a later revision may do without hand-written SQL: add a NOT NULL column to
    agency_peer and retype one, which on SQLite rebuilds the table other tables reference (done
    with foreign keys off inside the lock, checked before commit). Rolled back afterwards."""
    engine = open_agency_engine(agency_db_url)
    upgrade(engine)
    with Session(engine) as db:
        peer_id = service.add_peer(db, "Sam Field", PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS").id
        db.flush()
        code = service.create_enrol_code(db, peer_id)
        db.commit()
    with pytest.raises(LookupError, match="rolled back"), migration_lock(engine) as conn:
        operations = Operations(MigrationContext.configure(conn))
        with operations.batch_alter_table("agency_peer") as batch:  # as autogenerate writes it: SQLite rebuilds, PostgreSQL ALTERs
            batch.add_column(Column("shift", Integer(), nullable=False, server_default="1"))
            batch.alter_column("credentials", type_=String(40))
        assert conn.execute(text("SELECT name, shift FROM agency_peer")).all() == [("Sam Field", 1)]
        assert conn.execute(text("SELECT count(*) FROM agency_enrol_code WHERE peer_id = :p"), {"p": peer_id}).scalar_one() == 1
        raise LookupError("rolled back")
    with Session(engine) as db:  # untouched, and the device still enrols with its code
        assert [p.name for p in db.exec(select(Peer)).all()] == ["Sam Field"]
        assert service.create_enrol_code(db, peer_id) != code
    assert schema_differences(engine) == []
