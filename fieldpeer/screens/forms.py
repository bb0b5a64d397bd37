"""What the peer types, as plain Python: parsing, validation and live previews.

Screens bind widgets to these objects and show their errors; no Flet here, so the rules
of every form are tested without a UI.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from fieldpeer import domain
from fieldpeer.config import ServiceCatalog, service_catalog
from fieldpeer.domain import ContactMode, ContactSetting, Intervention, OutreachOutcome, SafetyAnswer, WrapSection, Zone
from fieldpeer.records import (
    Checkin,
    Consent,
    ContactNote,
    CrisisPlan,
    Narrative,
    OutreachAttempt,
    Supporter,
    WrapPlan,
    WrapPlanSection,
    new_id,
    signing_problems,
)
from fieldpeer.screens import dates

Errors = dict[str, str]  # field name -> message a person can act on


def parse_day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError("Use the form YYYY-MM-DD, for example 2026-11-25.") from exc


def parse_clock(text: str) -> time:
    """ "14:30", "14.30", "2:30 pm", "2 pm", "9am": a time as people type it."""
    text = text.strip().lower().replace(".", ":").replace(" ", "")
    half = text[-2:] if text.endswith(("am", "pm")) else ""
    try:
        hours, _, minutes = text.removesuffix(half).partition(":")
        hour, minute = int(hours), int(minutes or "0")
        if half:
            if not 1 <= hour <= 12:
                raise ValueError
            hour = hour % 12 + (12 if half == "pm" else 0)
        return time(hour, minute)
    except ValueError as exc:
        raise ValueError("Use the form HH:MM or 2:30 pm, for example 14:30.") from exc


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """ "1 unit", "3 units", "2 addenda"."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")


@dataclass
class NoteForm:
    """The contact note screen's state. Times are local wall-clock, like the note itself."""

    person_id: str | None
    day: str = ""
    start: str = ""
    end: str = ""
    mode: str = ""
    setting: str = ""
    service_code: str = ""
    interventions: set[str] = field(default_factory=set)
    goal_ids: set[str] = field(default_factory=set)
    goal: str = ""
    intervention: str = ""
    response: str = ""
    plan: str = ""
    follow_up: str = ""
    note_id: str | None = None
    version: int = 1

    @classmethod
    def new(cls, person_id: str | None, now: datetime, catalog: ServiceCatalog | None = None) -> NoteForm:
        catalog = catalog or service_catalog()
        return cls(person_id=person_id, day=now.date().isoformat(), start=clock(now), end=clock(now), service_code=catalog.phone_default)

    @classmethod
    def from_note(cls, note: ContactNote) -> NoteForm:
        return cls(
            person_id=note.person_id, day=note.starts_at.date().isoformat(), start=clock(note.starts_at), end=clock(note.ends_at),
            mode=note.mode.value if note.mode else "", setting=note.setting.value if note.setting else "", service_code=note.service_code,
            interventions={i.value for i in note.interventions}, goal_ids=set(note.goal_ids), goal=note.narrative.goal,
            intervention=note.narrative.intervention, response=note.narrative.response, plan=note.narrative.plan,
            follow_up=note.follow_up_on.isoformat() if note.follow_up_on else "", note_id=note.id, version=note.version,
        )

    def start_now(self, now: datetime) -> None:
        self.day, self.start = now.date().isoformat(), clock(now)

    def end_now(self, now: datetime) -> None:
        self.end = clock(now)

    def times(self) -> tuple[datetime, datetime]:
        day = parse_day(self.day) or date.today()
        start, end = datetime.combine(day, parse_clock(self.start)), datetime.combine(day, parse_clock(self.end))
        if end < start:
            raise ValueError("The end time is before the start time.")
        return start, end

    def minutes(self) -> int | None:
        try:
            start, end = self.times()
        except ValueError:
            return None
        return domain.contact_minutes(start, end)

    def units_estimate(self, catalog: ServiceCatalog | None = None) -> int | None:
        """The phone's own unit count (before the daily cap, which the agency applies)."""
        minutes = self.minutes()
        service = (catalog or service_catalog()).get(self.service_code)
        return None if minutes is None or service is None else domain.billable_units(minutes, service.rule)

    def units_preview(self, catalog: ServiceCatalog | None = None) -> str:
        """Shown as the peer types: "45 min · about 3 units (estimate; the agency confirms)"."""
        minutes = self.minutes()
        if minutes is None:
            return "Check the times"
        units = self.units_estimate(catalog)
        return f"{minutes} min" if units is None else f"{minutes} min · {units_estimate_text(units)}"

    def set_duration(self, minutes: int) -> None:
        """A duration chip: the end follows the start (kept within the day of the contact)."""
        start = datetime.combine(date.today(), parse_clock(self.start))
        end = min(start + timedelta(minutes=minutes), start.replace(hour=23, minute=59))
        self.end = clock(end)

    def apply_defaults(self, mode: str, setting: str, service_code: str) -> None:
        """Start a new note where the last one with this person left off (each can be changed),
        never with a mode and a setting that contradict each other."""
        self.mode = self.mode or mode
        self.setting = setting_for(self.mode, self.setting or setting)
        self.service_code = service_code or self.service_code

    def choose_mode(self, mode: str) -> None:
        """A new mode carries the setting along: remote means remote, face-to-face is never remote."""
        self.mode, self.setting = mode, setting_for(mode, self.setting)

    def sign_problems(self, catalog: ServiceCatalog | None = None) -> Errors:
        """Everything that stops signing, keyed by the field it belongs to (in screen order)."""
        note, errors = self.to_note()
        if note is None:
            return errors
        for problem in signing_problems(note):
            name = SIGNING_FIELDS.get(problem, "form")
            errors[name] = f"{errors[name]} {problem}" if name in errors else problem
        if note.service_code and (catalog or service_catalog()).get(note.service_code) is None:
            errors.setdefault("service_code", "That service code is not in the agency's list.")
        return {name: errors[name] for name in NOTE_FIELDS if name in errors}

    def sign_summary(self, person_name: str, today: date, catalog: ServiceCatalog | None = None) -> str:
        """The one line a peer confirms before signing: person, date, minutes, units."""
        start, end = self.times()
        units = self.units_estimate(catalog) or 0
        return f"{person_name} · {contact_span(start, end, today)} · {domain.contact_minutes(start, end)} min · about {counted(units, 'unit')}"

    def snapshot(self) -> dict[str, Any]:
        """What the peer typed, to tell whether anything changed since the screen opened."""
        values = asdict(self)
        for name in ("note_id", "version"):
            values.pop(name)
        return values

    def to_note(self) -> tuple[ContactNote | None, Errors]:
        errors: Errors = {}
        start = end = None
        try:
            start, end = self.times()
        except ValueError as exc:
            errors["time"] = str(exc)
        try:
            follow_up = parse_day(self.follow_up)
        except ValueError as exc:
            errors["follow_up"] = str(exc)
            follow_up = None
        try:
            parse_day(self.day)
        except ValueError as exc:
            errors["day"] = str(exc)
        if errors or start is None or end is None:
            return None, errors
        values: dict[str, object] = dict(
            person_id=self.person_id, starts_at=start, ends_at=end, mode=self.mode or None, setting=self.setting or None,
            service_code=self.service_code, interventions=sorted(self.interventions), goal_ids=sorted(self.goal_ids),
            narrative=Narrative(goal=self.goal, intervention=self.intervention, response=self.response, plan=self.plan),
            follow_up_on=follow_up, version=self.version,
        )
        if self.note_id:
            values["id"] = self.note_id
        try:
            return ContactNote(**values), {}
        except ValidationError as exc:
            return None, {"form": "; ".join(str(e["msg"]) for e in exc.errors(include_input=False))}


