"""Rate limits on what anyone can call without being known: sign-in, enrolment (per client address
and per enrolment code) and every other request that carries no credential (per address).

An in-process token bucket per (group, key): `burst` requests at once, refilled at `burst` per
minute. Behind `serve --workers N` each worker process keeps its own buckets, so a client can reach
up to N times the limit; the limits bound guessing and flooding, they are not a quota. The client
address is the connection's (a reverse proxy in front would make every client one address: put the
limit there, or lower these). Refusals answer 429 in the API's error shape and are access-logged
through the stranger tally (one row per group and window, then a count).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from fieldpeer.agency.service import log_access
from fieldpeer.agency.unit_of_work import unit
from fieldpeer.sync.wire import API, ErrorBody

if TYPE_CHECKING:  # routes import this module
    from fieldpeer.agency.routes.common import Agency

log = logging.getLogger("fieldpeer.agency")

MAX_KEYS = 50_000  # buckets kept per process; the least recently used go first


class Buckets:
    """Token buckets by key; `take` answers whether one more request fits now."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.state: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, group: str, key: str, per_minute: int) -> bool:
        with self.lock:  # routes in the thread pool call it too
            return self._take(group, key, per_minute)

    def _take(self, group: str, key: str, per_minute: int) -> bool:
        now = self.clock()
        tokens, at = self.state.pop((group, key), (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - at) * per_minute / 60.0)
        allowed = tokens >= 1.0
        self.state[(group, key)] = (tokens - 1.0 if allowed else tokens, now)
        while len(self.state) > MAX_KEYS:
            self.state.popitem(last=False)
        return allowed


def group_of(scope: Scope) -> str | None:
    """Which limit a request falls under, or None for a caller who presents a credential (a device's
    token, a supervisor's or a signed-in browser's cookie): those are limited by who they are."""
    path, method = scope["path"], scope["method"]
    if method == "POST" and path.endswith("/login"):
        return "sign_in"
    if method == "POST" and path == f"{API}/enrol":
        return "enrol"
    headers = dict(scope["headers"])
    if b"authorization" in headers or b"fieldpeer_supervisor=" in headers.get(b"cookie", b"") or b"fieldpeer_admin=" in headers.get(b"cookie", b""):
        return None
    return "unauthenticated"


class RateLimit:
    """The ASGI middleware: limits per address before the app runs (and so before any database work)."""

    def __init__(self, app: ASGIApp, buckets: Buckets) -> None:
        self.app, self.buckets = app, buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        group = group_of(scope) if scope["type"] == "http" else None
        if group is not None:
            agency: Agency = scope["app"].state.agency
            per_minute = {"sign_in": agency.settings.sign_in_per_minute, "enrol": agency.settings.enrol_per_minute}.get(group, agency.settings.unauthenticated_per_minute)
            address = (scope.get("client") or ("unknown", 0))[0]
            if not self.buckets.take(group, address, per_minute):
                await refuse(agency, group)
                await too_many_response(send)
                return
        await self.app(scope, receive, send)


def log_refusal(agency: Agency, db: Session, group: str) -> None:
    """Log a 429 like a stranger's refusal: the tally keeps one row per group and window."""
    log.warning("rate_limited %s", group)
    log_it, unlogged = agency.tally.admit(group, "rate_limited")
    if log_it:
        log_access(db, group, "refused", detail=f"rate_limited_repeats:{unlogged}" if unlogged else "rate_limited")


async def refuse(agency: Agency, group: str) -> None:
    def write() -> None:
        with unit(agency.engine) as db:
            log_refusal(agency, db, group)

    await anyio.to_thread.run_sync(write)


def too_many_logged(agency: Agency, db: Session, group: str) -> JSONResponse:
    """A route's own 429 (in its unit of work), e.g. an enrolment code tried too often."""
    log_refusal(agency, db, group)
    return JSONResponse(status_code=429, content=TOO_MANY.model_dump(), headers={"Retry-After": "60"})


def enrol_code_allowed(app: Any, code: str) -> bool:
    """Enrolment attempts per code (whatever the address: one code tried from many is limited too)."""
    agency: Agency = app.state.agency
    buckets: Buckets = app.state.rate_buckets
    return buckets.take("enrol_code", code, agency.settings.enrol_code_attempts)


TOO_MANY = ErrorBody(code="rate_limited", message="Too many requests. Wait a minute and try again.")


async def too_many_response(send: Send) -> None:
    body = TOO_MANY.model_dump_json().encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"retry-after", b"60")]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
