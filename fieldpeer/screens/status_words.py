"""What the app says about sync and locking: one table of states and their words.

The sync view, the caseload's sync badge, End shift and the unlock screen all read their
status words here, so nothing says "All done" while records wait, "sent" before the agency
confirmed (the outbox marks an entry sent only on the agency's receipt), or "Shift ended"
after a plain lock. Pure Python: no Flet, no store.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from fieldpeer.screens.forms import counted


class Status(Enum):
    # where the records stand
    PRACTICE = "practice"  # the offline demo: there is no agency, nothing ever leaves the phone
    SYNCING = "syncing"
    WAITING = "waiting"  # records wait; no failed attempt known
    NOT_REACHED = "not_reached"  # records wait and the last attempt failed
    SET_ASIDE = "set_aside"  # nothing waits, but the agency refused some records
    ALL_SENT = "all_sent"  # the agency confirmed every record
    # why the phone is locked
    FIRST_OPEN = "first_open"
    LOCKED = "locked"  # Lock now
    IDLE_LOCKED = "idle_locked"
    SHIFT_ENDED = "shift_ended"  # End shift, and the agency confirmed everything
    SHIFT_NOT_ENDED = "shift_not_ended"  # End shift with records still waiting: the phone stays open


@dataclass(frozen=True)
class Words:
    badge: str  # short: the caseload's sync icon label
    line: str  # a sentence: sync view, unlock screen, toasts


# {pending} {pending_records} {quarantined} {error} {minutes_words} are filled in by `words`.
WORDS: dict[Status, Words] = {
    Status.PRACTICE: Words("Sync: practice profile, nothing is sent", "This practice profile has no agency: nothing leaves this phone."),
    Status.SYNCING: Words("Sync: sending…", "Sending to the agency…"),
    Status.WAITING: Words("Sync: {pending} waiting", "{pending_records} waiting to reach the agency."),
    Status.NOT_REACHED: Words(
        "Sync: {pending} waiting, agency not reached",
        "The agency was not reached: {error} Waiting safely on this phone for the next sync: {pending_records}.",
    ),
    Status.SET_ASIDE: Words("Sync: {quarantined} set aside", "Everything else reached the agency; {quarantined} set aside by the agency (see below)."),
    Status.ALL_SENT: Words("Sync: all sent", "All done: the agency has every record."),
    Status.FIRST_OPEN: Words("", "Enter your PIN to open your caseload."),
    Status.LOCKED: Words("", "Locked. Enter your PIN to open your caseload."),
    Status.IDLE_LOCKED: Words("", "Locked after {minutes_words} without use. Enter your PIN to continue."),
    Status.SHIFT_ENDED: Words("", "Shift ended: the agency has every record. Enter your PIN to start the next shift."),
    Status.SHIFT_NOT_ENDED: Words(
        "", "Shift not ended: not everything has reached the agency ({pending_records} waiting). The phone stays open; try End shift again when the network is back."
    ),
}


@dataclass(frozen=True)
class SyncFacts:
    pending: int
    quarantined: int
    can_sync: bool  # enrolled with an agency (not the offline practice profile)
    syncing: bool = False
    error: str = ""  # why the last attempt failed, if it did


def sync_status(facts: SyncFacts) -> Status:
    if not facts.can_sync:
        return Status.PRACTICE
    if facts.syncing:
        return Status.SYNCING
    if facts.pending:
        return Status.NOT_REACHED if facts.error else Status.WAITING
    if facts.quarantined:
        return Status.SET_ASIDE
    return Status.ALL_SENT


def words(status: Status, *, pending: int = 0, quarantined: int = 0, error: str = "", minutes: int = 0) -> Words:
    values = {
        "pending": pending, "quarantined": quarantined, "minutes": minutes, "error": error.strip() or "no connection.",
        "pending_records": f"{pending} record{'' if pending == 1 else 's'}", "minutes_words": f"{minutes} minute{'' if minutes == 1 else 's'}",
    }
    template = WORDS[status]
    return Words(template.badge.format(**values), template.line.format(**values))


def sync_words(facts: SyncFacts) -> Words:
    return words(sync_status(facts), pending=facts.pending, quarantined=facts.quarantined, error=facts.error)


def unsigned_words(names: list[str]) -> str:
    """ "1 unsigned note (Casey R.) — finish and sign it": whose, so the peer knows where to go."""
    if not names:
        return ""
    whose = ", ".join(dict.fromkeys(names))  # each name once, oldest first
    return f"{counted(len(names), 'unsigned note')} ({whose}) — finish and sign {'it' if len(names) == 1 else 'them'}"


def shift_line(contacts: int, units: int, unsigned: list[str], pending: int, unsaved_forms: int = 0) -> str:
    """End shift's one-line summary: "Today: 3 contacts, 7 units; 1 unsigned note (Casey R.) — finish
    and sign it; 2 records waiting to reach the agency." Only what is there, beyond the day's work."""
    parts = [f"Today: {counted(contacts, 'contact')}, {counted(units, 'unit')}"]
    if unsigned:
        parts.append(unsigned_words(unsigned))
    if unsaved_forms:
        parts.append(f"{counted(unsaved_forms, 'unsaved form')} kept on this phone")
    if pending:
        parts.append(f"{counted(pending, 'record')} waiting to reach the agency")
    return "; ".join(parts) + "."
