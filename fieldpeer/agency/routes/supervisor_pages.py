"""The supervisor's web pages (/supervisor): sign in with the supervisor token, the review queue,
peers and a peer's report; decisions are plain HTML forms. Rendering lives in agency/pages.py.

Signing in opens a server-side session (agency/web_sessions.py): the cookie (HttpOnly,
SameSite=Strict, scoped to /supervisor) holds the session id, never the token; every POST needs
the form's CSRF token and this site's Origin.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import Session

from fieldpeer.agency import exports, reports, review
from fieldpeer.agency.pages import BASE, COOKIE, DONE, HEADERS, TEMPLATES, message, page
from fieldpeer.agency.routes.exports import BillingExportRequest, FhirExportRequest
from fieldpeer.agency.service import Refused
from fieldpeer.agency.tables import Peer, Supervisor
from fieldpeer.agency.times import current_zone, local_time
from fieldpeer.agency.web_sessions import Area, Fields
from fieldpeer.domain import AlertState
from fieldpeer.records import utc_now

router = APIRouter(prefix=BASE, include_in_schema=False)


def form_values(fields: Fields) -> dict[str, str]:
    """The supervisor's forms send each name once: its first value."""
    return {k: v[0] for k, v in fields.items()}


AREA = Area(
    base=BASE, cookie=COOKIE, kind=Supervisor, home="/queue", layout="base.html",
    hint=Markup("Your agency administrator gives you this token (<code>fieldpeer agency add-supervisor</code>)."),
    page=page, message=message, authenticate=review.authenticate, shape=form_values,
)
AREA.add_sign_in_routes(router)
Handler = Callable[[Session, Supervisor, Request, dict[str, str]], Response]


def route(path: str, methods: list[str], action: str, handler: Handler) -> None:
    AREA.route(router, path, methods, action, handler)


def back_to(db: Session, fields: dict[str, str], done: str) -> Response:
    """After a decision: the peer page it was made on (a known peer only), else the queue."""
    peer = db.get(Peer, fields["back"]) if fields.get("back") else None
    return RedirectResponse(f"{BASE}/peers/{peer.id}?done={done}" if peer else f"{BASE}/queue?done={done}", status_code=303)


def queue_filters(params: dict[str, str]) -> review.QueueFilters:
    """The queue's filters from the address; a value that does not parse is ignored (never an error
    that tells whether a peer or person exists). Team scoping is applied by review.queue."""

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(params[name]) if params.get(name) else None
        except ValueError:
            return None

    return review.QueueFilters(
        peer_id=params.get("peer") or None, person_id=params.get("person") or None, start=day("start"), end=day("end"), urgent_only=params.get("urgent") == "1",
    )


