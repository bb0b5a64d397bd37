"""The records FieldPeer keeps and syncs, in plaintext form.

These pydantic models are the contract between the device store, the screens, the
sync wire format and the agency server: one definition each. On the device they only
exist in memory; at rest their sensitive fields are encrypted (see store/), on the
wire they travel sealed (see sync/).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NaiveDatetime, model_validator

from fieldpeer.domain import (
    AlertState,
    ConsentKind,
    ContactKind,
    ContactMode,
    ContactSetting,
    DischargeReason,
    Escalation,
    Intervention,
    NoteStatus,
    OutreachOutcome,
    PeerRole,
    RecoveryStage,
    ReviewState,
    SafetyAnswer,
    ServiceCriterion,
    WrapSection,
    Zone,
    contact_minutes,
)

MAX_TEXT = 20_000  # characters in one narrative field: a long note, never a pasted document


def new_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    """When a record was written: UTC."""
    return datetime.now(UTC)


def local_now() -> datetime:
    """When something happened in the field: the peer's local wall-clock time, no zone."""
    return datetime.now().replace(microsecond=0)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite drops the zone of stored UTC stamps; put it back when reading."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# Ids are keys in both databases: short, printable, no NUL or spaces (PostgreSQL refuses NUL in text).
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# Counts fit a database INTEGER (32-bit on PostgreSQL): larger is a validation error, not an overflow.
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: Id = Field(default_factory=new_id)


Text = Annotated[str, Field(max_length=MAX_TEXT)]
ShortText = Annotated[str, Field(max_length=500)]


# --- People -----------------------------------------------------------------


class PeerProfile(Record):
    record_type: Literal["peer"] = "peer"
    name: ShortText
    role: PeerRole
    credentials: ShortText = ""  # e.g. "CPSS" or "CPRC": printed on notes and billing
    agency_name: ShortText = ""


class Goal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Id = Field(default_factory=new_id)
    text: Text


class Person(Record):
    """A person served on the peer's caseload. Deliberately no diagnosis field."""

    record_type: Literal["person"] = "person"
    preferred_name: ShortText
    recovery_stage: RecoveryStage = RecoveryStage.PRE_RECOVERY_ENGAGEMENT
    strengths: list[ShortText] = []
    goals: list[Goal] = []
    natural_supports: list[ShortText] = []
    service_criterion: ServiceCriterion | None = None
    admitted_on: date | None = None
    plan_reviewed_on: date | None = None
    discharged_on: date | None = None
    discharge_reason: DischargeReason | None = None
    part2: bool = False  # records protected by 42 CFR Part 2 (substance use)
    version: Version = 1
    phone: ShortText = ""  # the person's own number, for a one-tap call (tel:); encrypted on the phone


# --- Contacts ---------------------------------------------------------------


class Narrative(BaseModel):
    """The note's story in the GIRP shape: Goal, Intervention, Response, Plan."""

    model_config = ConfigDict(extra="forbid")
    goal: Text = ""
    intervention: Text = ""
    response: Text = ""
    plan: Text = ""


class ContactNote(Record):
    record_type: Literal["contact_note"] = "contact_note"
    kind: ContactKind = ContactKind.INDIVIDUAL
    person_id: Id | None = None  # None only for community education
    attendee_ids: list[Id] = []  # group sessions: everyone present
    peer_id: str = ""
    starts_at: NaiveDatetime  # local wall-clock time where the contact happened
    ends_at: NaiveDatetime
    mode: ContactMode | None = None
    setting: ContactSetting | None = None
    service_code: str = ""
    units: Count = 0
    interventions: list[Intervention] = []
    goal_ids: list[Id] = []
    narrative: Narrative = Narrative()
    follow_up_on: date | None = None
    status: NoteStatus = NoteStatus.DRAFT
    signed_at: datetime | None = None
    version: Version = 1

    @model_validator(mode="after")
    def _times_in_order(self) -> ContactNote:
        if self.ends_at < self.starts_at:
            raise ValueError("The end time is before the start time.")
        return self

    @property
    def minutes(self) -> int:
        return contact_minutes(self.starts_at, self.ends_at)


def signing_problems(note: ContactNote) -> list[str]:
    """What a note still lacks before it can be signed; empty when it is complete."""
    problems: list[str] = []
    if note.kind is not ContactKind.COMMUNITY_EDUCATION and not note.person_id:
        problems.append("Choose the person served.")
    if note.kind is ContactKind.GROUP and not note.attendee_ids:
        problems.append("Add the group's attendees.")
    if note.mode is None:
        problems.append("Choose how you met (mode).")
    if note.setting is None:
        problems.append("Choose where you met (setting).")
    if not note.service_code:
        problems.append("Choose the service.")
    if not note.interventions:
        problems.append("Choose at least one intervention.")
    if note.ends_at <= note.starts_at:
        problems.append("Set an end time after the start time.")
    for part, label in (("intervention", "what you did"), ("response", "how the person responded"), ("plan", "the plan / next steps")):
        if not getattr(note.narrative, part).strip():
            problems.append(f"Describe {label}.")
    return problems


