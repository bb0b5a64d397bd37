"""The administrator's web pages (/admin): peers, persons served with matching suggestions,
teams and supervisors, devices and enrolment (a one-time code as text and as a QR code).

Server-rendered like the supervisor's pages (agency/pages.py: the same Jinja2 environment,
autoescaped, the same headers and CSP; plain HTML forms, no JavaScript) and signed in the same
way: the token opens a server-side session (agency/web_sessions.py) whose id is kept in an
HttpOnly, SameSite=Strict cookie scoped to /admin; every POST needs its CSRF token and this Origin. Services live in agency/admin.py.
An administrator sees the program (who, where, how many), never a note's text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session, select

from fieldpeer.agency import admin, matching, review
from fieldpeer.agency.pages import HEADERS, TEMPLATES
from fieldpeer.agency.tables import Administrator, Peer, Supervisor, Team, TeamSupervisor
from fieldpeer.agency.web_sessions import Area, Fields, first
from fieldpeer.domain import PeerRole, ServiceCriterion

BASE = "/admin"
COOKIE = "fieldpeer_admin"
DONE = {
    "peer_added": "Peer added. Enrol their phone from their page.",
    "peer_saved": "Peer saved.",
    "deactivated": "Peer deactivated: their devices are revoked and wipe at their next sync; their caseload moved.",
    "revoked": "Device revoked. Its next sync is refused and it erases its data.",
    "admitted": "Person admitted and assigned. The peer's phone receives them at its next sync.",
    "person_saved": "Person saved. The peer's phone receives the change at its next sync.",
    "reassigned": "Person reassigned. The new peer's phone receives them at its next sync.",
    "team_added": "Team added.",
    "teams_saved": "Supervisor's teams saved.",
}

Handler = Callable[[Session, Administrator, Request, Fields], Response]
router = APIRouter(prefix=BASE, include_in_schema=False)


def page(template: str, title: str, who: Administrator | None = None, done: str = "", **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(title=title, admin=who, admin_base=BASE, done=done, **context)
    return HTMLResponse(html, headers=HEADERS)


def message(title: str, text: str, who: Administrator | None = None, error: bool = True) -> HTMLResponse:
    return page("admin_message.html", title, who, message=text, error=error)


def every_value(fields: Fields) -> Fields:
    return fields


AREA = Area(
    base=BASE, cookie=COOKIE, kind=Administrator, home="/peers", layout="admin_base.html",
    hint=Markup("Created with <code>fieldpeer agency add-admin</code> on the agency server."),
    page=page, message=message, authenticate=admin.authenticate, shape=every_value, form_limit=50_000,
)
AREA.add_sign_in_routes(router)


def route(path: str, methods: list[str], action: str, handler: Handler) -> None:
    AREA.route(router, path, methods, action, handler)


def done_of(request: Request) -> str:
    return DONE.get(request.query_params.get("done", ""), "")


def to(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{BASE}{path}?done={done}", status_code=303)


def role_of(fields: Fields, name: str = "role") -> PeerRole | None:
    value = first(fields, name)
    return PeerRole(value) if value in PeerRole._value2member_map_ else None


def choices() -> dict[str, Any]:
    """What the forms offer: roles, criteria A-G, exclusion criteria, experience tags."""
    return {"roles": PeerRole.choices(), "criteria": ServiceCriterion.choices(), "exclusions": admin.ExclusionCriterion.choices(), "tags": matching.experience_tags()}


# --- Peers ---------------------------------------------------------------------------------------


def peers_page(db: Session, who: Administrator, request: Request, _: Fields) -> Response:
    teams = list(db.exec(select(Team).order_by(Team.name)).all())
    return page("admin_peers.html", "Peers", who, done_of(request), peers=admin.peers(db), teams=teams, **choices())


def add_peer(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    role = role_of(fields)
    if role is None:
        return message("Could not add the peer", "Choose the peer's role.", who)
    peer = admin.add_peer(db, who, first(fields, "name"), role, first(fields, "credentials"), first(fields, "team") or None, fields.get("experience", []))
    return to(f"/peers/{peer.id}", "peer_added")


def peer_page(db: Session, who: Administrator, request: Request, _: Fields) -> Response:
    peer_id = request.path_params["peer_id"]
    entry = next((e for e in admin.peers(db) if e.peer.id == peer_id), None)
    if entry is None:
        return message("Not found", "There is no peer with that id.", who, error=False)
    others = [e for e in admin.peers(db) if e.active and e.peer.id != peer_id]
    teams = list(db.exec(select(Team).order_by(Team.name)).all())
    return page("admin_peer.html", review.signed_name(entry.peer), who, done_of(request), entry=entry, devices=admin.devices(db, peer_id),
                others=others, teams=teams, **choices())


def edit_peer(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    peer_id, role = request.path_params["peer_id"], role_of(fields)
    if role is None:
        return message("Could not save", "Choose the peer's role.", who)
    admin.edit_peer(db, who, peer_id, name=first(fields, "name"), credentials=first(fields, "credentials"), role=role, team_id=first(fields, "team") or None,
                    experience=fields.get("experience", []))
    return to(f"/peers/{peer_id}", "peer_saved")


def deactivate_peer(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    peer_id = request.path_params["peer_id"]
    admin.deactivate_peer(db, who, peer_id, first(fields, "move_to") or None)
    return to(f"/peers/{peer_id}", "deactivated")


def enrol(db: Session, who: Administrator, request: Request, _: Fields) -> Response:
    peer_id = request.path_params["peer_id"]
    server = str(request.base_url).rstrip("/")  # the address this browser reached the agency at
    enrolment = admin.start_enrolment(db, who, peer_id, server)
    peer = db.get(Peer, peer_id)
    return page("admin_enrol.html", "Enrol a device", who, peer=peer, signed=review.signed_name(peer), enrolment=enrolment, server=server,
                qr=admin.qr_svg(enrolment.link))


def revoke(db: Session, who: Administrator, request: Request, _: Fields) -> Response:
    device = admin.revoke_device(db, who, request.path_params["device_id"])
    return to(f"/peers/{device.peer_id}", "revoked")


# --- Persons served --------------------------------------------------------------------------------


def wish_of(fields: Fields) -> matching.Wish:
    return matching.Wish(role_of(fields, "wished_role"), frozenset(matching.known_tags(fields.get("wished_experience", []))))


def intake_of(fields: Fields) -> admin.Intake:
    criterion = first(fields, "criterion")
    exclusions = frozenset(admin.ExclusionCriterion(e) for e in fields.get("exclusion", []) if e in admin.ExclusionCriterion._value2member_map_)
    return admin.Intake(
        preferred_name=first(fields, "name"), criterion=ServiceCriterion(criterion) if criterion in ServiceCriterion._value2member_map_ else None,
        exclusions=exclusions, wish=wish_of(fields), phone=first(fields, "phone"), part2=first(fields, "part2") == "yes",
    )


def persons_page(db: Session, who: Administrator, request: Request, _: Fields) -> Response:
    return page("admin_persons.html", "Persons served", who, done_of(request), persons=admin.persons(db))


def new_person(db: Session, who: Administrator, request: Request, _: Fields) -> Response:
    return page("admin_person_new.html", "Admit a person", who, **choices())


def match(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    """Intake checked (criteria, exclusions): suggest peers; each button admits and assigns."""
    intake = intake_of(fields)
    if problems := admin.admission_problems(intake):
        return page("admin_person_new.html", "Admit a person", who, problems=problems, fields=fields, **choices())
    hidden = [(k, v) for k, values in fields.items() if k in ("name", "phone", "criterion", "part2", "wished_role", "wished_experience") for v in values]
    return page("admin_match.html", "Choose a peer", who, intake=intake, hidden=hidden, suggestions=admin.suggestions(db, intake.wish),
                labels=lambda codes: matching.tag_labels(matching.known_tags(codes)))


def admit(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    admin.admit_person(db, who, first(fields, "peer"), intake_of(fields))
    return to("/persons", "admitted")


def person_page(db: Session, who: Administrator, request: Request, _: Fields) -> Response:
    entry = admin.person(db, request.path_params["person_id"])
    suggestions = [s for s in admin.suggestions(db, entry.wish) if not entry.peer or s.peer_id != entry.peer.id]
    return page("admin_person.html", entry.person.preferred_name, who, done_of(request), entry=entry, suggestions=suggestions,
                signed=review.signed_name(entry.peer), **choices())


def edit_person(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    person_id, intake = request.path_params["person_id"], intake_of(fields)
    admin.edit_person(db, who, person_id, preferred_name=intake.preferred_name, criterion=intake.criterion, phone=intake.phone, wish=intake.wish)
    return to(f"/persons/{person_id}", "person_saved")


def reassign(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    person_id = request.path_params["person_id"]
    admin.reassign_person(db, who, person_id, first(fields, "peer"))
    return to(f"/persons/{person_id}", "reassigned")


# --- Teams and supervisors -----------------------------------------------------------------------------


def teams_page(db: Session, who: Administrator, request: Request, _: Fields) -> Response:
    teams = list(db.exec(select(Team).order_by(Team.name)).all())
    led: dict[str, set[str]] = {}
    for row in db.exec(select(TeamSupervisor)).all():
        led.setdefault(row.supervisor_id, set()).add(row.team_id)
    supervisors = [s for s in db.exec(select(Supervisor).order_by(Supervisor.name)).all() if s.revoked_at is None]
    return page("admin_teams.html", "Teams and supervisors", who, done_of(request), teams=teams, supervisors=supervisors, led=led,
                signed_name=review.signed_name)


def add_team(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    admin.add_team(db, who, first(fields, "name"))
    return to("/teams", "team_added")


def supervisor_teams(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    admin.set_supervisor_teams(db, who, request.path_params["supervisor_id"], fields.get("team", []))
    return to("/teams", "teams_saved")


def add_supervisor(db: Session, who: Administrator, request: Request, fields: Fields) -> Response:
    """review.add_supervisor; the token is shown once, on this answer only."""
    supervisor, token = admin.add_supervisor(db, who, first(fields, "name"), first(fields, "credentials"))
    return page("admin_token.html", "Supervisor added", who, signed=review.signed_name(supervisor), token=token)


route("/peers", ["GET"], "admin_peers", peers_page)
route("/peers", ["POST"], "admin_add_peer", add_peer)
route("/peers/{peer_id}", ["GET"], "admin_peer", peer_page)
route("/peers/{peer_id}", ["POST"], "admin_edit_peer", edit_peer)
route("/peers/{peer_id}/deactivate", ["POST"], "admin_deactivate_peer", deactivate_peer)
route("/peers/{peer_id}/enrol", ["POST"], "admin_enrol", enrol)
route("/devices/{device_id}/revoke", ["POST"], "admin_revoke_device", revoke)
route("/persons", ["GET"], "admin_persons", persons_page)
route("/persons/new", ["GET"], "admin_new_person", new_person)
route("/persons/match", ["POST"], "admin_match", match)
route("/persons", ["POST"], "admin_admit", admit)
route("/persons/{person_id}", ["GET"], "admin_person", person_page)
route("/persons/{person_id}", ["POST"], "admin_edit_person", edit_person)
route("/persons/{person_id}/assign", ["POST"], "admin_reassign", reassign)
route("/teams", ["GET"], "admin_teams", teams_page)
route("/teams", ["POST"], "admin_add_team", add_team)
route("/supervisors", ["POST"], "admin_add_supervisor", add_supervisor)
route("/supervisors/{supervisor_id}/teams", ["POST"], "admin_supervisor_teams", supervisor_teams)
