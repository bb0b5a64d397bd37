"""Sign-in for the agency's web pages (/supervisor and /admin, one mechanism for both): CSRF
tokens on every form, the Origin check, and server-side sessions.

Sessions: signing in with the long-lived token creates a row (the random id hashed at rest, the
account, created, last seen, absolute end); the cookie holds only the session id. A session ends
after `session_idle_minutes` without a request, `session_max_hours` in all, on sign-out, when the
account is closed, and when its token expires or is rotated (`fieldpeer agency rotate-token`).

CSRF: a form's token is an HMAC keyed by the cookie the browser holds (the session id once
signed in, a random pre-sign-in value on the sign-in page), so it needs no storage, works across
worker processes and cannot be computed by another site (the cookie is HttpOnly, SameSite=Strict).
Templates write `{{ csrf_field() }}` inside every POST form; the page handlers set the current
token with `use_csrf` before rendering and check it with `csrf_ok` on every POST.

An `Area` (/supervisor, /admin) puts these together once: sign-in and sign-out pages and the
`guarded` wrapper every signed-in page goes through.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlmodel import Session, select

from fieldpeer.agency.pages import TEMPLATES
from fieldpeer.agency.service import KIND, Account, Refused, log_access, token_hash
from fieldpeer.agency.settings import AgencySettings
from fieldpeer.agency.tables import Administrator, CredentialIssue, Supervisor, WebSession
from fieldpeer.agency.times import in_zone
from fieldpeer.agency.unit_of_work import unit
from fieldpeer.records import utc_now

CSRF_FIELD = "csrf"
PRE_SIGN_IN_COOKIE = "fieldpeer_sign_in"  # the sign-in form's CSRF cookie (no session yet)

_current_csrf: ContextVar[str] = ContextVar("fieldpeer_csrf", default="")


def csrf_token(cookie_value: str) -> str:
    return hmac.new(cookie_value.encode(), b"fieldpeer csrf v1", hashlib.sha256).hexdigest()


def use_csrf(cookie_value: str) -> None:
    """The token forms rendered in this request carry (each request runs in its own context)."""
    _current_csrf.set(csrf_token(cookie_value) if cookie_value else "")


def csrf_field() -> Markup:
    """`{{ csrf_field() }}` in a template: the hidden field every POST form must carry."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, _current_csrf.get())


TEMPLATES.globals["csrf_field"] = csrf_field


def csrf_ok(cookie_value: str | None, submitted: str | None) -> bool:
    return bool(cookie_value) and bool(submitted) and hmac.compare_digest(csrf_token(cookie_value or ""), submitted or "")


def same_origin(request: Request) -> bool:
    """A POST must say where it came from: a missing Origin is refused (browsers send it on
    every form POST), as is another site's."""
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc == request.url.netloc


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# --- Server-side sessions ---------------------------------------------------------------------------

def credential_expires(db: Session, account: Supervisor | Administrator, settings: AgencySettings) -> datetime:
    """When the account's current token stops signing in: set at rotation, else counted from creation."""
    issued = db.get(CredentialIssue, (KIND[type(account)], account.id))
    return issued.expires_at if issued else account.created_at + timedelta(days=settings.credential_days)


def credential_current(db: Session, account: Supervisor | Administrator, settings: AgencySettings, now: datetime | None = None) -> bool:
    return (now or utc_now()) < credential_expires(db, account, settings)


def start_session(db: Session, account: Supervisor | Administrator, settings: AgencySettings, now: datetime | None = None) -> str:
    """A new session for a signed-in account; returns the raw id for the cookie (stored hashed only)."""
    now = now or utc_now()
    raw = new_secret()
    db.add(WebSession(id_hash=token_hash(raw), kind=KIND[type(account)], account_id=account.id, created_at=now, last_seen_at=now, expires_at=now + timedelta(hours=settings.session_max_hours)))
    return raw


def session_account(db: Session, kind: type[Account], raw: str | None, settings: AgencySettings, action: str, now: datetime | None = None) -> Account | None:
    """The account behind a session cookie, or None (unknown, ended, idle too long, past its absolute
    end, account closed or its credential expired): refusals are access-logged like a bad token."""
    now = now or utc_now()
    row = db.get(WebSession, token_hash(raw)) if raw else None
    account = db.get(kind, row.account_id) if row and row.kind == KIND[kind] else None
    if row is None or account is None:
        log_access(db, action, "refused", detail=f"no_session_{KIND[kind]}")
        return None
    idle = now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes)
    if idle or now >= row.expires_at or account.revoked_at is not None or not credential_current(db, account, settings, now):
        db.delete(row)
        log_access(db, action, "refused", detail=f"session_ended_{KIND[kind]}:{account.id}")
        return None
    if now - row.last_seen_at > timedelta(seconds=30):  # not a write per page view
        row.last_seen_at = now
        db.add(row)
    return account


