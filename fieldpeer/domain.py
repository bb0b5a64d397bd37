"""The vocabulary of peer support work, and the pure rules the app enforces.

One name per idea (see shared/design/domain.md). Every enum value is a stable
wire/database code; the `label` is what a person reads. No I/O here: the store,
the screens, the sync protocol and the agency server all import this module.

Peer services are non-clinical: there is deliberately no diagnosis field anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Self


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry a human label: ``Member = ("code", "Label")``."""

    label: str

    if TYPE_CHECKING:  # what callers see: Zone("well") looks a member up by its code

        def __new__(cls, code: str) -> Self: ...

    else:

        def __new__(cls, code: str, label: str) -> LabelledEnum:
            member = str.__new__(cls, code)
            member._value_ = code
            member.label = label
            return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(code, label) pairs in declaration order, for pickers."""
        return [(m.value, m.label) for m in cls]


# --- People -----------------------------------------------------------------


class PeerRole(LabelledEnum):
    PEER_SUPPORT_SPECIALIST = ("peer_support_specialist", "Peer Support Specialist")
    PARENT_SUPPORT_PARTNER = ("parent_support_partner", "Parent Support Partner")
    RECOVERY_COACH = ("recovery_coach", "Recovery Coach")


class RecoveryStage(LabelledEnum):
    PRE_RECOVERY_ENGAGEMENT = ("pre_recovery_engagement", "Pre-recovery engagement")
    RECOVERY_INITIATION = ("recovery_initiation", "Recovery initiation")
    RECOVERY_STABILIZATION = ("recovery_stabilization", "Recovery stabilization")
    SUSTAINED_RECOVERY_MAINTENANCE = ("sustained_recovery_maintenance", "Sustained recovery maintenance")


class ServiceCriterion(LabelledEnum):
    """Admission criteria A-G of the peer support service definition (seed 002)."""

    A = ("A", "A: Receiving or recently received crisis intervention services")
    B = ("B", "B: Problems getting by at home, in the community, church, school, a job or volunteering")
    C = ("C", "C: In recovery and needs mutual support from a peer to maintain it")
    D = ("D", "D: Money management problems")
    E = ("E", "E: Needs self-advocacy skills to depend less on the formal mental health system")
    F = ("F", "F: Would benefit from peer modeling to take more responsibility for their own recovery")
    G = ("G", "G: Needs peer supports to maintain self-sufficiency")


class DischargeReason(LabelledEnum):
    NO_LONGER_WISHES_SERVICES = ("no_longer_wishes_services", "No longer wishes to receive services")
    GOALS_SUBSTANTIALLY_MET = ("goals_substantially_met", "Goals substantially met")


# --- Contacts ---------------------------------------------------------------


class ContactMode(LabelledEnum):
    FACE_TO_FACE = ("face_to_face", "Face-to-face")
    TELEPHONE = ("telephone", "Telephone")
    VIDEO = ("video", "Video")
    TEXT_SOCIAL = ("text_social", "Text / social media")
    EMAIL = ("email", "E-mail")


class ContactSetting(LabelledEnum):
    RECOVERY_CENTER = ("recovery_center", "Peer recovery support center")
    CLINIC = ("clinic", "Clinic or treatment center")
    HOME = ("home", "Person's home")
    COMMUNITY = ("community", "Coffee shop or other community place")
    LIBRARY_COLLEGE_JOB = ("library_college_job", "Library, college or job site")
    HOSPITAL = ("hospital", "Hospital or inpatient unit")
    CRISIS_DETOX = ("crisis_detox", "Crisis center or detox unit")
    EMERGENCY_ROOM = ("emergency_room", "Emergency room")
    JUSTICE = ("justice", "Jail, prison or forensic facility")
    PRIMARY_CARE = ("primary_care", "Primary care")
    REMOTE = ("remote", "By telephone or electronically")
    OTHER = ("other", "Other")


class Intervention(LabelledEnum):
    SELF_HELP = ("self_help", "Self help")
    COMMUNITY_EDUCATION = ("community_education", "Community education")
    INDIVIDUAL_ADVOCACY = ("individual_advocacy", "Individual advocacy")
    PRE_CRISIS_WRAP = ("pre_crisis_wrap", "Pre-crisis support / WRAP")
    EDUCATION_EMPLOYMENT = ("education_employment", "Education, volunteering, employment")
    DISTRESSING_SYMPTOMS = ("distressing_symptoms", "Managing distressing symptoms")
    LINKAGE = ("linkage", "Linkage to services or community resources")
    ACCOMPANYING = ("accompanying", "Accompanying to a new environment")
    SELF_HELP_GROUPS = ("self_help_groups", "Support for self-help group involvement")
    NATURAL_SUPPORTS = ("natural_supports", "Engaging natural supports")
    RECOVERY_PLANNING = ("recovery_planning", "Recovery planning")


class ContactKind(LabelledEnum):
    INDIVIDUAL = ("individual", "Individual contact")
    PHONE_QUICK = ("phone_quick", "Telephone contact (quick log)")
    GROUP = ("group", "Peer support group")
    COMMUNITY_EDUCATION = ("community_education", "Community education / anti-stigma")
    FOLLOW_UP = ("follow_up", "Long-term follow-up after discharge")


class OutreachOutcome(LabelledEnum):
    """A try to reach the person that did not become a contact (domain.md: outreach attempt).
    Recorded and reported, never billed, and never counts as the monthly contact."""

    NO_ANSWER = ("no_answer", "No answer")
    LEFT_MESSAGE = ("left_message", "Left a message")
    WRONG_NUMBER = ("wrong_number", "Wrong number")


class NoteStatus(LabelledEnum):
    DRAFT = ("draft", "Draft")
    SIGNED = ("signed", "Signed")


class ReviewState(LabelledEnum):
    """A signed note on its way to becoming an agency record."""

    AWAITING = ("awaiting", "Awaiting supervisor review")
    COSIGNED = ("cosigned", "Co-signed")
    RETURNED = ("returned", "Returned for an addendum")


def review_after_addendum(state: ReviewState) -> ReviewState:
    """A returned note that gets an addendum goes back to the supervisor; others keep their state."""
    return ReviewState.AWAITING if state is ReviewState.RETURNED else state


class ConsentKind(LabelledEnum):
    SERVICES = ("services", "Consent to peer services")
    RELEASE = ("release", "Release of information")


# --- WRAP and pre-crisis check-ins -------------------------------------------


class WrapSection(LabelledEnum):
    WELLNESS_TOOLBOX = ("wellness_toolbox", "Wellness toolbox")
    DAILY_MAINTENANCE = ("daily_maintenance", "Daily maintenance plan")
    TRIGGERS = ("triggers", "Triggers and action plan")
    EARLY_WARNING_SIGNS = ("early_warning_signs", "Early warning signs and action plan")
    BREAKING_DOWN = ("breaking_down", "When things are breaking down")
    CRISIS_PLAN = ("crisis_plan", "Crisis plan")
    POST_CRISIS = ("post_crisis", "Post-crisis plan")

    @property
    def short(self) -> str:
        """The section's name without "and action plan", for field labels."""
        return self.label.removesuffix(" and action plan").removesuffix(" plan")


