"""The supervisor's web pages (/supervisor): sign in with the supervisor token, the review queue,
peers and a peer's report; decisions are plain HTML forms. Rendering lives in agency/pages.py.

The token lives in an HttpOnly, SameSite=Strict cookie scoped to /supervisor; POSTs from
another origin are refused as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from fieldpeer.agency import reports, review
from fieldpeer.agency.pages import BASE, COOKIE, DONE, message, page
from fieldpeer.agency.routes.common import the_agency
from fieldpeer.agency.service import Refused
from fieldpeer.agency.tables import Peer, Supervisor
from fieldpeer.agency.unit_of_work import unit
from fieldpeer.agency.web_sessions import CSRF_FIELD, PRE_SIGN_IN_COOKIE, csrf_ok, new_secret, same_origin, use_csrf
from fieldpeer.domain import AlertState
from fieldpeer.records import utc_now

router = APIRouter(prefix=BASE, include_in_schema=False)

Handler = Callable[[Session, Supervisor, Request, dict[str, str]], Response]


def signed_in(request: Request, action: str) -> Supervisor | None:
    token = request.cookies.get(COOKIE)
    with unit(the_agency(request).engine) as db:  # the sign-in's access-log row is kept either way
        try:
            return review.authenticate(db, f"Bearer {token}" if token else None, action)
        except Refused:
            return None


async def form(request: Request) -> dict[str, str]:
    body = (await request.body())[:20_000].decode(errors="replace")
    return {k: v[0] for k, v in parse_qs(body).items()}


def guarded(action: str, handler: Handler) -> Callable[[Request], Any]:
    """Signed-in supervisors only; everyone else goes to the sign-in page."""

    async def endpoint(request: Request) -> Response:
        if request.method == "POST" and not same_origin(request):
            return message("Not allowed", "That form came from another site.")
        fields = await form(request) if request.method == "POST" else {}
        supervisor = signed_in(request, action)
        if supervisor is None:
            return RedirectResponse(f"{BASE}/login", status_code=303)
        cookie = request.cookies.get(COOKIE, "")
        if request.method == "POST" and not csrf_ok(cookie, fields.get(CSRF_FIELD)):
            return message("Not allowed", STALE_FORM, supervisor)
        use_csrf(cookie)
        try:
            with unit(the_agency(request).engine) as db:
                return handler(db, supervisor, request, fields)
        except Refused as refused:
            return message("Could not do that", str(refused), supervisor)

    return endpoint


def route(path: str, methods: list[str], action: str, handler: Handler) -> None:
    router.add_api_route(path, guarded(action, handler), methods=methods)


@router.get("")
def home() -> RedirectResponse:
    return RedirectResponse(f"{BASE}/queue", status_code=303)


STALE_FORM = "That form is out of date or came from another site. Go back, reload the page and try again."


def sign_in_form(request: Request, response: Callable[[], HTMLResponse]) -> HTMLResponse:
    """A sign-in page with its CSRF token, bound to a random pre-sign-in cookie."""
    pre = request.cookies.get(PRE_SIGN_IN_COOKIE) or new_secret()
    use_csrf(pre)
    answer = response()
    answer.set_cookie(PRE_SIGN_IN_COOKIE, pre, httponly=True, samesite="strict", secure=request.url.scheme == "https", path=request.url.path)
    return answer


def sign_in_allowed(request: Request, fields: dict[str, str]) -> bool:
    return same_origin(request) and csrf_ok(request.cookies.get(PRE_SIGN_IN_COOKIE), fields.get(CSRF_FIELD))


@router.get("/login")
def login_form(request: Request, error: str = "") -> HTMLResponse:
    return sign_in_form(request, lambda: page("login.html", "Sign in", error=bool(error)))


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await form(request)
    if not sign_in_allowed(request, fields):
        return message("Not allowed", STALE_FORM)
    token = fields.get("token", "").strip()
    try:
        with unit(the_agency(request).engine) as db:
            review.authenticate(db, f"Bearer {token}", "supervisor_sign_in")
    except Refused:
        return RedirectResponse(f"{BASE}/login?error=1", status_code=303)
    response = RedirectResponse(f"{BASE}/queue", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path=BASE, max_age=8 * 3600)
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse(f"{BASE}/login", status_code=303)
    response.delete_cookie(COOKIE, path=BASE)
    return response


def back_to(db: Session, fields: dict[str, str], done: str) -> Response:
    """After a decision: the peer page it was made on (a known peer only), else the queue."""
    peer = db.get(Peer, fields["back"]) if fields.get("back") else None
    return RedirectResponse(f"{BASE}/peers/{peer.id}?done={done}" if peer else f"{BASE}/queue?done={done}", status_code=303)


def queue_page(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> Response:
    peer = db.get(Peer, request.query_params["peer"]) if request.query_params.get("peer") else None
    found = review.queue(db, supervisor, peer.id if peer else None)
    return page("queue.html", "Review queue", supervisor, DONE.get(request.query_params.get("done", ""), ""), peer=peer, found=found)


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
    peers = [{"id": p.id, "signed_name": review.signed_name(p)} for p in review.visible_peers(db, supervisor)]
    return page("peers.html", "Peers", supervisor, peers=peers)


def peer_page(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> Response:
    peer = db.get(Peer, request.path_params["peer_id"])
    if peer is None or (visible := review.visible_peer_ids(db, supervisor)) is not None and peer.id not in visible:
        return message("Not found", "There is no peer with that id.", supervisor, error=False)
    today = utc_now().date()
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


route("/queue", ["GET"], "review_queue_page", queue_page)
route("/notes/{note_id}/cosign", ["POST"], "cosign", cosign)
route("/notes/{note_id}/return", ["POST"], "return", return_note)
route("/alerts/{alert_id}/acknowledge", ["POST"], "acknowledge_alert", acknowledge)
route("/alerts/{alert_id}/close", ["POST"], "close_alert", close)
route("/peers", ["GET"], "peers_page", peers_page)
route("/peers/{peer_id}", ["GET"], "peer_page", peer_page)
