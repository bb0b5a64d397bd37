"""Exports: the billing CSV and one person's FHIR bundle, each logged as a disclosure."""

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fieldpeer.agency import exports
from fieldpeer.agency.review import NO_CONTROLS
from fieldpeer.agency.routes.common import Db, supervisor_for
from fieldpeer.agency.tables import Supervisor
from fieldpeer.sync.wire import API

router = APIRouter(prefix=f"{API}/exports")


class BillingExportRequest(BaseModel):
    start: date
    end: date
    purpose: str = Field(min_length=3, max_length=500, pattern=NO_CONTROLS)


class FhirExportRequest(BaseModel):
    person_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    purpose: str = Field(min_length=3, max_length=500, pattern=NO_CONTROLS)
    recipient: str = Field(min_length=1, max_length=500, pattern=NO_CONTROLS, description=f'who receives it; "{exports.WITHIN_AGENCY}" for the agency\'s own use')


@router.post("/billing", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_billing(body: BillingExportRequest, db: Db, supervisor: Annotated[Supervisor, Depends(supervisor_for("export_billing"))]) -> Response:
    """Co-signed notes in a period, one row each, units by the agency's rule. Logged as a disclosure."""
    text = exports.billing_csv(db, supervisor, body.start, body.end, body.purpose)
    return Response(content=text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="billing-{body.start}-{body.end}.csv"'})


@router.post("/fhir", response_class=Response, responses={200: {"content": {"application/fhir+json": {}}}})
def export_fhir(body: FhirExportRequest, db: Db, supervisor: Annotated[Supervisor, Depends(supervisor_for("export_fhir"))]) -> Response:
    """One person's agency record as a FHIR R4 Bundle. Outside the agency: only with the person's consent.
    A refused export is logged too (the unit commits on a refusal)."""
    export = exports.fhir_bundle(db, supervisor, body.person_id, body.purpose, body.recipient)
    headers = {"X-Redisclosure-Notice": exports.PART2_NOTICE} if export.part2 else {}
    return Response(content=json.dumps(export.bundle), media_type="application/fhir+json", headers=headers)