def queue_page(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> Response:
    params = dict(request.query_params)
    filters = queue_filters(params)
    page_number = int(params["page"]) if params.get("page", "").isdigit() and 0 < int(params["page"]) < 100_000 else 1
    found = review.queue(db, supervisor, filters=filters, page=page_number, page_size=review.PAGE_SIZE)
    peers = review.visible_peers(db, supervisor)
    peer = next((p for p in peers if p.id == filters.peer_id), None)
    persons = review.visible_persons(db, supervisor, peer.id) if peer else []
    kept = {k: v for k, v in params.items() if k in ("peer", "person", "start", "end", "urgent") and v}
    return page(
        "queue.html", "Review queue", supervisor, DONE.get(params.get("done", ""), ""),
        peer=peer, peers=peers, persons=persons, filters=filters, found=found, kept=kept, filtered=bool(kept), zone_name=str(current_zone()),
    )


def cosign(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> Response:
    review.cosign(db, supervisor, request.path_params["note_id"])
    return RedirectResponse(f"{BASE}/queue?done=cosigned", status_code=303)


def return_note(db: Session, supervisor: Supervisor, request: Request, fields: dict[str, str]) -> Response:
    review.return_note(db, supervisor, request.path_params["note_id"], fields.get("comment", "")[:4000])
    return RedirectResponse(f"{BASE}/queue?done=returned", status_code=303)


def acknowledge(db: Session, supervisor: Supervisor, request: Request, fields: dict[str, str]) -> Response:
    review.acknowledge_alert(db, supervisor, request.path_params["alert_id"])
    return back_to(db, fields, "acknowledged")


def close(db: Session, supervisor: Supervisor, request: Request, fields: dict[str, str]) -> Response:
    review.close_alert(db, supervisor, request.path_params["alert_id"])
    return back_to(db, fields, "closed")


def peers_page(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> Response:
    waiting = review.awaiting_by_peer(db, supervisor)
    peers = [{"id": p.id, "signed_name": review.signed_name(p), "awaiting": waiting.get(p.id, 0)} for p in review.visible_peers(db, supervisor)]
    return page("peers.html", "Peers", supervisor, peers=peers)


def peer_page(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> Response:
    peer = db.get(Peer, request.path_params["peer_id"])
    if peer is None or (visible := review.visible_peer_ids(db, supervisor)) is not None and peer.id not in visible:
        return message("Not found", "There is no peer with that id.", supervisor, error=False)
    today = utc_now().astimezone(current_zone()).date()  # the agency's "today", not UTC's
    try:
        start = date.fromisoformat(request.query_params["start"]) if request.query_params.get("start") else today - timedelta(days=30)
        end = date.fromisoformat(request.query_params["end"]) if request.query_params.get("end") else today
    except ValueError:
        start, end = today - timedelta(days=30), today
    report = reports.peer_report(db, peer.id, start, end, today)
    return page(
        "peer.html", review.signed_name(peer), supervisor, DONE.get(request.query_params.get("done", ""), ""), peer=peer, start=start, end=end, report=report,
        open_alerts=[a for a in report.alerts if a.state is AlertState.OPEN], following_up=[a for a in report.alerts if a.state is AlertState.ACKNOWLEDGED],
    )


# --- Exports from the pages: the API's functions (exports.py), its request models, a download ----------


def exports_page(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> Response:
    return export_form(db, supervisor, {"person_id": request.query_params.get("person", "")})


def export_form(db: Session, supervisor: Supervisor, entered: dict[str, str], error: str = "", which: str = "", status: int = 422) -> HTMLResponse:
    """The export forms, with what was typed kept and a refusal in words under the form it concerns."""
    today = utc_now().astimezone(current_zone()).date()
    first = today.replace(day=1)
    defaults = {"start": (first - timedelta(days=1)).replace(day=1).isoformat(), "end": (first - timedelta(days=1)).isoformat(), "recipient": exports.WITHIN_AGENCY}
    response = page(
        "exports.html", "Exports", supervisor, persons=review.visible_persons(db, supervisor), entered={**defaults, **entered},
        error=error, which=which, within=exports.WITHIN_AGENCY,
    )
    if error:
        response.status_code = status
    return response


def _problem(error: ValidationError) -> str:
    """A request model's complaint in words a supervisor reads (field and reason, never the value)."""
    words = {"start": "From", "end": "To", "purpose": "Purpose", "person_id": "Person", "recipient": "Recipient"}
    return " ".join(f"{words.get(str(e['loc'][0]), str(e['loc'][0])) if e['loc'] else 'The form'}: {e['msg'].removeprefix('Value error, ')}." for e in error.errors(include_input=False))


def export_billing(db: Session, supervisor: Supervisor, request: Request, fields: dict[str, str]) -> Response:
    entered = {k: fields.get(k, "") for k in ("start", "end", "purpose")}
    try:
        asked = BillingExportRequest.model_validate(entered)
    except ValidationError as invalid:
        return export_form(db, supervisor, entered, _problem(invalid), "billing")
    if asked.end < asked.start:
        return export_form(db, supervisor, entered, "The period ends before it starts.", "billing")
    text = exports.billing_csv(db, supervisor, asked.start, asked.end, asked.purpose)
    return Response(content=text, media_type="text/csv; charset=utf-8", headers={**HEADERS, "Content-Disposition": f'attachment; filename="billing-{asked.start}-{asked.end}.csv"'})


def export_fhir(db: Session, supervisor: Supervisor, request: Request, fields: dict[str, str]) -> Response:
    entered = {k: fields.get(k, "") for k in ("person_id", "purpose", "recipient")}
    try:
        asked = FhirExportRequest.model_validate(entered)
        export = exports.fhir_bundle(db, supervisor, asked.person_id, asked.purpose, asked.recipient)
    except ValidationError as invalid:
        return export_form(db, supervisor, entered, _problem(invalid), "fhir")
    except Refused as refused:  # no consent, or not one of the teams' persons: said in words; the refusal is logged (the unit commits)
        return export_form(db, supervisor, entered, str(refused), "fhir", refused.status)
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="fhir-{asked.person_id}.json"'}
    if export.part2:
        headers["X-Redisclosure-Notice"] = exports.PART2_NOTICE
    return Response(content=json.dumps(export.bundle), media_type="application/fhir+json", headers=headers)


TEMPLATES.filters["local_time"] = local_time

route("/queue", ["GET"], "review_queue_page", queue_page)
route("/notes/{note_id}/cosign", ["POST"], "cosign", cosign)
route("/notes/{note_id}/return", ["POST"], "return", return_note)
route("/alerts/{alert_id}/acknowledge", ["POST"], "acknowledge_alert", acknowledge)
route("/alerts/{alert_id}/close", ["POST"], "close_alert", close)
route("/peers", ["GET"], "peers_page", peers_page)
route("/peers/{peer_id}", ["GET"], "peer_page", peer_page)
route("/exports", ["GET"], "exports_page", exports_page)
route("/exports/billing", ["POST"], "export_billing", export_billing)
route("/exports/fhir", ["POST"], "export_fhir", export_fhir)
