"""Sign-in for the agency's web pages (/supervisor and /admin, one mechanism for both): CSRF
tokens on every form, the Origin check, and server-side sessions.

CSRF: a form's token is an HMAC keyed by the cookie the browser holds (the session id once
signed in, a random pre-sign-in value on the sign-in page), so it needs no storage, works across
worker processes and cannot be computed by another site (the cookie is HttpOnly, SameSite=Strict).
Templates write `{{ csrf_field() }}` inside every POST form; the page handlers set the current
token with `use_csrf` before rendering and check it with `csrf_ok` on every POST.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from contextvars import ContextVar
from urllib.parse import urlsplit

from fastapi import Request
from markupsafe import Markup

from fieldpeer.agency.pages import TEMPLATES

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
