"""The agency server's routes, one module per area; app.py includes them in this order."""

from fastapi import APIRouter

from fieldpeer.agency.routes import enrolment, exports, review, supervisor_pages, sync

ROUTERS: tuple[APIRouter, ...] = (sync.router, enrolment.router, supervisor_pages.router, review.router, exports.router)