class OutreachAttempt(Record):
    """A try to reach the person that did not reach them (no answer, a message, a wrong number).
    Not a contact: its own record type, so it can never carry units or clear "no contact"."""

    record_type: Literal["outreach_attempt"] = "outreach_attempt"
    person_id: Id
    attempted_at: NaiveDatetime = Field(default_factory=local_now)  # local wall-clock time
    mode: ContactMode = ContactMode.TELEPHONE
    outcome: OutreachOutcome
    note: Text = ""
    follow_up_on: date | None = None


class Addendum(Record):
    """A dated correction or addition to a signed note (signed notes are never edited)."""

    record_type: Literal["addendum"] = "addendum"
    note_id: Id
    text: Text = Field(min_length=1)
    written_at: datetime = Field(default_factory=utc_now)


# --- WRAP and check-ins ---------------------------------------------------------


class Supporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText
    phone: ShortText = ""
    relationship: ShortText = ""
    should_do: Text = ""
    should_not_do: Text = ""


class WrapPlanSection(BaseModel):
    """One section of a WRAP: what the person notices, and what they will do about it."""

    model_config = ConfigDict(extra="forbid")
    items: list[Text] = []  # e.g. the triggers, or "what I'm like when well"
    actions: list[Text] = []  # the action plan for this section


class CrisisPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    supporters: list[Supporter] = []
    preferred_treatments: list[Text] = []
    refused_treatments: list[Text] = []
    medications: list[Text] = []  # as the person states them
    notes: Text = ""


class WrapPlan(Record):
    """One version of a person's WRAP. Saving makes a new version; old ones stay."""

    record_type: Literal["wrap_plan"] = "wrap_plan"
    person_id: Id
    version: Version = 1
    sections: dict[WrapSection, WrapPlanSection] = {}
    crisis_plan: CrisisPlan = CrisisPlan()
    saved_at: datetime = Field(default_factory=utc_now)

    def section(self, which: WrapSection) -> WrapPlanSection:
        return self.sections.get(which, WrapPlanSection())


class Checkin(Record):
    """A pre-crisis check-in walked through the person's own plan."""

    record_type: Literal["checkin"] = "checkin"
    person_id: Id
    wrap_plan_id: Id | None = None
    occurred_at: NaiveDatetime = Field(default_factory=local_now)  # local wall-clock, like contact times
    feeling_today: Text = ""
    triggers_present: list[ShortText] = []
    warning_signs_present: list[ShortText] = []
    zone: Zone = Zone.WELL
    actions_chosen: list[ShortText] = []
    supporters_contacted: list[ShortText] = []
    safety: SafetyAnswer
    escalation: Escalation = Escalation.NONE
    notes: Text = ""


class SafetyAlert(Record):
    """Raised the moment a check-in's safety answer is not a clear no (before the check-in is
    saved, so Back or a dead battery cannot silence it); syncs before anything else.
    `checkin_id` names the check-in it belongs to, which may arrive later or never."""

    record_type: Literal["safety_alert"] = "safety_alert"
    checkin_id: Id
    person_id: Id
    safety: SafetyAnswer = SafetyAnswer.YES
    raised_at: datetime = Field(default_factory=utc_now)


class AlertStatus(Record):
    """Where the agency stands with a safety alert, sent to the peer's phones (never pushed).
    `id` is the alert's id: a later status replaces an earlier one."""

    record_type: Literal["alert_status"] = "alert_status"
    person_id: Id
    state: AlertState
    by: ShortText = ""  # "Dana Reyes, LCSW"
    at: datetime
    version: Version = 1


class UnitsConfirmed(Record):
    """The billable units the agency counts for a signed note (its rule, with daily caps across
    the peer's notes for that person and day), sent back to the phone so both show one figure.
    `id` is the note's id; a later figure replaces an earlier one."""

    record_type: Literal["units_confirmed"] = "units_confirmed"
    units: Count
    version: Version = 1


class Consent(Record):
    record_type: Literal["consent"] = "consent"
    person_id: Id
    kind: ConsentKind
    part2: bool = False
    discloser: ShortText = ""  # who may disclose
    recipient: ShortText = ""  # to whom
    information: Text = ""  # what may be disclosed
    purpose: Text = ""
    signed_on: date
    expires_on: date | None = None
    revoked_on: date | None = None
    version: Version = 1


class NoteFeedback(Record):
    """A supervisor's review of a signed note, sent to the peer's phones (never pushed).
    `id` is the note's id: a later review replaces an earlier one."""

    record_type: Literal["note_feedback"] = "note_feedback"
    state: ReviewState
    comment: Text = ""
    reviewer: ShortText
    reviewed_at: datetime
    version: Version = 1


class Deletion(Record):
    """A discarded draft: tells the server to forget the draft it may already hold."""

    record_type: Literal["deletion"] = "deletion"
    deleted_type: str
    deleted_id: Id


AnyRecord = Annotated[
    PeerProfile | Person | ContactNote | OutreachAttempt | Addendum | WrapPlan | Checkin | SafetyAlert | Consent | NoteFeedback | AlertStatus | UnitsConfirmed | Deletion,
    Field(discriminator="record_type"),
]
