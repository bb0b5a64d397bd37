"""What the agency enforces on every pushed record, whatever the device says (issue #17).

Pure rules over a record and what the agency already holds about it; service.store_batch gathers
that state in a fixed number of queries per batch and stores only what passes. A refusal is a
code (and ids), never record content: the phone shows it beside the quarantined item.

- A record id belongs to the peer *and device* that first wrote it (strict reading: a second
  phone of the same peer cannot add versions to the first phone's draft; phones never pull
  notes, so no honest flow needs it). Persons are the exception: they belong to the peer they
  are assigned to, and every phone of that peer may propose edits.
- Versions only move forward; a version the agency holds is a duplicate only if identical.
- A contact note takes no new version once any version was signed (co-signed included):
  corrections are addenda, their own records, on a signed note of the same peer.
- References stay within one peer and one person: alert <-> check-in (either may arrive first),
  check-in -> WRAP plan, addendum -> note, note -> goals (never another person's goal).
- Persons: the agency owns assignment (a column, never in the payload), Part 2 status,
  admission, service criterion and discharge; a device's edit keeps the agency's values for
  those. `plan_reviewed_on` stays the peer's: the quarterly review is done by the peer with
  the person and nothing on the agency side records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fieldpeer import records

PUSHABLE = frozenset({"person", "contact_note", "outreach_attempt", "addendum", "wrap_plan", "checkin", "safety_alert", "consent", "deletion"})
VERSIONED = frozenset({"person", "contact_note", "wrap_plan", "consent"})  # the rest are written once
PERSON_FIXED = frozenset({"wrap_plan", "consent", "checkin", "safety_alert", "outreach_attempt"})  # about one person for good
AGENCY_OWNED_PERSON_FIELDS = ("part2", "service_criterion", "admitted_on", "discharged_on", "discharge_reason")
DELETABLE = frozenset({"contact_note"})  # only unsigned drafts are ever discarded


@dataclass
class Held:
    """What the agency holds about one record id: who first wrote it and where it stands."""

    peer_id: str
    device_id: str
    person_id: str | None
    versions: set[int] = field(default_factory=set)
    signed: bool = False  # a contact note: some version was signed

    @property
    def latest(self) -> int:
        return max(self.versions, default=0)


def ownership_refusal(held: Held | None, peer_id: str, device_id: str) -> str | None:
    if held is None:
        return None
    if held.peer_id != peer_id:
        return "not_your_record"
    if held.device_id != device_id:
        return "written_by_another_device"
    return None


def change_refusal(record_type: str, held: Held | None, version: int, person_id: str | None) -> str | None:
    """A write to an id the agency already holds (by its owner): may this version follow?"""
    if held is None:
        return None
    if record_type not in VERSIONED:
        return "already_written"
    if record_type == "contact_note" and held.signed:
        return "signed_note_is_final"
    if version < held.latest:
        return f"stale_version:{version}<{held.latest}"
    if record_type in PERSON_FIXED and person_id != held.person_id:
        return "person_changed"
    return None


def reference_refusal(kind: str, target: Held | None, peer_id: str, person_id: str | None) -> str | None:
    """A reference to another record (`kind` names it) must stay within one peer and one person."""
    if target is None:
        return None
    if target.peer_id != peer_id or target.person_id != person_id:
        return f"foreign_reference:{kind}"
    return None


def addendum_refusal(note: Held | None, peer_id: str) -> str | None:
    """An addendum needs a signed note of the same peer (any of the peer's phones may amend)."""
    if note is None or note.peer_id != peer_id:
        return "unknown_note"
    if not note.signed:
        return "note_not_signed"
    return None


def deletion_refusal(deleted_type: str, target: Held | None, peer_id: str, device_id: str) -> str | None:
    if deleted_type not in DELETABLE:
        return f"not_deletable:{deleted_type}"
    if target is None:  # a draft discarded before it was ever sent
        return None
    owner = ownership_refusal(target, peer_id, device_id)
    if owner:
        return owner
    return "signed_note_is_final" if target.signed else None


def foreign_goals(note: records.ContactNote, own_goals: set[str], goal_persons: dict[str, str]) -> list[str]:
    """Goal ids on a note that are another person's goals (`goal_persons`: goal id -> person id).
    Ids the agency knows for no one are let through: they point at nothing."""
    return [g for g in note.goal_ids if g not in own_goals and goal_persons.get(g, note.person_id) != note.person_id]


def merge_person(agency: records.Person, proposed: records.Person) -> tuple[records.Person, list[str]]:
    """A device's edit of a person, with the agency's values kept for the fields it owns.
    Returns the merged person and the names of the fields the device tried to change."""
    kept = [name for name in AGENCY_OWNED_PERSON_FIELDS if getattr(proposed, name) != getattr(agency, name)]
    return proposed.model_copy(update={name: getattr(agency, name) for name in AGENCY_OWNED_PERSON_FIELDS}), kept
