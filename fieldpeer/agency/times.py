"""Times on the supervisor's pages, in the agency's time zone (config.agency_zone()).

Like the phone's wording (fieldpeer/screens/dates.py, which the agency may not import): UTC stamps
of when something was written (aware: raised, reviewed) are shown in the agency's zone; contact
times are local wall-clock times already (naive) and are shown as they are.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from fieldpeer.config import agency_zone


def local_time(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """ "Mon 3 Nov 2026, 2:30 pm" in the agency's zone; "" for no time."""
    if moment is None:
        return ""
    local = moment.astimezone(zone or agency_zone()) if moment.tzinfo is not None else moment
    hour = local.hour % 12 or 12
    return f"{local:%a} {local.day} {local:%b %Y}, {hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"
