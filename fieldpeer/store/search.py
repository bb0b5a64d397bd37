"""Search a peer's notes for words without plaintext on disk and without decrypting every note.

Each note row carries a blind index: the keyed tokens HMAC-SHA256(search key, word), cut to
64 bits, of its distinct words (narrative, phone summary, addenda), concatenated. A search
turns its words into tokens and lets SQLite find the rows whose token blob holds them all
(`instr` over a few hundred bytes per note, in C), then decrypts only the page it shows, to
cut a snippet. The index costs about 8 bytes per distinct word of a note.

Someone holding the database and the device secret but not the PIN learns no words (the
tokens are keyed). What the index does leak: how many distinct words a note has, and which
notes share a word. Whole words only: "hous" does not find "housing".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlmodel import col, select

from fieldpeer.store.crypto import TOKEN_BYTES, FieldCipher
from fieldpeer.store.fields import open_narrative
from fieldpeer.store.tables import AddendumRow, ContactNoteRow, PersonRow
from fieldpeer.store.unit_of_work import FieldStore, Unit

WORD = re.compile(r"\w+")
STOP_WORDS = frozenset("a an and are as at be but by for from had has have he her his i in is it its me my of on or our she so that the their them they this to was we were with you your".split())
PAGE = 50


def words(text: str) -> set[str]:
    """Distinct searchable words: case-folded, at least two characters, no stop words."""
    return {w for w in (m.casefold() for m in WORD.findall(text)) if len(w) > 1 and w not in STOP_WORDS}


def tokens(cipher: FieldCipher, texts: Iterable[str], existing: bytes = b"") -> bytes:
    """The blind index of `texts` (merged with an existing one), sorted so equal sets give equal blobs."""
    found = {existing[i : i + TOKEN_BYTES] for i in range(0, len(existing), TOKEN_BYTES)}
    found |= {cipher.search_token(w) for w in set().union(*(words(t) for t in texts))}
    return b"".join(sorted(found))


def add_words(unit: Unit, note_id: str, text: str) -> None:
    """An addendum's words join its note's index."""
    row = unit.session.get(ContactNoteRow, note_id)
    if row is not None and row.search_tokens is not None:  # not indexed yet: the backfill reads addenda too
        unit.session.execute(update(ContactNoteRow).where(col(ContactNoteRow.id) == note_id).values(search_tokens=tokens(unit.cipher, [text], row.search_tokens)))


def ensure_indexed(store: FieldStore) -> int:
    """Index the notes an older app version wrote (once, on first search). Returns how many."""
    with store.unit() as unit:
        rows = unit.session.exec(select(ContactNoteRow.id, ContactNoteRow.narrative_enc).where(col(ContactNoteRow.search_tokens).is_(None))).all()
        if not rows:
            return 0
        addenda: dict[str, list[str]] = {}
        for addendum_id, note_id, text_enc in unit.session.exec(select(AddendumRow.id, AddendumRow.note_id, AddendumRow.text_enc)).all():
            addenda.setdefault(note_id, []).append(unit.cipher.decrypt("addendum", addendum_id, "text", text_enc))
        for note_id, narrative_enc in rows:
            narrative = open_narrative(unit.cipher, note_id, narrative_enc)
            texts = [*(v for v in narrative.values() if isinstance(v, str)), *addenda.get(note_id, [])]
            unit.session.execute(update(ContactNoteRow).where(col(ContactNoteRow.id) == note_id).values(search_tokens=tokens(unit.cipher, texts)))
    return len(rows)


@dataclass(frozen=True, slots=True)
class NoteHit:
    note_id: str
    person_id: str | None
    starts_at: datetime
    snippet: str


@dataclass(frozen=True, slots=True)
class NoteSearch:
    hits: list[NoteHit]  # newest first, one page
    total: int  # every note holding all the words


def snippet(texts: Iterable[str], wanted: set[str], width: int = 120) -> str:
    """A stretch of text around the first of the words."""
    for text in texts:
        for match in WORD.finditer(text):
            if match.group().casefold() in wanted:
                start = max(0, match.start() - width // 3)
                piece = text[start : start + width].strip()
                return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")
    return ""


def search_notes(store: FieldStore, query: str, limit: int = PAGE) -> NoteSearch:
    """Notes holding every word of `query`, newest first."""
    wanted = words(query)
    if not wanted:
        return NoteSearch([], 0)
    ensure_indexed(store)
    with store.unit() as unit:
        # instr() on a blob is a byte search; a match that straddles two tokens is a 2^-64 chance,
        # and a hit is decrypted before it is shown anyway.
        holds_all = [func.instr(ContactNoteRow.search_tokens, unit.cipher.search_token(w)) > 0 for w in wanted]
        # Not the notes of a person the agency moved to another peer (kept only until sent).
        released = select(PersonRow.id).where(col(PersonRow.released_at).is_not(None))
        holds_all.append(or_(col(ContactNoteRow.person_id).is_(None), col(ContactNoteRow.person_id).not_in(released)))
        # Both scan the (starts_at, search_tokens) index, not the table: a few hundred bytes a note.
        total = unit.session.exec(select(func.count()).select_from(ContactNoteRow).where(*holds_all)).one()
        rows = unit.session.exec(
            select(ContactNoteRow.id, ContactNoteRow.person_id, ContactNoteRow.starts_at, ContactNoteRow.narrative_enc)
            .where(*holds_all)
            .order_by(col(ContactNoteRow.starts_at).desc())  # newest first, so a common word stops after one page
            .limit(limit)
        ).all()
        hits = []
        for note_id, person_id, starts_at, narrative_enc in rows:
            narrative = open_narrative(unit.cipher, note_id, narrative_enc)
            hits.append(NoteHit(note_id, person_id, starts_at, snippet([v for v in narrative.values() if isinstance(v, str)], wanted)))
    return NoteSearch(hits, total)