NOTE_FIELDS = ("day", "time", "mode", "setting", "service_code", "interventions", "goal_ids", "goal", "intervention", "response", "plan", "follow_up", "form")
"""Every field that can carry an error, in the order the form shows them (the first one is scrolled to)."""
SIGNING_FIELDS = {
    "Choose how you met (mode).": "mode",
    "Choose where you met (setting).": "setting",
    "Choose the service.": "service_code",
    "Choose at least one intervention.": "interventions",
    "Set an end time after the start time.": "time",
    "Describe what you did.": "intervention",
    "Describe how the person responded.": "response",
    "Describe the plan / next steps.": "plan",
}
"""records.signing_problems' messages, by the field each belongs to (an unknown one goes to the form)."""
DURATION_CHIPS = (15, 30, 45, 60)
UNITS_CAVEAT = "estimate; the agency confirms"


def units_estimate_text(units: int) -> str:
    return f"about {counted(units, 'unit')} ({UNITS_CAVEAT})"


def contact_span(start: datetime, end: datetime, today: date) -> str:
    """When a contact happened, as people read it: "Today, 9:00 am–10:30 am"."""
    return f"{dates.day_words(start.date(), today)}, {dates.clock_time(start)}–{dates.clock_time(end)}"


QUICK_MINUTES = (5, 10, 15, 30)
REACHED = "reached"
PHONE_OUTCOMES = [(REACHED, "Reached them"), *OutreachOutcome.choices()]


