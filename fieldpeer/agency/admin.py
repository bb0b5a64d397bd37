"""Running the program (issue #13): what an administrator does, independent of HTTP.

Peers (add, edit, deactivate), persons served (admit with service criteria A-G and the exclusion
check of seed 002, edit, assign and reassign with matching suggestions), teams and supervisors,
devices and enrolment. Reuses service.py and review.py for what they already do (add_peer,
add_person, create_enrol_code, revoke_device, add_supervisor). Every change is in the access log
with ids only. An administrator never reads note text here: the program, not the records.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import func
from sqlmodel import Session, col, select

from fieldpeer import records
from fieldpeer.agency import matching, review, service
from fieldpeer.agency.review import NO_CONTROLS
from fieldpeer.agency.service import Refused, log_access, publish_to_peer, token_hash
from fieldpeer.agency.tables import (
    Administrator,
    AlertClosure,
    Device,
    EnrolCode,
    FeedEntry,
    Peer,
    PeerStanding,
    Person,
    PersonIntake,
    ReceivedRecord,
    Supervisor,
    Team,
    TeamSupervisor,
)
from fieldpeer.domain import LabelledEnum, PeerRole, ServiceCriterion
from fieldpeer.records import Deletion, new_id, utc_now
from fieldpeer.sync.wire import Refusal

ENROL_TTL = timedelta(hours=24)
APP_VERSION_UNKNOWN = "not reported"  # the push carries no app version (wire.PushBatch): the server cannot know it


class ExclusionCriterion(LabelledEnum):
    """Seed 002, V: any one is sufficient for exclusion from peer support as a level of care."""

    RISK_OR_INTENSIVE = ("risk_or_intensive", "A risk to self or others, or needs a more intensive level of service")
    STRUCTURE_BEYOND_SCOPE = ("structure_beyond_scope", "Needs more structure and supervision than the program gives")


def _invalid(message: str) -> Refused:
    return Refused(Refusal.WRONG_STATE, message, 422)


def _text(value: str, what: str, *, required: bool = True, limit: int = 200) -> str:
    value = value.strip()
    if required and not value:
        raise _invalid(f"Enter the {what}.")
    if len(value) > limit or not re.match(NO_CONTROLS, value):
        raise _invalid(f"The {what} is too long or holds characters that cannot be stored.")
    return value


# --- Accounts ------------------------------------------------------------------------------


def add_administrator(session: Session, name: str, credentials: str = "") -> tuple[Administrator, str]:
    """An administrator account; returns it and its sign-in token (shown once, stored only hashed)."""
    token = secrets.token_urlsafe(32)
    admin = Administrator(id=new_id(), name=_text(name, "name"), credentials=_text(credentials, "credentials", required=False), token_hash=token_hash(token))
    session.add(admin)
    return admin, token


def authenticate(session: Session, authorization: str | None, action: str) -> Administrator:
    """The administrator behind a bearer token (the same token scheme as supervisors')."""
    return service.authenticate_account(
        session, Administrator, authorization, action, unknown="Sign in as an administrator to see this.", closed="This administrator account was closed.",
    )


def _log(session: Session, admin: Administrator, action: str, object_id: str = "") -> None:
    log_access(session, action, "ok", object_id=object_id, detail=f"administrator:{admin.id}")


# --- Teams and supervisors ------------------------------------------------------------------------


def add_team(session: Session, admin: Administrator, name: str) -> Team:
    name = _text(name, "team name", limit=100)
    if session.exec(select(Team).where(Team.name == name)).first():
        raise _invalid("There is already a team with that name.")
    team = Team(id=new_id(), name=name)
    session.add(team)
    _log(session, admin, "add_team", team.id)
    return team


def add_supervisor(session: Session, admin: Administrator, name: str, credentials: str = "") -> tuple[Supervisor, str]:
    """review.add_supervisor from the administrator's pages; the token is shown once."""
    supervisor, token = review.add_supervisor(session, _text(name, "name"), _text(credentials, "credentials", required=False, limit=100))
    _log(session, admin, "add_supervisor", supervisor.id)
    return supervisor, token


def set_supervisor_teams(session: Session, admin: Administrator, supervisor_id: str, team_ids: list[str]) -> None:
    """The teams a supervisor leads (and so the only peers they see). None: the whole agency."""
    if session.get(Supervisor, supervisor_id) is None:
        raise Refused(Refusal.NOT_FOUND, "There is no supervisor with that id.", 404)
    known = {t.id for t in session.exec(select(Team)).all()}
    for row in session.exec(select(TeamSupervisor).where(TeamSupervisor.supervisor_id == supervisor_id)).all():
        session.delete(row)
    session.flush()
    for team_id in sorted(set(team_ids) & known):
        session.add(TeamSupervisor(supervisor_id=supervisor_id, team_id=team_id))
    _log(session, admin, "set_supervisor_teams", supervisor_id)


# --- Peers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerEntry:
    peer: Peer
    team: Team | None
    experience: list[str]  # tag codes
    caseload: int
    devices: int  # not revoked
    active: bool


def _standing(session: Session, peer_id: str) -> PeerStanding:
    return session.get(PeerStanding, peer_id) or PeerStanding(peer_id=peer_id)


def _team_id(session: Session, team_id: str | None) -> str | None:
    if not team_id:
        return None
    if session.get(Team, team_id) is None:
        raise _invalid("That team does not exist.")
    return team_id


def add_peer(session: Session, admin: Administrator, name: str, role: PeerRole, credentials: str = "", team_id: str | None = None, experience: list[str] | None = None) -> Peer:
    peer = service.add_peer(session, _text(name, "name"), role, _text(credentials, "credentials", required=False, limit=100))
    session.add(PeerStanding(peer_id=peer.id, team_id=_team_id(session, team_id), experience=json.dumps(matching.known_tags(experience or []))))
    _log(session, admin, "add_peer", peer.id)
    return peer


def edit_peer(session: Session, admin: Administrator, peer_id: str, *, name: str, credentials: str, role: PeerRole, team_id: str | None, experience: list[str]) -> Peer:
    """Name, credentials (printed on the notes they sign from now on), role, team, shared experience."""
    peer = _peer(session, peer_id)
    peer.name, peer.credentials, peer.role = _text(name, "name"), _text(credentials, "credentials", required=False, limit=100), role.value
    standing = _standing(session, peer_id)
    standing.team_id, standing.experience = _team_id(session, team_id), json.dumps(matching.known_tags(experience))
    session.add_all([peer, standing])
    # The peer's phones show the new name and credentials after their next pull.
    publish_to_peer(session, peer.id, records.PeerProfile(id=peer.id, name=peer.name, role=role, credentials=peer.credentials))
    _log(session, admin, "edit_peer", peer_id)
    return peer


def _peer(session: Session, peer_id: str) -> Peer:
    peer = session.get(Peer, peer_id)
    if peer is None:
        raise Refused(Refusal.NOT_FOUND, "There is no peer with that id.", 404)
    return peer


def is_active(session: Session, peer_id: str) -> bool:
    standing = session.get(PeerStanding, peer_id)
    return standing is None or standing.deactivated_at is None


@dataclass(frozen=True)
class Deactivated:
    devices_revoked: int
    persons_moved: int


def deactivate_peer(session: Session, admin: Administrator, peer_id: str, move_to: str | None) -> Deactivated:
    """The peer leaves: their devices are revoked (each wipes itself at its next sync), their
    unused enrolment codes stop working, and their caseload moves to `move_to` (required when
    they have one)."""
    _peer(session, peer_id)
    standing = _standing(session, peer_id)
    if standing.deactivated_at is not None:
        raise _invalid("This peer is already deactivated.")
    caseload = list(session.exec(select(Person).where(Person.peer_id == peer_id)).all())
    if caseload and not move_to:
        raise _invalid("Choose the peer who takes over this caseload.")
    if move_to == peer_id:
        raise _invalid("Choose another peer to take over this caseload.")
    for person in caseload:
        reassign_person(session, admin, person.id, move_to or "")
    devices = session.exec(select(Device).where(Device.peer_id == peer_id, col(Device.revoked_at).is_(None))).all()
    for device in devices:
        service.revoke_device(session, device.id)
    now = utc_now()
    for code in session.exec(select(EnrolCode).where(EnrolCode.peer_id == peer_id, col(EnrolCode.used_at).is_(None))).all():
        code.expires_at = min(code.expires_at, now)
        session.add(code)
    standing.deactivated_at = now
    session.add(standing)
    _log(session, admin, "deactivate_peer", peer_id)
    return Deactivated(len(devices), len(caseload))


def peers(session: Session, team_ids: set[str] | None = None) -> list[PeerEntry]:
    """Every peer (or a team's), active first, by name; a fixed number of queries."""
    standings = {s.peer_id: s for s in session.exec(select(PeerStanding)).all()}
    teams = {t.id: t for t in session.exec(select(Team)).all()}
    caseloads: dict[str, int] = dict(session.exec(select(Person.peer_id, func.count()).group_by(Person.peer_id)).all())
    devices: dict[str, int] = dict(session.exec(select(Device.peer_id, func.count()).where(col(Device.revoked_at).is_(None)).group_by(Device.peer_id)).all())
    found = []
    for peer in session.exec(select(Peer).order_by(Peer.name)).all():
        standing = standings.get(peer.id) or PeerStanding(peer_id=peer.id)
        if team_ids is not None and standing.team_id not in team_ids:
            continue
        found.append(PeerEntry(
            peer, teams.get(standing.team_id or ""), matching.known_tags(json.loads(standing.experience)), caseloads.get(peer.id, 0),
            devices.get(peer.id, 0), standing.deactivated_at is None,
        ))
    return sorted(found, key=lambda e: not e.active)


# --- Persons served ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    """What an administrator enters to admit a person (the agency owns these fields)."""

    preferred_name: str
    criterion: ServiceCriterion | None
    exclusions: frozenset[ExclusionCriterion]  # those that apply; any one refuses admission
    wish: matching.Wish
    phone: str = ""
    part2: bool = False
    admitted_on: date | None = None


def admission_problems(intake: Intake) -> list[str]:
    """Why this person cannot be admitted to peer support (empty: they can). Pure."""
    problems = []
    if not intake.preferred_name.strip():
        problems.append("Enter the name the person goes by.")
    if intake.criterion is None:
        problems.append("Choose the service criterion (A-G) the person meets.")
    if intake.exclusions:
        problems.append("An exclusion criterion applies: peer support is not the right level of care now. Refer to clinical services; peer support can be added alongside later.")
    return problems


def _save_wish(session: Session, person_id: str, wish: matching.Wish) -> PersonIntake:
    intake = session.get(PersonIntake, person_id) or PersonIntake(person_id=person_id)
    intake.wished_role = wish.role.value if wish.role else ""
    intake.wished_experience = json.dumps(matching.known_tags(wish.experience))
    session.add(intake)
    return intake


def admit_person(session: Session, admin: Administrator, peer_id: str, intake: Intake) -> records.Person:
    """Admit a person and assign them to a peer (whose devices receive them at the next pull)."""
    if problems := admission_problems(intake):
        raise _invalid(" ".join(problems))
    if not is_active(session, _peer(session, peer_id).id):
        raise _invalid("That peer is deactivated; choose another.")
    person = records.Person(
        preferred_name=_text(intake.preferred_name, "name"), service_criterion=intake.criterion, admitted_on=intake.admitted_on or utc_now().date(),
        phone=_text(intake.phone, "phone number", required=False, limit=40), part2=intake.part2,
    )
    service.add_person(session, peer_id, person)
    checked = _save_wish(session, person.id, intake.wish)
    checked.exclusions_checked_by, checked.exclusions_checked_at = admin.id, utc_now()
    _log(session, admin, "admit_person", person.id)
    return person


def _person(session: Session, person_id: str) -> tuple[Person, records.Person]:
    row = session.get(Person, person_id)
    if row is None:
        raise Refused(Refusal.NOT_FOUND, "There is no person with that id.", 404)
    return row, records.Person.model_validate_json(row.payload)


def _store(session: Session, row: Person, person: records.Person) -> records.Person:
    """A new version of the agency's record of the person, sent to the assigned peer's devices."""
    person = person.model_copy(update={"version": max(row.version, person.version) + 1})
    row.version, row.payload, row.updated_at = person.version, person.model_dump_json(), utc_now()
    session.add(row)
    publish_to_peer(session, row.peer_id, person)
    return person


def edit_person(session: Session, admin: Administrator, person_id: str, *, preferred_name: str, criterion: ServiceCriterion | None, phone: str, wish: matching.Wish) -> records.Person:
    row, person = _person(session, person_id)
    if criterion is None:
        raise _invalid("Choose the service criterion (A-G) the person meets.")
    changed = person.model_copy(update={"preferred_name": _text(preferred_name, "name"), "service_criterion": criterion, "phone": _text(phone, "phone number", required=False, limit=40)})
    _save_wish(session, person_id, wish)
    _log(session, admin, "edit_person", person_id)
    return _store(session, row, records.Person.model_validate(changed.model_dump()))


def reassign_person(session: Session, admin: Administrator, person_id: str, peer_id: str) -> records.Person:
    """Move a person to another peer: a new version goes to the new peer's devices, and the old
    peer's devices are told to drop the person (a Deletion of the person in their feed).

    Note for the field app: it ignores pulled deletions today (store/pulled.py logs "ignored a
    deletion record"), so the old phone keeps the person until it learns to drop them."""
    row, person = _person(session, person_id)
    if row.peer_id == peer_id:
        return person
    _peer(session, peer_id)
    if not is_active(session, peer_id):
        raise _invalid("That peer is deactivated; choose another.")
    old = row.peer_id
    row.peer_id = peer_id
    moved = _store(session, row, person)
    session.add(FeedEntry(peer_id=old, record_type="deletion", record_id=person_id,
                          payload=Deletion(id=new_id(), deleted_type="person", deleted_id=person_id).model_dump_json()))
    log_access(session, "reassign_person", "ok", object_id=person_id, detail=f"administrator:{admin.id} from:{old} to:{peer_id}")
    return moved


@dataclass(frozen=True)
class PersonEntry:
    person: records.Person
    peer: Peer | None
    wish: matching.Wish


def wish_of(intake: PersonIntake | None) -> matching.Wish:
    if intake is None:
        return matching.Wish(None, frozenset())
    return matching.Wish(PeerRole(intake.wished_role) if intake.wished_role else None, frozenset(matching.known_tags(json.loads(intake.wished_experience))))


def persons(session: Session) -> list[PersonEntry]:
    """Every person served with their peer, by name (a fixed number of queries)."""
    peers_by_id = {p.id: p for p in session.exec(select(Peer)).all()}
    intakes = {i.person_id: i for i in session.exec(select(PersonIntake)).all()}
    found = [
        PersonEntry(records.Person.model_validate_json(row.payload), peers_by_id.get(row.peer_id), wish_of(intakes.get(row.id)))
        for row in session.exec(select(Person)).all()
    ]
    return sorted(found, key=lambda e: (e.person.preferred_name.casefold(), e.person.id))


def person(session: Session, person_id: str) -> PersonEntry:
    row, found = _person(session, person_id)
    return PersonEntry(found, session.get(Peer, row.peer_id), wish_of(session.get(PersonIntake, person_id)))


def suggestions(session: Session, wish: matching.Wish) -> list[matching.Suggestion]:
    """Active peers ranked for this wish (matching.rank_peers over the program as it stands)."""
    candidates = [
        matching.Candidate(e.peer.id, e.peer.name, PeerRole(e.peer.role), frozenset(e.experience), e.caseload, e.active)
        for e in peers(session)
    ]
    return matching.rank_peers(wish, candidates)


# --- Devices and enrolment -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceEntry:
    device: Device
    pending_alerts: int  # safety alerts this device raised that no supervisor has closed yet
    app_version: str = APP_VERSION_UNKNOWN


def devices(session: Session, peer_id: str) -> list[DeviceEntry]:
    found = list(session.exec(select(Device).where(Device.peer_id == peer_id).order_by(col(Device.enrolled_at).desc())).all())
    if not found:
        return []
    open_alerts = Counter(session.exec(
        select(ReceivedRecord.device_id)
        .join(AlertClosure, col(AlertClosure.alert_id) == ReceivedRecord.record_id, isouter=True)
        .where(ReceivedRecord.record_type == "safety_alert", col(ReceivedRecord.device_id).in_([d.id for d in found]), col(AlertClosure.alert_id).is_(None))
    ).all())
    return [DeviceEntry(d, open_alerts.get(d.id, 0)) for d in found]


def revoke_device(session: Session, admin: Administrator, device_id: str) -> Device:
    """Revoke one device (service.revoke_device): its next sync is refused and it wipes itself."""
    if session.get(Device, device_id) is None:
        raise Refused(Refusal.NOT_FOUND, "There is no device with that id.", 404)
    _log(session, admin, "admin_revoke_device", device_id)
    return service.revoke_device(session, device_id)


@dataclass(frozen=True)
class Enrolment:
    code: str
    expires_at: datetime
    link: str  # what the QR code holds


def enrolment_link(server_url: str, code: str) -> str:
    """The QR code's text: `fieldpeer://enrol?server=<agency address>&code=<one-time code>`.
    A field app's enrol screen (or a person typing) needs exactly these two values."""
    return "fieldpeer://enrol?" + urlencode({"server": server_url.rstrip("/"), "code": code})


def start_enrolment(session: Session, admin: Administrator, peer_id: str, server_url: str, now: datetime | None = None) -> Enrolment:
    """A one-time code for the peer's next device (service.create_enrol_code), valid ENROL_TTL."""
    _peer(session, peer_id)
    if not is_active(session, peer_id):
        raise _invalid("That peer is deactivated.")
    now = now or utc_now()
    code = service.create_enrol_code(session, peer_id, ENROL_TTL, now)
    _log(session, admin, "create_enrol_code", peer_id)
    return Enrolment(code, now + ENROL_TTL, enrolment_link(server_url, code))


def qr_svg(text: str) -> str:
    """An inline SVG QR code (no JavaScript, no image request: the pages' CSP allows neither)."""
    import segno  # server-only dependency (agency extra)

    return str(segno.make(text, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", omitsize=True, title="Enrolment QR code"))
