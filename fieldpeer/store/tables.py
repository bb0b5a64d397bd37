"""Device tables. Columns ending in ``_enc`` hold AES-GCM ciphertext (see crypto.py).

Ids, dates, times and enum codes stay clear so the app can query and flag without
decrypting; every piece of free text or personal detail is encrypted. The schema itself
is created and upgraded by migrations.py, never by ``create_all``. Datetimes are UTC
(aware) except the local wall-clock times of contacts and check-ins (naive).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class PeerProfileRow(SQLModel, table=True):
    __tablename__ = "peer_profile"
    id: str = Field(primary_key=True)
    role: str
    name_enc: bytes
    credentials_enc: bytes
    agency_name_enc: bytes
    updated_at: datetime


class PersonRow(SQLModel, table=True):
    __tablename__ = "person"
    id: str = Field(primary_key=True)
    preferred_name_enc: bytes
    details_enc: bytes  # strengths, goals, natural supports (JSON)
    recovery_stage: str
    service_criterion: str | None = None
    admitted_on: date | None = None
    plan_reviewed_on: date | None = None
    discharged_on: date | None = None
    discharge_reason: str | None = None
    part2: bool = False
    version: int = 1
    updated_at: datetime
    # The agency moved the person to another peer: hidden at once, purged once nothing about them
    # waits to be sent or sits in quarantine (store/reassignment.py). None = on this caseload.
    released_at: datetime | None = None


class ContactNoteRow(SQLModel, table=True):
    __tablename__ = "contact_note"
    id: str = Field(primary_key=True)
    kind: str
    person_id: str | None = Field(default=None, foreign_key="person.id")
    attendee_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    peer_id: str
    starts_at: NaiveDatetime  # local wall-clock time of the contact
    ends_at: NaiveDatetime
    mode: str | None = None
    setting: str | None = None
    service_code: str = ""
    units: int = 0
    interventions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    goal_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    narrative_enc: bytes  # Goal / Intervention / Response / Plan (JSON)
    follow_up_on: date | None = None
    status: str
    signed_at: datetime | None = None
    version: int = 1
    updated_at: datetime
    search_tokens: bytes | None = None  # blind index (store/search.py); None = not indexed yet


class AddendumRow(SQLModel, table=True):
    __tablename__ = "addendum"
    id: str = Field(primary_key=True)
    note_id: str = Field(foreign_key="contact_note.id")
    text_enc: bytes
    written_at: datetime


class NoteFeedbackRow(SQLModel, table=True):
    """The supervisor's latest review of one of this peer's signed notes (pulled from the agency)."""

    __tablename__ = "note_feedback"
    note_id: str = Field(primary_key=True)
    state: str  # a ReviewState code
    comment_enc: bytes
    reviewer_enc: bytes  # "Name, CREDENTIALS" of the supervisor
    reviewed_at: datetime
    version: int = 1


class WrapPlanRow(SQLModel, table=True):
    __tablename__ = "wrap_plan"
    id: str = Field(primary_key=True)
    person_id: str = Field(foreign_key="person.id")
    version: int
    content_enc: bytes  # all sections and the crisis plan (JSON)
    saved_at: datetime


class CheckinRow(SQLModel, table=True):
    __tablename__ = "checkin"
    id: str = Field(primary_key=True)
    person_id: str = Field(foreign_key="person.id")
    wrap_plan_id: str | None = None
    occurred_at: NaiveDatetime  # local wall-clock time
    zone: str
    safety: str
    escalation: str
    answers_enc: bytes  # how today, triggers, signs, actions, supporters, notes (JSON)


class SafetyAlertRow(SQLModel, table=True):
    """Raised the moment the safety answer is chosen: its check-in may be saved later, or never,
    so `checkin_id` is not a foreign key (it is unique: one alert per check-in)."""

    __tablename__ = "safety_alert"
    id: str = Field(primary_key=True)
    checkin_id: str = Field(unique=True)
    person_id: str = Field(foreign_key="person.id")
    safety: str  # the SafetyAnswer that raised it
    raised_at: datetime
    resolved_at: datetime | None = None  # when the agency closed it (from AlertStatus)


class AlertStatusRow(SQLModel, table=True):
    """Where the agency stands with one of this peer's alerts (pulled). Kept even when the alert
    itself is not on this phone (raised on another device), so the caseload still shows it."""

    __tablename__ = "alert_status"
    alert_id: str = Field(primary_key=True)
    person_id: str = Field(index=True)
    state: str  # an AlertState code
    by_enc: bytes  # "Name, CREDENTIALS" of the supervisor
    at: datetime
    version: int


class OutreachAttemptRow(SQLModel, table=True):
    """A try to reach the person that did not reach them: never a contact, never billed."""

    __tablename__ = "outreach_attempt"
    id: str = Field(primary_key=True)
    person_id: str = Field(foreign_key="person.id")
    attempted_at: NaiveDatetime  # local wall-clock time
    mode: str
    outcome: str  # an OutreachOutcome code
    note_enc: bytes
    follow_up_on: date | None = None


class UnitsConfirmedRow(SQLModel, table=True):
    """The agency's authoritative billable units for one of this peer's signed notes (pulled)."""

    __tablename__ = "units_confirmed"
    note_id: str = Field(primary_key=True)
    units: int
    version: int


class FormDraftRow(SQLModel, table=True):
    """Typing in a form not saved yet (check-in, consent, WRAP edit). Local only: never synced,
    removed when the form is saved or discarded."""

    __tablename__ = "form_draft"
    kind: str = Field(primary_key=True)  # a DraftKind code
    person_id: str = Field(primary_key=True)
    record_id: str = Field(primary_key=True, default="")  # "" when the form has no id of its own yet
    content_enc: bytes  # the form's fields (JSON)
    updated_at: datetime


class ConsentRow(SQLModel, table=True):
    __tablename__ = "consent"
    id: str = Field(primary_key=True)
    person_id: str = Field(foreign_key="person.id")
    kind: str
    part2: bool = False
    terms_enc: bytes  # discloser, recipient, information, purpose (JSON)
    signed_on: date
    expires_on: date | None = None
    revoked_on: date | None = None
    version: int = 1


class AuditEventRow(SQLModel, table=True):
    """What happened on this device, by whom and when. Codes and ids only, never content."""

    __tablename__ = "audit_event"
    seq: int | None = Field(default=None, primary_key=True)
    at: datetime
    action: str
    record_type: str
    record_id: str


# The states of an outbox entry (one definition; outbox.py re-exports them).
PENDING, SENT, QUARANTINED, SUPERSEDED = "pending", "sent", "quarantined", "superseded"


class OutboxRow(SQLModel, table=True):
    """A change waiting to reach the agency; written in the same transaction as the change."""

    __tablename__ = "outbox"
    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True)
    record_type: str
    record_id: str
    record_version: int
    priority: int  # 0 = urgent (safety alerts) first
    payload_enc: bytes  # the record as JSON
    created_at: datetime
    state: str  # pending / sent / quarantined
    attempts: int = 0
    reason: str | None = None  # why the agency refused it: codes and ids only
    sent_at: datetime | None = None


class SyncStateRow(SQLModel, table=True):
    __tablename__ = "sync_state"
    key: str = Field(primary_key=True)
    value: str
