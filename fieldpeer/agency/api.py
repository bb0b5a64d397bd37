"""The agency's HTTP API (FastAPI). Thin: parse, authenticate, call service.py, answer."""

# No `from __future__ import annotations`: FastAPI must see the closure-local dependency types.

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldpeer.agency import exports, pages, review, service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.keys import load_or_create_agency_keys
from fieldpeer.agency.service import Refused
from fieldpeer.agency.tables import Device, Supervisor
from fieldpeer.domain import ReviewState
from fieldpeer.records import AlertStatus
from fieldpeer.sync.sealing import PlaintextTooLarge, SealError, open_seal, seal, unb64
from fieldpeer.sync.wire import API, SEALED_MEDIA_TYPE, EnrolRequest, EnrolResponse, ErrorBody, PushReceipt, Refusal, pull_context, push_context

log = logging.getLogger("fieldpeer.agency")


@dataclass(frozen=True)
class AgencySettings:
    db_url: str = "sqlite:///agency-data/agency.db"
    key_dir: Path = field(default_factory=lambda: Path("agency-data/keys"))
    max_body_bytes: int = 16 * 1024 * 1024
    token_idle_days: float = 90.0  # a device that has not synced for this long must enrol again
    # A batch unpacked: phones send at most 4 MiB of record JSON (plus one record) per batch.
    max_push_plaintext: int = 8 * 1024 * 1024
    parse_workers: int = 2  # batches unsealed and validated at once, each in a worker thread
    refusal_log_seconds: float = 60.0  # unknown callers' refusals: one access-log row per action per window


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content=ErrorBody(code=code, message=message).model_dump())