@dataclass
class PhoneForm:
    """The telephone quick log: did the call reach them, how long, a short note, maybe a follow-up.
    A call that did not reach the person is an outreach attempt: no duration, no units, not a contact."""

    person_id: str
    outcome: str = REACHED
    minutes: str = "10"
    summary: str = ""
    follow_up: str = ""

    @property
    def reached(self) -> bool:
        return self.outcome == REACHED

    def parse(self) -> tuple[int, str, date | None, Errors]:
        errors: Errors = {}
        minutes = 0
        if self.reached:
            try:
                minutes = int(self.minutes.strip())
                if not 1 <= minutes <= 24 * 60:
                    raise ValueError
            except ValueError:
                errors["minutes"] = "Enter the call's length in minutes."
                minutes = 0
            if not self.summary.strip():
                errors["summary"] = "Write a short note about the call."
        try:
            follow_up = parse_day(self.follow_up)
        except ValueError as exc:
            errors["follow_up"] = str(exc)
            follow_up = None
        return minutes, self.summary.strip(), follow_up, errors

    def attempt(self, at: datetime) -> tuple[OutreachAttempt | None, Errors]:
        """The outreach attempt to save when the call did not reach the person."""
        _, note, follow_up, errors = self.parse()
        if errors:
            return None, errors
        outcome = OutreachOutcome(self.outcome)
        return OutreachAttempt(person_id=self.person_id, attempted_at=at, outcome=outcome, note=note, follow_up_on=follow_up), {}


