"""The device schema upgrades in place on an installed phone, atomically."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from fieldpeer.store import migrations, notes, people, search
from fieldpeer.store.database import open_engine
from fieldpeer.store.migrations import LATEST_VERSION, Migration, migrate, schema_version
from fieldpeer.store.profile import Profile
from fieldpeer.records import Person
from tests.conftest import PIN, TEST_COST, complete_note, make_peer


def columns(engine: Engine) -> dict[str, dict[str, bool]]:
    """{table: {column: nullable}}; a primary key counts as not nullable."""
    inspector = inspect(engine)
    return {
        t: {c["name"]: bool(c["nullable"]) and not c.get("primary_key") for c in inspector.get_columns(t)}
        for t in inspector.get_table_names()
    }


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "db.sqlite")
    assert migrate(engine) == list(range(1, LATEST_VERSION + 1))
    assert schema_version(engine) == LATEST_VERSION
    expected = {
        table.name: {c.name: bool(c.nullable) and not c.primary_key for c in table.columns}
        for table in SQLModel.metadata.sorted_tables
    }
    assert columns(engine) == expected
    assert migrate(engine) == []  # running again is a no-op


def as_left_by_version_10(engine: Engine, sync_settings: dict[str, str] | None = None) -> None:
    """What the app before released persons and sealed agency settings (schema 10) left: the agency
    address and keys in clear (`sync_settings`)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE person DROP COLUMN released_at")
        conn.exec_driver_sql("DROP INDEX ix_contact_note_draft")  # schema 13
        for key, value in (sync_settings or {}).items():
            conn.exec_driver_sql("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", (key, value))
        conn.exec_driver_sql("PRAGMA user_version = 10")