class Zone(LabelledEnum):
    """Which part of the person's own plan applies today, calmest first."""

    WELL = ("well", "Feeling well")
    TRIGGERS = ("triggers", "Triggers present")
    EARLY_WARNING = ("early_warning", "Early warning signs")
    BREAKING_DOWN = ("breaking_down", "Things are breaking down")
    CRISIS = ("crisis", "Crisis")


ZONE_SECTION: dict[Zone, WrapSection] = {
    Zone.WELL: WrapSection.DAILY_MAINTENANCE,
    Zone.TRIGGERS: WrapSection.TRIGGERS,
    Zone.EARLY_WARNING: WrapSection.EARLY_WARNING_SIGNS,
    Zone.BREAKING_DOWN: WrapSection.BREAKING_DOWN,
    Zone.CRISIS: WrapSection.CRISIS_PLAN,
}


class SafetyAnswer(LabelledEnum):
    """Answer to "Are you thinking of harming yourself or someone else?"."""

    NO = ("no", "No")
    YES = ("yes", "Yes")
    UNSURE = ("unsure", "Not sure / would not say")


class AlertState(LabelledEnum):
    """A safety alert's lifecycle: open -> acknowledged (supervisor following up) -> closed."""

    OPEN = ("open", "Safety alert")
    ACKNOWLEDGED = ("acknowledged", "Supervisor following up")
    CLOSED = ("closed", "Closed")


class Escalation(LabelledEnum):
    NONE = ("none", "No escalation")
    CRISIS_PLAN = ("crisis_plan", "Follow the person's crisis plan")
    URGENT = ("urgent", "Urgent: show crisis resources and alert the supervisor")


def escalation_for(safety: SafetyAnswer, zone: Zone) -> Escalation:
    """Risk to self or others is outside peer support: anything but a clear "no" is urgent."""
    if safety is not SafetyAnswer.NO:
        return Escalation.URGENT
    if zone is Zone.CRISIS:
        return Escalation.CRISIS_PLAN
    return Escalation.NONE


