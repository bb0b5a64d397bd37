"""Enrolment: a phone trades a one-time code for its token and the agency's public keys."""

from fastapi import APIRouter

from fieldpeer.agency import service
from fieldpeer.agency.routes.common import AgencyDep, Db, tally_stranger
from fieldpeer.agency.service import Refused
from fieldpeer.sync.wire import API, EnrolRequest, EnrolResponse

router = APIRouter(prefix=API)


@router.post("/enrol", response_model=EnrolResponse)
def enrol(request: EnrolRequest, agency: AgencyDep, db: Db) -> EnrolResponse:
    try:
        return service.enrol(db, request, agency.keys)
    except Refused as exc:
        tally_stranger(agency, db, "enrol", exc)
        raise
