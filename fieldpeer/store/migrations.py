"""Versioned, in-place schema upgrades for the phone's database.

Each migration is a list of SQL statements applied in one transaction together with
``PRAGMA user_version``, so an upgrade interrupted by a dead battery leaves the old
schema intact and simply runs again. Migrations are append-only: never edit a shipped
one, add the next.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Engine

from fieldpeer.store.crypto import DecryptionError, FieldCipher

# A step that rewrites data (e.g. encrypts a column that was clear), inside the migration's
# transaction. It gets the unlocked cipher, or None when the caller has no key (a fresh database).
DataStep = Callable[[Connection, FieldCipher | None], None]


class KeyNeeded(RuntimeError):
    """This upgrade re-encrypts existing rows: it runs on unlock, when the key is at hand."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str | DataStep, ...]


def _encrypt_column(table: str, key: str, clear: str, field: str) -> DataStep:
    """Encrypt `table.clear` into `table.<clear>_enc`, bound to (table, row key, field), and blank the clear value."""

    def step(conn: Connection, cipher: FieldCipher | None) -> None:
        rows = conn.exec_driver_sql(f"SELECT {key}, {clear} FROM {table}").all()
        if rows and cipher is None:
            raise KeyNeeded(f"Upgrading {table} needs the unlocked key.")
        for row_key, value in rows:
            assert cipher is not None
            sealed = cipher.encrypt(table, row_key, field, value or "")
            conn.exec_driver_sql(f"UPDATE {table} SET {clear}_enc = ?, {clear} = '' WHERE {key} = ?", (sealed, row_key))

    return step


# Sync settings sealed like the token since migration 12: a value written into the table by
# anything but FieldPeer fails to open, so it cannot redirect a sync (sync_state.py reads them).
SEALED_SYNC_SETTINGS = ("server_url", "agency_box_key", "agency_sign_key")


def _seal_sync_settings(conn: Connection, cipher: FieldCipher | None) -> None:
    """Encrypt the agency address and keys in place, as sync_state.py encrypts the token."""
    marks = ", ".join("?" for _ in SEALED_SYNC_SETTINGS)
    rows = conn.exec_driver_sql(f"SELECT key, value FROM sync_state WHERE key IN ({marks})", SEALED_SYNC_SETTINGS).all()
    if rows and cipher is None:
        raise KeyNeeded("Sealing the agency address and keys needs the unlocked key.")
    for key, value in rows:
        assert cipher is not None
        if _opens(cipher, key, value):
            continue  # sealed already (a database taken back to an older schema in tests keeps them)
        sealed = base64.b64encode(cipher.encrypt("sync_state", key, "value", value)).decode()
        conn.exec_driver_sql("UPDATE sync_state SET value = ? WHERE key = ?", (sealed, key))