def end_session(db: Session, raw: str | None) -> None:
    row = db.get(WebSession, token_hash(raw)) if raw else None
    if row is not None:
        db.delete(row)


def end_sessions_of(db: Session, account: Supervisor | Administrator) -> None:
    for row in db.exec(select(WebSession).where(WebSession.kind == KIND[type(account)], WebSession.account_id == account.id)).all():
        db.delete(row)


def rotate_token(db: Session, account: Supervisor | Administrator, settings: AgencySettings, now: datetime | None = None) -> str:
    """A new sign-in token for the account (returned once); the old one is refused from now on and
    every browser signed in with it signs in again."""
    now = now or utc_now()
    token = secrets.token_urlsafe(32)
    account.token_hash = token_hash(token)
    db.add(account)
    expires = now + timedelta(days=settings.credential_days)
    issued = db.get(CredentialIssue, (KIND[type(account)], account.id))
    if issued is None:
        db.add(CredentialIssue(kind=KIND[type(account)], account_id=account.id, issued_at=now, expires_at=expires))
    else:
        issued.issued_at, issued.expires_at = now, expires
        db.add(issued)
    end_sessions_of(db, account)
    log_access(db, f"rotate_{KIND[type(account)]}_token", "ok", object_id=account.id)
    return token


def set_session_cookie(request: Request, response: Response, cookie: str, raw: str, path: str, settings: AgencySettings) -> None:
    """HttpOnly, SameSite=Strict, Secure when served over TLS; the server decides when it ends."""
    response.set_cookie(cookie, raw, httponly=True, samesite="strict", secure=request.url.scheme == "https", path=path, max_age=int(settings.session_max_hours * 3600))


def page_account(request: Request, kind: type[Account], cookie: str, action: str) -> Account | None:
    """The page's caller, from its session cookie, in its own unit (the refusal's log row is kept)."""
    agency = request.app.state.agency
    with unit(agency.engine) as db:
        return session_account(db, kind, request.cookies.get(cookie), agency.settings, action)


def sign_in(db: Session, account: Supervisor | Administrator, settings: AgencySettings) -> str | None:
    """A session for an account whose token was just accepted, or None when that token has expired."""
    if not credential_current(db, account, settings):
        log_access(db, f"{KIND[type(account)]}_sign_in", "refused", detail=f"credential_expired:{account.id}")
        return None
    return start_session(db, account, settings)


# --- A signed-in area of pages (/supervisor, /admin) ----------------------------------------------

STALE_FORM = "That form is out of date or came from another site. Go back, reload the page and try again."
Fields = dict[str, list[str]]  # every value of every field (checkbox groups send a name many times)
F = TypeVar("F")


def first(fields: Fields, name: str) -> str:
    return fields.get(name, [""])[0]


def sign_in_form(request: Request, response: Callable[[], HTMLResponse]) -> HTMLResponse:
    """A sign-in page with its CSRF token, bound to a random pre-sign-in cookie."""
    pre = request.cookies.get(PRE_SIGN_IN_COOKIE) or new_secret()
    use_csrf(pre)
    answer = response()
    answer.set_cookie(PRE_SIGN_IN_COOKIE, pre, httponly=True, samesite="strict", secure=request.url.scheme == "https", path=request.url.path)
    return answer