def create_app(settings: AgencySettings) -> FastAPI:
    engine = open_agency_engine(settings.db_url)
    migrate_agency(engine)
    agency_keys = load_or_create_agency_keys(settings.key_dir)
    app = FastAPI(title="FieldPeer agency server", version="1", docs_url=None, redoc_url=None)
    app.state.engine = engine

    def session() -> Iterator[Session]:
        # The device row outlives the auth commit (the push runs in its own session).
        with Session(engine, expire_on_commit=False) as s:
            yield s

    SessionDep = Annotated[Session, Depends(session)]

    tally = service.RefusalTally(settings.refusal_log_seconds)
    STRANGERS = {Refusal.UNAUTHENTICATED: "unknown_token", Refusal.ENROL_CODE_INVALID: "bad_enrol_code"}

    def tally_stranger(db: Session, action: str, exc: Refused, authorization: str | None = "") -> None:
        """A refusal of an unknown caller: keep its access-log row only if the tally says so."""
        reason = STRANGERS.get(exc.code)
        if reason is None:
            return
        if authorization is None and exc.code is Refusal.UNAUTHENTICATED:
            reason = "no_token"
        log_it, unlogged = tally.admit(action, reason)
        if not log_it:
            db.rollback()  # drops the row authenticate() added; nothing else is pending
        elif unlogged:
            service.log_access(db, action, "refused", detail=f"{reason}_repeats:{unlogged}")

    def device_for(action: str):  # type: ignore[no-untyped-def]
        def dependency(db: SessionDep, authorization: Annotated[str | None, Header()] = None) -> Device:
            try:
                return service.authenticate(db, authorization, action, timedelta(days=settings.token_idle_days))
            except Refused as exc:
                tally_stranger(db, action, exc, authorization)
                raise
            finally:
                db.commit()  # keep the access log entry (refusals included, strangers' tallied)

        return dependency

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

    app.add_middleware(ContainErrors)

    @app.get(f"{API}/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(f"{API}/enrol", response_model=EnrolResponse)
    def enrol(request: EnrolRequest, db: SessionDep) -> EnrolResponse:
        try:
            response = service.enrol(db, request, agency_keys)
        except Refused as exc:
            tally_stranger(db, "enrol", exc)
            raise
        finally:
            db.commit()
        return response

    async def read_limited(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise _TooLarge()
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.max_body_bytes:
                raise _TooLarge()
        return bytes(body)

    @app.exception_handler(_TooLarge)
    async def _too_large(_: Request, __: Exception) -> JSONResponse:
        return error(413, "too_large", f"The request is larger than {settings.max_body_bytes // (1024 * 1024)} MiB. Sync sends smaller batches.")

    parse_slots = anyio.CapacityLimiter(settings.parse_workers)  # at most this many batches in memory at once

    def open_and_parse(device: Device, body: bytes) -> service.ParsedBatch:
        """Off the event loop: unseal, bound, validate. /health and other devices keep answering."""
        plaintext = open_seal(body, recipient=agency_keys, sender_sign=unb64(device.sign_key), context=push_context(device.id), max_plaintext=settings.max_push_plaintext)
        service.check_batch_shape(plaintext)
        return service.parse_batch(plaintext)

    @app.post(
        f"{API}/push",
        response_model=PushReceipt,
        openapi_extra={"requestBody": {"required": True, "content": {SEALED_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
    )
    async def push(request: Request, device: Annotated[Device, Depends(device_for("push"))]) -> PushReceipt | JSONResponse:
        body = await read_limited(request)
        try:
            batch = await anyio.to_thread.run_sync(open_and_parse, device, body, limiter=parse_slots)
        except PlaintextTooLarge:
            await run_in_threadpool(_log_refusal, device, "push", "too_large")
            return error(413, "too_large", f"The batch is larger than {settings.max_push_plaintext // (1024 * 1024)} MiB once unpacked. Sync sends smaller batches.")
        except SealError as exc:  # e.g. a stolen token without the device's signing key
            await run_in_threadpool(_log_refusal, device, "push", "bad_seal")
            return error(400, "bad_seal", f"The batch could not be opened or verified ({exc}).")
        except service.BatchTooBig as exc:
            await run_in_threadpool(_log_refusal, device, "push", exc.code)
            return error(413, exc.code, str(exc))
        except ValidationError:
            await run_in_threadpool(_log_refusal, device, "push", "bad_batch")
            return error(422, "bad_batch", "The batch is not in the expected format.")
        return await run_in_threadpool(_ingest_with_retry, device, batch)

    def _log_refusal(device: Device, action: str, detail: str) -> None:
        with Session(engine) as db:
            service.log_access(db, action, "refused", device=device, detail=detail)
            db.commit()

    def _ingest_with_retry(device: Device, batch: service.ParsedBatch) -> PushReceipt | JSONResponse:
        # Two copies of one batch racing (a retry while the first is still running) collide
        # on the unique keys; the second attempt then sees the first's rows as duplicates.
        for attempt in range(3):
            try:
                with Session(engine) as db:
                    receipt = review.ingest(db, device, batch)
                    db.commit()
                    return receipt
            except (IntegrityError, OperationalError):
                if attempt == 2:
                    return error(503, "busy", "The agency server is busy. Sync will retry.")
        raise AssertionError("unreachable")

    @app.get(f"{API}/pull", responses={200: {"content": {SEALED_MEDIA_TYPE: {}}}})
    def pull(db: SessionDep, device: Annotated[Device, Depends(device_for("pull"))], cursor: Annotated[int, Query(ge=0, le=MAX_CURSOR)] = 0) -> Response:
        batch = service.pull(db, device, cursor)
        db.commit()
        sealed = seal(batch.model_dump_json().encode(), recipient_box=unb64(device.box_key), sender=agency_keys, context=pull_context(device.id))
        return Response(content=sealed, media_type=SEALED_MEDIA_TYPE)

    # --- Supervision -------------------------------------------------------------

    pages.register(app, engine)  # the supervisor's web pages (/supervisor)

    def supervisor_for(action: str):  # type: ignore[no-untyped-def]
        def dependency(db: SessionDep, authorization: Annotated[str | None, Header()] = None) -> Supervisor:
            try:
                return review.authenticate(db, authorization, action)
            except Refused as exc:
                tally_stranger(db, action, exc, authorization)
                raise
            finally:
                db.commit()  # keep the access log entry (refusals included)

        return dependency

    RecordIdPath = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]

    @app.get(f"{API}/review/queue", response_model=review.ReviewQueue)
    def review_queue(
        db: SessionDep, supervisor: Annotated[Supervisor, Depends(supervisor_for("review_queue"))],
        peer: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = None,
    ) -> review.ReviewQueue:
        """Urgent safety alerts first, then signed notes awaiting review, oldest first."""
        found = review.queue(db, supervisor, peer)
        db.commit()
        return found

    @app.post(f"{API}/review/notes/{{note_id}}/cosign", response_model=ReviewOutcome)
    def cosign_note(note_id: RecordIdPath, db: SessionDep, supervisor: Annotated[Supervisor, Depends(supervisor_for("cosign"))]) -> ReviewOutcome:
        decided = review.cosign(db, supervisor, note_id)
        db.commit()
        return ReviewOutcome(note_id=note_id, state=ReviewState(decided.state))

    @app.post(f"{API}/review/notes/{{note_id}}/return", response_model=ReviewOutcome)
    def return_note(note_id: RecordIdPath, body: ReturnRequest, db: SessionDep, supervisor: Annotated[Supervisor, Depends(supervisor_for("return"))]) -> ReviewOutcome:
        decided = review.return_note(db, supervisor, note_id, body.comment)
        db.commit()
        return ReviewOutcome(note_id=note_id, state=ReviewState(decided.state))

    @app.post(f"{API}/review/alerts/{{alert_id}}/acknowledge", response_model=ReviewOutcome)
    def acknowledge_alert(alert_id: RecordIdPath, db: SessionDep, supervisor: Annotated[Supervisor, Depends(supervisor_for("acknowledge_alert"))]) -> ReviewOutcome:
        review.acknowledge_alert(db, supervisor, alert_id)
        db.commit()
        return ReviewOutcome(note_id=alert_id, state=None)

    @app.post(f"{API}/review/alerts/{{alert_id}}/close", response_model=AlertStatus)
    def close_alert(alert_id: RecordIdPath, db: SessionDep, supervisor: Annotated[Supervisor, Depends(supervisor_for("close_alert"))]) -> AlertStatus:
        """Close a safety alert (acknowledging it too if nobody had); the peer's phones hear it at their next sync."""
        status = review.close_alert(db, supervisor, alert_id)
        db.commit()
        return status

    @app.post(f"{API}/exports/billing", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
    def export_billing(body: BillingExportRequest, db: SessionDep, supervisor: Annotated[Supervisor, Depends(supervisor_for("export_billing"))]) -> Response:
        """Co-signed notes in a period, one row each, units by the agency's rule. Logged as a disclosure."""
        text = exports.billing_csv(db, supervisor, body.start, body.end, body.purpose)
        db.commit()
        return Response(content=text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="billing-{body.start}-{body.end}.csv"'})

    @app.post(f"{API}/exports/fhir", response_class=Response, responses={200: {"content": {"application/fhir+json": {}}}})
    def export_fhir(body: FhirExportRequest, db: SessionDep, supervisor: Annotated[Supervisor, Depends(supervisor_for("export_fhir"))]) -> Response:
        """One person's agency record as a FHIR R4 Bundle. Outside the agency: only with the person's consent."""
        try:
            export = exports.fhir_bundle(db, supervisor, body.person_id, body.purpose, body.recipient)
        finally:
            db.commit()  # the refusal is logged too
        headers = {"X-Redisclosure-Notice": exports.PART2_NOTICE} if export.part2 else {}
        return Response(content=json.dumps(export.bundle), media_type="application/fhir+json", headers=headers)

    return app


NO_CONTROLS = review.NO_CONTROLS  # the request models say it up front, in the OpenAPI schema


class BillingExportRequest(BaseModel):
    start: date
    end: date
    purpose: str = Field(min_length=3, max_length=500, pattern=NO_CONTROLS)


class FhirExportRequest(BaseModel):
    person_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    purpose: str = Field(min_length=3, max_length=500, pattern=NO_CONTROLS)
    recipient: str = Field(min_length=1, max_length=500, pattern=NO_CONTROLS, description=f'who receives it; "{exports.WITHIN_AGENCY}" for the agency\'s own use')


class ReturnRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=4000, pattern=NO_CONTROLS)


class ReviewOutcome(BaseModel):
    note_id: str
    state: ReviewState | None


MAX_CURSOR = 2**31 - 1  # the feed's seq column is an INTEGER: larger is a 422, not an overflow deep inside

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}
HTTP_MESSAGES = {
    "bad_request": "The request body could not be read (it is not valid JSON).",
    "not_found": "There is nothing at this address.",
    "method_not_allowed": "This address does not accept that method.",
    "unsupported_media_type": "The request body is not in a format this address accepts.",
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


class _TooLarge(Exception):
    pass
