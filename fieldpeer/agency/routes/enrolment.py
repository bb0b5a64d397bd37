"""Enrolment: a phone trades a one-time code for its token and the agency's public keys."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from fieldpeer.agency import service
from fieldpeer.agency.rate_limits import enrol_code_allowed, too_many_logged
from fieldpeer.agency.routes.common import AgencyDep, Db, tally_stranger
from fieldpeer.agency.service import Refused
from fieldpeer.sync.wire import API, EnrolRequest, EnrolResponse

router = APIRouter(prefix=API)


@router.post("/enrol", response_model=EnrolResponse)
def enrol(request: EnrolRequest, http: Request, agency: AgencyDep, db: Db) -> EnrolResponse | JSONResponse:
    if not enrol_code_allowed(http.app, service.normalise_code(request.code)):
        return too_many_logged(agency, db, "enrol_code")
    try:
        return service.enrol(db, request, agency.keys)
    except Refused as exc:
        tally_stranger(agency, db, "enrol", exc)
        raise
