"""What every area of the API shares: the running agency, the unit of work as a dependency,
who is calling (device or supervisor), and the error shape."""

# No `from __future__ import annotations`: FastAPI reads these dependency signatures at runtime.

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

import anyio
from fastapi import Depends, Header, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlmodel import Session

from fieldpeer.agency import review, service
from fieldpeer.agency.service import Refused
from fieldpeer.agency.settings import AgencySettings
from fieldpeer.agency.tables import Device, Supervisor
from fieldpeer.agency.unit_of_work import unit
from fieldpeer.agency.web_sessions import credential_current
from fieldpeer.sync.sealing import KeyPair
from fieldpeer.sync.wire import ErrorBody, Refusal


@dataclass
class Agency:
    """One server process's state, on `app.state.agency`."""

    settings: AgencySettings
    engine: Engine
    keys: KeyPair
    tally: service.RefusalTally = field(init=False)
    parse_slots: anyio.CapacityLimiter = field(init=False)  # at most this many batches in memory at once

    def __post_init__(self) -> None:
        self.tally = service.RefusalTally(self.settings.refusal_log_seconds)  # per process: each worker keeps its own window
        self.parse_slots = anyio.CapacityLimiter(self.settings.parse_workers)


def the_agency(request: Request) -> Agency:
    agency: Agency = request.app.state.agency
    return agency


AgencyDep = Annotated[Agency, Depends(the_agency)]


def db_unit(agency: AgencyDep) -> Iterator[Session]:
    with unit(agency.engine) as db:
        yield db


# scope="function": the unit commits before the answer leaves, so a client never sees a
# receipt or a decision the database does not hold yet.
Db = Annotated[Session, Depends(db_unit, scope="function")]

RecordIdPath = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
MAX_CURSOR = 2**31 - 1  # the feed's seq column is an INTEGER: larger is a 422, not an overflow deep inside


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content=ErrorBody(code=code, message=message).model_dump())


STRANGERS = {Refusal.UNAUTHENTICATED: "unknown_token", Refusal.ENROL_CODE_INVALID: "bad_enrol_code"}


def tally_stranger(agency: Agency, db: Session, action: str, exc: Refused, authorization: str | None = "") -> None:
    """A refusal of an unknown caller: keep its access-log row only if the tally says so."""
    reason = STRANGERS.get(exc.code)
    if reason is None:
        return
    if authorization is None and exc.code is Refusal.UNAUTHENTICATED:
        reason = "no_token"
    log_it, unlogged = agency.tally.admit(action, reason)
    if not log_it:
        db.rollback()  # drops the row authenticate() added; nothing else is pending
    elif unlogged:
        service.log_access(db, action, "refused", detail=f"{reason}_repeats:{unlogged}")


def device_for(action: str) -> Callable[..., Device]:
    """The calling device, authenticated in its own unit: the access-log row (refusals included,
    strangers' tallied) is kept whatever the route does next."""

    def dependency(agency: AgencyDep, authorization: Annotated[str | None, Header()] = None) -> Device:
        with unit(agency.engine) as db:
            try:
                return service.authenticate(db, authorization, action, timedelta(days=agency.settings.token_idle_days))
            except Refused as exc:
                tally_stranger(agency, db, action, exc, authorization)
                raise

    return dependency


def supervisor_for(action: str) -> Callable[..., Supervisor]:
    """The calling supervisor (bearer token), authenticated in its own unit like a device."""

    def dependency(agency: AgencyDep, authorization: Annotated[str | None, Header()] = None) -> Supervisor:
        with unit(agency.engine) as db:
            try:
                return current_credential(db, review.authenticate(db, authorization, action), agency.settings)
            except Refused as exc:
                tally_stranger(agency, db, action, exc, authorization)
                raise

    return dependency


def current_credential(db: Session, supervisor: Supervisor, settings: AgencySettings) -> Supervisor:
    """A supervisor's token past its expiry is refused on the API as on the pages (web_sessions)."""
    if not credential_current(db, supervisor, settings):
        service.log_access(db, "supervisor_api", "refused", detail=f"credential_expired:{supervisor.id}")
        raise Refused(Refusal.UNAUTHENTICATED, "This sign-in token has expired. Ask an administrator for a new one.", 401)
    return supervisor