def plain(value: Any) -> Any:
    """A form's value as JSON (sets sorted, enums by code), for its encrypted draft."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


class Drafted:
    """A form kept as a draft while the peer types: `draft()` gives what they typed as JSON,
    `restore()` puts it back. DRAFT_FIELDS names what is kept (never the ids of other records)."""

    DRAFT_FIELDS: tuple[str, ...] = ()

    def draft(self) -> dict[str, Any]:
        return {name: plain(getattr(self, name)) for name in self.DRAFT_FIELDS}

    def restore(self, values: dict[str, Any]) -> None:
        for name in self.DRAFT_FIELDS:
            if name in values:
                current = getattr(self, name)
                setattr(self, name, set(values[name]) if isinstance(current, set) else values[name])


@dataclass
class ConsentForm(Drafted):
    """A consent as the person signed it. A release of information needs every element of
    42 CFR 2.31: who may disclose, what, to whom, for what purpose, and when it ends."""

    person_id: str
    part2: bool
    discloser: str = ""
    kind: str = domain.ConsentKind.RELEASE.value
    recipient: str = ""
    information: str = ""
    purpose: str = ""
    signed_on: str = ""
    expires_on: str = ""

    DRAFT_FIELDS = ("kind", "discloser", "recipient", "information", "purpose", "signed_on", "expires_on")

    def parse(self) -> tuple[Consent | None, Errors]:
        errors: Errors = {}
        kind = domain.ConsentKind(self.kind)
        release = kind is domain.ConsentKind.RELEASE
        for name, label in (("discloser", "who may disclose"), ("recipient", "to whom"), ("information", "what may be disclosed"), ("purpose", "the purpose")):
            if release and not getattr(self, name).strip():
                errors[name] = f"A release of information must say {label}."
        signed_on = expires_on = None
        try:
            signed_on = parse_day(self.signed_on)
            if signed_on is None:
                errors["signed_on"] = "Enter the date the person signed."
        except ValueError as exc:
            errors["signed_on"] = str(exc)
        try:
            expires_on = parse_day(self.expires_on)
            if release and expires_on is None:
                errors["expires_on"] = "A release of information needs the date it ends."
            elif expires_on and signed_on and expires_on < signed_on:
                errors["expires_on"] = "It cannot end before it was signed."
        except ValueError as exc:
            errors["expires_on"] = str(exc)
        if errors or signed_on is None:
            return None, errors
        return Consent(
            person_id=self.person_id, kind=kind, part2=self.part2, discloser=self.discloser.strip(), recipient=self.recipient.strip(),
            information=self.information.strip(), purpose=self.purpose.strip(), signed_on=signed_on, expires_on=expires_on,
        ), errors


@dataclass
class CheckinForm(Drafted):
    """A pre-crisis check-in walked through the person's own WRAP."""

    person_id: str
    plan: WrapPlan | None
    feeling_today: str = ""
    triggers: set[str] = field(default_factory=set)
    warning_signs: set[str] = field(default_factory=set)
    zone: Zone | None = None  # the peer chooses it with the person: never pre-selected
    actions: set[str] = field(default_factory=set)
    supporters_contacted: set[str] = field(default_factory=set)
    safety: SafetyAnswer | None = None
    notes: str = ""
    checkin_id: str = field(default_factory=new_id)  # known before saving: an alert raised earlier names it

    DRAFT_FIELDS = ("checkin_id", "feeling_today", "triggers", "warning_signs", "zone", "actions", "supporters_contacted", "safety", "notes")

    def restore(self, values: dict[str, Any]) -> None:
        super().restore(values)
        self.zone = Zone(self.zone) if self.zone else None
        self.safety = SafetyAnswer(self.safety) if self.safety else None

    def plan_items(self, section: WrapSection) -> list[str]:
        return list(self.plan.section(section).items) if self.plan else []

    def suggested_actions(self) -> list[str]:
        """The action plan of the section that matches today's zone, from the person's own plan."""
        if not self.plan or self.zone is None:
            return []
        return list(self.plan.section(domain.ZONE_SECTION[self.zone]).actions)

    def supporters(self) -> list[Supporter]:
        return list(self.plan.crisis_plan.supporters) if self.plan else []

    def suggest_zone(self) -> Zone:
        """A starting point the person can change: warning signs outrank triggers."""
        if self.warning_signs:
            return Zone.EARLY_WARNING
        if self.triggers:
            return Zone.TRIGGERS
        return Zone.WELL

    @property
    def escalation(self) -> domain.Escalation | None:
        return domain.escalation_for(self.safety, self.zone or Zone.WELL) if self.safety else None

    def problems(self) -> Errors:
        """What stops saving, by field (each shown under its own question)."""
        errors: Errors = {}
        if self.zone is None:
            errors["zone"] = "Choose which part of the plan fits today."
        if self.safety is None:
            errors["safety"] = "Ask the safety question before saving."
        return errors

    def to_checkin(self) -> tuple[Checkin | None, Errors]:
        if (errors := self.problems()) or self.zone is None or self.safety is None:
            return None, errors
        return (
            Checkin(
                id=self.checkin_id, person_id=self.person_id, wrap_plan_id=self.plan.id if self.plan else None, feeling_today=self.feeling_today,
                triggers_present=sorted(self.triggers), warning_signs_present=sorted(self.warning_signs), zone=self.zone,
                actions_chosen=sorted(self.actions), supporters_contacted=sorted(self.supporters_contacted), safety=self.safety, notes=self.notes,
            ),
            {},
        )


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass
class WrapForm(Drafted):
    """Each section edited as two lists, one item per line."""

    person_id: str
    based_on_version: int | None
    items: dict[WrapSection, str] = field(default_factory=dict)
    actions: dict[WrapSection, str] = field(default_factory=dict)
    supporters: str = ""  # "Name, phone, relationship" per line

    DRAFT_FIELDS = ("items", "actions", "supporters")

    def restore(self, values: dict[str, Any]) -> None:
        super().restore(values)
        self.items = {WrapSection(k): v for k, v in self.items.items()}
        self.actions = {WrapSection(k): v for k, v in self.actions.items()}

    @classmethod
    def from_plan(cls, person_id: str, plan: WrapPlan | None) -> WrapForm:
        form = cls(person_id=person_id, based_on_version=plan.version if plan else None)
        for section in WrapSection:
            if plan and section is not WrapSection.CRISIS_PLAN:
                form.items[section] = "\n".join(plan.section(section).items)
                form.actions[section] = "\n".join(plan.section(section).actions)
        if plan:
            form.supporters = "\n".join(", ".join(filter(None, [s.name, s.phone, s.relationship])) for s in plan.crisis_plan.supporters)
        return form

    def to_plan(self, previous: WrapPlan | None) -> WrapPlan:
        sections = {
            section: WrapPlanSection(items=lines(self.items.get(section, "")), actions=lines(self.actions.get(section, "")))
            for section in WrapSection
            if section is not WrapSection.CRISIS_PLAN and (self.items.get(section) or self.actions.get(section))
        }
        supporters = []
        for line in lines(self.supporters):
            name, phone, relationship = ([p.strip() for p in line.split(",")] + ["", ""])[:3]
            supporters.append(Supporter(name=name, phone=phone, relationship=relationship))
        crisis = previous.crisis_plan.model_copy(update={"supporters": supporters}) if previous else CrisisPlan(supporters=supporters)
        return WrapPlan(person_id=self.person_id, sections=sections, crisis_plan=crisis)


def default_setting_for(mode: str) -> str:
    """Phone, video, text and e-mail contacts happen remotely; suggest that setting."""
    return ContactSetting.REMOTE.value if mode and mode != ContactMode.FACE_TO_FACE.value else ""


def setting_for(mode: str, setting: str) -> str:
    """The setting that goes with `mode`: a remote mode implies the remote setting; face to face
    keeps a place but never the remote setting (the peer chooses the place); no mode keeps it."""
    if remote := default_setting_for(mode):
        return remote
    if mode == ContactMode.FACE_TO_FACE.value and setting == ContactSetting.REMOTE.value:
        return ""
    return setting


def follow_up_in(days: int, today: date) -> str:
    return (today + timedelta(days=days)).isoformat()


ALL_INTERVENTIONS = list(Intervention)
