"""Versioned, in-place schema upgrades for the phone's database.

Each migration is a list of SQL statements applied in one transaction together with
``PRAGMA user_version``, so an upgrade interrupted by a dead battery leaves the old
schema intact and simply runs again. Migrations are append-only: never edit a shipped
one, add the next.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


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
)

LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def migrate(engine: Engine, target: int = LATEST_VERSION) -> list[int]:
    """Bring the database up to `target`; returns the versions applied."""
    current = schema_version(engine)
    if current > LATEST_VERSION:
        raise RuntimeError(f"This database (schema {current}) is newer than this app (schema {LATEST_VERSION}). Update the app.")
    applied: list[int] = []
    for migration in MIGRATIONS:
        if current < migration.version <= target:
            with engine.begin() as conn:
                for statement in migration.statements:
                    conn.exec_driver_sql(statement)
                conn.exec_driver_sql(f"PRAGMA user_version = {migration.version}")
            applied.append(migration.version)
    return applied