# --- Billing units -----------------------------------------------------------


class UnitRounding(LabelledEnum):
    # A unit counts once at least half of it (8 of 15 minutes) is delivered (CMS "8-minute rule").
    MIDPOINT = ("midpoint", "Count a unit from its midpoint (8 of 15 minutes)")
    WHOLE_UNITS = ("whole_units", "Count only whole units")
    ANY_PART = ("any_part", "Count any started unit")


@dataclass(frozen=True)
class UnitRule:
    """An agency's billing rule for one service code (configured in assets/service_codes.json)."""

    unit_minutes: int = 15
    rounding: UnitRounding = UnitRounding.MIDPOINT
    daily_cap: int | None = None  # most units billable per person per day, None = no cap

    def __post_init__(self) -> None:
        if self.unit_minutes <= 0:
            raise ValueError("unit_minutes must be positive")
        if self.daily_cap is not None and self.daily_cap < 0:
            raise ValueError("daily_cap cannot be negative")


def contact_minutes(start: datetime, end: datetime) -> int:
    """Whole minutes between start and end; an end before the start is an input error."""
    if end < start:
        raise ValueError("The end time is before the start time.")
    return int((end - start).total_seconds() // 60)


def billable_units(minutes: int, rule: UnitRule, already_billed_today: int = 0) -> int:
    """Units for one contact of `minutes`, after what the same person already used today."""
    if minutes < 0:
        raise ValueError("minutes cannot be negative")
    whole, rest = divmod(minutes, rule.unit_minutes)
    if rule.rounding is UnitRounding.WHOLE_UNITS:
        units = whole
    elif rule.rounding is UnitRounding.ANY_PART:
        units = whole + (1 if rest else 0)
    else:
        units = whole + (1 if rest * 2 >= rule.unit_minutes else 0)
    if rule.daily_cap is not None:
        units = max(0, min(units, rule.daily_cap - already_billed_today))
    return units


# --- Flags ------------------------------------------------------------------

CONTACT_INTERVAL_DAYS = 30
PLAN_REVIEW_MONTHS = 3


def no_recent_contact(last_contact: date | None, today: date, admitted_on: date | None = None) -> bool:
    """At least monthly contact: flag a person not seen for more than 30 days.

    A newly admitted person with no contact yet is flagged only once 30 days pass since admission.
    """
    since = last_contact or admitted_on
    if since is None:
        return True
    return (today - since).days > CONTACT_INTERVAL_DAYS


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day (Nov 30 + 3 = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    next_month_first = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month_first - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def plan_review_due_on(last_review: date | None, admitted_on: date | None, first_contact: date | None = None) -> date | None:
    """The recovery / wellness plan is reviewed at least quarterly. A new person gets a grace
    period: the first review is due a quarter after admission (or the first contact); with none
    of these dates there is nothing to count from yet (None)."""
    since = plan_clock_start(last_review, admitted_on, first_contact)
    return add_months(since, PLAN_REVIEW_MONTHS) if since else None


def plan_review_due(last_review: date | None, admitted_on: date | None, today: date, first_contact: date | None = None) -> bool:
    due = plan_review_due_on(last_review, admitted_on, first_contact)
    return due is not None and today >= due



# --- Caseload: who needs me today? -------------------------------------------


class FlagKind(LabelledEnum):
    """A caseload flag. Declaration order is the order of need: the first flag a person has
    decides where they stand on the caseload. Each flag has words and an icon (never colour alone)."""

    SAFETY_ALERT = ("safety_alert", "Safety alert")
    SUPERVISOR_FOLLOWING_UP = ("supervisor_following_up", "Supervisor following up")
    NOTES_RETURNED = ("notes_returned", "Returned by supervisor")
    FOLLOW_UP_DUE = ("follow_up_due", "Follow-up due")
    NO_RECENT_CONTACT = ("no_recent_contact", "No contact in 30 days")
    NO_CONTACT_YET = ("no_contact_yet", "No contact yet")
    PLAN_REVIEW_DUE = ("plan_review_due", "Plan review due")


# Material icon names (flet's ``ft.Icons[name]``); kept as text so this module stays pure.
FLAG_ICONS: dict[FlagKind, str] = {
    FlagKind.SAFETY_ALERT: "REPORT",
    FlagKind.SUPERVISOR_FOLLOWING_UP: "SUPPORT_AGENT",
    FlagKind.NOTES_RETURNED: "ASSIGNMENT_RETURN",
    FlagKind.FOLLOW_UP_DUE: "EVENT",
    FlagKind.NO_RECENT_CONTACT: "SCHEDULE",
    FlagKind.NO_CONTACT_YET: "WAVING_HAND",
    FlagKind.PLAN_REVIEW_DUE: "EDIT_CALENDAR",
}


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    words: str  # what the caseload says, e.g. "2 notes returned by supervisor"

    @property
    def icon(self) -> str:
        return FLAG_ICONS[self.kind]


@dataclass(frozen=True)
class PersonFacts:
    """What the caseload knows about one person, all without decrypting anything."""

    alert_state: AlertState | None = None  # the most pressing of the person's alerts not yet closed
    returned_notes: int = 0
    follow_up_on: date | None = None  # the follow-up date set by the latest note or outreach attempt
    last_contact: date | None = None  # the latest contact (outreach attempts do not count)
    first_contact: date | None = None
    admitted_on: date | None = None
    plan_reviewed_on: date | None = None


def plan_clock_start(last_review: date | None, admitted_on: date | None, first_contact: date | None = None) -> date | None:
    """Where the quarterly plan-review clock starts: the last review, else admission, else the first
    contact. A new person with none of these has a plan to make, not a review overdue."""
    return last_review or admitted_on or first_contact


def follow_up_pending(follow_up_on: date | None, last_contact: date | None) -> date | None:
    """A follow-up date still to honour: a contact on or after it has done it."""
    if follow_up_on is None or (last_contact is not None and last_contact >= follow_up_on):
        return None
    return follow_up_on


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def caseload_flags(facts: PersonFacts, today: date) -> list[Flag]:
    """The person's flags, most pressing first (the order of FlagKind).

    "Never contacted" and "30 days" never contradict: a person never contacted is
    "No contact yet" while within 30 days of admission, and "No contact since admission" after.
    A person with no review, no admission date and no contact is not yet due a plan review.
    """
    flags: list[Flag] = []
    if facts.alert_state is AlertState.OPEN:
        flags.append(Flag(FlagKind.SAFETY_ALERT, AlertState.OPEN.label))
    elif facts.alert_state is AlertState.ACKNOWLEDGED:
        flags.append(Flag(FlagKind.SUPERVISOR_FOLLOWING_UP, AlertState.ACKNOWLEDGED.label))
    if facts.returned_notes > 0:
        flags.append(Flag(FlagKind.NOTES_RETURNED, _plural(facts.returned_notes, "note", "notes") + " returned by supervisor"))
    due = follow_up_pending(facts.follow_up_on, facts.last_contact)
    if due is not None and due <= today:
        late = (today - due).days
        words = "Follow-up due today" if late == 0 else f"Follow-up overdue by {_plural(late, 'day', 'days')}"
        flags.append(Flag(FlagKind.FOLLOW_UP_DUE, words))
    if no_recent_contact(facts.last_contact, today, facts.admitted_on):
        if facts.last_contact is not None:
            words = FlagKind.NO_RECENT_CONTACT.label
        elif facts.admitted_on is not None:
            words = "No contact since admission"
        else:
            words = "No contact yet"
        flags.append(Flag(FlagKind.NO_RECENT_CONTACT, words))
    elif facts.last_contact is None:
        flags.append(Flag(FlagKind.NO_CONTACT_YET, FlagKind.NO_CONTACT_YET.label))
    if plan_review_due(facts.plan_reviewed_on, facts.admitted_on, today, facts.first_contact):
        flags.append(Flag(FlagKind.PLAN_REVIEW_DUE, FlagKind.PLAN_REVIEW_DUE.label))
    order = list(FlagKind)
    return sorted(flags, key=lambda f: order.index(f.kind))


def need_rank(flags: list[Flag]) -> tuple[int, int]:
    """Sort key for the caseload (smaller = needs the peer sooner): the most pressing flag, then
    how many flags. A person with no flag comes after everyone flagged."""
    order = list(FlagKind)
    first = order.index(flags[0].kind) if flags else len(order)
    return first, -len(flags)


class DraftKind(LabelledEnum):
    """Forms whose unsaved typing is kept (encrypted, on this phone only) until saved or discarded."""

    NOTE = ("note", "Contact note")
    CHECKIN = ("checkin", "Check-in")
    CONSENT = ("consent", "Consent")
    WRAP = ("wrap", "WRAP plan")


# --- How people read a time ------------------------------------------------------


def clock_time(moment: datetime) -> str:
    """ "2:30 pm", "12:05 am", "12:00 pm" (noon): the phone's screens and the agency's pages alike."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"
