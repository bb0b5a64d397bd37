"""Agency server tables. Received records are append-only: who sent what, from which device, when.

Any change here needs its Alembic revision: `python -m fieldpeer.agency.migrations "what changed"`
(tests/test_agency_upgrade.py fails until models and migrations agree)."""

from __future__ import annotations

from datetime import datetime

from pydantic import NaiveDatetime
from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from fieldpeer.records import utc_now


class AgencyTable(SQLModel, registry=registry()):
    """Own metadata: the agency schema never includes the device tables (and vice versa)."""


class Peer(AgencyTable, table=True):
    __tablename__ = "agency_peer"
    id: str = Field(primary_key=True)
    name: str
    role: str
    credentials: str = ""
    created_at: datetime = Field(default_factory=utc_now)


class Device(AgencyTable, table=True):
    __tablename__ = "agency_device"
    id: str = Field(primary_key=True)
    peer_id: str = Field(foreign_key="agency_peer.id", index=True)
    name: str = ""
    token_hash: str = Field(unique=True)  # sha256 of a 256-bit random token; the token is never stored
    box_key: str
    sign_key: str
    enrolled_at: datetime = Field(default_factory=utc_now)
    revoked_at: datetime | None = None
    last_seen_at: datetime | None = None


class EnrolCode(AgencyTable, table=True):
    __tablename__ = "agency_enrol_code"
    code_hash: str = Field(primary_key=True)
    peer_id: str = Field(foreign_key="agency_peer.id")
    expires_at: datetime
    used_at: datetime | None = None


class Person(AgencyTable, table=True):
    """Current state of a person served, and who they are assigned to."""

    __tablename__ = "agency_person"
    id: str = Field(primary_key=True)
    peer_id: str = Field(foreign_key="agency_peer.id", index=True)
    version: int
    payload: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utc_now)


class ReceivedRecord(AgencyTable, table=True):
    """Every record version a device pushed, exactly once (entry id and record version are unique)."""

    __tablename__ = "agency_received"
    __table_args__ = (
        UniqueConstraint("record_type", "record_id", "version", name="uq_received_record_version"),
        Index("ix_received_person", "person_id", "received_at"),
    )
    seq: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(unique=True)
    record_type: str
    record_id: str
    version: int
    person_id: str | None = None
    peer_id: str = Field(index=True)
    device_id: str
    batch_id: str
    received_at: datetime = Field(default_factory=utc_now)
    payload: str = Field(sa_column=Column(Text, nullable=False))


class FeedEntry(AgencyTable, table=True):
    """What a peer's devices pull (assignments, plans, feedback), in order; the cursor is `seq`."""

    __tablename__ = "agency_feed"
    seq: int | None = Field(default=None, primary_key=True)
    peer_id: str = Field(index=True)
    record_type: str
    record_id: str
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utc_now)


class AccessEvent(AgencyTable, table=True):
    """Audit of every access: who (device/peer), what action on which object, allowed or not."""

    __tablename__ = "agency_access_log"
    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now)
    device_id: str | None = None
    peer_id: str | None = None
    action: str
    object_id: str = ""
    outcome: str  # ok / refused / error
    detail: str = ""  # codes and ids only


class Supervisor(AgencyTable, table=True):
    """A qualified professional who reviews and co-signs peers' notes (agency-wide)."""

    __tablename__ = "agency_supervisor"
    id: str = Field(primary_key=True)
    name: str
    credentials: str = ""
    token_hash: str = Field(unique=True)  # sha256 of a 256-bit random token
    created_at: datetime = Field(default_factory=utc_now)
    revoked_at: datetime | None = None


class NoteReview(AgencyTable, table=True):
    """Where each signed note stands with supervision."""

    __tablename__ = "agency_note_review"
    note_id: str = Field(primary_key=True)
    peer_id: str = Field(index=True)
    person_id: str | None = None
    state: str = Field(index=True)  # a ReviewState code
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    reviewer_id: str | None = None
    reviewed_at: datetime | None = None
    version: int = 1  # of the feedback sent to the phone
    updated_at: datetime = Field(default_factory=utc_now)


class AlertAcknowledgement(AgencyTable, table=True):
    """A supervisor is following up on a safety alert (state acknowledged)."""

    __tablename__ = "agency_alert_ack"
    alert_id: str = Field(primary_key=True)
    supervisor_id: str
    at: datetime = Field(default_factory=utc_now)