def as_left_by_version_6(engine: Engine, agency_name: str = "Test Agency") -> None:
    """Turn a database written by this app back into what the app before outreach attempts, drafts,
    alert statuses and encrypted agency/supervisor names (schema 6) left."""
    as_left_by_version_10(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_contact_note_follow_up")
        for table in ("outreach_attempt", "form_draft", "alert_status", "units_confirmed"):
            conn.exec_driver_sql(f"DROP TABLE {table}")
        conn.exec_driver_sql("ALTER TABLE peer_profile ADD COLUMN agency_name VARCHAR NOT NULL DEFAULT ''")
        conn.exec_driver_sql("UPDATE peer_profile SET agency_name = ?", (agency_name,))
        conn.exec_driver_sql("ALTER TABLE peer_profile DROP COLUMN agency_name_enc")
        conn.exec_driver_sql("ALTER TABLE note_feedback ADD COLUMN reviewer VARCHAR NOT NULL DEFAULT ''")
        conn.exec_driver_sql("ALTER TABLE note_feedback DROP COLUMN reviewer_enc")
        conn.exec_driver_sql(
            """CREATE TABLE safety_alert_v1 (
                id VARCHAR NOT NULL PRIMARY KEY, checkin_id VARCHAR NOT NULL REFERENCES checkin (id),
                person_id VARCHAR NOT NULL REFERENCES person (id), raised_at DATETIME NOT NULL, resolved_at DATETIME)"""
        )
        conn.exec_driver_sql("INSERT INTO safety_alert_v1 SELECT id, checkin_id, person_id, raised_at, resolved_at FROM safety_alert")
        conn.exec_driver_sql("DROP TABLE safety_alert")
        conn.exec_driver_sql("ALTER TABLE safety_alert_v1 RENAME TO safety_alert")
        conn.exec_driver_sql("CREATE INDEX ix_safety_alert_open ON safety_alert (person_id, resolved_at)")
        conn.exec_driver_sql("PRAGMA user_version = 6")


def as_left_by_version_3(engine: Engine) -> None:
    """Turn a database written by this app back into what the app before search and feedback (schema 3) left."""
    as_left_by_version_6(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_contact_note_unindexed")
        conn.exec_driver_sql("DROP INDEX ix_contact_note_search")
        conn.exec_driver_sql("DROP TABLE note_feedback")
        conn.exec_driver_sql("ALTER TABLE contact_note DROP COLUMN search_tokens")
        conn.exec_driver_sql("PRAGMA user_version = 3")


def test_upgrade_in_place_keeps_records_and_unsent_changes(tmp_path: Path) -> None:
    """A phone on the previous schema, with notes not yet synced, installs an update."""
    profile = Profile(tmp_path / "profile", cost=TEST_COST)
    old = profile.set_up(PIN, make_peer())
    person = people.save_person(old, Person(preferred_name="Taylor"))
    note = notes.sign_note(old, notes.save_draft(old, complete_note(person.id)).id)
    as_left_by_version_3(old.engine)
    old.close()

    store = profile.unlock(PIN)  # the new app version opens it
    assert schema_version(store.engine) == LATEST_VERSION
    assert "ix_contact_note_unindexed" in {i["name"] for i in inspect(store.engine).get_indexes("contact_note")}
    assert people.get_person(store, person.id).preferred_name == "Taylor"
    assert notes.get_note(store, note.id).narrative == note.narrative
    assert people.list_caseload(store, note.starts_at.date()).pending_sync == 3
    word = sorted(search.words(note.narrative.intervention))[0]
    assert [h.note_id for h in search.search_notes(store, word).hits] == [note.id]  # indexed on first search
    store.close()


def test_a_newer_database_is_refused_not_damaged(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "db.sqlite")
    migrate(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA user_version = 99")
    with pytest.raises(RuntimeError, match="newer than this app"):
        migrate(engine)


def test_a_failing_migration_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = open_engine(tmp_path / "db.sqlite")
    migrate(engine)
    broken = Migration(LATEST_VERSION + 1, "breaks halfway", ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"))
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + (broken,))
    monkeypatch.setattr(migrations, "LATEST_VERSION", broken.version)
    with pytest.raises(Exception):
        migrate(engine, target=broken.version)
    assert schema_version(engine) == LATEST_VERSION
    assert "half_done" not in inspect(engine).get_table_names()


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in migrations.MIGRATIONS] == list(range(1, len(migrations.MIGRATIONS) + 1))


def test_upgrade_from_6_encrypts_the_agency_and_supervisor_names_and_keeps_alerts(tmp_path: Path) -> None:
    """Schema 6 kept the agency's name and supervisors' names in clear; the update encrypts them on
    first unlock, and the alerts (rebuilt without a key to their check-in) keep their state."""
    from datetime import datetime, timezone

    from fieldpeer.domain import ReviewState, SafetyAnswer
    from fieldpeer.records import Checkin, NoteFeedback
    from fieldpeer.store import feedback, wrap
    from fieldpeer.store.profile import get_peer_profile
    from tests.test_no_plaintext import MARKER, marker_hits

    profile = Profile(tmp_path / "profile", cost=TEST_COST)
    old = profile.set_up(PIN, make_peer())
    person = people.save_person(old, Person(preferred_name="Taylor"))
    note = notes.sign_note(old, notes.save_draft(old, complete_note(person.id)).id)
    with old.unit() as unit:
        feedback.receive_feedback(unit, NoteFeedback(id=note.id, state=ReviewState.COSIGNED, reviewer="Dana", reviewed_at=datetime(2026, 11, 24, tzinfo=timezone.utc)))
    _, alert = wrap.record_checkin(old, Checkin(person_id=person.id, safety=SafetyAnswer.UNSURE))
    as_left_by_version_6(old.engine, agency_name=f"{MARKER} Agency")
    with old.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE note_feedback SET reviewer = ?", (f"{MARKER} Reviewer, LCSW",))
    old.close()
    assert marker_hits(profile.root)  # the old app's database does hold them in clear

    with pytest.raises(migrations.KeyNeeded):  # a migration without the key cannot encrypt them
        migrate(open_engine(profile.database_path))
    store = profile.unlock(PIN)
    assert schema_version(store.engine) == LATEST_VERSION
    assert get_peer_profile(store).agency_name == f"{MARKER} Agency"
    review = feedback.feedback_for(store, note.id)
    assert review is not None and review.reviewer == f"{MARKER} Reviewer, LCSW"
    assert alert is not None and wrap.alert_for_checkin(store, alert.checkin_id) == alert
    assert people.list_caseload(store, note.starts_at.date()).entries[0].open_safety_alert
    store.close()
    assert marker_hits(profile.root) == {}


def test_upgrade_from_10_seals_the_agency_address_and_keys(tmp_path: Path) -> None:
    """Schema 10 kept the agency address and public keys in clear (issue #13): the update seals them
    on first unlock, and they read back the same."""
    from fieldpeer.store import sync_state

    settings = {"server_url": "https://agency.example.org", "agency_box_key": "Ym94LWtleQ==", "agency_sign_key": "c2lnbi1rZXk=", "device_id": "device-1"}
    profile = Profile(tmp_path / "profile", cost=TEST_COST)
    old = profile.set_up(PIN, make_peer())
    people.save_person(old, Person(preferred_name="Taylor"))
    as_left_by_version_10(old.engine, settings)
    old.close()

    with pytest.raises(migrations.KeyNeeded):
        migrate(open_engine(profile.database_path))
    store = profile.unlock(PIN)
    assert schema_version(store.engine) == LATEST_VERSION
    assert {key: sync_state.get_value(store, key) for key in settings} == settings
    with store.engine.connect() as conn:
        stored: dict[str, str] = dict(conn.exec_driver_sql("SELECT key, value FROM sync_state").all())
    assert stored["device_id"] == "device-1"  # not a secret, not sealed
    assert not {stored[key] for key in ("server_url", "agency_box_key", "agency_sign_key")} & set(settings.values())
    assert not any(b"agency.example.org" in path.read_bytes() for path in profile.root.rglob("fieldpeer.db*"))
    store.close()
