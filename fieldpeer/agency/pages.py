"""The supervisor's web pages, rendered on the server: sign in with the supervisor token, the
review queue (urgent safety alerts first), a peer's contacts by period with the mode mix and the
caseload flags. Plain HTML forms (no JavaScript), labelled controls, 48 px targets.

The token lives in an HttpOnly, SameSite=Strict cookie scoped to /supervisor; POSTs from
another origin are refused as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session, select

from fieldpeer.agency import reports, review
from fieldpeer.agency.service import Refused
from fieldpeer.agency.tables import Peer, Supervisor
from fieldpeer.records import utc_now

BASE = "/supervisor"
COOKIE = "fieldpeer_supervisor"
STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#0b5394;color:#fff;padding:8px 16px;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
header a,header button{color:#fff;font-size:16px}
nav{display:flex;gap:16px;flex-wrap:wrap;align-items:center}
main{max-width:960px;margin:0 auto;padding:16px}
a,button,input,textarea{min-height:48px}
a{display:inline-flex;align-items:center}
button{font:inherit;padding:0 16px;border-radius:6px;border:1px solid #0b5394;background:#0b5394;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5394}
header button{background:transparent;border:1px solid #fff}
input,textarea{font:inherit;padding:8px;border:1px solid #777;border-radius:6px;box-sizing:border-box;max-width:100%}
textarea{width:100%;min-height:96px}
label{display:block;font-weight:600;margin-top:8px}
:focus-visible{outline:3px solid #f1c232;outline-offset:2px}
article,.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 16px;margin:12px 0}
.alerts{background:#fdecea;border:2px solid #b71c1c;border-radius:8px;padding:12px 16px}
.alerts h2{color:#b71c1c;margin-top:0}
.flag{color:#b45f06;font-weight:600}
.status{background:#e6f4ea;border-radius:6px;padding:8px 12px}
.error{background:#fdecea;border-radius:6px;padding:8px 12px}
.actions{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #ddd;padding:8px;text-align:left;vertical-align:top}
.scroll{overflow-x:auto}
dl{margin:0}dt{font-weight:600}dd{margin:0 0 8px 0}
"""
DONE = {"cosigned": "Note co-signed. The peer sees it at the next sync.", "returned": "Note returned to the peer with your comment.", "acknowledged": "Alert acknowledged."}


def page(title: str, body: str, supervisor: Supervisor | None = None) -> HTMLResponse:
    nav = ""
    if supervisor:
        nav = (f'<nav aria-label="Supervisor pages"><a href="{BASE}/queue">Review queue</a><a href="{BASE}/peers">Peers</a>'
               f'<form method="post" action="{BASE}/logout"><button type="submit">Sign out {escape(supervisor.name)}</button></form></nav>')
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} · FieldPeer supervision</title><style>{STYLE}</style></head>"
            f'<body><header><strong>FieldPeer supervision</strong>{nav}</header><main id="main"><h1>{escape(title)}</h1>{body}</main></body></html>')
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"})