def _opens(cipher: FieldCipher, key: str, value: str) -> bool:
    try:
        cipher.decrypt("sync_state", key, "value", base64.b64decode(value, validate=True))
    except (DecryptionError, binascii.Error):
        return False
    return True


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial schema",
        (
            """CREATE TABLE peer_profile (
                id VARCHAR NOT NULL PRIMARY KEY, role VARCHAR NOT NULL, name_enc BLOB NOT NULL,
                credentials_enc BLOB NOT NULL, agency_name VARCHAR NOT NULL, updated_at DATETIME NOT NULL)""",
            """CREATE TABLE person (
                id VARCHAR NOT NULL PRIMARY KEY, preferred_name_enc BLOB NOT NULL, details_enc BLOB NOT NULL,
                recovery_stage VARCHAR NOT NULL, service_criterion VARCHAR, admitted_on DATE,
                plan_reviewed_on DATE, discharged_on DATE, discharge_reason VARCHAR,
                part2 BOOLEAN NOT NULL, version INTEGER NOT NULL, updated_at DATETIME NOT NULL)""",
            """CREATE TABLE contact_note (
                id VARCHAR NOT NULL PRIMARY KEY, kind VARCHAR NOT NULL, person_id VARCHAR REFERENCES person (id),
                attendee_ids JSON NOT NULL, peer_id VARCHAR NOT NULL, starts_at DATETIME NOT NULL,
                ends_at DATETIME NOT NULL, mode VARCHAR, setting VARCHAR, service_code VARCHAR NOT NULL,
                units INTEGER NOT NULL, interventions JSON NOT NULL, goal_ids JSON NOT NULL,
                narrative_enc BLOB NOT NULL, follow_up_on DATE, status VARCHAR NOT NULL, signed_at DATETIME,
                version INTEGER NOT NULL, updated_at DATETIME NOT NULL)""",
            """CREATE TABLE addendum (
                id VARCHAR NOT NULL PRIMARY KEY, note_id VARCHAR NOT NULL REFERENCES contact_note (id),
                text_enc BLOB NOT NULL, written_at DATETIME NOT NULL)""",
            """CREATE TABLE wrap_plan (
                id VARCHAR NOT NULL PRIMARY KEY, person_id VARCHAR NOT NULL REFERENCES person (id),
                version INTEGER NOT NULL, content_enc BLOB NOT NULL, saved_at DATETIME NOT NULL,
                UNIQUE (person_id, version))""",
            """CREATE TABLE checkin (
                id VARCHAR NOT NULL PRIMARY KEY, person_id VARCHAR NOT NULL REFERENCES person (id),
                wrap_plan_id VARCHAR, occurred_at DATETIME NOT NULL, zone VARCHAR NOT NULL,
                safety VARCHAR NOT NULL, escalation VARCHAR NOT NULL, answers_enc BLOB NOT NULL)""",
            """CREATE TABLE safety_alert (
                id VARCHAR NOT NULL PRIMARY KEY, checkin_id VARCHAR NOT NULL REFERENCES checkin (id),
                person_id VARCHAR NOT NULL REFERENCES person (id), raised_at DATETIME NOT NULL,
                resolved_at DATETIME)""",
            """CREATE TABLE consent (
                id VARCHAR NOT NULL PRIMARY KEY, person_id VARCHAR NOT NULL REFERENCES person (id),
                kind VARCHAR NOT NULL, part2 BOOLEAN NOT NULL, terms_enc BLOB NOT NULL, signed_on DATE NOT NULL,
                expires_on DATE, revoked_on DATE, version INTEGER NOT NULL)""",
            """CREATE TABLE audit_event (
                seq INTEGER NOT NULL PRIMARY KEY, at DATETIME NOT NULL, action VARCHAR NOT NULL,
                record_type VARCHAR NOT NULL, record_id VARCHAR NOT NULL)""",
            """CREATE TABLE outbox (
                seq INTEGER NOT NULL PRIMARY KEY, id VARCHAR NOT NULL UNIQUE, record_type VARCHAR NOT NULL,
                record_id VARCHAR NOT NULL, record_version INTEGER NOT NULL, priority INTEGER NOT NULL,
                payload_enc BLOB NOT NULL, created_at DATETIME NOT NULL, state VARCHAR NOT NULL,
                attempts INTEGER NOT NULL, reason VARCHAR, sent_at DATETIME)""",
            """CREATE TABLE sync_state (key VARCHAR NOT NULL PRIMARY KEY, value VARCHAR NOT NULL)""",
        ),
    ),
    Migration(
        2,
        "indexes for the caseload, timeline and outbox queries",
        (
            "CREATE INDEX ix_contact_note_person_starts ON contact_note (person_id, starts_at)",
            "CREATE INDEX ix_checkin_person_occurred ON checkin (person_id, occurred_at)",
            "CREATE INDEX ix_addendum_note ON addendum (note_id)",
            "CREATE INDEX ix_outbox_pending ON outbox (state, priority, seq)",
            "CREATE INDEX ix_safety_alert_open ON safety_alert (person_id, resolved_at)",
        ),
    ),
    Migration(
        3,
        "find older pending versions of a record (outbox coalescing)",
        ("CREATE INDEX ix_outbox_record ON outbox (record_type, record_id, record_version)",),
    ),
    Migration(
        4,
        "blind index for searching notes (notes written before it are indexed on first search)",
        (
            "ALTER TABLE contact_note ADD COLUMN search_tokens BLOB",
            "CREATE INDEX ix_contact_note_unindexed ON contact_note (id) WHERE search_tokens IS NULL",
            "CREATE INDEX ix_contact_note_search ON contact_note (starts_at, search_tokens)",  # searches scan this, not the table
        ),
    ),
    Migration(
        5,
        "supervisors' feedback on signed notes",
        (
            """CREATE TABLE note_feedback (
                note_id VARCHAR NOT NULL PRIMARY KEY, state VARCHAR NOT NULL, comment_enc BLOB NOT NULL,
                reviewer VARCHAR NOT NULL, reviewed_at DATETIME NOT NULL, version INTEGER NOT NULL)""",
        ),
    ),
    Migration(
        6,
        "find returned notes without scanning every note (the caseload flag)",
        ("CREATE INDEX ix_note_feedback_state ON note_feedback (state)",),
    ),
    Migration(
        7,
        "outreach attempts, form drafts, alert statuses and the agency's unit figures",
        (
            """CREATE TABLE outreach_attempt (
                id VARCHAR NOT NULL PRIMARY KEY, person_id VARCHAR NOT NULL REFERENCES person (id),
                attempted_at DATETIME NOT NULL, mode VARCHAR NOT NULL, outcome VARCHAR NOT NULL,
                note_enc BLOB NOT NULL, follow_up_on DATE)""",
            "CREATE INDEX ix_outreach_attempt_person ON outreach_attempt (person_id, attempted_at)",
            """CREATE TABLE form_draft (
                kind VARCHAR NOT NULL, person_id VARCHAR NOT NULL, record_id VARCHAR NOT NULL,
                content_enc BLOB NOT NULL, updated_at DATETIME NOT NULL, PRIMARY KEY (kind, person_id, record_id))""",
            """CREATE TABLE alert_status (
                alert_id VARCHAR NOT NULL PRIMARY KEY, person_id VARCHAR NOT NULL, state VARCHAR NOT NULL,
                by_enc BLOB NOT NULL, at DATETIME NOT NULL, version INTEGER NOT NULL)""",
            "CREATE INDEX ix_alert_status_person_id ON alert_status (person_id)",
            """CREATE TABLE units_confirmed (
                note_id VARCHAR NOT NULL PRIMARY KEY, units INTEGER NOT NULL, version INTEGER NOT NULL)""",
        ),
    ),
    Migration(
        8,
        "a safety alert is raised before its check-in is saved: no foreign key to it, one alert per check-in",
        (
            """CREATE TABLE safety_alert_v8 (
                id VARCHAR NOT NULL PRIMARY KEY, checkin_id VARCHAR NOT NULL UNIQUE,
                person_id VARCHAR NOT NULL REFERENCES person (id), safety VARCHAR NOT NULL,
                raised_at DATETIME NOT NULL, resolved_at DATETIME)""",
            """INSERT INTO safety_alert_v8 (id, checkin_id, person_id, safety, raised_at, resolved_at)
                SELECT a.id, a.checkin_id, a.person_id, COALESCE(c.safety, 'yes'), a.raised_at, a.resolved_at
                FROM safety_alert AS a LEFT JOIN checkin AS c ON c.id = a.checkin_id""",
            "DROP TABLE safety_alert",
            "ALTER TABLE safety_alert_v8 RENAME TO safety_alert",
            "CREATE INDEX ix_safety_alert_open ON safety_alert (person_id, resolved_at)",
        ),
    ),
    Migration(
        9,
        "the agency's name and supervisors' names encrypted like everything else received",
        (
            "ALTER TABLE peer_profile ADD COLUMN agency_name_enc BLOB NOT NULL DEFAULT x''",
            "ALTER TABLE note_feedback ADD COLUMN reviewer_enc BLOB NOT NULL DEFAULT x''",
            _encrypt_column("peer_profile", "id", "agency_name", "agency_name"),
            _encrypt_column("note_feedback", "note_id", "reviewer", "reviewer"),
            "ALTER TABLE peer_profile DROP COLUMN agency_name",
            "ALTER TABLE note_feedback DROP COLUMN reviewer",
        ),
    ),
    Migration(
        10,
        "find each person's latest follow-up date without reading every note (the caseload)",
        (
            "CREATE INDEX ix_contact_note_follow_up ON contact_note (person_id, starts_at, follow_up_on) WHERE follow_up_on IS NOT NULL",
            "CREATE INDEX ix_outreach_attempt_follow_up ON outreach_attempt (person_id, attempted_at, follow_up_on) WHERE follow_up_on IS NOT NULL",
        ),
    ),
    Migration(
        11,
        "a person the agency moved to another peer is hidden until nothing about them waits, then purged",
        ("ALTER TABLE person ADD COLUMN released_at DATETIME",),
    ),
    Migration(
        12,
        "the agency address and public keys encrypted and authenticated like the token (issue #13)",
        (_seal_sync_settings,),
    ),
    Migration(
        13,
        "find unsigned draft notes (the caseload's 'Unsigned draft', End shift) without reading every note",
        ("CREATE INDEX ix_contact_note_draft ON contact_note (person_id) WHERE status = 'draft'",),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def migrate(engine: Engine, target: int = LATEST_VERSION, cipher: FieldCipher | None = None) -> list[int]:
    """Bring the database up to `target`; returns the versions applied. `cipher` (the unlocked key)
    is needed only by upgrades that re-encrypt existing rows (KeyNeeded otherwise)."""
    current = schema_version(engine)
    if current > LATEST_VERSION:
        raise RuntimeError(f"This database (schema {current}) is newer than this app (schema {LATEST_VERSION}). Update the app.")
    applied: list[int] = []
    for migration in MIGRATIONS:
        if current < migration.version <= target:
            with engine.begin() as conn:
                for statement in migration.statements:
                    if isinstance(statement, str):
                        conn.exec_driver_sql(statement)
                    else:
                        statement(conn, cipher)
                conn.exec_driver_sql(f"PRAGMA user_version = {migration.version}")
            applied.append(migration.version)
    if any(not isinstance(s, str) for m in MIGRATIONS if m.version in applied for s in m.statements):
        # Rewritten rows leave their old (clear) pages in the WAL until a checkpoint: write them
        # back now, where secure_delete zeroes what was freed.
        raw = engine.raw_connection()  # outside a transaction, where a checkpoint can finish
        try:
            cast(sqlite3.Connection, raw.driver_connection).execute("PRAGMA wal_checkpoint(TRUNCATE)")  # pysqlite; SQLAlchemy types it Optional (None once closed)
        finally:
            raw.close()
    return applied
