"""Searching notes through the blind index: finds whole words, keeps words off disk."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from fieldpeer.store import notes, people, search
from fieldpeer.store.profile import Profile
from fieldpeer.store.tables import ContactNoteRow
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.records import Narrative, Person
from tests.conftest import PIN, TEST_COST, complete_note, make_peer
from tests.test_no_plaintext import MARKER, marker_hits


def write(store: FieldStore, person: Person, day: int, text: str) -> str:
    note = notes.save_draft(store, complete_note(person.id, start=datetime(2026, 11, day, 10), narrative=Narrative(goal="Stay well.", intervention=text, response="Pleased.", plan="Next week.")))
    return notes.sign_note(store, note.id).id


def test_finds_notes_holding_every_word_newest_first_with_a_snippet(store: FieldStore, person: Person) -> None:
    old = write(store, person, 3, "Talked about the Housing application and the bus pass.")
    new = write(store, person, 9, "Called the housing office; the application is in.")
    write(store, person, 5, "Garden club, then lunch.")
    call = notes.log_phone_contact(store, person.id, 10, "Quick call about the bus pass renewal", ended_at=datetime(2026, 11, 10, 9))

    found = search.search_notes(store, "HOUSING")
    assert [h.note_id for h in found.hits] == [new, old] and found.total == 2
    assert "housing office" in found.hits[0].snippet
    assert [h.note_id for h in search.search_notes(store, "bus pass").hits] == [call.id, old]  # every word, any order
    assert search.search_notes(store, "hous").total == 0  # whole words only
    assert search.search_notes(store, "the and").hits == []  # stop words alone find nothing
    assert search.search_notes(store, "bus", limit=1).total == 2  # a page, and how many in all


def test_edits_addenda_and_discards_keep_the_index_true(store: FieldStore, person: Person) -> None:
    draft = notes.save_draft(store, complete_note(person.id, narrative=Narrative(intervention="first words: bicycle")))
    notes.save_draft(store, draft.model_copy(update={"narrative": Narrative(intervention="second words: skateboard")}))
    assert search.search_notes(store, "bicycle").total == 0 and search.search_notes(store, "skateboard").total == 1
    notes.discard_draft(store, draft.id)
    assert search.search_notes(store, "skateboard").total == 0
    signed = write(store, person, 4, "visit")
    notes.add_addendum(store, signed, "Forgot: she starts the pottery class Monday.")
    assert [h.note_id for h in search.search_notes(store, "pottery").hits] == [signed]


def test_notes_from_before_the_index_are_found_after_a_one_time_backfill(store: FieldStore, person: Person) -> None:
    ids = [write(store, person, d, f"Library visit {d}") for d in (2, 3)]
    notes.add_addendum(store, ids[0], "and the museum")
    with store.unit() as unit:  # as an older app version left them: not indexed
        unit.session.execute(update(ContactNoteRow).values(search_tokens=None))
    assert search.ensure_indexed(store) == 2
    assert [h.note_id for h in search.search_notes(store, "museum").hits] == [ids[0]]  # addenda too
    assert sorted(h.note_id for h in search.search_notes(store, "library").hits) == sorted(ids)
    assert search.ensure_indexed(store) == 0  # once


def test_words_are_not_on_disk_and_tokens_are_keyed_per_phone(tmp_path: Path) -> None:
    tokens = []
    for name in ("a", "b"):
        profile = Profile(tmp_path / name, cost=TEST_COST)
        store = profile.set_up(PIN, make_peer())
        person = people.save_person(store, Person(preferred_name="Ari"))
        write(store, person, 2, f"{MARKER} garden")
        assert search.search_notes(store, MARKER).total == 1
        tokens.append(store.cipher.search_token("garden"))
        store.close()
        assert marker_hits(profile.root) == {}
        with pytest.raises(PermissionError):
            store.cipher.search_token("garden")  # locked
    assert tokens[0] != tokens[1]
