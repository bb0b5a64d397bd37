"""The agency server's app factory: open the database and keys, include the routes by area
(routes/), answer every refusal and error in one shape.

`create_app(settings)` for tests, the demo and one process; `app_from_env` is what uvicorn's
worker processes import (`fieldpeer.agency.app:app_from_env`, factory), the settings coming
through environment variables (AgencySettings.as_env).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldpeer.agency import admin_pages
from fieldpeer.agency.compression import ApiGZip
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.keys import load_or_create_agency_keys
from fieldpeer.agency.limits import TOO_LARGE_MESSAGE, BodyLimit
from fieldpeer.agency.rate_limits import Buckets, RateLimit
from fieldpeer.agency.routes import ROUTERS
from fieldpeer.agency.routes.common import Agency, error
from fieldpeer.agency.routes.sync import TooLarge
from fieldpeer.agency.service import Refused
from fieldpeer.agency.settings import AgencySettings
from fieldpeer.sync.wire import API

__all__ = ["FACTORY", "AgencySettings", "app_from_env", "create_app"]

log = logging.getLogger("fieldpeer.agency")

FACTORY = "fieldpeer.agency.app:app_from_env"


def create_app(settings: AgencySettings) -> FastAPI:
    engine = open_agency_engine(settings.db_url)
    migrate_agency(engine)
    app = FastAPI(title="FieldPeer agency server", version="1", docs_url=None, redoc_url=None)
    app.state.engine = engine
    app.state.agency = Agency(settings, engine, load_or_create_agency_keys(settings.key_dir))
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(admin_pages.router)  # the administrator's pages (/admin)

    @app.exception_handler(Refused)
    async def _refused(_: Request, exc: Refused) -> JSONResponse:
        return error(exc.status, exc.code.value, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else "body"
        return error(422, "invalid_request", f"The request is not valid ({where}).")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Framework refusals (unparseable JSON, unknown path, wrong method) in the same shape as ours.
        code = HTTP_CODES.get(exc.status_code, "bad_request")
        return error(exc.status_code, code, HTTP_MESSAGES.get(code, "The request could not be understood."))

    @app.exception_handler(TooLarge)
    async def _too_large(_: Request, __: Exception) -> JSONResponse:
        return error(413, "too_large", f"The request is larger than {settings.max_body_bytes // (1024 * 1024)} MiB. Sync sends smaller batches.")

    app.state.rate_buckets = Buckets()  # this process's (each worker keeps its own)
    app.add_middleware(BodyLimit, push_path=f"{API}/push", push_bytes=settings.max_body_bytes, other_bytes=settings.max_form_bytes)
    app.add_middleware(RateLimit, buckets=app.state.rate_buckets)  # outside the body limit: refused before anything is read
    app.add_middleware(ApiGZip)  # the phone API's JSON receipts (issue #18)
    app.add_middleware(ContainErrors)
    return app


def app_from_env() -> FastAPI:
    """uvicorn's factory in each worker process (settings from the environment)."""
    return create_app(AgencySettings.from_env())


HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}
HTTP_MESSAGES = {
    "bad_request": "The request body could not be read (it is not valid JSON).",
    "not_found": "There is nothing at this address.",
    "method_not_allowed": "This address does not accept that method.",
    "unsupported_media_type": "The request body is not in a format this address accepts.",
    "too_large": TOO_LARGE_MESSAGE,
}


class ContainErrors:
    """Unexpected errors answer a plain 500 and log their type only. Never re-raised: the server
    would log the traceback, and a database error's traceback quotes the SQL parameters (payloads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except ClientDisconnect:  # the phone lost its network mid-upload: nothing to answer, nothing wrong here
            log.info("client_disconnected")
        except Exception as exc:  # noqa: BLE001 - the point is to catch everything
            log.error("unexpected %s", type(exc).__name__)
            if scope["type"] == "http" and not started:
                await error(500, "server_error", "The agency server had a problem. Your records are safe on the device; sync will retry.")(scope, receive, send)
