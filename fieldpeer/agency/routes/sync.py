"""Sync: health, push (sealed batches in, a receipt out) and pull (the sealed feed since a cursor)."""

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from fieldpeer.agency import database, review, service
from fieldpeer.agency.routes.common import MAX_CURSOR, Agency, AgencyDep, Db, device_for, error
from fieldpeer.agency.tables import Device
from fieldpeer.agency.unit_of_work import unit
from fieldpeer.sync.sealing import PlaintextTooLarge, SealError, open_seal, seal, unb64
from fieldpeer.sync.wire import API, SEALED_MEDIA_TYPE, PushReceipt, pull_context, push_context

router = APIRouter(prefix=API)


class TooLarge(Exception):
    """The request body passed settings.max_body_bytes (answered 413 by the app's handler)."""


@router.get("/health")
def health(agency: AgencyDep) -> JSONResponse:
    """200 when the database answers and carries this server's newest schema; 503 otherwise."""
    report = database.health(agency.engine)
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)


async def read_limited(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge()
    return bytes(body)


def open_and_parse(agency: Agency, device: Device, body: bytes) -> service.ParsedBatch:
    """Off the event loop: unseal, bound, validate. /health and other devices keep answering."""
    plaintext = open_seal(body, recipient=agency.keys, sender_sign=unb64(device.sign_key), context=push_context(device.id), max_plaintext=agency.settings.max_push_plaintext)
    service.check_batch_shape(plaintext)
    return service.parse_batch(plaintext)


@router.post(
    "/push",
    response_model=PushReceipt,
    openapi_extra={"requestBody": {"required": True, "content": {SEALED_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def push(request: Request, agency: AgencyDep, device: Annotated[Device, Depends(device_for("push"))]) -> PushReceipt | JSONResponse:
    body = await read_limited(request, agency.settings.max_body_bytes)
    try:
        batch = await anyio.to_thread.run_sync(open_and_parse, agency, device, body, limiter=agency.parse_slots)
    except PlaintextTooLarge:
        await run_in_threadpool(log_refusal, agency, device, "too_large")
        return error(413, "too_large", f"The batch is larger than {agency.settings.max_push_plaintext // (1024 * 1024)} MiB once unpacked. Sync sends smaller batches.")
    except SealError as exc:  # e.g. a stolen token without the device's signing key
        await run_in_threadpool(log_refusal, agency, device, "bad_seal")
        return error(400, "bad_seal", f"The batch could not be opened or verified ({exc}).")
    except service.BatchTooBig as exc:
        await run_in_threadpool(log_refusal, agency, device, exc.code)
        return error(413, exc.code, str(exc))
    except ValidationError:
        await run_in_threadpool(log_refusal, agency, device, "bad_batch")
        return error(422, "bad_batch", "The batch is not in the expected format.")
    return await run_in_threadpool(ingest_with_retry, agency, device, batch)


def log_refusal(agency: Agency, device: Device, detail: str) -> None:
    with unit(agency.engine) as db:
        service.log_access(db, "push", "refused", device=device, detail=detail)


def ingest_with_retry(agency: Agency, device: Device, batch: service.ParsedBatch) -> PushReceipt | JSONResponse:
    # Two copies of one batch racing (a retry while the first is still running) collide
    # on the unique keys; the second attempt then sees the first's rows as duplicates.
    for attempt in range(3):
        try:
            with unit(agency.engine) as db:
                return review.ingest(db, device, batch)
        except (IntegrityError, OperationalError):
            if attempt == 2:
                return error(503, "busy", "The agency server is busy. Sync will retry.")
    raise AssertionError("unreachable")


@router.get("/pull", responses={200: {"content": {SEALED_MEDIA_TYPE: {}}}})
def pull(
    agency: AgencyDep, db: Db, device: Annotated[Device, Depends(device_for("pull"))], cursor: Annotated[int, Query(ge=0, le=MAX_CURSOR)] = 0,
) -> Response:
    batch = service.pull(db, device, cursor)
    sealed = seal(batch.model_dump_json().encode(), recipient_box=unb64(device.box_key), sender=agency.keys, context=pull_context(device.id))
    return Response(content=sealed, media_type=SEALED_MEDIA_TYPE)