@dataclass(frozen=True)
class Area(Generic[Account, F]):
    """One area of pages behind a sign-in: its address, cookie and account table, how it renders a
    page and a message, how its token is checked, and the shape its handlers take a form in (`shape`
    of every field's values). Its sign-in, sign-out and guarded endpoints are the same for every area."""

    base: str  # "/supervisor": the routes' prefix and the cookie's path
    cookie: str
    kind: type[Account]
    home: str  # where a signed-in browser lands, under base
    layout: str  # the area's base template, which login.html extends
    hint: Markup  # under the token field on the sign-in page: where the token comes from
    page: Callable[..., HTMLResponse]  # (template, title, account=None, done="", **context)
    message: Callable[[str, str, Account | None], HTMLResponse]  # (title, text, account): an error
    authenticate: Callable[[Session, str | None, str], Account]  # (db, "Bearer <token>", action)
    shape: Callable[[Fields], F]
    form_limit: int = 20_000  # bytes of a form body read

    async def form(self, request: Request) -> Fields:
        return parse_qs((await request.body())[: self.form_limit].decode(errors="replace"))

    def signed_in(self, request: Request, action: str) -> Account | None:
        return page_account(request, self.kind, self.cookie, action)

    def guarded(self, action: str, handler: Callable[[Session, Account, Request, F], Response]) -> Callable[[Request], Any]:
        """Signed-in accounts only (everyone else goes to the sign-in page); a POST must come from
        this site with the session's CSRF token. The handler runs in one unit of work; a refusal
        is shown in words."""

        async def endpoint(request: Request) -> Response:
            if request.method == "POST" and not same_origin(request):
                return self.message("Not allowed", "That form came from another site.", None)
            fields = await self.form(request) if request.method == "POST" else {}
            account = self.signed_in(request, action)
            if account is None:
                return RedirectResponse(f"{self.base}/login", status_code=303)
            cookie = request.cookies.get(self.cookie, "")
            if request.method == "POST" and not csrf_ok(cookie, first(fields, CSRF_FIELD)):
                return self.message("Not allowed", STALE_FORM, account)
            use_csrf(cookie)
            agency = request.app.state.agency
            try:
                with in_zone(agency.settings.zone), unit(agency.engine) as db:  # pages show the agency's local times
                    return handler(db, account, request, self.shape(fields))
            except Refused as refused:
                return self.message("Could not do that", str(refused), account)

        return endpoint

    def route(self, router: APIRouter, path: str, methods: list[str], action: str, handler: Callable[[Session, Account, Request, F], Response]) -> None:
        router.add_api_route(path, self.guarded(action, handler), methods=methods)

    def home_page(self) -> RedirectResponse:
        return RedirectResponse(f"{self.base}{self.home}", status_code=303)

    def login_form(self, request: Request) -> HTMLResponse:
        """login.html in the area's layout, labelled "Supervisor sign-in token" or "Administrator sign-in token"."""
        error = bool(request.query_params.get("error", ""))
        return sign_in_form(request, lambda: self.page(
            "login.html", "Sign in", error=error, layout=self.layout, account=KIND[self.kind].capitalize(), action=f"{self.base}/login", hint=self.hint,
        ))

    async def login(self, request: Request) -> Response:
        """The token opens a session (`sign_in`, action `<kind>_sign_in`); a wrong one goes back to the form."""
        fields = await self.form(request)
        if not (same_origin(request) and csrf_ok(request.cookies.get(PRE_SIGN_IN_COOKIE), first(fields, CSRF_FIELD))):
            return self.message("Not allowed", STALE_FORM, None)
        token = first(fields, "token").strip()
        agency = request.app.state.agency
        try:
            with unit(agency.engine) as db:
                session_id = sign_in(db, self.authenticate(db, f"Bearer {token}", f"{KIND[self.kind]}_sign_in"), agency.settings)
        except Refused:
            session_id = None
        if session_id is None:
            return RedirectResponse(f"{self.base}/login?error=1", status_code=303)
        response = RedirectResponse(f"{self.base}{self.home}", status_code=303)
        set_session_cookie(request, response, self.cookie, session_id, self.base, agency.settings)
        return response

    async def logout(self, request: Request) -> Response:
        """Ends the session on the server (a form with the session's CSRF token, from this site)."""
        fields = parse_qs((await request.body())[:4096].decode(errors="replace"))
        raw = request.cookies.get(self.cookie)
        if not (same_origin(request) and csrf_ok(raw, first(fields, CSRF_FIELD))):
            return self.message("Not allowed", STALE_FORM, None)
        with unit(request.app.state.agency.engine) as db:
            end_session(db, raw)
        response = RedirectResponse(f"{self.base}/login", status_code=303)
        response.delete_cookie(self.cookie, path=self.base)
        return response

    def add_sign_in_routes(self, router: APIRouter) -> None:
        """The area's home (a redirect), GET and POST /login, POST /logout."""
        router.add_api_route("", self.home_page, methods=["GET"])
        router.add_api_route("/login", self.login_form, methods=["GET"])
        router.add_api_route("/login", self.login, methods=["POST"])
        router.add_api_route("/logout", self.logout, methods=["POST"])