def register(app: FastAPI, engine: Engine) -> None:
    def signed_in(request: Request, db: Session, action: str) -> Supervisor | None:
        token = request.cookies.get(COOKIE)
        try:
            return review.authenticate(db, f"Bearer {token}" if token else None, action)
        except Refused:
            return None
        finally:
            db.commit()

    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        return origin is None or urlsplit(origin).netloc == request.url.netloc

    async def form(request: Request) -> dict[str, str]:
        body = (await request.body())[:20_000].decode(errors="replace")
        return {k: v[0] for k, v in parse_qs(body).items()}

    def guarded(action: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Signed-in supervisors only; everyone else goes to the sign-in page."""

        async def endpoint(request: Request) -> Response:
            if request.method == "POST" and not same_origin(request):
                return page("Not allowed", '<p class="error" role="alert">That form came from another site.</p>')
            fields = await form(request) if request.method == "POST" else {}
            with Session(engine, expire_on_commit=False) as db:
                supervisor = signed_in(request, db, action)
                if supervisor is None:
                    return RedirectResponse(f"{BASE}/login", status_code=303)
                try:
                    result = handler(db, supervisor, request, fields)
                    db.commit()
                    return result
                except Refused as refused:
                    db.rollback()
                    return page("Could not do that", f'<p class="error" role="alert">{escape(str(refused))}</p><p><a href="{BASE}/queue">Back to the queue</a></p>', supervisor)

        return endpoint

    def route(path: str, methods: list[str], action: str, handler: Callable[..., Any]) -> None:
        app.add_api_route(f"{BASE}{path}", guarded(action, handler), methods=methods, include_in_schema=False)

    @app.get(BASE, include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse(f"{BASE}/queue", status_code=303)

    @app.get(f"{BASE}/login", include_in_schema=False)
    def login_form(error: str = "") -> HTMLResponse:
        message = '<p class="error" role="alert">That sign-in token is not valid.</p>' if error else ""
        return page("Sign in", f'{message}<form method="post" action="{BASE}/login" class="card"><label for="token">Supervisor sign-in token</label>'
                               '<input id="token" name="token" type="password" autocomplete="current-password" required size="48">'
                               '<p>Your agency administrator gives you this token (<code>fieldpeer agency add-supervisor</code>).</p>'
                               '<button type="submit">Sign in</button></form>')

    @app.post(f"{BASE}/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        token = (await form(request)).get("token", "").strip()
        with Session(engine) as db:
            try:
                review.authenticate(db, f"Bearer {token}", "supervisor_sign_in")
            except Refused:
                db.commit()
                return RedirectResponse(f"{BASE}/login?error=1", status_code=303)
            db.commit()
        response = RedirectResponse(f"{BASE}/queue", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path=BASE, max_age=8 * 3600)
        return response

    @app.post(f"{BASE}/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse(f"{BASE}/login", status_code=303)
        response.delete_cookie(COOKIE, path=BASE)
        return response

    def queue_page(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> HTMLResponse:
        peer = db.get(Peer, request.query_params.get("peer", "")) if request.query_params.get("peer") else None
        found = review.queue(db, supervisor, peer.id if peer else None)
        done = DONE.get(request.query_params.get("done", ""), "")
        body = f'<p class="status" role="status">{escape(done)}</p>' if done else ""
        if peer:
            body += f'<p>Showing {escape(peer.name)}\'s notes only. <a href="{BASE}/queue">Show every peer</a></p>'
        if found.alerts:
            items = "".join(
                f'<article><h3>{escape(a.person_name)} · with {escape(a.peer_name)}</h3><p>Raised {a.raised_at:%Y-%m-%d %H:%M} UTC'
                + (f" · zone: {escape(a.zone.replace('_', ' '))}" if a.zone else "") + "</p>"
                + (f"<p>In their words: “{escape(a.feeling_today)}”</p>" if a.feeling_today else "")
                + f'<form method="post" action="{BASE}/alerts/{escape(a.alert_id)}/acknowledge"><button type="submit" id="ack-{escape(a.alert_id)}">I have followed up: acknowledge</button></form></article>'
                for a in found.alerts
            )
            body += f'<section class="alerts" role="alert" aria-labelledby="alerts-h"><h2 id="alerts-h">Urgent safety alerts ({len(found.alerts)})</h2><p>The person answered the safety question with a yes or was unsure. Make sure the peer and the person have support now.</p>{items}</section>'
        body += f"<h2>Notes awaiting review ({len(found.notes)})</h2>"
        if not found.notes:
            body += "<p>No notes are waiting for review. Signed notes appear here when the peer's phone syncs.</p>"
        for n in found.notes:
            nid = escape(n.note_id)
            story = "".join(f"<dt>{label}</dt><dd>{escape(n.narrative.get(key, '') or '-')}</dd>" for label, key in (("Goal", "goal"), ("Intervention", "intervention"), ("Response", "response"), ("Plan", "plan")))
            addenda = "".join(f"<li>{escape(a)}</li>" for a in n.addenda)
            body += (
                f'<article aria-labelledby="note-{nid}"><h3 id="note-{nid}">{escape(n.person_name)} · {n.starts_at:%Y-%m-%d %H:%M} · {escape(n.peer_name)}{", " + escape(n.peer_credentials) if n.peer_credentials else ""}</h3>'
                f"<p>{n.minutes} min · {escape((n.mode or 'mode not recorded').replace('_', ' '))} · {escape(n.service_code)} · {n.units} unit{'' if n.units == 1 else 's'}</p><dl>{story}</dl>"
                + (f"<h4>Addenda</h4><ul>{addenda}</ul>" if addenda else "")
                + f'<div class="actions"><form method="post" action="{BASE}/notes/{nid}/cosign"><button type="submit" id="cosign-{nid}">Co-sign</button></form>'
                f'<form method="post" action="{BASE}/notes/{nid}/return" style="flex:1;min-width:240px"><label for="comment-{nid}">Comment for the peer (what to add)</label>'
                f'<textarea id="comment-{nid}" name="comment" required maxlength="4000"></textarea><button type="submit" class="secondary" id="return-{nid}">Return to the peer</button></form></div></article>'
            )
        return page("Review queue", body, supervisor)

    def cosign(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> Response:
        review.cosign(db, supervisor, request.path_params["note_id"])
        return RedirectResponse(f"{BASE}/queue?done=cosigned", status_code=303)

    def return_note(db: Session, supervisor: Supervisor, request: Request, fields: dict[str, str]) -> Response:
        review.return_note(db, supervisor, request.path_params["note_id"], fields.get("comment", "")[:4000])
        return RedirectResponse(f"{BASE}/queue?done=returned", status_code=303)

    def acknowledge(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> Response:
        review.acknowledge_alert(db, supervisor, request.path_params["alert_id"])
        return RedirectResponse(f"{BASE}/queue?done=acknowledged", status_code=303)

    def peers_page(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> HTMLResponse:
        rows = "".join(f'<li><a href="{BASE}/peers/{escape(p.id)}">{escape(review.signed_name(p))}</a></li>' for p in db.exec(select(Peer).order_by(Peer.name)).all())
        return page("Peers", f"<ul>{rows or '<li>No peers yet.</li>'}</ul>", supervisor)

    def peer_page(db: Session, supervisor: Supervisor, request: Request, _: dict[str, str]) -> HTMLResponse:
        peer = db.get(Peer, request.path_params["peer_id"])
        if peer is None:
            return page("Not found", "<p>There is no peer with that id.</p>", supervisor)
        today = utc_now().date()
        try:
            start = date.fromisoformat(request.query_params.get("start", "")) if request.query_params.get("start") else today - timedelta(days=30)
            end = date.fromisoformat(request.query_params.get("end", "")) if request.query_params.get("end") else today
        except ValueError:
            start, end = today - timedelta(days=30), today
        report = reports.peer_report(db, peer.id, start, end, today)
        period = (f'<form method="get" class="card actions"><div><label for="start">From</label><input id="start" name="start" type="date" value="{start}"></div>'
                  f'<div><label for="end">To</label><input id="end" name="end" type="date" value="{end}"></div><button type="submit">Show</button></form>')
        mix = "".join(f"<li>{escape(label)}: {share:.0%}</li>" for label, share in report.mode_mix.items())
        contacts = "".join(f"<tr><td>{c.day}</td><td>{escape(c.person_name)}</td><td>{escape(c.mode)}</td><td>{c.minutes}</td><td>{c.units}</td><td>{escape(c.review)}</td></tr>" for c in report.contacts)
        flags = "".join(
            f"<tr><td>{escape(f.person_name)}</td><td>{f.last_contact or 'never'}</td><td>{'<span class=flag>No contact in 30 days</span>' if f.no_recent_contact else ''}"
            f"{' ' if f.no_recent_contact and f.plan_review_due else ''}{'<span class=flag>Plan review due</span>' if f.plan_review_due else ''}</td></tr>"
            for f in report.flags
        )
        body = (f'<p><a href="{BASE}/queue?peer={escape(peer.id)}">{escape(peer.name)}\'s notes awaiting review</a></p>'
                f"{period}<h2>Mode of contact</h2><ul>{mix or '<li>No contacts in this period.</li>'}</ul>"
                f'<h2>Contacts {start} to {end} ({len(report.contacts)})</h2><div class="scroll"><table><thead><tr><th scope="col">Date</th><th scope="col">Person</th><th scope="col">Mode</th><th scope="col">Minutes</th><th scope="col">Units</th><th scope="col">Review</th></tr></thead><tbody>{contacts}</tbody></table></div>'
                f'<h2>Caseload flags</h2><div class="scroll"><table><thead><tr><th scope="col">Person</th><th scope="col">Last contact</th><th scope="col">Flags</th></tr></thead><tbody>{flags}</tbody></table></div>')
        return page(review.signed_name(peer), body, supervisor)

    route("/queue", ["GET"], "review_queue_page", queue_page)
    route("/notes/{note_id}/cosign", ["POST"], "cosign", cosign)
    route("/notes/{note_id}/return", ["POST"], "return", return_note)
    route("/alerts/{alert_id}/acknowledge", ["POST"], "acknowledge_alert", acknowledge)
    route("/peers", ["GET"], "peers_page", peers_page)
    route("/peers/{peer_id}", ["GET"], "peer_page", peer_page)