class AlertClosure(AgencyTable, table=True):
    """A safety alert the supervisor closed (always acknowledged too). A table of its own because
    create_all could not add columns then; a schema change is now an Alembic revision (migrations/)."""

    __tablename__ = "agency_alert_close"
    alert_id: str = Field(primary_key=True)
    supervisor_id: str
    at: datetime = Field(default_factory=utc_now)


class NoteUnits(AgencyTable, table=True):
    """The agency's authoritative billable units for each signed note: the configured rule with
    daily caps across the peer's notes for one person and day. What the queue, the peer page, the
    billing CSV, FHIR and (through UnitsConfirmed) the phone all show."""

    __tablename__ = "agency_note_units"
    __table_args__ = (Index("ix_note_units_day", "peer_id", "day"),)
    note_id: str = Field(primary_key=True)
    peer_id: str
    person_id: str  # "" for community education (no person served)
    day: str  # ISO date of the contact's local start
    starts_at: NaiveDatetime  # local wall-clock (no zone): the order caps are applied in
    minutes: int
    service_code: str
    units: int
    version: int = 1  # of the UnitsConfirmed sent to the phone


class AddendumIndex(AgencyTable, table=True):
    """Which note each addendum amends, so a note's addenda are found by key (not by text search)."""

    __tablename__ = "agency_addendum"
    addendum_id: str = Field(primary_key=True)
    note_id: str = Field(index=True)


class Disclosure(AgencyTable, table=True):
    """Accounting of disclosures: every export, who asked, why, to whom, under which consent."""

    __tablename__ = "agency_disclosure"
    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now)
    supervisor_id: str
    kind: str  # billing_csv / fhir_bundle
    person_id: str | None = None  # None: many persons (billing)
    recipient: str
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    consent_id: str | None = None
    part2: bool = False
    records: int = 0


# --- Administration (issue #13): accounts, teams, what a peer shares, intake wishes ------------
# Tables of their own rather than new columns on Peer/Person/Supervisor: added by one migration,
# and the sync hot path's tables stay as they are.


class Administrator(AgencyTable, table=True):
    """Runs the program: peers, persons served, assignments, devices. Sees no note text (unless
    the same person also holds a supervisor account)."""

    __tablename__ = "agency_administrator"
    id: str = Field(primary_key=True)
    name: str
    credentials: str = ""
    token_hash: str = Field(unique=True)  # sha256 of a 256-bit random token, like a supervisor's
    created_at: datetime = Field(default_factory=utc_now)
    revoked_at: datetime | None = None


class Team(AgencyTable, table=True):
    __tablename__ = "agency_team"
    id: str = Field(primary_key=True)
    name: str = Field(unique=True)


class TeamSupervisor(AgencyTable, table=True):
    """A supervisor leads these teams and sees only their peers (a supervisor with none sees all)."""

    __tablename__ = "agency_team_supervisor"
    supervisor_id: str = Field(primary_key=True)
    team_id: str = Field(primary_key=True)


class PeerStanding(AgencyTable, table=True):
    """A peer's place in the program: team, the lived experience they choose to share (tags from
    the agency's fixed list, JSON), and whether they still work here."""

    __tablename__ = "agency_peer_standing"
    peer_id: str = Field(primary_key=True)
    team_id: str | None = Field(default=None, index=True)
    experience: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    deactivated_at: datetime | None = None


class PersonIntake(AgencyTable, table=True):
    """What the agency asked at intake beside the person record: the peer they wish for (role
    track and experience tags, JSON) and who checked the exclusion criteria, when."""

    __tablename__ = "agency_person_intake"
    person_id: str = Field(primary_key=True)
    wished_role: str = ""  # a PeerRole code, or "" for no preference
    wished_experience: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    exclusions_checked_by: str = ""  # administrator id
    exclusions_checked_at: datetime | None = None


class WebSession(AgencyTable, table=True):
    """A browser signed in to the supervisor or administrator pages. The cookie holds a random id;
    only its sha256 is stored, so a copy of the database signs no one in."""

    __tablename__ = "agency_web_session"
    id_hash: str = Field(primary_key=True)
    kind: str  # "supervisor" or "administrator"
    account_id: str = Field(index=True)
    created_at: datetime = Field(default_factory=utc_now)
    last_seen_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime  # the absolute end, whatever the activity


class CredentialIssue(AgencyTable, table=True):
    """When a supervisor's or administrator's current sign-in token stops working (written when it is
    rotated; an account without a row expires its first token counted from its creation)."""

    __tablename__ = "agency_credential_issue"
    kind: str = Field(primary_key=True)
    account_id: str = Field(primary_key=True)
    issued_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime
