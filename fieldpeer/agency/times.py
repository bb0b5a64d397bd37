"""Times on the supervisor's pages, in the agency's time zone (the `time_zone` setting,
agency/settings.py; by default config.agency_zone(), from assets/agency.json).

Like the phone's wording (fieldpeer/screens/dates.py, which the agency may not import): UTC stamps
of when something was written (aware: raised, reviewed) are shown in the agency's zone; contact
times are local wall-clock times already (naive) and are shown as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, tzinfo

from fieldpeer.config import agency_zone
from fieldpeer.domain import clock_time

# The serving app's zone while a page is built (`in_zone`); outside a request, assets/agency.json's.
_ZONE: ContextVar[tzinfo | None] = ContextVar("fieldpeer_agency_zone", default=None)


def current_zone() -> tzinfo:
    """The agency's zone: the settings' of the app serving this request, else assets/agency.json's."""
    return _ZONE.get() or agency_zone()


@contextmanager
def in_zone(zone: tzinfo) -> Iterator[None]:
    """Pages built inside show times and "today" in `zone` (the app's settings.zone)."""
    token = _ZONE.set(zone)
    try:
        yield
    finally:
        _ZONE.reset(token)


def local_time(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """ "Mon 3 Nov 2026, 2:30 pm" in the agency's zone; "" for no time."""
    if moment is None:
        return ""
    local = moment.astimezone(zone or current_zone()) if moment.tzinfo is not None else moment
    return f"{local:%a} {local.day} {local:%b %Y}, {clock_time(local)}"
