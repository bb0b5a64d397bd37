"""Dates and times the way people read them: "Today 2:30 pm", "Yesterday", "Mon 3 Nov",
"25 days ago", "1 h 5 min", "Try again in 0:27". Pure functions (no Flet), tested with a fixed now.

Two kinds of time reach the screens: UTC stamps of when something was written (aware datetimes:
signed, received, reviewed) and local wall-clock times of when something happened in the field
(naive: contacts, check-ins, outreach attempts). Aware times are shown in the agency's time zone
(config.agency_zone()); naive ones already are wall-clock times and are shown as they are.
"""

from __future__ import annotations

import math
from datetime import date, datetime, tzinfo

from fieldpeer.domain import clock_time
from fieldpeer.store.vault import MAX_FAILED_ATTEMPTS, wrong_pin_words


def wall_clock(moment: datetime, zone: tzinfo) -> datetime:
    """The moment as a naive wall-clock time in `zone` (naive input is already one)."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo is not None else moment


def today_in(zone: tzinfo, now: datetime) -> date:
    """The agency's date at `now` (the caseload's "today")."""
    return wall_clock(now, zone).date()


def day_words(day: date, today: date) -> str:
    """ "Today", "Yesterday", "Tomorrow", "Mon 3 Nov" (this year), "Mon 3 Nov 2025" (another year)."""
    delta = (today - day).days
    if delta == 0:
        return "Today"
    if delta == 1:
        return "Yesterday"
    if delta == -1:
        return "Tomorrow"
    text = f"{day:%a} {day.day} {day:%b}"
    return text if day.year == today.year else f"{text} {day.year}"


def when(moment: datetime, now: datetime, zone: tzinfo) -> str:
    """ "Today 2:30 pm", "Yesterday 9:05 am", "Mon 3 Nov 4:00 pm": a time in a timeline or a banner."""
    local = wall_clock(moment, zone)
    return f"{day_words(local.date(), today_in(zone, now))} {clock_time(local)}"


def days_ago(day: date, today: date) -> str:
    """ "today", "yesterday", "25 days ago", "tomorrow", "in 3 days"."""
    delta = (today - day).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "yesterday"
    if delta == -1:
        return "tomorrow"
    return f"{delta} days ago" if delta > 0 else f"in {-delta} days"


def last_contact_words(day: date | None, today: date) -> str:
    """The caseload's line: "Last contact today", "Last contact 25 days ago", or "No contact yet"
    (never "never" beside a "30 days" flag: the flag says how overdue)."""
    return f"Last contact {days_ago(day, today)}" if day else "No contact yet"


def duration(minutes: int) -> str:
    """ "40 min", "1 h", "1 h 5 min"."""
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"


def countdown(seconds: float) -> str:
    """ "0:27", "2:00", "10:00": rounded up, so it never reads 0:00 while still waiting."""
    whole = max(0, math.ceil(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def pin_line(attempts_left: int, wait_seconds: float) -> str:
    """The unlock screen's one line: the wait if there is one, else that the PIN was wrong and how
    many tries are left (vault.wrong_pin_words). Empty when no PIN has been wrong yet."""
    if wait_seconds > 0:
        return f"Try again in {countdown(wait_seconds)}"
    if attempts_left >= MAX_FAILED_ATTEMPTS:
        return ""
    return wrong_pin_words(attempts_left)


def short_day(day: date, today: date) -> str:
    """ "3 Oct" (this year), "3 Oct 2025" (another year): a date inside a sentence."""
    return f"{day.day} {day:%b}" + ("" if day.year == today.year else f" {day.year}")


def no_contact_for(last_contact: date, today: date) -> str:
    """One line instead of "Last contact 51 days ago" above "No contact in 30 days"."""
    days = (today - last_contact).days
    return f"No contact for {days} day{'' if days == 1 else 's'}"


def plan_review_words(due_on: date | None, today: date) -> str:
    """ "Plan review due today", "Plan review due since 3 Oct": the flag with its date."""
    if due_on is None or due_on >= today:
        return "Plan review due today" if due_on == today else "Plan review due"
    return f"Plan review due since {short_day(due_on, today)}"


def tried_words(attempted_at: datetime, outcome_label: str, today: date) -> str:
    """ "Tried today: no answer", "Tried 3 days ago: left a message": the latest outreach attempt."""
    return f"Tried {days_ago(attempted_at.date(), today)}: {outcome_label[:1].lower()}{outcome_label[1:]}"
